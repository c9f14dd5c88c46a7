"""Firehose partial failures for the deployed producer, by configuration only.

LocalStack's Firehose (community edition) always answers ``FailedPutCount: 0`` and has
no fault injection. So the test points the deployed producer's Firehose client (and only
it) at a small proxy, through boto3's service-specific endpoint variable
``AWS_ENDPOINT_URL_FIREHOSE`` set on the function; no producer code changes. The proxy
forwards every call to LocalStack, except that ``PutRecordBatch`` calls lose the records
the fault plan refuses: those are not forwarded and come back with
``ErrorCode: ServiceUnavailableException``, exactly the partial-failure shape AWS returns.
"""
from __future__ import annotations

import base64
import json
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from typing import Callable, Iterator

from tests.firehose.flaky_endpoint import ForwardingHandler

PUT_RECORD_BATCH = "Firehose_20150804.PutRecordBatch"
REFUSED = {"ErrorCode": "ServiceUnavailableException", "ErrorMessage": "Slow down. (refused by the test's fault proxy)"}

# (call number from 1, records of the call) -> indices of the records to refuse
FaultPlan = Callable[[int, list[dict]], set[int]]


@dataclass
class ProxyLog:
    calls: int = 0
    records_seen: int = 0
    records_refused: int = 0
    refused_playlists: list[str] = field(default_factory=list)


class FirehoseFaultProxy(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, target: str, plan: FaultPlan):
        self.target = target.rstrip("/")
        self.plan = plan
        self.log = ProxyLog()
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


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
            self.server.log.records_seen += len(records)
            self.server.log.records_refused += len(refused)
            for i in refused:
                self.server.log.refused_playlists.append(_playlist_of(records[i]))
        accepted = [i for i in range(len(records)) if i not in refused]
        answers: dict[int, dict] = {i: dict(REFUSED) for i in refused}
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
def firehose_faults(pipeline, plan: FaultPlan) -> Iterator[FirehoseFaultProxy]:
    """The deployed producer's Firehose calls go through a fault proxy while inside."""
    proxy = FirehoseFaultProxy(pipeline.localstack.endpoint, plan)
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
