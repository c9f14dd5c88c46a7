"""The local Snowflake-compatible engine: a fakesnow server in a child process.

The real ``snowflake-connector-python`` talks HTTP to it, so the code under test is
the code that runs against Snowflake. Its data lives in memory: it is gone when the
server stops (migrations and the Snowpipe runner rebuild it).

    python -m localdev.local_snowflake.engine --port 8085
    export SNOWFLAKE_LOCAL_URL=http://127.0.0.1:8085
"""
from __future__ import annotations

import argparse
import signal
import threading
from contextlib import contextmanager
from typing import Iterator

from localdev.process import ManagedProcess, free_port, http_ready, python_module
from snowflake.charts.connection import LOCAL_URL_VAR


@contextmanager
def fakesnow_server(port: int | None = None, log_path: str | None = None) -> Iterator[str]:
    """Run a fakesnow server on 127.0.0.1; yields its URL (the SNOWFLAKE_LOCAL_URL value)."""
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    argv = python_module("fakesnow", "--server", "--host", "127.0.0.1", "--port", str(port))
    with ManagedProcess(argv, ready=http_ready(f"{url}/"), name="fakesnow-server",
                        log_path=log_path, start_timeout=60):
        yield url


def local_environ(url: str) -> dict[str, str]:
    """Environment variables that point this package at a local engine."""
    return {LOCAL_URL_VAR: url}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the local Snowflake-compatible engine (fakesnow) until Ctrl-C.")
    parser.add_argument("--port", type=int, default=8085)
    parser.add_argument("--log", help="server log file (default: discard)")
    args = parser.parse_args(argv)
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with fakesnow_server(args.port, args.log) as url:
        print(f"fakesnow server ready: export {LOCAL_URL_VAR}={url}", flush=True)
        stop.wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
