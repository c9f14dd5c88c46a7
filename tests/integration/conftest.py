"""Fixtures for tests against LocalStack, in the style of LocalStack's own test fixtures.

- ``localstack`` (session): LocalStack, provided once per session by ``localdev.localstack``
  (reused, Docker compose, or host mode with the local-process Lambda executor).
- ``localstack_environ`` (autouse, for tests that use ``localstack``): boto3's environment
  points at LocalStack for the test and is restored after it. Per test, not per session: the moto
  fixture of ``tests/conftest.py`` also sets ``AWS_ENDPOINT_URL``, and both live in one run.
- ``aws_client``: ``aws_client("s3")``, a boto3 client for LocalStack, from localstack-client.
- ``deploy_stack`` (factory): deploys a template under a unique stack name with the deploy
  command's own change-set deployer (``infra.stacks``), returns the outputs; at teardown
  empties the stacks' buckets and deletes them (as ``infra.teardown`` does).
  ``deploy_stack_per_module`` is the same, its stacks living for the whole test module.

Timings (virtualenv install, LocalStack start, invoke latencies...) are printed at the end
of the run; tests add theirs through the ``record_timing`` fixture.
"""
from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from infra.stacks import DeployError, StackDeployer
from infra.teardown import empty_bucket, stack_buckets
from infra.template import parameter_names, parse_template
from localdev.localstack import LocalStack, configured_endpoint, ensure_localstack

TIMINGS: dict[str, str] = {}
CAPABILITIES = ("CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND")


ENDPOINT_KEY = pytest.StashKey[str]()


def save_timing(name: str, seconds: float) -> None:
    TIMINGS[name] = f"{seconds:.2f} s"


def pytest_configure(config):
    # Where the user points LocalStack, read before any fixture changes the environment.
    config.stash[ENDPOINT_KEY] = configured_endpoint()


def pytest_terminal_summary(terminalreporter):
    if TIMINGS:
        terminalreporter.section("LocalStack timings")
        for name, value in TIMINGS.items():
            terminalreporter.write_line(f"{name}: {value}")


@pytest.fixture(scope="session")
def localstack(request) -> LocalStack:
    capture = request.config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled():  # the "which mode and why" line is always shown
        stack = ensure_localstack(request.config.stash[ENDPOINT_KEY])
    TIMINGS["mode"] = f"{stack.mode} ({stack.reason})"
    if stack.mode == "host":
        save_timing("virtualenv install/check", stack.install_seconds)
    save_timing("LocalStack start", stack.start_seconds)
    # LocalStack's EventBridge scheduler starts with the events service and then ticks every
    # 60 s; a rule created later first fires on the next tick. Starting it now, not when a
    # stack creates the first rule, turns that wait from ~60 s into 0-60 s.
    stack.client("events").list_rules(Limit=1)
    try:
        yield stack
    finally:
        started = time.monotonic()
        stack.stop()
        if stack.mode != "reused":
            save_timing("LocalStack stop", time.monotonic() - started)


@pytest.fixture(autouse=True)
def localstack_environ(request, monkeypatch):
    """For every test that uses ``localstack`` (directly or through another fixture)."""
    if "localstack" in request.fixturenames:
        stack = request.getfixturevalue("localstack")
        for name, value in stack.environ().items():
            monkeypatch.setenv(name, value)
    yield


@pytest.fixture
def aws_client(localstack):
    """``aws_client("s3")``: boto3 clients built by localstack-client, as LocalStack documents.

    localstack-client takes the endpoint from ``AWS_ENDPOINT_URL`` (here: this LocalStack,
    set for the test by ``localstack_environ``), else from ``LOCALSTACK_HOST``. Code that
    runs outside a test (module fixtures, the local pipeline) uses ``localstack.client``,
    which names the endpoint itself: a test session also points ``AWS_ENDPOINT_URL`` at moto.
    """
    from localstack_client import config
    from localstack_client.session import Session

    environ = localstack.environ()
    host = localstack.endpoint.split("://", 1)[1]
    if config.get_service_endpoint("s3", localstack_host=host).rstrip("/") != localstack.endpoint:
        raise RuntimeError(f"localstack-client does not resolve to {localstack.endpoint} (AWS_ENDPOINT_URL is "
                           "someone else's): use localstack.client")
    session = Session(aws_access_key_id=environ["AWS_ACCESS_KEY_ID"],
                      aws_secret_access_key=environ["AWS_SECRET_ACCESS_KEY"],
                      aws_session_token=environ["AWS_SESSION_TOKEN"], region_name=environ["AWS_DEFAULT_REGION"],
                      localstack_host=host)
    return session.client


@pytest.fixture(scope="session")
def record_timing():
    """``record_timing("first invoke", seconds)``: printed in the run's "LocalStack timings"."""
    return save_timing


class TemplateStacks:
    """Stacks of test templates: ``__call__`` deploys one, ``cleanup()`` deletes them all."""

    def __init__(self, stack: LocalStack, prefix: str = "it"):
        self.cfn = stack.client("cloudformation")
        self.s3 = stack.client("s3")
        self.deployer = StackDeployer(self.cfn, poll_seconds=1.0, timeout_seconds=300.0)
        self.prefix = prefix
        self.stack_names: list[str] = []

    def __call__(self, template: str | Path, parameters: dict[str, str] | None = None) -> dict[str, str]:
        """Deploy ``template`` (a path or the template text); returns {OutputKey: OutputValue}."""
        is_path = isinstance(template, Path) or ("\n" not in template and Path(template).is_file())
        body = Path(template).read_text() if is_path else template
        name = f"{self.prefix}-{uuid.uuid4().hex[:10]}"
        self.stack_names.append(name)
        self.deployer.deploy(name, template_body=body, template_parameters=parameter_names(parse_template(body)),
                             parameters={k: str(v) for k, v in (parameters or {}).items()},
                             capabilities=CAPABILITIES)
        return self.deployer.outputs(name)

    def cleanup(self) -> None:
        problems = []
        for name in reversed(self.stack_names):
            try:
                if self.deployer.describe(name) is not None:
                    for bucket in stack_buckets(self.cfn, name):  # CloudFormation cannot delete a bucket with objects
                        empty_bucket(self.s3, bucket)
                self.deployer.delete(name)
            except (ClientError, DeployError) as error:
                problems.append(f"{name}: {error}")
        self.stack_names.clear()
        if problems:
            raise DeployError("could not delete stacks: " + "; ".join(problems))


@pytest.fixture
def deploy_stack(localstack):
    deployer = TemplateStacks(localstack)
    yield deployer
    deployer.cleanup()


@pytest.fixture(scope="module")
def deploy_stack_per_module(localstack):
    deployer = TemplateStacks(localstack)
    yield deployer
    deployer.cleanup()
