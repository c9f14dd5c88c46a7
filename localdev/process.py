"""Start local servers as child processes and stop exactly those, by pid.

Every local stand-in (Spotify-compatible server, AWS endpoint, Snowflake engine,
LocalStack) is started through :class:`ManagedProcess`, so tests and the local
run never leave a server behind and never touch processes they did not start.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Callable, Mapping, Sequence


class ServerStartError(RuntimeError):
    """A local server did not become ready in time."""


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free on ``host`` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def http_ready(url: str) -> Callable[[], bool]:
    """A readiness check: ``url`` answers any HTTP status."""

    def check() -> bool:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return True
        except urllib.error.HTTPError:
            return True  # it answered, even if with an error status
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            return False

    return check


class ManagedProcess:
    """A child process with a readiness check and a bounded, pid-scoped stop.

    Usable as a context manager::

        with ManagedProcess([sys.executable, "-m", "x"], ready=http_ready(url)) as proc:
            ...
    """

    def __init__(
        self,
        argv: Sequence[str],
        *,
        ready: Callable[[], bool],
        name: str | None = None,
        env: Mapping[str, str] | None = None,
        cwd: str | os.PathLike | None = None,
        log_path: str | os.PathLike | None = None,
        start_timeout: float = 60.0,
        stop_timeout: float = 10.0,
    ):
        self.argv = list(argv)
        self.ready = ready
        self.name = name or Path(self.argv[0]).name
        self.env = {**os.environ, **(env or {})}
        self.cwd = cwd
        self.log_path = Path(log_path) if log_path else None
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self.process: subprocess.Popen | None = None
        self._log_file = None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def start(self) -> "ManagedProcess":
        if self.log_path:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            self._log_file = open(self.log_path, "ab")
            out = self._log_file
        else:
            out = subprocess.DEVNULL
        # A session of its own: Ctrl-C in the terminal reaches only the parent, which stops
        # its children by pid, in order (a server that got the signal too would be gone
        # before the parent could read from it once more, e.g. for a final report).
        self.process = subprocess.Popen(
            self.argv, env=self.env, cwd=self.cwd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.stop()
                raise ServerStartError(
                    f"{self.name} exited with code {self.process.returncode} before it was ready"
                    + (f"; see {self.log_path}" if self.log_path else "")
                )
            if self.ready():
                return self
            time.sleep(0.1)
        self.stop()
        raise ServerStartError(f"{self.name} was not ready after {self.start_timeout:.0f} s")

    def stop(self) -> None:
        """SIGTERM the child, wait a bounded time, then SIGKILL it."""
        proc = self.process
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=self.stop_timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        if self._log_file:
            self._log_file.close()
            self._log_file = None

    def __enter__(self) -> "ManagedProcess":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def python_module(module: str, *args: str) -> list[str]:
    """argv that runs ``python -m module args`` with this interpreter."""
    return [sys.executable, "-m", module, *args]
