"""Fast checks of the LocalStack setup: no LocalStack, no Docker, no child processes."""
from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from localdev import localstack as ls
from localdev.process import free_port

EXECUTOR_PACKAGE = ls.PLUGINS_DIST / "local_process_lambda"
STACK_SERVICES = {
    "s3", "sqs", "sns", "firehose", "lambda", "events", "iam", "sts", "logs",
    "cloudwatch", "secretsmanager", "cloudformation", "glue",
}


def load_shim():
    spec = importlib.util.spec_from_file_location("runtime_shim_under_test", EXECUTOR_PACKAGE / "runtime_shim.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    "environ, expected",
    [
        ({}, "http://127.0.0.1:4566"),
        ({"LOCALSTACK_HOST": "localhost:4599"}, "http://localhost:4599"),
        ({"LOCALSTACK_HOST": "127.0.0.1"}, "http://127.0.0.1:4566"),
        ({"AWS_ENDPOINT_URL": "http://127.0.0.1:5000/", "LOCALSTACK_HOST": "x:1"}, "http://127.0.0.1:5000"),
    ],
)
def test_configured_endpoint(environ, expected):
    assert ls.configured_endpoint(environ) == expected


def test_reuse_mode_fails_clearly_when_nothing_answers():
    endpoint = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(ls.LocalStackError, match="no LocalStack answers"):
        ls.ensure_localstack(endpoint, mode="reuse")


def test_compose_file_pins_the_image_and_stays_on_loopback():
    compose = yaml.safe_load(ls.COMPOSE_FILE.read_text())
    service = compose["services"]["localstack"]
    image = re.sub(r"\$\{LOCALSTACK_IMAGE:-(.*)\}", r"\1", service["image"])
    name, _, tag = image.partition(":")
    assert name == "localstack/localstack" and re.fullmatch(r"\d+\.\d+\.\d+", tag), image
    assert all(port.startswith("127.0.0.1:") for port in service["ports"])
    env = service["environment"]
    assert set(env["SERVICES"].split(",")) == STACK_SERVICES
    assert env["LOCALSTACK_AUTH_TOKEN"] == "${LOCALSTACK_AUTH_TOKEN:-}"
    assert "_localstack/health" in " ".join(service["healthcheck"]["test"])
    if shutil.which("docker") and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        result = subprocess.run(["docker", "compose", "-f", str(ls.COMPOSE_FILE), "config", "-q"], capture_output=True)
        assert result.returncode == 0, result.stderr


def test_host_mode_runs_the_same_localstack_release_as_the_image():
    pins = dict(
        line.split("==", 1)
        for line in ls.REQUIREMENTS.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    )
    assert all(re.fullmatch(r"[\w.\-]+", version) for version in pins.values()), "every line pinned exactly"
    image = yaml.safe_load(ls.COMPOSE_FILE.read_text())["services"]["localstack"]["image"]
    assert pins["localstack-core[runtime]"] in image
    # The pins PLATFORM_NOTES found necessary on Python 3.13.
    assert tuple(map(int, pins["cbor2"].split(".")[:2])) < (5, 8)
    assert int(pins["cryptography"].split(".")[0]) < 44
    assert pins["pyOpenSSL"] == "24.2.1"
    assert "service-identity" in pins
    assert "setuptools" in pins, "the executor is built with --no-build-isolation"


def test_executor_plugin_name_agrees_everywhere():
    project = tomllib.loads((ls.PLUGINS_DIST / "pyproject.toml").read_text())
    entry_points = project["project"]["entry-points"]["localstack.lambda.runtime_executor"]
    assert entry_points == {ls.EXECUTOR_PLUGIN: "local_process_lambda.plugin:LocalProcessExecutorPlugin"}
    assert f'PLUGIN_NAME = "{ls.EXECUTOR_PLUGIN}"' in (EXECUTOR_PACKAGE / "plugin.py").read_text()
    assert ls.host_environ(4566, Path("/tmp/x"), False)["LAMBDA_RUNTIME_EXECUTOR"] == ls.EXECUTOR_PLUGIN


def test_host_environment_keeps_localstack_on_loopback_and_under_the_state_dir(tmp_path):
    env = ls.host_environ(4599, tmp_path, persistence=True)
    assert env["GATEWAY_LISTEN"] == "127.0.0.1:4599"
    assert env["FILESYSTEM_ROOT"] == str(tmp_path)
    assert env["OVERRIDE_IN_DOCKER"] == "0"
    assert env["DNS_ADDRESS"] == "0"
    assert env["PERSISTENCE"] == "1"


def test_up_to_date_virtualenv_is_not_reinstalled(tmp_path, monkeypatch):
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").touch()
    (venv / ".installed.json").write_text(json.dumps(ls.wanted_stamp()))

    def no_install(argv):
        raise AssertionError(f"ran {argv}")

    monkeypatch.setattr(ls, "run_checked", no_install)
    assert ls.ensure_venv(venv) is False


def test_stamp_follows_the_pins_and_the_plugins_sources(tmp_path, monkeypatch):
    before = ls.wanted_stamp()
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(ls.REQUIREMENTS.read_text() + "\nextra==1.0\n")
    monkeypatch.setattr(ls, "REQUIREMENTS", requirements)
    after = ls.wanted_stamp()
    assert after["requirements"] != before["requirements"]
    assert after["plugins"] == before["plugins"]
    plugins = tmp_path / "plugins"
    shutil.copytree(ls.PLUGINS_DIST, plugins, ignore=shutil.ignore_patterns("build", "*.egg-info"))
    monkeypatch.setattr(ls, "PLUGINS_DIST", plugins)
    assert ls.wanted_stamp()["plugins"] == before["plugins"]
    with open(plugins / "firehose_s3_keys" / "keys.py", "a") as keys:
        keys.write("# changed\n")
    assert ls.wanted_stamp()["plugins"] != before["plugins"]


def test_every_plugin_package_is_installed_and_hashed():
    project = tomllib.loads((ls.PLUGINS_DIST / "pyproject.toml").read_text())
    hashed = {path.parent.name for path in ls.plugin_sources() if path.suffix == ".py"}
    assert hashed == set(project["tool"]["setuptools"]["packages"]) == {"local_process_lambda", "firehose_s3_keys",
                                                                        "gc_freeze"}
    hooks = project["project"]["entry-points"]["localstack.hooks.on_infra_start"]
    assert hooks == {"evaluate_firehose_s3_prefixes": "firehose_s3_keys.hook:evaluate_firehose_s3_prefixes",
                     "freeze_what_survives_full_collections": "gc_freeze.hook:freeze_what_survives_full_collections"}
    assert "def evaluate_firehose_s3_prefixes()" in (ls.PLUGINS_DIST / "firehose_s3_keys" / "hook.py").read_text()
    hooks = project["project"]["entry-points"]["localstack.hooks.on_infra_shutdown"]
    assert hooks == {"freeze_objects_for_a_quick_exit": "gc_freeze.hook:freeze_objects_for_a_quick_exit"}
    hook_source = (ls.PLUGINS_DIST / "gc_freeze" / "hook.py").read_text()
    assert "def freeze_objects_for_a_quick_exit()" in hook_source
    assert "def freeze_what_survives_full_collections()" in hook_source


class TestRuntimeShim:
    """The runtime's handler loading and error shapes, imported as the child runs them."""

    @pytest.fixture
    def shim(self, tmp_path, monkeypatch):
        (tmp_path / "good.py").write_text("def handler(event, context):\n    return event\nvalue = 1\n")
        (tmp_path / "broken.py").write_text("import not_a_module_anywhere\n")
        (tmp_path / "raises.py").write_text("raise RuntimeError('bad config')\n")
        monkeypatch.syspath_prepend(str(tmp_path))
        for name in ("good", "broken", "raises"):
            monkeypatch.delitem(sys.modules, name, raising=False)
        return load_shim()

    def test_loads_module_function(self, shim):
        assert shim.load_handler("good.handler")({"a": 1}, None) == {"a": 1}

    @pytest.mark.parametrize(
        "handler, error_type, message",
        [
            ("nohandler", "Runtime.MalformedHandlerName", "Bad handler 'nohandler'"),
            ("missing.handler", "Runtime.ImportModuleError", "Unable to import module 'missing'"),
            ("broken.handler", "Runtime.ImportModuleError", "No module named 'not_a_module_anywhere'"),
            ("good.other", "Runtime.HandlerNotFound", "Handler 'other' missing on module 'good'"),
            ("good.value", "Runtime.HandlerNotFound", "Handler 'value' missing"),
            ("raises.handler", "RuntimeError", "bad config"),
        ],
    )
    def test_load_errors_have_lambda_error_types(self, shim, handler, error_type, message):
        with pytest.raises(shim.HandlerLoadError) as raised:
            shim.load_handler(handler)
        assert raised.value.payload["errorType"] == error_type
        assert message in raised.value.payload["errorMessage"]

    def test_exception_payload_shape(self, shim):
        try:
            {}["chart"]
        except KeyError as error:
            payload = shim.exception_payload(error)
        assert payload["errorType"] == "KeyError"
        assert payload["errorMessage"] == "'chart'"
        assert "test_localstack_setup.py" in payload["stackTrace"][0]

    def test_context_counts_down_from_the_deadline(self, shim, monkeypatch):
        monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "chart-producer")
        context = shim.LambdaContext("req-1", "arn:aws:lambda:us-east-1:000000000000:function:x", 0.0)
        assert context.get_remaining_time_in_millis() == 0
        context = shim.LambdaContext("req-1", "arn", shim.time.monotonic() + 2)
        assert 1000 < context.get_remaining_time_in_millis() <= 2000
        assert context.function_name == "chart-producer" and context.aws_request_id == "req-1"
