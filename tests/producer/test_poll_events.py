"""The producer's chart events: polls of replayed real charts (real spotipy -> the local
Spotify server) publish to SNS on moto, and an SQS subscriber receives exactly the events
the truth computes from the CSV files alone (benchmarks/truth/chart_events.py)."""
from __future__ import annotations

import json
from collections import Counter
from datetime import date

import boto3
import pytest

from benchmarks.truth.chart_events import market_events
from producer.state import StateStore
from tests.conftest import unique_name
from tests.producer.conftest import WATCHED
from tests.producer.test_event_publisher import received, subscribe

FIRST = date(2024, 3, 11)
LAST = date(2024, 3, 17)  # 2024-03-14 is missing from the data: the server fails that day, a gap
CHANGED = date(2024, 3, 13)  # the charts of 2024-03-12 are those of the 11th: no new version that day


@pytest.fixture
def events_env(env, monkeypatch):
    topic = boto3.client("sns").create_topic(Name=unique_name("chart-events"))["TopicArn"]
    monkeypatch.setenv("CHART_EVENTS_TOPIC_ARN", topic)
    return {**env, "CHART_EVENTS_TOPIC_ARN": topic, "CLIMB_EVENT_PLACES": "5", "queue": subscribe(topic, None)}


def track(song: str, artists) -> tuple[str, tuple[str, ...]]:
    """A track as the CSV names it and as the local server splits its artists (' & ')."""
    names = artists.split(" & ") if isinstance(artists, str) else artists
    return song, tuple(name.strip() for name in names if name.strip())


def poll_days(poller, spotify, first: date, last: date) -> list[dict]:
    summaries = []
    spotify.control.set_date(first)
    for number in range((last - first).days + 1):
        if number:
            spotify.control.advance(1)
        summaries.append(poller.poll(f"poll-{number}", lambda: 60.0).summary())
    return summaries


def test_replayed_charts_publish_the_truths_events(make_poller, events_env, spotify):
    poller = make_poller(**{k: v for k, v in events_env.items() if k != "queue"})
    summaries = poll_days(poller, spotify, FIRST, LAST)
    assert summaries[0]["events"] == {"published": 0, "failed": 0}  # every chart's first version
    gap = summaries[(date(2024, 3, 14) - FIRST).days]
    assert len(gap["failed"]) == len(WATCHED) and gap["events"]["published"] == 0
    bodies = [json.loads(n["Message"]) for n in received(events_env["queue"])]
    found = Counter((b["chart"], b["chart_date"], b["event"], track(b["track_name"], b["artist_names"]), b["position"])
                    for b in bodies)
    expected = Counter((e.chart, e.chart_date.isoformat(), e.event, track(*e.track), e.position)
                       for m in WATCHED for e in market_events(m.label, FIRST, LAST, climb_places=5))
    assert found == expected and sum(s["events"]["published"] for s in summaries) == len(bodies) > 50
    # 2024-03-15 is compared with 2024-03-13: nobody exits on the gap, nobody re-enters after it.
    after_gap = [b for b in bodies if b["chart_date"] == "2024-03-15"]
    assert after_gap and {b["previous_chart_date"] for b in after_gap} == {"2024-03-13"}
    assert {b["origin"] for b in bodies} == {"playlist"} and all(len(b["track_id"]) == 22 for b in bodies)
    assert all(b["artist_ids"] and len(b["artist_ids"]) == len(b["artist_names"]) for b in bodies)


def test_a_state_written_before_chart_events_still_gives_events(make_poller, events_env, spotify):
    poller = make_poller(**{k: v for k, v in events_env.items() if k != "queue"})
    poll_days(poller, spotify, FIRST, FIRST)
    store = StateStore(events_env["STATE_BUCKET"], events_env["STATE_PREFIX"], boto3.client("s3"))
    playlist = WATCHED[0].playlist_id
    old = json.loads(boto3.client("s3").get_object(Bucket=store.bucket, Key=store.key(playlist))["Body"].read())
    del old["seen"]
    for slot in old["slots"]:
        del slot["artist_ids"]
    boto3.client("s3").put_object(Bucket=store.bucket, Key=store.key(playlist), Body=json.dumps(old).encode())
    spotify.control.set_date(CHANGED)
    summary = poller.poll("poll-next", lambda: 60.0).summary()
    assert not summary["failed"] and summary["events"]["published"] > 0, summary
    assert store.load(playlist).seen  # written again with the tracks seen


def test_publishing_that_fails_never_fails_a_poll(make_poller, env, spotify):
    poller = make_poller(CHART_EVENTS_TOPIC_ARN="arn:aws:sns:us-east-1:123456789012:no-such-topic")
    summaries = poll_days(poller, spotify, FIRST, CHANGED)
    last = summaries[-1]
    assert len(last["changed"]) == len(WATCHED) and not last["failed"]
    assert last["events"]["published"] == 0 and last["events"]["failed"] > 0
