"""The dashboard's HTTP answers seen from a hostile web: only requests for this machine's
loopback names are served (DNS rebinding), every answer carries the security headers, and
no exception text reaches a browser. The real server in a thread of this process, with
a Snowflake source whose errors carry text that must stay in the log."""
from __future__ import annotations

import http.client
import json
import logging
import re
import threading
from pathlib import Path

import pytest

import spotify_charts.dashboard
from spotify_charts.dashboard import CONTENT_SECURITY_POLICY, DashboardData, DashboardServer, SnowflakeViews, host_allowed
from spotify_charts.settings import MonitorSettings

# What a connector's error could carry: it must reach the log, never the browser.
LEAKY = "connection to acme-xy12345.snowflakecomputing.com refused for user PIPELINE_ADMIN"


def broken_snowflake():
    raise ConnectionError(LEAKY)


@pytest.fixture
def dashboard(tmp_path):
    settings = MonitorSettings(glue_checkpoint=str(tmp_path / "checkpoint"))
    server = DashboardServer(DashboardData(settings, SnowflakeViews(broken_snowflake)), port=0)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def request(server: DashboardServer, path: str, host: str | None = "127.0.0.1", method: str = "GET"):
    """(status, headers, body) of one request with exactly this Host header (None: none at all)."""
    connection = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=10)
    try:
        connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        if host is not None:
            connection.putheader("Host", host)
        connection.endheaders()
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


@pytest.mark.parametrize("host, allowed", [
    ("127.0.0.1", True), ("127.0.0.1:8050", True), ("localhost", True), ("LOCALHOST:65000", True),
    ("evil.example", False), ("evil.example:8050", False), ("127.0.0.1.nip.io", False), ("localhost.evil.example", False),
    ("127.0.0.2", False), ("[::1]:8050", False), ("localhost:80x", False), ("", False), (None, False),
])
def test_only_loopback_host_names_are_allowed(host, allowed):
    assert host_allowed(host) is allowed


def test_a_request_for_another_host_name_gets_421_and_no_data(dashboard, caplog):
    port = dashboard.server_address[1]
    for path in ("/", "/dashboard.js", "/api/charts", "/api/health"):
        for host in (f"rebound.evil.example:{port}", "rebound.evil.example", None):
            status, headers, body = request(dashboard, path, host)
            assert status == 421, (path, host)
            assert json.loads(body) == {"error": "this server answers only requests for 127.0.0.1 or localhost"}
            assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "rebound.evil.example" in caplog.text  # said in the log, not echoed to the browser
    for host in ("127.0.0.1", f"127.0.0.1:{port}", f"localhost:{port}", "localhost:9999"):  # 9999: an SSH tunnel
        assert request(dashboard, "/", host)[0] == 200, host


def test_every_answer_carries_the_security_headers(dashboard):
    expected = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY",
                "Cross-Origin-Resource-Policy": "same-origin", "Cache-Control": "no-store"}
    answers = {path: request(dashboard, path) for path in ("/", "/dashboard.js", "/dashboard.css", "/api/health",
                                                           "/api/bump", "/api/nothing", "/../dashboard.py",
                                                           "/track", "/records", "/calendar", "/common.js",
                                                           "/pages.css", "/api/records", "/api/track-grid")}
    answers["POST /api/charts"] = request(dashboard, "/api/charts", method="POST")  # http.server's own 501
    assert {name: status for name, (status, _, _) in answers.items()} == {
        "/": 200, "/dashboard.js": 200, "/dashboard.css": 200, "/api/health": 200, "/api/bump": 500,
        "/api/nothing": 404, "/../dashboard.py": 404, "POST /api/charts": 501, "/track": 200, "/records": 200,
        "/calendar": 200, "/common.js": 200, "/pages.css": 200, "/api/records": 500, "/api/track-grid": 400}
    for name, (_, headers, _) in answers.items():
        assert {k: headers[k] for k in expected} == expected, name
        policy = dict(part.split(" ", 1) for part in headers["Content-Security-Policy"].split("; "))
        assert policy["default-src"] == "'none'" and policy["frame-ancestors"] == "'none'", name
        assert policy["script-src"] == "'self'" and policy["style-src"] == "'self'", name  # no 'unsafe-inline'
    types = {name: headers["Content-Type"] for name, (_, headers, _) in answers.items()}
    assert types["/"].startswith("text/html") and types["/dashboard.js"].startswith("text/javascript")
    assert types["/dashboard.css"].startswith("text/css") and types["/api/health"].startswith("application/json")


# Every page and the scripts it loads, in order: what the pages share (common.js) first.
PAGES = {"/": ["/common.js", "/dashboard.js"], "/track": ["/common.js", "/track.js"],
         "/records": ["/common.js", "/records.js"], "/calendar": ["/common.js", "/calendar.js"]}


def test_the_pages_have_no_inline_script_or_style(dashboard):
    for path, scripts in PAGES.items():
        page = request(dashboard, path)[2].decode()
        assert re.findall(r"<script[^>]*>", page) == [f'<script src="{script}" defer>' for script in scripts], path
        assert "<style" not in page and " style=" not in page and not re.search(r"\son[a-z]+=", page), path
        assert '<link rel="stylesheet" href="/dashboard.css">' in page, path
        for script in scripts:  # each one served as a script
            status, headers, _ = request(dashboard, script)
            assert status == 200 and headers["Content-Type"].startswith("text/javascript"), script


def test_the_scripts_never_parse_html():
    """Names come from Spotify, so from whoever names a track: the scripts build elements
    with DOM methods and set text, never parse HTML (Trusted Types would refuse it anyway)."""
    static = Path(spotify_charts.dashboard.__file__).parent / "static"
    scripts = sorted(static.glob("*.js"))
    assert {p.name for p in scripts} >= {"common.js", "dashboard.js", "track.js", "records.js", "calendar.js"}
    for script in scripts:
        text = script.read_text()
        assert not re.search(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function", text), \
            script.name


@pytest.mark.parametrize("path", [
    "/api/track-grid", "/api/track-grid?track=", "/api/track-grid?track=%3Cscript%3E",
    "/api/track-grid?track=" + "A" * 23, "/api/track-grid?track=" + "A" * 22 + "%0A",
    "/api/track-grid?track=" + "A" * 22 + "&from=yesterday",
    "/api/track-grid?track=" + "A" * 22 + "&from=2024-01-02&to=2024-01-01",
    "/api/records?chart=" + "x" * 201, "/api/records?chart=global%1B%5B2J",
    "/api/number-ones?chart=global&from=2023-01-01&to=2024-01-02", "/api/number-ones?to=2024-13-01",
])
def test_the_pages_endpoints_refuse_bad_parameters_before_reading_anything(dashboard, path):
    """The Snowflake source here fails on use: a 400 shows the parameter was refused first."""
    status, _, body = request(dashboard, path)
    answer = json.loads(body)
    assert status == 400 and set(answer) == {"error"}, (path, answer)
    assert "<script" not in answer["error"] and "\x1b" not in answer["error"]  # the value is not echoed


def test_an_error_reaches_the_browser_as_an_id_and_the_log_has_its_text(dashboard, caplog):
    caplog.set_level(logging.ERROR)
    status, _, body = request(dashboard, "/api/bump")
    answer = json.loads(body)
    assert status == 500 and set(answer) == {"error", "error_id"}
    assert re.fullmatch(r"[0-9a-f]{8}", answer["error_id"]) and answer["error_id"] in answer["error"]
    assert "ConnectionError" not in answer["error"] and "snowflakecomputing" not in answer["error"]
    [logged] = [r for r in caplog.records if answer["error_id"] in r.getMessage()]
    assert logged.exc_info and LEAKY in str(logged.exc_info[1])

    # Panels that survive a broken source say so, by id too.
    charts = json.loads(request(dashboard, "/api/charts")[2])
    checks = json.loads(request(dashboard, "/api/health")[2])["checks"]
    assert "Snowflake views unreadable (error id " in charts["problem"]
    assert checks["pending_load"]["status"] == "unknown" and "error id " in checks["pending_load"]["summary"]
    shown = json.dumps([charts, checks])
    assert "snowflakecomputing" not in shown and "PIPELINE_ADMIN" not in shown and "ConnectionError" not in shown
    ids = re.findall(r"error id ([0-9a-f]{8})", shown)
    assert ids and all(any(i in r.getMessage() for r in caplog.records) for i in ids)
