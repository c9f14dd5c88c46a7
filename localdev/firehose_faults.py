"""Firehose faults for the deployed producer, by configuration only (the fault tests of
tests/integration and the chaos replay, benchmarks/bench_chaos.py).

LocalStack's Firehose (community edition) always answers ``FailedPutCount: 0`` and has
no fault injection. So the test points the deployed producer's Firehose client (and only
it) at a small proxy, through boto3's service-specific endpoint variable
``AWS_ENDPOINT_URL_FIREHOSE`` set on the function; no producer code changes. The proxy
forwards every call to LocalStack, except that ``PutRecordBatch`` calls lose the records
the fault plan refuses: those are not forwarded and come back with
``ErrorCode: ServiceUnavailableException``, exactly the partial-failure shape AWS returns.

A second plan, ``lose``, stands for what Firehose does after 24 hours of failed delivery to
S3: the records it names are accepted (a record id, no error) and never forwarded, so
they never land. The producer moves on; only reconciliation can notice.
"""
from __future__ import annotations

import base64
import json
import threading
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Iterator


PUT_RECORD_BATCH = "Firehose_20150804.PutRecordBatch"
REFUSED = {"ErrorCode": "ServiceUnavailableException", "ErrorMessage": "Slow down. (refused by the test's fault proxy)"}

# (call number from 1, records of the call) -> indices of the records to refuse
FaultPlan = Callable[[int, list[dict]], set[int]]


@dataclass
class ProxyLog:
    calls: int = 0
    records_seen: int = 0
    records_refused: int = 0
    records_lost: int = 0
    refused_playlists: list[str] = field(default_factory=list)


class FirehoseFaultProxy(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, target: str, plan: FaultPlan, lose: FaultPlan | None = None):
        self.target = target.rstrip("/")
        self.plan = plan
        self.lose = lose or (lambda call, records: set())
        self.log = ProxyLog()
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class ForwardingHandler(BaseHTTPRequestHandler):
    """Forwards a request to ``self.server.target`` and replies; the fault proxies' base."""

    def _forward(self, body: bytes) -> tuple[int, dict, bytes]:
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
        request = urllib.request.Request(self.server.target + self.path, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()

    def _reply(self, status: int, headers: dict, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", headers.get("Content-Type", "application/x-amz-json-1.1"))
        self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args) -> None:  # noqa: A002 - quiet
        pass


class _Handler(ForwardingHandler):
    server: FirehoseFaultProxy

    def do_POST(self) -> None:  # noqa: N802 - http.server's interface
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.headers.get("X-Amz-Target") != PUT_RECORD_BATCH:
            self._reply(*self._forward(body))
            return
        request = json.loads(body)
        records = request["Records"]
        with self.server.lock:
            self.server.log.calls += 1
            refused = self.server.plan(self.server.log.calls, records)
            lost = self.server.lose(self.server.log.calls, records) - refused
            self.server.log.records_seen += len(records)
            self.server.log.records_refused += len(refused)
            self.server.log.records_lost += len(lost)
            for i in refused:
                self.server.log.refused_playlists.append(_playlist_of(records[i]))
        accepted = [i for i in range(len(records)) if i not in refused and i not in lost]
        answers: dict[int, dict] = {i: dict(REFUSED) for i in refused}
        answers.update({i: {"RecordId": f"lost-{self.server.log.calls}-{i}"} for i in lost})
        if accepted:
            forwarded = json.dumps({**request, "Records": [records[i] for i in accepted]}).encode()
            status, headers, reply = self._forward(forwarded)
            if status != 200:  # the whole call failed at LocalStack: pass that on unchanged
                self._reply(status, headers, reply)
                return
            for i, answer in zip(accepted, json.loads(reply)["RequestResponses"]):
                answers[i] = answer
        result = {"FailedPutCount": len(refused), "Encrypted": False,
                  "RequestResponses": [answers[i] for i in range(len(records))]}
        self._reply(200, {"Content-Type": "application/x-amz-json-1.1"}, json.dumps(result).encode())


def _playlist_of(record: dict) -> str:
    return json.loads(base64.b64decode(record["Data"]))["playlist_id"]


def set_function_environment(lam, function_name: str, variables: dict[str, str]) -> None:
    lam.update_function_configuration(FunctionName=function_name, Environment={"Variables": variables})
    lam.get_waiter("function_updated_v2").wait(FunctionName=function_name, WaiterConfig={"Delay": 1})


@contextmanager
def firehose_faults(pipeline, plan: FaultPlan, lose: FaultPlan | None = None) -> Iterator[FirehoseFaultProxy]:
    """The deployed producer's Firehose calls go through a fault proxy while inside."""
    proxy = FirehoseFaultProxy(pipeline.localstack.endpoint, plan, lose)
    thread = threading.Thread(target=proxy.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    lam = pipeline.aws("lambda")
    name = pipeline.outputs["ProducerFunctionName"]
    original = lam.get_function_configuration(FunctionName=name)["Environment"]["Variables"]
    set_function_environment(lam, name, {**original, "AWS_ENDPOINT_URL_FIREHOSE": proxy.url})
    try:
        yield proxy
    finally:
        set_function_environment(lam, name, original)
        proxy.shutdown()
        proxy.server_close()
