"""``spotify-charts subscribe``, ``subscriptions`` and ``unsubscribe``: filter policies, artist
names resolved from the views (fakesnow, real connector) and real SNS subscriptions on moto
whose queues then receive exactly the events their policies let through."""
from __future__ import annotations

import json

import boto3
import pytest

from producer.chart_events import CLIMB, EXIT, NEW_ENTRY, NEW_NUMBER_ONE, TOP_10_ENTRY, ChartEvent, Entry
from producer.event_publisher import EditionRef, EventMessage, EventPublisher
from snowflake.charts import connection
from spotify_charts.cli import main
from spotify_charts.subscriptions import (ArtistNotFoundError, FilterPolicyError, describe_policy, filter_policy,
                                          resolve_artists)
from tests.conftest import unique_name
from tests.producer.test_event_publisher import received
from tests.snowflake.builders import entry, load_rows, observation_row
from tests.spotify_charts.chart_exports import bundled, load_exports
from glue_streaming.curated import CHART_ENTRIES_DATASET, CHART_OBSERVATIONS_DATASET
from local_spotify.catalog import spotify_id
from localdev.local_snowflake.loader import CuratedLoader

AR = "regional-ar-daily"
SWIFT_ID = spotify_id("artist", "Taylor Swift")


# -- the policy and its words (unit) -----------------------------------------------------------

def test_a_policy_names_exactly_the_charts_artists_and_events_asked_for():
    assert filter_policy([AR, AR, "global"], ["b", "a"], [TOP_10_ENTRY, NEW_NUMBER_ONE]) == {
        "chart": ["global", AR], "artist_ids": ["a", "b"], "event": [NEW_NUMBER_ONE, TOP_10_ENTRY]}
    assert filter_policy(events=[EXIT]) == {"event": [EXIT]}
    with pytest.raises(FilterPolicyError, match="say what to subscribe to"):
        filter_policy()
    with pytest.raises(FilterPolicyError, match="unknown events"):
        filter_policy(events=["NUMBER_ONE"])
    with pytest.raises(FilterPolicyError, match="180 combinations"):
        filter_policy([f"c{n}" for n in range(6)], [f"a{n}" for n in range(6)], [NEW_ENTRY, EXIT, CLIMB, TOP_10_ENTRY,
                                                                              NEW_NUMBER_ONE])


def test_a_policy_in_words():
    assert describe_policy({"chart": [AR], "event": [NEW_NUMBER_ONE, TOP_10_ENTRY]}) == \
        f"chart is {AR}, and event is NEW_NUMBER_ONE or TOP_10_ENTRY"
    assert describe_policy({"artist_ids": ["Milo j"], "position": [{"numeric": ["<=", 10]}]}) == \
        "artist is Milo j, and position is <= 10"
    assert describe_policy(None) == "every chart event"


ROWS = [{"chart_label": "global", "artist_name": "Taylor Swift", "artist_key": SWIFT_ID},
        {"chart_label": AR, "artist_name": "Taylor Swift", "artist_key": "Taylor Swift"},
        {"chart_label": AR, "artist_name": "Taylor Swift, Post Malone", "artist_key": "Taylor Swift, Post Malone"},
        {"chart_label": AR, "artist_name": "Bizarrap, Milo j", "artist_key": "Bizarrap, Milo j"}]


def test_artist_names_become_their_keys_case_insensitively():
    [swift] = resolve_artists(ROWS, ["  taylor SWIFT"])
    assert swift.keys == tuple(sorted((SWIFT_ID, "Taylor Swift"))) and swift.credits == ("Taylor Swift, Post Malone",)
    with pytest.raises(ArtistNotFoundError) as error:
        resolve_artists(ROWS, ["Taylor Swfit"])
    assert "no artist named 'Taylor Swfit'" in str(error.value) and "'Taylor Swift'" in str(error.value)
    with pytest.raises(ArtistNotFoundError, match="near matches: 'Bizarrap, Milo j'"):
        resolve_artists(ROWS, ["bizarrap"])  # only ever credited with others: named, not guessed


# -- the commands, on moto and the local engine ---------------------------------------------------

@pytest.fixture(scope="module")
def views(engine_environ, tmp_path_factory):
    """Two days of the Argentina export and two versions of a playlist crediting artist ids."""
    with connection.connect() as db:
        load_exports(db, tmp_path_factory.mktemp("stage"), bundled(f"{AR}-2024-05-01.csv", f"{AR}-2024-05-02.csv"))
        loader = CuratedLoader(db, tmp_path_factory.mktemp("playlist"))
        rows = [entry("global", snap, day, n, f"song {n}", artists) for snap, day in (("s1", "2024-05-01 09:00"),
                                                                                      ("s2", "2024-05-02 09:00"))
                for n, artists in ((1, ("Taylor Swift",)), (2, ("Taylor Swift", "Post Malone")))]
        load_rows(loader, CHART_ENTRIES_DATASET, rows, "playlist.parquet", merge=False)
        reads = [observation_row("global", snap, day, entry_count=2)
                 for snap, day in (("s1", "2024-05-01 09:00"), ("s2", "2024-05-02 09:00"))]
        load_rows(loader, CHART_OBSERVATIONS_DATASET, reads, "playlist-observations.parquet")


@pytest.fixture
def topic(aws_endpoint) -> str:
    return boto3.client("sns").create_topic(Name=unique_name("chart-events"))["TopicArn"]


def queue() -> tuple[str, str]:
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName=unique_name("subscriber"))["QueueUrl"]
    return url, sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def event(chart: str, kind: str, track: str, artists: tuple[str, ...]) -> EventMessage:
    ref = EditionRef(chart, chart, "chart_export", "2024-05-02", "s", "2024-05-01")
    return EventMessage(ref, ChartEvent(kind, Entry(track, 5, track, artists, artists), 20))


def test_subscribers_get_exactly_what_they_subscribed_to(views, topic, capsys):
    chart_url, chart_queue = queue()
    artist_url, artist_queue = queue()
    code, out, _ = run(capsys, "subscribe", "--topic", topic, "--chart", AR, "--event", NEW_NUMBER_ONE, TOP_10_ENTRY,
                       "--sqs", chart_queue)
    assert code == 0 and out.startswith(topic + ":")
    assert f"receives chart is {AR}, and event is NEW_NUMBER_ONE or TOP_10_ENTRY" in out
    code, out, err = run(capsys, "subscribe", "--topic", topic, "--artist", "taylor swift", "--event", EXIT,
                         "--event", CLIMB, "--sqs", artist_queue, "--json")
    created = json.loads(out)
    assert code == 0 and created["filter_policy"] == {"artist_ids": sorted([SWIFT_ID, "Taylor Swift"]),
                                                      "event": [EXIT, CLIMB]}
    assert "'Taylor Swift, Post Malone'" in err  # the credits holding the name are named, not guessed
    sns = boto3.client("sns")
    held = sns.get_subscription_attributes(SubscriptionArn=created["arn"])["Attributes"]
    assert json.loads(held["FilterPolicy"]) == created["filter_policy"]
    policy = json.loads(boto3.client("sqs").get_queue_attributes(QueueUrl=artist_url, AttributeNames=["Policy"])[
        "Attributes"]["Policy"])
    assert [s["Condition"]["ArnEquals"]["aws:SourceArn"] for s in policy["Statement"]] == [topic]

    messages = [event(AR, NEW_NUMBER_ONE, "t1", ("Milo j",)), event(AR, CLIMB, "t2", ("Taylor Swift",)),
                event("global", EXIT, "t3", (SWIFT_ID, "other")), event("global", TOP_10_ENTRY, "t4", (SWIFT_ID,)),
                event(AR, EXIT, "t5", ("Taylor Swift, Post Malone",)), event(AR, TOP_10_ENTRY, "t6", ("Taylor Swift",))]
    assert EventPublisher(topic).publish(messages).published == 6

    def tracks(url):
        return sorted(json.loads(n["Message"])["track_id"] for n in received(url))

    assert tracks(chart_url) == ["t1", "t6"]
    assert tracks(artist_url) == ["t2", "t3"]


def test_subscriptions_are_listed_in_words_and_removed_one_by_one(views, topic, capsys):
    _, chart_queue = queue()
    run(capsys, "subscribe", "--topic", topic, "--chart", AR, "--event", NEW_ENTRY, "--sqs", chart_queue)
    code, out, _ = run(capsys, "subscribe", "--topic", topic, "--artist", "MILO J", "--email", "fan@example.com")
    email_arn = out.splitlines()[0]
    code, out, _ = run(capsys, "subscriptions", "--topic", topic)
    assert code == 0 and f"sqs {chart_queue}" in out and "email fan@example.com" in out
    assert f"receives chart is {AR}, and event is NEW_ENTRY" in out and "receives artist is Milo j" in out
    code, out, _ = run(capsys, "unsubscribe", "--topic", topic, email_arn)
    assert code == 0
    code, out, _ = run(capsys, "subscriptions", "--topic", topic, "--json")
    assert [s["protocol"] for s in json.loads(out)] == ["sqs"]


def test_an_unknown_artist_is_a_clear_error_and_subscribes_nothing(views, topic, capsys):
    code, _, err = run(capsys, "subscribe", "--topic", topic, "--artist", "Bizarrap", "--email", "fan@example.com")
    assert code == 1 and "no artist named 'Bizarrap'" in err and "'Bizarrap, Milo j'" in err
    assert boto3.client("sns").list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []


def test_settings_and_foreign_subscriptions_are_refused(topic, capsys, monkeypatch):
    monkeypatch.delenv("CHART_EVENTS_TOPIC_ARN", raising=False)
    code, _, err = run(capsys, "subscriptions")
    assert code == 2 and "ChartEventsTopicArn" in err
    code, _, err = run(capsys, "unsubscribe", "--topic", topic, "arn:aws:sns:us-east-1:123456789012:other:abc")
    assert code == 1 and "is not a subscription of the chart events topic" in err
    code, _, err = run(capsys, "subscribe", "--topic", topic, "--email", "fan@example.com")
    assert code == 1 and "say what to subscribe to" in err
