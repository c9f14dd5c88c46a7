"""Adaptive polling through the real poller: real spotipy -> the local Spotify server, whose
charts flip at a time of day; real boto3 -> Firehose and S3 on moto. The schedule's clock
is the server's simulated instant, as Spotify's Date header and the Lambda's clock agree."""
from __future__ import annotations

import json
from datetime import datetime

import boto3
import pytest

from producer.schedule import FIRST_READ, NO_HISTORY, NOT_DUE, SAFETY, WINDOW, histories_from_json
from tests.producer.conftest import WATCHED

GLOBAL, US, GB = (m.playlist_id for m in WATCHED)
FLIPS = {"flip_times": {"global": "14:30", "us": "06:00", "gb": "20:00"}, "flip_jitter_minutes": 0}


@pytest.fixture
def adaptive(make_poller, env, spotify):
    """A poller with adaptive polling whose clock is the server's; ``at(text)`` polls at that instant."""
    spotify.control.configure(**FLIPS)
    poller = make_poller(POLL_SCHEDULE="adaptive", POLL_INTERVAL_MINUTES="15", FLIP_WINDOW_MINUTES="3",
                         SAFETY_INTERVAL_MINUTES="120")
    clock = {"now": None}
    poller.schedule.clock = lambda: clock["now"]

    def at(text: str):
        moment = spotify.control.set_time(f"{text}+00:00")
        clock["now"] = moment.timestamp()
        return poller.poll(f"poll-{text}", lambda: 60.0)

    return poller, at


def read_ids(result) -> set[str]:
    return {o.playlist.id for o in result.outcomes}


def schedule_object(env) -> dict:
    body = boto3.client("s3").get_object(Bucket=env["STATE_BUCKET"], Key="producer-state/schedule.json")["Body"]
    return histories_from_json(json.loads(body.read()))


def test_charts_are_read_around_their_learned_flip_and_sparsely_otherwise(adaptive, env):
    poller, at = adaptive
    first = at("2023-06-01T14:15:07")
    assert read_ids(first) == {GLOBAL, US, GB} and first.summary()["not_due"] == 0
    assert {d.reason for d in poller.schedule.decisions.values()} == {FIRST_READ}
    idle = at("2023-06-01T14:16:07")
    assert read_ids(idle) == set() and idle.spotify_requests == 0 and idle.summary()["not_due"] == 3
    # No history yet: the plain interval; global's 14:30 flip is caught at the next read.
    learning = at("2023-06-01T14:30:07")
    assert read_ids(learning) == {GLOBAL, US, GB} and learning.summary()["changed"] == [GLOBAL]
    flip = schedule_object(env)[GLOBAL].flips[-1]
    # The server's clock runs on in real time from each set instant, so a read's Date is the
    # instant plus the seconds the poll took before it (1-2 s on a loaded machine).
    seen_late = flip.seen - datetime.fromisoformat("2023-06-01T14:30:07+00:00").timestamp()
    assert 895 <= flip.width <= 900 and 0 <= seen_late <= 5

    # The next day: global has learned its hour. A safety read, nothing until its window, then
    # every invocation until the flip. US and GB flipped while nobody read them (their brackets
    # tell no hour): still on the plain interval.
    assert read_ids(at("2023-06-02T13:00:07")) == {GLOBAL, US, GB}
    assert poller.schedule.decisions[GLOBAL].reason == SAFETY
    assert read_ids(at("2023-06-02T14:05:07")) == {US, GB} and poller.schedule.decisions[GLOBAL].reason == NOT_DUE
    assert poller.schedule.decisions[US].reason == NO_HISTORY
    for minute, charts in (("14:13", {GLOBAL}), ("14:20", {GLOBAL, US, GB}), ("14:29", {GLOBAL})):
        result = at(f"2023-06-02T{minute}:07")
        assert read_ids(result) == charts and poller.schedule.decisions[GLOBAL].reason == WINDOW
        assert GLOBAL in result.summary()["unchanged"]
    caught = at("2023-06-02T14:30:07")
    assert caught.summary()["changed"] == [GLOBAL] and caught.records_sent == 50
    assert read_ids(at("2023-06-02T14:31:07")) == set()  # today's flip is in: back to sparse
    history = schedule_object(env)[GLOBAL]
    assert 55 <= history.flips[-1].width <= 60 and history.reads_day == "2023-06-02" and history.reads_today == 5


def test_lost_or_damaged_schedule_state_reads_every_chart_again(adaptive, env):
    poller, at = adaptive
    at("2023-06-01T10:00:07")
    assert read_ids(at("2023-06-01T10:01:07")) == set()
    s3 = boto3.client("s3")
    s3.delete_object(Bucket=env["STATE_BUCKET"], Key="producer-state/schedule.json")
    assert read_ids(at("2023-06-01T10:02:07")) == {GLOBAL, US, GB}  # cold start: nothing is skipped
    s3.put_object(Bucket=env["STATE_BUCKET"], Key="producer-state/schedule.json", Body=b"{not json")
    after_damage = at("2023-06-01T10:03:07")
    assert read_ids(after_damage) == {GLOBAL, US, GB} and not after_damage.by_status("failed")
    assert set(schedule_object(env)) == {GLOBAL, US, GB}  # written afresh


def test_a_fixed_schedule_reads_every_chart_every_poll_and_keeps_no_schedule(make_poller, env, spotify):
    poller = make_poller()
    assert poller.schedule is None
    assert len(poller.poll("a", lambda: 60.0).outcomes) == 3 and len(poller.poll("b", lambda: 60.0).outcomes) == 3
    listed = boto3.client("s3").list_objects_v2(Bucket=env["STATE_BUCKET"], Prefix="producer-state/schedule")
    assert listed.get("KeyCount", 0) == 0
