"""The live view on real movement events: the producer's handler polls the local Spotify
server (real charts, real spotipy) and writes its events to S3 on moto; the view reads them."""
from __future__ import annotations

import json
import queue
import subprocess
import threading
import time

import boto3
import pytest

from producer.state import StateStore
from spotify_charts.cli import main
from spotify_charts.events import ProducerOutputs, movements_of
from tests.conftest import unique_name
from tests.spotify_charts.conftest import CLI, TERMINAL_CONTROLS, child_environ



@pytest.fixture(scope="module")
def two_days(producer_env):
    """Poll chart day 2024-03-16, then 2024-03-17: the second poll moves both charts."""
    first = producer_env.poll()
    producer_env.spotify.control.advance(1)
    second = producer_env.poll()
    return producer_env, first, second


def _events(env) -> list[dict]:
    outputs = ProducerOutputs(env.state_bucket, "producer-state/")
    return [outputs.read_event(o.key) for o in outputs.recent_event_objects(100)]


def test_the_live_view_lists_each_movement_of_the_latest_events(two_days, capsys):
    env, first, second = two_days
    assert first["movements"] == {}  # nothing to compare the first version with
    assert len(second["changed"]) == 2  # both charts changed on the new chart day
    [event] = _events(env)
    expected = movements_of(event)
    totals = second["movements"]
    assert len(expected) == sum(totals.values())

    assert main(["live", "--json", "--last", "5"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert lines == expected
    assert {m["kind"] for m in lines} >= {"new_entries", "exits", "climbs", "falls"}
    for move in lines:  # what a movement claims matches its positions
        if move["kind"] == "climbs":
            assert move["change"] == move["previous_position"] - move["position"] >= 5
        if move["kind"] == "exits":
            assert move["position"] is None and move["previous_position"] is not None

    assert main(["live", "--chart", "us"]) == 0
    text = capsys.readouterr().out.splitlines()
    us_moves = [m for m in expected if m["chart_label"] == "us"]
    assert text[0].startswith(f"-- poll {event['poll_id']}") and f"{len(us_moves)} movements in us" in text[0]
    assert len(text) == 1 + len(us_moves)
    climb = next(m for m in us_moves if m["kind"] == "climbs")
    line = next(t for t in text[1:] if climb["name"] in t)
    assert f"#{climb['position']}" in line and f"▲{climb['change']}" in line \
        and f"(was #{climb['previous_position']})" in line
    assert any("EXIT" in t and "out" in t for t in text[1:])


def test_follow_shows_a_new_poll_s_movements_within_seconds(two_days):
    """`spotify-charts live --follow` in a child process sees the next poll's event
    within one check interval: the near-real-time path, no batch involved."""
    env, _, _ = two_days
    already = {e["poll_id"] for e in _events(env)}
    child = subprocess.Popen([*CLI, "live", "--follow", "--json", "--last", "0", "--interval", "1", "--for", "30"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=child_environ())
    lines: queue.Queue = queue.Queue()
    reader = threading.Thread(target=lambda: [lines.put(line) for line in child.stdout], daemon=True)
    reader.start()
    try:
        time.sleep(3)  # the child lists what exists first; none of it is printed (--last 0)
        assert lines.empty()
        env.spotify.control.advance(1)
        summary = env.poll()
        polled = time.monotonic()
        assert summary["movements"]
        first = json.loads(lines.get(timeout=10))
        latency = time.monotonic() - polled
        assert first["poll_id"] == summary["poll_id"] and first["poll_id"] not in already
        assert latency < 5, f"movement shown {latency:.1f} s after the poll"
    finally:
        child.terminate()  # SIGTERM by pid: the command ends as on Ctrl-C
        code = child.wait(timeout=10)
        reader.join(timeout=5)
    assert code == 130


def test_live_without_a_bucket_is_a_usage_error(monkeypatch, capsys):
    monkeypatch.delenv("STATE_BUCKET", raising=False)
    assert main(["live"]) == 2
    assert "STATE_BUCKET" in capsys.readouterr().err


def test_hostile_names_in_an_event_print_as_text(aws_endpoint, capsys):
    """Names come from Spotify: an event whose track, artist and chart names carry terminal
    escapes and bidi overrides prints them as text (and as escaped JSON, the same data)."""
    bucket = unique_name("state")
    boto3.client("s3").create_bucket(Bucket=bucket)
    move = {"key": "k1", "name": "\x1b[2J\x1b[HTop \u202egnp.exe", "artists": ["\x1b]0;pwned\x07Artist", "B\x07"],
            "position": 1, "previous_position": 2, "change": 1}
    event = {"event": "chart_movements", "poll_id": "p\x1b[31m1", "detected_at": "2026-01-02T03:04:05+00:00",
             "charts": [{"playlist_id": "pl", "chart_label": "glo\u2066bal", "snapshot_id": "s2",
                         "previous_snapshot_id": "s1", "new_entries": [], "exits": [], "falls": [], "climbs": [],
                         "new_number_one": move}]}
    StateStore(bucket, "producer-state/").save_event("chart_movements", "2026-01-02", "e1", event)

    assert main(["live", "--bucket", bucket, "--prefix", "producer-state/"]) == 0
    out = capsys.readouterr().out
    assert not TERMINAL_CONTROLS.search(out.replace("\n", ""))
    assert out.splitlines() == ["-- poll p1 at 2026-01-02T03:04:05+00:00: 1 movements in global",
                                "2026-01-02 03:04:05  global     #1  NEW #1  Top gnp.exe — Artist, B (was #2)"]

    assert main(["live", "--json", "--bucket", bucket, "--prefix", "producer-state/"]) == 0
    out = capsys.readouterr().out
    assert not TERMINAL_CONTROLS.search(out.replace("\n", ""))
    [printed] = [json.loads(line) for line in out.splitlines()]
    assert printed == movements_of(event)[0] and printed["name"] == move["name"]  # the data itself, unchanged
