"""Chart events through the deployed stack on LocalStack: subscribers get exactly what they
subscribed to, as the truth from the CSV files alone says.

The bundled month of real exports goes up in date order, through the real S3 notification
and the DEPLOYED import Lambda (its role, its environment: the stack's ChartEventsTopic, no
age window, CLIMB at 10 places). First the first week (May 1-7 and the weekly files before
May), curated by Glue (local Spark) and loaded by the local Snowpipe, so that the views
know the artists; then ``spotify-charts subscribe`` makes two SQS subscribers with real
filter policies: one chart's NEW_NUMBER_ONE and TOP_10_ENTRY, and one artist's EXIT and
CLIMB on every chart (the name typed in lower case, resolved from the views). Then the rest
of the month: each queue must receive exactly the events the truth gives for the editions
imported while it was subscribed, and no others. Then a corrected file (only what it adds),
the same files again (nothing, though the original file replaces its correction), and the
subscriptions listed and removed.

One stack and one pipeline for the module; the tests run in file order on what the earlier
ones left.
"""
from __future__ import annotations

import json
import time
import uuid
import zipfile
from collections import Counter
from pathlib import Path

import pytest

from benchmarks.truth.chart_events import export_events
from localdev.pipeline import LocalPipeline, PipelineSettings
from localdev.pipeline.settings import REPO_ROOT
from spotify_charts.cli import main
from tests.producer.chart_files import top_two_swapped

pytestmark = [pytest.mark.localstack, pytest.mark.spark, pytest.mark.fakesnow, pytest.mark.spotify_server]

BUNDLE = REPO_ROOT / "localdev" / "data" / "chart-exports-2024-05.zip"
AR = "regional-ar-daily"
SUBSCRIBED_FROM = "2024-05-08"  # the editions imported after the subscriptions were made
CHART_EVENTS = ("NEW_NUMBER_ONE", "TOP_10_ENTRY")
ARTIST, ARTIST_EVENTS = "Billie Eilish", ("EXIT", "CLIMB")
CORRECTED = f"{AR}-2024-05-31.csv"
STATE: dict = {}  # what the tests of this module hand on: queues, subscriptions


def file_date(name: str) -> str:
    return name.removesuffix(".csv")[-10:]


def part(folder: Path, name: str, keep) -> Path:
    """A zip of the bundle's files ``keep`` accepts, in the bundle's order: each chart's files
    in date order, as a user's archive holds them."""
    path = folder / name
    with zipfile.ZipFile(BUNDLE) as bundle, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for entry in bundle.namelist():
            if keep(entry):
                out.writestr(entry, bundle.read(entry))
    return path


def first_week(name: str) -> bool:
    return file_date(name) < SUBSCRIBED_FROM


def rest_of_month(name: str) -> bool:
    return not first_week(name)


def key(chart: str, day: str, event: str, track: str, position: int, artist: str) -> tuple:
    return chart, day, event, track, position, artist


def wanted_by_chart(event: tuple) -> bool:
    return event[0] == AR and event[2] in CHART_EVENTS


def wanted_by_artist(event: tuple) -> bool:
    return event[5] == ARTIST and event[2] in ARTIST_EVENTS


def truth(*paths: Path, since: str = SUBSCRIBED_FROM) -> Counter:
    return Counter(key(e.chart, e.chart_date.isoformat(), e.event, e.track, e.position, e.artist)
                   for e in export_events(*paths, climb_places=10) if e.chart_date.isoformat() >= since)


def drain(pipeline, url: str, expected: int, settle_seconds: float = 5.0, timeout: float = 120.0) -> Counter:
    """Every event on the queue (deleted as read): until ``expected`` arrived, then until nothing
    more comes for ``settle_seconds`` (an extra one would show up)."""
    sqs, found, quiet_since = pipeline.aws("sqs"), Counter(), None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                       MessageAttributeNames=["All"]).get("Messages", [])
        for message in messages:
            body = json.loads(json.loads(message["Body"])["Message"])
            found[key(body["chart"], body["chart_date"], body["event"], body["track_id"], body["position"],
                      body["artist_ids"][0])] += 1
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        if messages or sum(found.values()) < expected:
            quiet_since = None
        elif quiet_since is None:
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since >= settle_seconds:
            break
    return found


@pytest.fixture(scope="module")
def pipeline(localstack, tmp_path_factory):
    settings = PipelineSettings(markets=("global",), work_dir=tmp_path_factory.mktemp("alerts"),
                                stack_name=f"alerts-{uuid.uuid4().hex[:6]}",
                                stack_parameters={"ChartEventsMaxAgeDays": "0", "ClimbEventPlaces": "10"})
    with LocalPipeline(settings, localstack=localstack) as running:
        yield running


@pytest.fixture
def cli_environ(pipeline, monkeypatch):
    """What ``spotify-charts`` reads: LocalStack, the local engine, the stack's topic."""
    for name, value in pipeline.environment().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("CHART_EVENTS_TOPIC_ARN", pipeline.outputs["ChartEventsTopicArn"])


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_localstack_s_sns_applies_filter_policies_on_message_attributes(pipeline):
    """The operators subscriptions use, and a few more, on a topic of their own."""
    sns, sqs = pipeline.aws("sns"), pipeline.aws("sqs")
    topic = sns.create_topic(Name=f"probe-{uuid.uuid4().hex[:6]}")["TopicArn"]
    policies = {"exact": {"chart": [AR]}, "array": {"artist_ids": [ARTIST]}, "and": {"chart": [AR], "event": ["EXIT"]},
                "numeric": {"position": [{"numeric": ["<=", 10]}]}, "prefix": {"chart": [{"prefix": "regional-"}]},
                "anything-but": {"event": [{"anything-but": ["EXIT"]}]}, "exists": {"artist_ids": [{"exists": False}]}}
    queues = {}
    for name, policy in policies.items():
        url = sqs.create_queue(QueueName=f"probe-{name}-{uuid.uuid4().hex[:6]}")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn,
                      Attributes={"FilterPolicy": json.dumps(policy), "FilterPolicyScope": "MessageAttributes"})
        queues[name] = url
    sent = {"m1": (AR, "EXIT", [ARTIST], 3), "m2": ("global", "CLIMB", ["x", "y"], 50),
            "m3": (AR, "NEW_ENTRY", [f"{ARTIST}, Khalid"], 10), "m4": ("regional-global-daily", "EXIT", None, 11)}
    entries = []
    for message_id, (chart, event, artists, position) in sent.items():
        attributes = {"chart": {"DataType": "String", "StringValue": chart},
                      "event": {"DataType": "String", "StringValue": event},
                      "position": {"DataType": "Number", "StringValue": str(position)}}
        if artists:
            attributes["artist_ids"] = {"DataType": "String.Array", "StringValue": json.dumps(artists)}
        entries.append({"Id": message_id, "Message": message_id, "MessageAttributes": attributes})
    assert len(sns.publish_batch(TopicArn=topic, PublishBatchRequestEntries=entries)["Successful"]) == 4
    got = {name: [] for name in queues}
    for _ in range(3):  # delivery is asynchronous: a few rounds
        for name, url in queues.items():
            for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
                    "Messages", []):
                got[name] = sorted(got[name] + [json.loads(message["Body"])["Message"]])
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    assert got == {"exact": ["m1", "m3"], "array": ["m1"], "and": ["m1"], "numeric": ["m1", "m3"],
                   "prefix": ["m1", "m3", "m4"], "anything-but": ["m2", "m3"], "exists": ["m4"]}


def test_the_first_week_is_imported_and_its_artists_reach_the_views(pipeline, tmp_path):
    summary = pipeline.import_charts([part(tmp_path, "first-week.zip", first_week)])
    assert summary.counts == {"loaded": 16, "replaced": 0, "unchanged": 0, "rejected": 0}
    pipeline.run_glue()
    pipeline.load()
    rows = pipeline.query("SELECT COUNT(*) AS n FROM artist_chart_stats WHERE artist_name = %s", (ARTIST,))
    assert rows[0]["n"] >= 2  # on both daily charts
    s3, bucket = pipeline.aws("s3"), pipeline.outputs["ImportsBucketName"]
    history = json.loads(s3.get_object(Bucket=bucket, Key=f"results/history/{AR}.json")["Body"].read())
    assert sorted(history["dates"]) == [f"2024-05-{day:02d}" for day in range(1, 8)]


def test_two_subscribers_are_made_by_the_command(pipeline, cli_environ, capsys):
    sqs, sns = pipeline.aws("sqs"), pipeline.aws("sns")
    for name in ("chart", "artist"):
        url = sqs.create_queue(QueueName=f"{name}-subscriber-{uuid.uuid4().hex[:6]}")["QueueUrl"]
        STATE[name] = url, sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"]
    code, out, _ = run(capsys, "subscribe", "--chart", AR, "--event", *CHART_EVENTS, "--sqs", STATE["chart"][1],
                       "--json")
    assert code == 0
    STATE["chart_subscription"] = json.loads(out)["arn"]
    code, out, _ = run(capsys, "subscribe", "--artist", ARTIST.lower(), "--event", *ARTIST_EVENTS,
                       "--sqs", STATE["artist"][1], "--json")
    assert code == 0
    STATE["artist_subscription"] = json.loads(out)["arn"]
    policies = {name: json.loads(sns.get_subscription_attributes(SubscriptionArn=STATE[f"{name}_subscription"])[
        "Attributes"]["FilterPolicy"]) for name in ("chart", "artist")}
    assert policies == {"chart": {"chart": [AR], "event": list(CHART_EVENTS)},
                        "artist": {"artist_ids": [ARTIST], "event": list(ARTIST_EVENTS)}}


def test_each_subscriber_receives_exactly_the_truths_events(pipeline, tmp_path):
    rest = part(tmp_path, "rest-of-month.zip", rest_of_month)
    summary = pipeline.import_charts([rest])
    assert summary.counts == {"loaded": 49, "replaced": 0, "unchanged": 0, "rejected": 0}
    STATE["rest"] = rest
    expected = truth(BUNDLE)  # the editions from May 8 on, compared with the whole month held before them
    for name, wanted in (("chart", wanted_by_chart), ("artist", wanted_by_artist)):
        mine = Counter({event: n for event, n in expected.items() if wanted(event)})
        got = drain(pipeline, STATE[name][0], sum(mine.values()))
        assert got == mine, f"{name} subscriber: missing {mine - got}, unexpected {got - mine}"
        STATE[f"{name}_received"] = got
    assert {e[2] for e in STATE["chart_received"]} == set(CHART_EVENTS)
    assert {e[2] for e in STATE["artist_received"]} == set(ARTIST_EVENTS)
    assert len({e[0] for e in STATE["artist_received"]}) >= 2  # across charts


def test_a_corrected_file_brings_its_subscribers_only_what_it_adds(pipeline, tmp_path):
    with zipfile.ZipFile(BUNDLE) as bundle:
        original = bundle.read(CORRECTED)
        bundle.extractall(tmp_path / "corrected-month")
    fixed = tmp_path / CORRECTED
    fixed.write_bytes(top_two_swapped(original))
    (tmp_path / "corrected-month" / CORRECTED).write_bytes(fixed.read_bytes())
    assert pipeline.import_charts([fixed]).counts["replaced"] == 1
    day = file_date(CORRECTED)
    before, after = truth(BUNDLE, since=day), truth(tmp_path / "corrected-month", since=day)
    added = Counter({event: n for event, n in after.items() if event[0] == AR
                     and not any(event[2:4] == old[2:4] for old in before if old[0] == AR)})
    assert [event[2] for event in added] == ["NEW_NUMBER_ONE"]  # the second track is now at 1
    for name, wanted in (("chart", wanted_by_chart), ("artist", wanted_by_artist)):
        mine = Counter({event: n for event, n in added.items() if wanted(event)})
        assert drain(pipeline, STATE[name][0], sum(mine.values())) == mine


def test_the_same_files_again_publish_nothing(pipeline):
    """48 files are held already; the original last Argentina day replaces its correction, and
    every event of it was announced with it before."""
    summary = pipeline.import_charts([STATE["rest"]])
    assert summary.counts == {"loaded": 0, "replaced": 1, "unchanged": 48, "rejected": 0}
    for name in ("chart", "artist"):
        assert drain(pipeline, STATE[name][0], 0) == Counter()


def test_subscriptions_are_listed_in_words_and_one_is_removed(pipeline, cli_environ, capsys):
    code, out, _ = run(capsys, "subscriptions")
    assert code == 0
    assert f"receives chart is {AR}, and event is NEW_NUMBER_ONE or TOP_10_ENTRY" in out
    assert f"receives artist is {ARTIST}, and event is EXIT or CLIMB" in out
    assert run(capsys, "unsubscribe", STATE["artist_subscription"])[0] == 0
    code, out, _ = run(capsys, "subscriptions", "--json")
    assert [s["arn"] for s in json.loads(out)] == [STATE["chart_subscription"]]
