"""Publishing chart events (producer/event_publisher.py) with real boto3 against moto's SNS,
delivered to SQS subscribers through real filter policies; failures injected by a wrapper
that refuses chosen messages of a real client's calls, as SNS does under load."""
from __future__ import annotations

import json
import threading
import time
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from producer.chart_events import CLIMB, EXIT, NEW_ENTRY, NEW_NUMBER_ONE, TOP_10_ENTRY, ChartEvent, Entry
from producer.event_publisher import DEADLINE_EXCEEDED, EditionRef, EventMessage, EventPublisher
from tests.conftest import unique_name

KINDS = (NEW_ENTRY, EXIT, NEW_NUMBER_ONE, TOP_10_ENTRY, CLIMB)
ARTISTS = (("Billie Eilish",), ("Taylor Swift",), ("4q3ewBCX7sLwd24euuV69X", "Feid"))


def message(n: int) -> EventMessage:
    chart = ("regional-ar-daily", "regional-global-daily", "global")[n % 3]
    entry = Entry(f"track{n:018d}", 1 + n * 7 % 200, f"Song {n} – ñ", ARTISTS[n % 3], ARTISTS[n % 3])
    event = ChartEvent(KINDS[n % 5], entry, None if KINDS[n % 5] == NEW_ENTRY else entry.position + 12)
    origin = "playlist" if chart == "global" else "chart_export"
    return EventMessage(EditionRef(chart, chart, origin, "2024-05-08", f"snap{n}", "2024-05-07"), event)


MESSAGES = [message(n) for n in range(23)]


def subscribe(topic: str, policy: dict | None) -> str:
    sqs, sns = boto3.client("sqs"), boto3.client("sns")
    url = sqs.create_queue(QueueName=unique_name("subscriber"))["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    attributes = {"FilterPolicy": json.dumps(policy), "FilterPolicyScope": "MessageAttributes"} if policy else {}
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes=attributes)
    return url


def received(url: str) -> list[dict[str, Any]]:
    """Every notification on the queue (SNS's envelope), deleted."""
    sqs, found = boto3.client("sqs"), []
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages"):
        for item in messages:
            found.append(json.loads(item["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=item["ReceiptHandle"])
    return found


@pytest.fixture
def topic(aws_endpoint) -> str:
    return boto3.client("sns").create_topic(Name=unique_name("chart-events"))["TopicArn"]


class RefusingSNS:
    """A real SNS client that refuses chosen entries of each call (per call: a set of positions
    in it, 'throttle' for the whole call, or 'sender' for sender faults of the given positions)."""

    def __init__(self, client, plan: list):
        self.client, self.plan, self.calls = client, list(plan), []

    def publish_batch(self, TopicArn, PublishBatchRequestEntries):
        step = self.plan.pop(0) if self.plan else set()
        self.calls.append([e["Id"] for e in PublishBatchRequestEntries])
        if step == "throttle":
            raise ClientError({"Error": {"Code": "Throttling", "Message": "Rate exceeded"}}, "PublishBatch")
        sender, refuse = (step[1], True) if isinstance(step, tuple) else (step, False)
        kept = [e for i, e in enumerate(PublishBatchRequestEntries) if i not in sender]
        answer = self.client.publish_batch(TopicArn=TopicArn, PublishBatchRequestEntries=kept) if kept else {}
        failed = [{"Id": e["Id"], "Code": "InvalidParameter" if refuse else "InternalError", "SenderFault": refuse}
                  for i, e in enumerate(PublishBatchRequestEntries) if i in sender]
        return {"Successful": answer.get("Successful", []), "Failed": failed}


def test_events_reach_exactly_the_subscribers_whose_filter_policies_match(topic):
    everything = subscribe(topic, None)
    one_chart = subscribe(topic, {"chart": ["regional-ar-daily"], "event": [NEW_NUMBER_ONE, TOP_10_ENTRY]})
    one_artist = subscribe(topic, {"artist_ids": ["Billie Eilish", "4q3ewBCX7sLwd24euuV69X"], "event": [EXIT, CLIMB]})
    top_10 = subscribe(topic, {"position": [{"numeric": ["<=", 10]}]})
    report = EventPublisher(topic).publish(MESSAGES)
    assert (report.published, report.failed, report.calls) == (23, 0, 3)

    def tracks(url):
        return sorted(json.loads(n["Message"])["track_id"] for n in received(url))

    def expected(keep):
        return sorted(m.event.track_id for m in MESSAGES if keep(m))

    assert tracks(everything) == expected(lambda m: True)
    assert tracks(one_chart) == expected(lambda m: m.edition.chart == "regional-ar-daily"
                                         and m.event.event in (NEW_NUMBER_ONE, TOP_10_ENTRY)) != []
    assert tracks(one_artist) == expected(lambda m: {"Billie Eilish", "4q3ewBCX7sLwd24euuV69X"}
                                          & set(m.event.entry.artist_keys) and m.event.event in (EXIT, CLIMB)) != []
    assert tracks(top_10) == expected(lambda m: m.event.position <= 10) != []


def test_a_message_carries_its_attributes_and_its_details(topic):
    queue = subscribe(topic, None)
    EventPublisher(topic).publish([MESSAGES[2]])
    [notification] = received(queue)
    attributes = {name: (value["Type"], value["Value"]) for name, value in notification["MessageAttributes"].items()}
    assert attributes == {"chart": ("String", "global"), "event": ("String", "NEW_NUMBER_ONE"),
                          "track_id": ("String", "track000000000000000002"), "position": ("Number", "15"),
                          "artist_ids": ("String.Array", '["4q3ewBCX7sLwd24euuV69X", "Feid"]')}
    body = json.loads(notification["Message"])
    assert body == {"event": "NEW_NUMBER_ONE", "chart": "global", "playlist_id": "global", "origin": "playlist",
                    "chart_date": "2024-05-08", "previous_chart_date": "2024-05-07", "snapshot_id": "snap2",
                    "track_id": "track000000000000000002", "track_name": "Song 2 – ñ",
                    "artist_names": ["4q3ewBCX7sLwd24euuV69X", "Feid"], "artist_ids": ["4q3ewBCX7sLwd24euuV69X", "Feid"],
                    "position": 15, "previous_position": 27, "change": 12}
    assert notification["Subject"] == "NEW_NUMBER_ONE on global"
    assert MESSAGES[2].text() == ("NEW_NUMBER_ONE on global 2024-05-08: Song 2 – ñ by 4q3ewBCX7sLwd24euuV69X, Feid, "
                                  "#15 (was #27)")


def test_refused_messages_are_retried_alone_and_sender_faults_never(topic):
    queue = subscribe(topic, None)
    flaky = RefusingSNS(boto3.client("sns"), [{0, 9}, ("sender", {3}), set(), {0}, set()])
    sleeps = []
    report = EventPublisher(topic, flaky, sleep=sleeps.append).publish(MESSAGES[:15])
    assert flaky.calls[0] == [str(i) for i in range(10)] and len(flaky.calls[1]) == 5
    assert flaky.calls[2] == ["0", "9"]  # only the refused ones; the sender fault (entry 13) is not retried
    assert (report.published, report.failed, report.retried) == (14, 1, 2)
    assert dict(report.errors) == {"InvalidParameter": 1} and len(sleeps) == 1
    assert sorted(json.loads(n["Message"])["snapshot_id"] for n in received(queue)) == sorted(
        f"snap{n}" for n in range(15) if n != 13)


def test_a_throttled_call_is_retried_whole_and_messages_that_keep_failing_are_counted(topic):
    flaky = RefusingSNS(boto3.client("sns"), ["throttle", set()])
    report = EventPublisher(topic, flaky, sleep=lambda s: None).publish(MESSAGES[:4])
    assert (report.published, report.failed, len(flaky.calls)) == (4, 0, 2)
    stubborn = RefusingSNS(boto3.client("sns"), [{1}, {0}, {0}])
    report = EventPublisher(topic, stubborn, max_attempts=3, sleep=lambda s: None).publish(MESSAGES[:4])
    assert (report.published, report.failed, dict(report.errors)) == (3, 1, {"InternalError": 1})


def test_an_unknown_topic_fails_every_message_in_one_call_without_raising(aws_endpoint):
    missing = "arn:aws:sns:us-east-1:123456789012:no-such-topic"
    report = EventPublisher(missing).publish(MESSAGES)
    assert (report.published, report.failed, report.calls) == (0, 23, 1)
    assert list(report.errors) == ["NotFound"]


def test_no_call_starts_that_could_end_after_the_deadline(topic):
    queue = subscribe(topic, None)
    report = EventPublisher(topic).publish(MESSAGES, time_left=lambda: 5.0)  # a call may take 13 s
    assert (report.published, report.failed, report.calls) == (0, 23, 0)
    assert dict(report.errors) == {DEADLINE_EXCEEDED: 23}
    assert received(queue) == []


def test_an_endpoint_that_does_not_answer_is_retried_then_counted_never_raised():
    client = boto3.client("sns", endpoint_url="http://127.0.0.1:9", region_name="us-east-1",
                          aws_access_key_id="test", aws_secret_access_key="test",
                          config=Config(connect_timeout=1, retries={"total_max_attempts": 1}))
    sleeps = []
    report = EventPublisher("arn:aws:sns:us-east-1:123456789012:t", client, sleep=sleeps.append).publish(MESSAGES[:3])
    assert (report.published, report.failed, report.calls, len(sleeps)) == (0, 3, 3, 2)
    assert list(report.errors) == ["EndpointConnectionError"]


class TimedSNS:
    """A real SNS client whose calls are timed (and slowed, so overlaps show); ``fail_calls``
    numbers the calls (from 1) that SNS answers with access denied, a final error."""

    def __init__(self, client, seconds: float = 0.2, fail_calls: frozenset[int] = frozenset()):
        self.client, self.seconds, self.fail_calls = client, seconds, fail_calls
        self.lock, self.spans, self.count = threading.Lock(), [], 0

    def publish_batch(self, TopicArn, PublishBatchRequestEntries):
        with self.lock:
            self.count += 1
            number = self.count
        started = time.monotonic()
        time.sleep(self.seconds)
        try:
            if number in self.fail_calls:
                raise ClientError({"Error": {"Code": "AuthorizationError", "Message": "denied"}}, "PublishBatch")
            return self.client.publish_batch(TopicArn=TopicArn, PublishBatchRequestEntries=PublishBatchRequestEntries)
        finally:
            with self.lock:
                self.spans.append((started, time.monotonic()))


def test_the_first_call_goes_alone_and_the_others_side_by_side(topic):
    queue = subscribe(topic, None)
    timed = TimedSNS(boto3.client("sns"))
    many = [message(n) for n in range(45)]  # 5 calls
    report = EventPublisher(topic, timed).publish(many)
    assert (report.published, report.failed, report.calls) == (45, 0, 5)
    first, *others = sorted(timed.spans)
    assert all(start >= first[1] for start, _ in others)  # nothing started before the first call ended
    overlapping = max(sum(1 for s, e in others if s <= start < e) for start, _ in others)
    assert overlapping >= 2  # the other four did not wait for one another
    assert len(received(queue)) == 45


def test_a_final_error_stops_the_calls_not_yet_started(topic):
    denied = TimedSNS(boto3.client("sns"), seconds=0.0, fail_calls=frozenset({2}))
    report = EventPublisher(topic, denied, max_concurrency=1).publish([message(n) for n in range(45)])
    assert (denied.count, report.calls) == (2, 2)  # calls 3 to 5 never started
    assert (report.published, report.failed, dict(report.errors)) == (10, 35, {"AuthorizationError": 35})
