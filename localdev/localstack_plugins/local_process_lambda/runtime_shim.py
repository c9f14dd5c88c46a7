"""A Lambda Python runtime for one local execution environment.

Started by the local-process executor (``executor.py``) in the function's unzipped
code folder, with the environment variables LocalStack gives a Lambda container.
Standard library only: it runs under the function's interpreter (by default the
project's ``.venv/bin/python``), not LocalStack's.

Protocol (the one LocalStack's container runtime speaks):
- serve ``POST /invoke`` on ``127.0.0.1:$LOCAL_LAMBDA_PORT`` (answer 202 at once);
- once the handler is imported, ``POST $LOCALSTACK_RUNTIME_ENDPOINT/status/$LOCALSTACK_RUNTIME_ID/ready``;
- per invocation, ``POST .../invocations/{id}/logs`` (``{"logs": "..."}``), then
  ``.../invocations/{id}/response`` with the JSON result or ``.../error`` with
  Lambda's ``errorMessage/errorType/stackTrace`` payload.

As in Lambda, the handler runs in the main thread, one invocation at a time; a handler
that outlives the function timeout gets a ``Sandbox.Timedout`` error and the runtime
restarts (same pid, fresh interpreter), so the next invocation starts cold.
"""
from __future__ import annotations

import http.server
import importlib
import json
import logging
import os
import queue
import resource
import sys
import tempfile
import threading
import time
import traceback
import urllib.request

RESTARTED_FLAG = "--restarted"
# Callbacks go straight to LocalStack on loopback, whatever proxy the function configures.
CALLBACKS = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class HandlerLoadError(Exception):
    """The function's handler could not be imported; carries Lambda's error payload."""

    def __init__(self, payload: dict):
        super().__init__(payload["errorMessage"])
        self.payload = payload


# -- handler ---------------------------------------------------------------------------
def load_handler(handler_name: str):
    """Import ``module.function`` from ``_HANDLER`` (``dir/module.function`` also accepted)."""
    module_name, _, function_name = handler_name.rpartition(".")
    if not module_name or not function_name:
        raise HandlerLoadError(error_payload("Runtime.MalformedHandlerName", f"Bad handler '{handler_name}'"))
    module_name = module_name.replace("/", ".")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise HandlerLoadError(
            error_payload("Runtime.ImportModuleError", f"Unable to import module '{module_name}': {error}")
        ) from error
    except Exception as error:  # the module itself failed while loading (init error)
        raise HandlerLoadError(exception_payload(error)) from error
    handler = getattr(module, function_name, None)
    if not callable(handler):
        raise HandlerLoadError(
            error_payload("Runtime.HandlerNotFound", f"Handler '{function_name}' missing on module '{module_name}'")
        )
    return handler


def error_payload(error_type: str, message: str, stack: list[str] | None = None) -> dict:
    return {"errorMessage": message, "errorType": error_type, "requestId": "", "stackTrace": stack or []}


def exception_payload(error: BaseException) -> dict:
    stack = traceback.format_list(traceback.extract_tb(error.__traceback__))
    return error_payload(type(error).__name__, str(error), stack)


class LambdaContext:
    """The context object a Lambda Python handler receives."""

    def __init__(self, request_id: str, function_arn: str, deadline: float):
        env = os.environ
        self.function_name = env.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = env.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.invoked_function_arn = function_arn
        self.memory_limit_in_mb = env.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        self.aws_request_id = request_id
        self.log_group_name = env.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = env.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self.identity = None
        self.client_context = None
        self._deadline = deadline

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


# -- logs --------------------------------------------------------------------------------
class OutputCapture:
    """Captures everything written to fd 1 and 2 during one invocation (print, logging, C code)."""

    def __init__(self):
        self._file = tempfile.TemporaryFile()
        self._saved = None

    def start(self) -> None:
        flush_std()
        self._saved = (os.dup(1), os.dup(2))
        os.dup2(self._file.fileno(), 1)
        os.dup2(self._file.fileno(), 2)

    def stop(self) -> str:
        """Restore fd 1 and 2; returns what was captured (and echoes it to the real stdout)."""
        if self._saved is None:
            return ""
        flush_std()
        for fd, saved in zip((1, 2), self._saved):
            os.dup2(saved, fd)
            os.close(saved)
        self._saved = None
        self._file.seek(0)
        text = self._file.read().decode("utf-8", errors="replace")
        self._file.close()
        sys.stdout.write(text)  # keeps the executor's log file complete
        flush_std()
        return text


def flush_std() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass


class RequestIdFilter(logging.Filter):
    request_id = ""

    def filter(self, record):
        record.aws_request_id = self.request_id
        return True


def install_root_log_handler() -> RequestIdFilter:
    """Lambda's Python runtime formats root-logger records like this (level left to the function)."""
    request_filter = RequestIdFilter()
    handler = logging.StreamHandler(sys.stdout)
    formatter = logging.Formatter(
        "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n", "%Y-%m-%dT%H:%M:%S"
    )
    formatter.converter = time.gmtime
    handler.setFormatter(formatter)
    handler.addFilter(request_filter)
    logging.getLogger().addHandler(handler)
    return request_filter


# -- runtime -----------------------------------------------------------------------------
class Runtime:
    def __init__(self):
        env = os.environ
        self.callback_base = env["LOCALSTACK_RUNTIME_ENDPOINT"].rstrip("/")
        self.runtime_id = env["LOCALSTACK_RUNTIME_ID"]
        self.handler_name = env.get("_HANDLER", "")
        self.timeout = float(env.get("AWS_LAMBDA_FUNCTION_TIMEOUT") or 3)
        self.memory_size = env.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        self.version = env.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.handler = None
        self.init_ms: float | None = None
        self.request_filter = install_root_log_handler()
        self.invocations: "queue.Queue[dict]" = queue.Queue()
        self._claim = threading.Lock()
        self._claimed_by: str | None = None

    def post(self, path: str, body: bytes, content_type: str = "application/json") -> None:
        request = urllib.request.Request(
            f"{self.callback_base}{path}", data=body, method="POST", headers={"Content-Type": content_type}
        )
        with CALLBACKS.open(request, timeout=30) as response:
            response.read()

    def init(self) -> None:
        """Import the handler (Lambda's init phase). A failure is reported on each invocation."""
        started = time.monotonic()
        try:
            self.handler = load_handler(self.handler_name)
        except HandlerLoadError as error:
            print(f"[ERROR] {error.payload['errorType']}: {error.payload['errorMessage']}", flush=True)
        self.init_ms = (time.monotonic() - started) * 1000

    def claim(self, request_id: str) -> bool:
        """Exactly one of 'the handler finished' and 'the timeout fired' reports an invocation."""
        with self._claim:
            if self._claimed_by == request_id:
                return False
            self._claimed_by = request_id
            return True

    def invoke(self, invocation: dict) -> None:
        request_id = invocation["invoke-id"]
        started = time.monotonic()
        context = LambdaContext(request_id, invocation.get("invoked-function-arn", ""), started + self.timeout)
        os.environ["_X_AMZN_TRACE_ID"] = invocation.get("trace-id") or ""
        self.request_filter.request_id = request_id
        capture = OutputCapture()
        capture.start()
        print(f"START RequestId: {request_id} Version: {self.version}", flush=True)
        timer = threading.Timer(self.timeout, self.timed_out, args=(request_id, started, capture))
        timer.daemon = True
        timer.start()
        try:
            outcome = "response", self.run_handler(invocation.get("payload") or "", context)
        except HandlerLoadError as error:
            outcome = "error", dict(error.payload, requestId=request_id)
        except BaseException as error:  # SystemExit too: the environment must survive it, as in Lambda
            print(f"[ERROR] {type(error).__name__}: {error}", flush=True)
            traceback.print_exc(file=sys.stdout)
            outcome = "error", dict(exception_payload(error), requestId=request_id)
        finally:
            timer.cancel()
        if self.claim(request_id):
            self.report(request_id, started, capture, *outcome)
        else:
            time.sleep(3600)  # the timeout already answered; the runtime is being replaced

    def run_handler(self, payload: str, context: LambdaContext) -> bytes:
        if self.handler is None:  # init failed before: Lambda retries it on the next invocation
            self.init_ms = None
            self.handler = load_handler(self.handler_name)
        event = json.loads(payload) if payload.strip() else {}
        result = self.handler(event, context)
        try:
            return json.dumps(result).encode("utf-8")
        except (TypeError, ValueError) as error:
            raise HandlerLoadError(
                error_payload("Runtime.MarshalError", f"Unable to marshal response: {error}")
            ) from None

    def timed_out(self, request_id: str, started: float, capture: OutputCapture) -> None:
        if not self.claim(request_id):
            return
        message = f"Task timed out after {self.timeout:.2f} seconds"
        print(f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())} {request_id} {message}", flush=True)
        payload = error_payload("Sandbox.Timedout", f"RequestId: {request_id} Error: {message}")
        self.report(request_id, started, capture, "error", dict(payload, requestId=request_id))
        # The handler is still running and a thread cannot be stopped: replace the process.
        flush_std()
        os.execv(sys.executable, [sys.executable, os.path.abspath(__file__), RESTARTED_FLAG])

    def report(self, request_id: str, started: float, capture: OutputCapture, kind: str, body) -> None:
        duration_ms = (time.monotonic() - started) * 1000
        max_memory_mb = peak_memory_mb()
        report = (
            f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\t"
            f"Billed Duration: {int(duration_ms) + 1} ms\tMemory Size: {self.memory_size} MB\t"
            f"Max Memory Used: {max_memory_mb} MB\t"
        )
        if self.init_ms is not None:
            report += f"Init Duration: {self.init_ms:.2f} ms\t"
            self.init_ms = None  # reported once, on the cold start
        print(f"END RequestId: {request_id}\n{report}", flush=True)
        logs = capture.stop()
        self.post(f"/invocations/{request_id}/logs", json.dumps({"logs": logs}).encode("utf-8"))
        if kind == "response":
            self.post(f"/invocations/{request_id}/response", body)
        else:
            self.post(f"/invocations/{request_id}/error", json.dumps(body).encode("utf-8"))


def peak_memory_mb() -> int:
    """Peak resident memory of this process (VmHWM: unlike ru_maxrss, not inherited from LocalStack)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) // 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


def invoke_server(port: int, invocations: "queue.Queue[dict]") -> http.server.HTTPServer:
    class InvokeHandler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            if self.path != "/invoke":
                self.send_error(404)
                return
            length = int(self.headers.get("Content-Length") or 0)
            invocations.put(json.loads(self.rfile.read(length)))
            self.send_response(202)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):  # keep request lines out of the function's logs
            pass

    return http.server.ThreadingHTTPServer(("127.0.0.1", port), InvokeHandler)


def exit_when_orphaned() -> None:
    """If LocalStack dies without stopping us (SIGKILL), do not outlive it."""
    parent = os.getppid()

    def watch():
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def main(argv: list[str]) -> None:
    # Lambda puts the code folder first on sys.path (not this file's folder).
    sys.path[0] = os.environ.get("LAMBDA_TASK_ROOT") or os.getcwd()
    exit_when_orphaned()
    runtime = Runtime()
    # Bind before the (possibly slow) import: LocalStack's invokes then queue, not fail.
    server = invoke_server(int(os.environ["LOCAL_LAMBDA_PORT"]), runtime.invocations)
    runtime.init()
    threading.Thread(target=server.serve_forever, name="invoke-server", daemon=True).start()
    if RESTARTED_FLAG not in argv:  # after a timeout restart LocalStack already has us as ready
        runtime.post(f"/status/{runtime.runtime_id}/ready", b"{}")
    while True:
        runtime.invoke(runtime.invocations.get())


if __name__ == "__main__":
    main(sys.argv[1:])
