"""The dashboard under load (#21 item 7): a bounded number of API requests answered at once
(the rest wait a moment, then get 503 with Retry-After), and the chart list every endpoint
needs read once per interval, not once per request. The real server in a thread of this
process; a source whose answer the test holds back stands in for a slow query."""
from __future__ import annotations

import http.client
import json
import threading
import time

import pytest

from spotify_charts.dashboard import ChartListCache, DashboardData, DashboardServer, SnowflakeViews
from spotify_charts.settings import MonitorSettings



class HeldHealth(DashboardData):
    """Answers /api/health only when the test lets it, counting how many wait inside at once."""

    def __init__(self):
        super().__init__(MonitorSettings(), SnowflakeViews(None))
        self.release = threading.Event()
        self.inside = 0
        self.most_inside = 0
        self._lock = threading.Lock()

    def health(self):
        with self._lock:
            self.inside += 1
            self.most_inside = max(self.most_inside, self.inside)
        try:
            self.release.wait(timeout=30)
            return {"checks": {}}
        finally:
            with self._lock:
                self.inside -= 1


def serve(data: DashboardData, **options) -> tuple[DashboardServer, threading.Thread]:
    server = DashboardServer(data, port=0, **options)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    return server, thread


def get(server: DashboardServer, path: str) -> tuple[int, dict[str, str], dict]:
    connection = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=30)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), json.loads(response.read())
    finally:
        connection.close()


@pytest.mark.dashboard  # a real server on 127.0.0.1
def test_requests_beyond_the_bound_wait_then_are_told_to_retry():
    data = HeldHealth()
    server, thread = serve(data, max_in_flight=2, queue_seconds=0.3)
    answers: list[tuple[int, dict[str, str], dict]] = []
    try:
        requests = [threading.Thread(target=lambda: answers.append(get(server, "/api/health"))) for _ in range(5)]
        for request in requests:
            request.start()
        deadline = time.monotonic() + 10
        while len(answers) < 3 and time.monotonic() < deadline:  # three refused after their wait
            time.sleep(0.05)
        assert data.inside == 2  # two answered at once, still held
        data.release.set()
        for request in requests:
            request.join(timeout=10)
    finally:
        data.release.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
    statuses = sorted(status for status, _, _ in answers)
    assert statuses == [200, 200, 503, 503, 503] and data.most_inside == 2 and server.refused == 3
    busy = [(headers, body) for status, headers, body in answers if status == 503]
    assert all(headers["Retry-After"] == "2" and "retry" in body["error"] for headers, body in busy)


@pytest.mark.dashboard
def test_static_files_are_never_held_back_by_busy_api_requests():
    data = HeldHealth()
    server, thread = serve(data, max_in_flight=1, queue_seconds=0.2)
    try:
        held = threading.Thread(target=get, args=(server, "/api/health"))
        held.start()
        while data.inside < 1:
            time.sleep(0.02)
        connection = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=5)
        connection.request("GET", "/dashboard.css")
        assert connection.getresponse().status == 200
        connection.close()
    finally:
        data.release.set()
        held.join(timeout=10)
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def test_the_chart_list_is_read_once_per_interval_by_any_number_of_callers():
    now = [100.0]
    reads: list[int] = []

    def read():
        time.sleep(0.05)  # callers arriving meanwhile wait for this read
        reads.append(1)
        return [f"list {len(reads)}"]

    cache = ChartListCache(read, seconds=10, clock=lambda: now[0])
    callers = [threading.Thread(target=cache.get) for _ in range(8)]
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.join()
    assert cache.get() == ["list 1"] and cache.reads == 1
    now[0] += 9.9
    assert cache.get() == ["list 1"]
    now[0] += 0.1
    assert cache.get() == ["list 2"] and cache.reads == 2


def test_a_failed_chart_list_read_is_not_kept():
    outcomes = iter([ConnectionError("engine down"), ["charts"]])

    def read():
        outcome = next(outcomes)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    cache = ChartListCache(read, seconds=60)
    with pytest.raises(ConnectionError):
        cache.get()
    assert cache.get() == ["charts"]
