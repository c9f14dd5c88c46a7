"""LocalStack runtime executor: one execution environment = one local child process.

Runs inside LocalStack's process. The contract is LocalStack's ``RuntimeExecutor``
(``localstack/services/lambda_/invocation/runtime_executor.py``); the Docker executor
beside it is the reference. Differences from Docker, on purpose:

- ``prepare_version`` only unzips the code: no image, no runtime-init download; and
  functions made from one archive share one unzipped copy (``prepare_code``).
- the environment is ``runtime_shim.py`` run by a configurable Python interpreter
  (``LOCAL_LAMBDA_PYTHON``, set by ``localdev.localstack`` to the project's
  ``.venv/bin/python``) in the unzipped code folder, listening on a free loopback port.
- only Python runtimes with zip packages are supported; anything else fails the
  function's creation with a clear reason instead of a Docker error.
"""
from __future__ import annotations

import base64
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from concurrent.futures import CancelledError
from concurrent.futures import TimeoutError as FutureTimeoutError
from pathlib import Path

from localstack import config
from localstack.aws.api.lambda_ import PackageType
from localstack.services.lambda_.invocation.executor_endpoint import (
    ExecutorEndpoint,
    ShutdownDuringStartup,
)
from localstack.services.lambda_.invocation.lambda_models import FunctionVersion, InvocationResult
from localstack.services.lambda_.invocation.runtime_executor import (
    LambdaRuntimeException,
    RuntimeExecutor,
)
from localstack.utils.net import get_free_tcp_port

LOG = logging.getLogger(__name__)

PYTHON_ENV_VAR = "LOCAL_LAMBDA_PYTHON"
SHIM = Path(__file__).with_name("runtime_shim.py")
LOOPBACK = "127.0.0.1"
STOP_TIMEOUT_SECONDS = 5.0
# The only variables of LocalStack's own environment a function also gets. LocalStack's
# settings, the user's credentials and proxy settings stay out, as in a real Lambda.
INHERITED_VARS = ("PATH", "LANG", "LC_ALL")
# Unzipped archives by SHA-256, shared by the functions made from them.
SHARED_CODE_DIR = "lambda-shared-code"
_shared_code_lock = threading.Lock()


def prepare_code(code) -> None:
    """Unzip a function's code once per archive. The stack's three Lambdas are made from one
    19 MB archive (2,800 files): LocalStack downloaded, unzipped and chmod-ed it for each, 1-2 s
    a function on every deploy. The first unzips it and the copy moves to a folder named by its
    SHA-256; each function's code location is a link to it. The code is never written to
    (``PYTHONDONTWRITEBYTECODE``), and LocalStack deleting a function removes only its link."""
    target = Path(code.get_unzipped_code_location())
    shared = shared_code_folder(getattr(code, "code_sha256", None))
    if shared is None or target.exists():  # e.g. hot-reloading code, which is a folder already
        code.prepare_for_execution()
        return
    with _shared_code_lock:
        if not shared.exists():
            code.prepare_for_execution()
            shared.parent.mkdir(parents=True, exist_ok=True)
            target.rename(shared)
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            target.symlink_to(shared, target_is_directory=True)


def shared_code_folder(code_sha256: str | None) -> Path | None:
    """Where the archive with this SHA-256 is unzipped for every function made from it, or None
    (no or a malformed digest: the function unzips its own copy). Lambda gives the digest in
    base64, whose letters include "/" (a folder named by it could even start at "/"), so the
    folder is named by its hex digits."""
    try:
        digest = base64.b64decode(code_sha256 or "", validate=True)
    except ValueError:  # binascii.Error included
        return None
    if len(digest) != 32:
        return None
    return Path(tempfile.gettempdir()) / SHARED_CODE_DIR / digest.hex()


def function_python() -> str:
    """The interpreter that runs functions: LOCAL_LAMBDA_PYTHON, else LocalStack's own."""
    return os.environ.get(PYTHON_ENV_VAR) or sys.executable


def check_supported(function_version: FunctionVersion) -> None:
    cfg = function_version.config
    if cfg.package_type != PackageType.Zip:
        raise LambdaRuntimeException(
            "the local-process Lambda executor runs zip packages only, not container images"
        )
    if not (cfg.runtime or "").startswith("python"):
        raise LambdaRuntimeException(
            f"the local-process Lambda executor runs Python functions only, not runtime {cfg.runtime!r}"
        )


class LocalProcessRuntimeExecutor(RuntimeExecutor):
    def __init__(self, id: str, function_version: FunctionVersion) -> None:
        super().__init__(id=id, function_version=function_version)
        self.port = get_free_tcp_port()
        self.executor_endpoint = ExecutorEndpoint(
            self.id, container_address=LOOPBACK, container_port=self.port
        )
        self.process: subprocess.Popen | None = None
        base = Path(config.dirs.tmp) / "local-lambda"
        self.work_dir = base / self.id  # the function's HOME and TMPDIR, removed on stop
        self.log_path = base / f"{self.id}.log"  # the child's stdout/stderr, kept for debugging

    # -- lifecycle -------------------------------------------------------------------
    def start(self, env_vars: dict[str, str]) -> None:
        self.executor_endpoint.start()
        code_dir = self.function_version.config.code.get_unzipped_code_location()
        self.work_dir.mkdir(parents=True, exist_ok=True)
        python = function_python()
        LOG.debug("Starting local Lambda process %s with %s in %s", self.id, python, code_dir)
        with open(self.log_path, "ab") as log:
            try:
                self.process = subprocess.Popen(
                    [python, str(SHIM)],
                    cwd=code_dir,
                    env=self._child_environment(env_vars, code_dir),
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    # Own process group: stop() signals the function and anything it started.
                    start_new_session=True,
                )
            except OSError as error:
                raise LambdaRuntimeException(
                    f"cannot start the function's Python {python!r} (set {PYTHON_ENV_VAR}): {error}"
                ) from error
        self._wait_until_ready()

    def _child_environment(self, env_vars: dict[str, str], code_dir: Path) -> dict[str, str]:
        env = {name: os.environ[name] for name in INHERITED_VARS if name in os.environ}
        env.update({key: str(value) for key, value in env_vars.items()})
        env.update(
            {
                # Paths the container would have, mapped to this machine.
                "LAMBDA_TASK_ROOT": str(code_dir),
                "LAMBDA_RUNTIME_DIR": str(SHIM.parent),
                "HOME": str(self.work_dir),
                "TMPDIR": str(self.work_dir),
                "LOCAL_LAMBDA_PORT": str(self.port),
                "PYTHONDONTWRITEBYTECODE": "1",  # the code folder stays as unzipped
            }
        )
        return env

    def _wait_until_ready(self) -> None:
        """Wait for the shim's ready callback; fail fast if the child dies first."""
        future = self.executor_endpoint.startup_future
        while True:
            try:
                future.result(timeout=0.1)
                return
            except FutureTimeoutError:
                pass
            except CancelledError as error:
                raise ShutdownDuringStartup("execution environment stopped during startup") from error
            if self.process.poll() is not None:
                raise LambdaRuntimeException(
                    f"local Lambda process exited with code {self.process.returncode} before it was ready:\n"
                    + self.get_logs()[-2000:]
                )

    def stop(self) -> None:
        """SIGTERM the child's process group, wait a bounded time, then SIGKILL it."""
        process = self.process
        if process is not None and process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=STOP_TIMEOUT_SECONDS)
            except ProcessLookupError:
                pass
        shutil.rmtree(self.work_dir, ignore_errors=True)
        try:
            self.executor_endpoint.shutdown()
        except Exception as error:  # as the Docker executor: a stop must not fail on this
            LOG.debug("Error while stopping executor endpoint %s: %s", self.id, error)

    # -- addresses -------------------------------------------------------------------
    def get_address(self) -> str:
        return LOOPBACK

    def get_endpoint_from_executor(self) -> str:
        # The function runs on this machine: LocalStack's gateway is on loopback.
        return LOOPBACK

    def get_runtime_endpoint(self) -> str:
        port = config.GATEWAY_LISTEN[0].port
        return f"http://{LOOPBACK}:{port}{self.executor_endpoint.get_endpoint_prefix()}"

    # -- invocations -----------------------------------------------------------------
    def invoke(self, payload: dict[str, str]) -> InvocationResult:
        return self.executor_endpoint.invoke(payload)

    def get_logs(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    # -- versions --------------------------------------------------------------------
    @classmethod
    def prepare_version(cls, function_version: FunctionVersion) -> None:
        check_supported(function_version)
        if function_version.config.code:
            prepare_code(function_version.config.code)

    @classmethod
    def cleanup_version(cls, function_version: FunctionVersion) -> None:
        pass  # nothing beyond the unzipped code, which LocalStack removes itself

    @classmethod
    def validate_environment(cls) -> bool:
        python = function_python()
        if not shutil.which(python):
            LOG.warning("%s=%r is not an executable: Lambda functions cannot start", PYTHON_ENV_VAR, python)
            return False
        if not os.environ.get(PYTHON_ENV_VAR):
            LOG.warning(
                "%s is not set: Lambda functions run with LocalStack's own Python (%s)", PYTHON_ENV_VAR, python
            )
        return True
