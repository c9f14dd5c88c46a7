"""A Firehose endpoint that fails the way networks and services do, in front of a real one.

Point a real boto3 Firehose client at :class:`FlakyFirehoseEndpoint` (``endpoint_url``, or
``AWS_ENDPOINT_URL_FIREHOSE`` for code that builds its own client): every call is forwarded
to the real (local) endpoint, except that ``PutRecordBatch`` call number N meets the
action ``plan(N)`` gives:

- ``PASS``: forwarded, its answer returned;
- ``DROP``: the connection is closed before anything is forwarded (botocore:
  ``ConnectionClosedError``); nothing reached Firehose;
- ``LOSE_REPLY``: forwarded (Firehose took the records), then the connection is closed
  without the answer: the caller cannot know, and a retry sends the records twice;
- ``STALL``: no answer for ``stall_seconds``, then the connection is closed (botocore:
  ``ReadTimeoutError`` when its read timeout is shorter); nothing reached Firehose;
- ``DENY``: a 400 ``AccessDeniedException`` (botocore: ``ClientError``, not retryable);
- ``GO_DOWN``: forwarded and answered, then the endpoint stops listening: every later
  connection is refused (botocore: ``EndpointConnectionError``).

Its log counts the calls and the records Firehose was given through it.
"""
from __future__ import annotations

import json
import socket
import threading
import time
from http.server import ThreadingHTTPServer
from typing import Callable

from localdev.firehose_faults import ForwardingHandler

PUT_RECORD_BATCH = "Firehose_20150804.PutRecordBatch"
PASS, DROP, LOSE_REPLY, STALL, DENY, GO_DOWN = "pass", "drop", "lose_reply", "stall", "deny", "go_down"
ACCESS_DENIED = {"__type": "AccessDeniedException",
                 "message": "User is not authorized to perform: firehose:PutRecordBatch (the test's endpoint)"}


class FlakyFirehoseEndpoint(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, target: str, plan: Callable[[int], str], stall_seconds: float = 3.0):
        self.target = target.rstrip("/")
        self.plan = plan
        self.stall_seconds = stall_seconds
        self.lock = threading.Lock()
        self.calls: list[str] = []  # the action each PutRecordBatch call met
        self.forwarded_records = 0
        self._thread: threading.Thread | None = None
        super().__init__(("127.0.0.1", 0), _Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def __enter__(self) -> "FlakyFirehoseEndpoint":
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.shutdown()
        self.server_close()
        self._thread.join(timeout=10)

    def stop_listening(self) -> None:
        """Refuse every new connection from now on (the socket stays open until exit)."""
        self.socket.shutdown(socket.SHUT_RDWR)
        threading.Thread(target=self.shutdown, daemon=True).start()  # serve_forever ends at once


class _Handler(ForwardingHandler):
    server: FlakyFirehoseEndpoint
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:  # noqa: N802 - http.server's interface
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.headers.get("X-Amz-Target") != PUT_RECORD_BATCH:
            self._reply(*self._forward(body))
            return
        with self.server.lock:
            action = self.server.plan(len(self.server.calls) + 1)
            self.server.calls.append(action)
        if action in (DROP, STALL):
            if action == STALL:
                time.sleep(self.server.stall_seconds)
            self.close_connection = True  # closed with no answer
            return
        if action == DENY:
            self._reply(400, {}, json.dumps(ACCESS_DENIED).encode())
            return
        status, headers, reply = self._forward(body)
        with self.server.lock:
            self.server.forwarded_records += len(json.loads(body)["Records"])
        if action == LOSE_REPLY:
            self.close_connection = True
            return
        if action == GO_DOWN:
            self.server.stop_listening()
            self.close_connection = True  # the client's next call needs a new connection: refused
        self._reply(status, headers, reply)
