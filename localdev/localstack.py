"""LocalStack for the integration tests and the local run, however this machine allows.

``ensure_localstack()`` (or the ``localstack()`` context manager) picks, in order:

1. reuse: a LocalStack already answers on the configured endpoint
   (``AWS_ENDPOINT_URL``, else ``LOCALSTACK_HOST``, else http://127.0.0.1:4566);
2. docker: a Docker engine answers (``docker info``): ``docker-compose.localstack.yml``;
3. host: LocalStack from PyPI in its own Python 3.13 virtualenv (``.local/localstack-venv``,
   pins in ``localstack-requirements.txt``), with our plugins (``localstack_plugins/``): the
   ``local-process`` Lambda executor, so Lambda functions run as local processes, and
   Firehose S3 keys evaluated as AWS does (a gap in LocalStack's Firehose).

It prints one line saying which mode runs and why. Whatever it started, ``stop()``
stops (host mode: by pid, bounded wait, then SIGKILL).

    python -m localdev.localstack install   # create the host-mode virtualenv, print the time
    python -m localdev.localstack run       # provide LocalStack until Ctrl-C
"""
from __future__ import annotations

import argparse
import fcntl
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Mapping

from localdev.aws import local_aws_environ
from localdev.process import ManagedProcess, free_port

REPO_ROOT = Path(__file__).resolve().parent.parent
LOCAL_DIR = REPO_ROOT / ".local"  # gitignored
VENV_DIR = LOCAL_DIR / "localstack-venv"
STATE_ROOT = LOCAL_DIR / "localstack"
REQUIREMENTS = Path(__file__).with_name("localstack-requirements.txt")
PLUGINS_DIST = Path(__file__).with_name("localstack_plugins")
# Its earlier name: uninstalled, or LocalStack would find the executor twice.
FORMER_PLUGINS_DIST = "localstack-local-process-lambda"
COMPOSE_FILE = REPO_ROOT / "docker-compose.localstack.yml"
PROJECT_PYTHON = REPO_ROOT / ".venv" / "bin" / "python"

DEFAULT_ENDPOINT = "http://127.0.0.1:4566"
HEALTH_PATH = "/_localstack/health"
EXECUTOR_PLUGIN = "local-process"  # the name in localstack_plugins' entry point
FUNCTION_PYTHON_VAR = "LOCAL_LAMBDA_PYTHON"  # read by the executor inside LocalStack
START_TIMEOUT = 180.0  # first start on a busy 2-core machine; it is usually 10-20 s
STOP_TIMEOUT = 10.0  # host mode can take long to exit on SIGTERM; then SIGKILL


class LocalStackError(RuntimeError):
    """LocalStack could not be provided."""


# -- where LocalStack is ---------------------------------------------------------------
def configured_endpoint(environ: Mapping[str, str] | None = None) -> str:
    """``AWS_ENDPOINT_URL``, else ``http://$LOCALSTACK_HOST`` (host:port), else the default."""
    env = os.environ if environ is None else environ
    if env.get("AWS_ENDPOINT_URL"):
        return env["AWS_ENDPOINT_URL"].rstrip("/")
    host = env.get("LOCALSTACK_HOST", "").strip()
    if host:
        return f"http://{host}" if ":" in host else f"http://{host}:4566"
    return DEFAULT_ENDPOINT


def health(endpoint: str, timeout: float = 2.0) -> dict | None:
    """LocalStack's health document, or None if what answers there is not LocalStack."""
    try:
        with urllib.request.urlopen(endpoint + HEALTH_PATH, timeout=timeout) as response:
            document = json.loads(response.read())
    except (urllib.error.URLError, OSError, ValueError):
        return None
    return document if isinstance(document, dict) and "services" in document else None


def port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as servers bind: TIME_WAIT is free
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def docker_engine() -> tuple[bool, str]:
    """(usable, why): a Docker engine answers and the compose plugin is installed."""
    if not shutil.which("docker"):
        return False, "no docker command"
    info = run_quietly(["docker", "info"], timeout=20)
    if info.returncode != 0:
        last = (info.stderr or info.stdout).strip().splitlines()[-1:] or ["no output"]
        return False, f"no Docker engine (`docker info` failed: {last[0]})"
    if run_quietly(["docker", "compose", "version"], timeout=20).returncode != 0:
        return False, "Docker engine found but no `docker compose` plugin"
    return True, "a Docker engine answers `docker info`"


def run_quietly(argv: list[str], timeout: float) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as error:
        return subprocess.CompletedProcess(argv, 1, "", str(error))


# -- the running LocalStack ------------------------------------------------------------
@dataclass
class LocalStack:
    """A LocalStack this process uses; ``stop()`` stops it only if this process started it."""

    endpoint: str
    mode: str  # "reused" | "docker" | "host"
    reason: str
    install_seconds: float = 0.0  # host mode: creating/updating the virtualenv (0 when up to date)
    start_seconds: float = 0.0  # until the health endpoint answered
    state_dir: Path | None = None  # host mode: LocalStack's FILESYSTEM_ROOT
    persistence: bool = False
    _process: ManagedProcess | None = field(default=None, repr=False)
    _compose_env: dict[str, str] | None = field(default=None, repr=False)
    _settings: dict[str, str] = field(default_factory=dict, repr=False)  # host mode: kept across restart()

    def environ(self) -> dict[str, str]:
        """Environment variables that point boto3 (and LocalStack-aware tools) here."""
        return local_aws_environ(self.endpoint)

    def client(self, service: str, **kwargs):
        """A boto3 client for this LocalStack, whatever the process environment says."""
        import boto3

        env = self.environ()
        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name=env["AWS_DEFAULT_REGION"],
            aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
            aws_session_token=env["AWS_SESSION_TOKEN"],
            **kwargs,
        )

    def stop(self) -> None:
        if self._process is not None:
            self._delete_lambda_functions()
            self._process.stop()
            self._process = None
            self._clean_state_dir()
        elif self._compose_env is not None:
            compose(["down"], self._compose_env, timeout=120)
            self._compose_env = None

    def restart(self) -> float:
        """Host mode: stop and start again on the same port and state dir; returns the start time."""
        if self.mode != "host" or self._process is None:
            raise LocalStackError(f"only a host-mode LocalStack started here can be restarted (mode: {self.mode})")
        self._delete_lambda_functions()
        self._process.stop()
        self._process, self.start_seconds = start_host_process(self.endpoint, self.state_dir, self.persistence,
                                                               self._settings)
        return self.start_seconds

    def _clean_state_dir(self) -> None:
        """Drop what no later run reads (unzipped Lambda code is tens of MB); keep the log."""
        keep = {"localstack.log"} | ({"var"} if self.persistence else set())
        for path in self.state_dir.iterdir():
            if path.name in keep:
                continue
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)

    def _delete_lambda_functions(self) -> None:
        """Work around a LocalStack shutdown hang (2026.3.0, host mode).

        On SIGTERM LocalStack stops its services one by one; stopping Lambda's functions then
        calls SQS, CloudWatch and Logs, which starts them again if they were already stopped,
        and their worker threads keep the process alive until SIGKILL. Deleting the functions
        first (host mode keeps no state across a stop anyway) lets it exit in a few seconds.
        """
        if (health(self.endpoint) or {}).get("services", {}).get("lambda") != "running":
            return
        try:
            lam = self.client("lambda")
            for page in lam.get_paginator("list_functions").paginate():
                for function in page["Functions"]:
                    lam.delete_function(FunctionName=function["FunctionName"])
        except Exception:  # best effort: the bounded stop still ends the process
            pass


def announce(message: str) -> None:
    print(f"LocalStack: {message}", file=sys.stderr, flush=True)


def ensure_localstack(
    endpoint: str | None = None,
    *,
    mode: str = "auto",
    state_dir: Path | None = None,
    persistence: bool = False,
    settings: Mapping[str, str] | None = None,
) -> LocalStack:
    """Provide LocalStack (reuse, docker or host; ``mode`` forces one). Call ``stop()`` when done.

    ``settings``: LocalStack configuration variables for a LocalStack started here (e.g.
    the Lambda concurrency limits of a new AWS account); a reused one keeps its own.
    """
    endpoint = (endpoint or configured_endpoint()).rstrip("/")
    settings = dict(settings or {})
    if mode not in ("auto", "reuse", "docker", "host"):
        raise LocalStackError(f"unknown mode {mode!r}: auto, reuse, docker or host")
    if mode in ("auto", "reuse"):
        found = health(endpoint)
        if found is not None:
            reason = f"LocalStack {found.get('version', '?')} already answers on {endpoint}"
            if settings:
                raise LocalStackError(f"{reason}: it cannot take the settings {sorted(settings)}; use another port")
            announce(f"reusing it ({reason})")
            return LocalStack(endpoint, "reused", reason)
        if mode == "reuse":
            raise LocalStackError(f"no LocalStack answers on {endpoint}")
        why_not_reused = f"nothing answers on {endpoint}"
    else:
        why_not_reused = f"mode={mode} requested"

    if mode in ("auto", "docker"):
        usable, why = docker_engine()
        if usable:
            announce(f"Docker compose mode ({why_not_reused}; {why})")
            return start_compose(endpoint, f"{why_not_reused}; {why}", settings)
        if mode == "docker":
            raise LocalStackError(why)
        reason = f"{why_not_reused}; {why}"
    else:
        reason = why_not_reused
    announce(f"host mode, LocalStack from PyPI with the local-process Lambda executor ({reason})")
    return start_host(endpoint, reason, state_dir=state_dir, persistence=persistence, settings=settings)


@contextmanager
def localstack(endpoint: str | None = None, **kwargs) -> Iterator[LocalStack]:
    """``ensure_localstack`` as a context manager: stops what it started on exit."""
    stack = ensure_localstack(endpoint, **kwargs)
    try:
        yield stack
    finally:
        stack.stop()


# -- docker mode -----------------------------------------------------------------------
def compose(args: list[str], env: dict[str, str], timeout: float) -> None:
    argv = ["docker", "compose", "-f", str(COMPOSE_FILE), *args]
    result = subprocess.run(argv, env={**os.environ, **env}, capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        raise LocalStackError(f"{' '.join(argv)} failed:\n{result.stderr[-2000:]}")


def start_compose(endpoint: str, reason: str, settings: Mapping[str, str] | None = None) -> LocalStack:
    port = urllib.parse.urlsplit(endpoint).port or 4566
    env = {**(settings or {}), "LOCALSTACK_PORT": str(port)}  # the compose file passes the settings it names
    started = time.monotonic()
    compose(["up", "-d", "--wait"], env, timeout=START_TIMEOUT + 600)  # includes the image pull
    stack = LocalStack(f"http://127.0.0.1:{port}", "docker", reason, _compose_env=env)
    stack.start_seconds = time.monotonic() - started
    return stack


# -- host mode -------------------------------------------------------------------------
def start_host(endpoint: str, reason: str, *, state_dir: Path | None = None, persistence: bool = False,
               settings: Mapping[str, str] | None = None) -> LocalStack:
    started = time.monotonic()
    ensure_venv()
    install_seconds = time.monotonic() - started
    parts = urllib.parse.urlsplit(endpoint)
    # The configured port if it is ours to take, so the user's AWS_ENDPOINT_URL keeps working.
    if parts.hostname in ("127.0.0.1", "localhost") and parts.port and port_is_free("127.0.0.1", parts.port):
        port = parts.port
    else:
        port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    state_dir = Path(state_dir or STATE_ROOT / f"port-{port}")
    process, start_seconds = start_host_process(endpoint, state_dir, persistence, settings)
    announce(
        f"host mode ready on {endpoint} (virtualenv {install_seconds:.1f} s, start {start_seconds:.1f} s, "
        f"state {state_dir}, log {state_dir / 'localstack.log'})"
    )
    return LocalStack(
        endpoint, "host", reason, install_seconds, start_seconds, state_dir, persistence, _process=process,
        _settings=dict(settings or {}),
    )


def host_environ(port: int, state_dir: Path, persistence: bool) -> dict[str, str]:
    return {
        "GATEWAY_LISTEN": f"127.0.0.1:{port}",
        # This machine may itself be a container; LocalStack would then assume it is inside
        # its own image and write to /var/lib/localstack. Host mode keeps it under state_dir.
        "OVERRIDE_IN_DOCKER": "0",
        "FILESYSTEM_ROOT": str(state_dir),
        "TMPDIR": str(state_dir / "tmp"),  # where Lambda code is unzipped (else /tmp/lambda)
        "PERSISTENCE": "1" if persistence else "0",
        "LAMBDA_RUNTIME_EXECUTOR": EXECUTOR_PLUGIN,
        FUNCTION_PYTHON_VAR: os.environ.get(FUNCTION_PYTHON_VAR) or str(PROJECT_PYTHON),
        "SQS_ENDPOINT_STRATEGY": "path",  # queue URLs on 127.0.0.1, no *.localstack.cloud DNS needed
        "DNS_ADDRESS": "0",  # no DNS server on port 53
        "SKIP_SSL_CERT_DOWNLOAD": "1",  # no internet: do not wait for GitHub
        "DISABLE_EVENTS": "1",  # no analytics calls
        "XDG_CACHE_HOME": str(LOCAL_DIR / "cache"),  # plux's entry point cache
    }


def start_host_process(endpoint: str, state_dir: Path, persistence: bool,
                       settings: Mapping[str, str] | None = None) -> tuple[ManagedProcess, float]:
    port = urllib.parse.urlsplit(endpoint).port
    (state_dir / "tmp").mkdir(parents=True, exist_ok=True)
    process = ManagedProcess(
        [str(venv_python()), "-m", "localstack.runtime.main"],
        ready=lambda: health(endpoint) is not None,
        name="localstack",
        env={**(settings or {}), **host_environ(port, state_dir, persistence)},
        cwd=state_dir,
        log_path=state_dir / "localstack.log",
        start_timeout=START_TIMEOUT,
        stop_timeout=STOP_TIMEOUT,
    )
    started = time.monotonic()
    process.start()
    return process, time.monotonic() - started


# -- LocalStack's virtualenv -------------------------------------------------------------
def venv_python(venv_dir: Path = VENV_DIR) -> Path:
    return venv_dir / "bin" / "python"


def plugin_sources(dist: Path | None = None) -> list[Path]:
    """The plugins' pyproject.toml and every package's modules (``<package>/*.py``; not
    build/, where pip writes a copy when it installs)."""
    dist = dist or PLUGINS_DIST
    return sorted([dist / "pyproject.toml", *dist.glob("*/*.py")])


def wanted_stamp() -> dict[str, str]:
    """What the virtualenv must contain: hashes of the pins and of the plugins' sources."""
    plugins = hashlib.sha256()
    for path in plugin_sources():
        plugins.update(path.relative_to(PLUGINS_DIST).as_posix().encode() + b"\0" + path.read_bytes())
    return {
        "requirements": hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest(),
        "plugins": plugins.hexdigest(),
    }


def ensure_venv(venv_dir: Path = VENV_DIR) -> bool:
    """Create or update LocalStack's virtualenv; idempotent. Returns whether anything was installed."""
    venv_dir.parent.mkdir(parents=True, exist_ok=True)
    stamp_path = venv_dir / ".installed.json"
    wanted = wanted_stamp()
    # A lock, so two test sessions starting at once do not install over each other.
    with open(venv_dir.parent / f".{venv_dir.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            current = json.loads(stamp_path.read_text())
        except (OSError, ValueError):
            current = {}
        if current == wanted and venv_python(venv_dir).exists():
            return False
        if not venv_python(venv_dir).exists():
            announce(f"creating its virtualenv in {venv_dir} (once; about a minute)")
            run_checked([*python313(), "-m", "venv", str(venv_dir)])
            current = {}
        pip = [str(venv_python(venv_dir)), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        if current.get("requirements") != wanted["requirements"]:
            run_checked([*pip, "-r", str(REQUIREMENTS)])
        if current.get("plugins") != wanted["plugins"]:
            if "executor" in current:  # installed under the former name
                run_checked([str(venv_python(venv_dir)), "-m", "pip", "uninstall", "--quiet", "--yes",
                             FORMER_PLUGINS_DIST])
            # Built from the checkout with the venv's setuptools (pinned above): no download.
            run_checked([*pip, "--no-deps", "--no-build-isolation", "--force-reinstall", str(PLUGINS_DIST)])
        stamp_path.write_text(json.dumps(wanted))
        return True


def python313() -> list[str]:
    """argv of a Python 3.13: $LOCALSTACK_PYTHON, pyenv's 3.13.x, or python3.13 on PATH."""
    candidates: list[tuple[list[str], dict[str, str]]] = []
    if os.environ.get("LOCALSTACK_PYTHON"):
        candidates.append(([os.environ["LOCALSTACK_PYTHON"]], {}))
    pyenv_root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
    for path in sorted(pyenv_root.glob("versions/3.13.*/bin/python3.13"), reverse=True):
        candidates.append(([str(path)], {}))
    if shutil.which("python3.13"):
        candidates.append((["python3.13"], {"PYENV_VERSION": os.environ.get("PYENV_VERSION", "3.13.0")}))
    for argv, extra_env in candidates:
        check = [*argv, "-c", "import sys; sys.exit(sys.version_info[:2] != (3, 13))"]
        try:
            if subprocess.run(check, env={**os.environ, **extra_env}, capture_output=True, timeout=30).returncode == 0:
                return argv if not extra_env else ["env", *(f"{k}={v}" for k, v in extra_env.items()), *argv]
        except (OSError, subprocess.TimeoutExpired):
            continue
    raise LocalStackError(
        "host mode needs Python 3.13 for LocalStack (localstack-core 2026.3.0 does not run on 3.11): "
        "install it (`pyenv install 3.13.0`) or set LOCALSTACK_PYTHON to its path"
    )


def run_checked(argv: list[str]) -> None:
    result = subprocess.run(argv, capture_output=True, text=True)
    if result.returncode != 0:
        raise LocalStackError(f"{' '.join(argv)} failed:\n{(result.stderr or result.stdout)[-3000:]}")


# -- command line ----------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m localdev.localstack", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["install", "run"])
    parser.add_argument("--mode", default="auto", choices=["auto", "reuse", "docker", "host"])
    args = parser.parse_args(argv)
    if args.command == "install":
        started = time.monotonic()
        installed = ensure_venv()
        print(f"{VENV_DIR}: {'installed' if installed else 'up to date'} in {time.monotonic() - started:.1f} s")
        return 0
    with localstack(mode=args.mode) as stack:
        print(f"export AWS_ENDPOINT_URL={stack.endpoint}  # Ctrl-C stops LocalStack")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
