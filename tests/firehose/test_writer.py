from collections import Counter

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from firehose import contract
from firehose.writer import DEADLINE_EXCEEDED, FirehoseDeliveryError, FirehoseWriter, batches
from localdev.aws import read_records
from tests.firehose.flaky_endpoint import DENY, DROP, GO_DOWN, LOSE_REPLY, PASS, STALL, FlakyFirehoseEndpoint


def lines(n, size=50):
    return [(f'{{"n":{i},"pad":"' + "x" * size + '"}\n').encode() for i in range(n)]


def test_batches_respect_record_and_byte_limits():
    assert [len(b) for b in batches([1] * 1201)] == [500, 500, 201]
    assert [len(b) for b in batches([3, 3, 3, 3], max_bytes=7)] == [2, 2]
    assert list(batches([])) == []


class RefusingFirehose:
    """A real Firehose client that refuses chosen records, as the service does under load.

    The records it accepts go to the real (local) service; the refused ones never do.
    """

    def __init__(self, client, refusals):
        self.client = client
        self.refusals = list(refusals)  # per call: set of positions in that call to refuse
        self.calls = []

    def put_record_batch(self, DeliveryStreamName, Records):
        refuse = self.refusals.pop(0) if self.refusals else set()
        self.calls.append(len(Records))
        if refuse == "throttle":
            raise ClientError({"Error": {"Code": "ServiceUnavailableException", "Message": "slow down"}},
                              "PutRecordBatch")
        kept = [r for i, r in enumerate(Records) if i not in refuse]
        if kept:
            self.client.put_record_batch(DeliveryStreamName=DeliveryStreamName, Records=kept)
        responses = [{"ErrorCode": "ServiceUnavailableException", "ErrorMessage": "busy"} if i in refuse
                     else {"RecordId": f"id-{i}"} for i in range(len(Records))]
        return {"FailedPutCount": len(refuse), "RequestResponses": responses}


def delivered_numbers(bucket):
    return Counter(r["n"] for r in read_records(bucket))


def test_writes_every_record_in_the_fewest_calls(delivery_stream):
    bucket, stream = delivery_stream
    writer = FirehoseWriter(stream, boto3.client("firehose"))
    report = writer.put(lines(1201))
    assert (report.records, report.calls, report.retried_records) == (1201, 3, 0)
    assert delivered_numbers(bucket) == Counter(range(1201))


def test_partial_failure_retries_only_the_refused_records(delivery_stream):
    bucket, stream = delivery_stream
    flaky = RefusingFirehose(boto3.client("firehose"), [{0, 7, 499}, {1}, {0}, set()])
    sleeps = []
    report = FirehoseWriter(stream, flaky, sleep=sleeps.append).put(lines(600))
    # First pass in two calls, then only the refused records: 4, then the 1 refused again.
    assert flaky.calls == [500, 100, 4, 1]
    assert report.records == 600 and report.retried_records == 5 and len(sleeps) == 2
    assert delivered_numbers(bucket) == Counter(range(600))  # each record exactly once


def test_throttled_calls_are_retried_whole(delivery_stream):
    bucket, stream = delivery_stream
    flaky = RefusingFirehose(boto3.client("firehose"), ["throttle", set()])
    report = FirehoseWriter(stream, flaky, sleep=lambda s: None).put(lines(10))
    assert report.records == 10 and report.failed_calls == 1
    assert delivered_numbers(bucket) == Counter(range(10))


def test_records_that_keep_failing_raise_a_clear_error_after_the_rest_is_delivered(delivery_stream):
    bucket, stream = delivery_stream
    flaky = RefusingFirehose(boto3.client("firehose"), [{2, 3}] + [{0, 1}] * 4)
    with pytest.raises(FirehoseDeliveryError, match=r"2 of 5 records were not accepted .*\(ServiceUnavailableException x2\)") as caught:
        FirehoseWriter(stream, flaky, max_attempts=5, sleep=lambda s: None).put(lines(5))
    assert caught.value.failed_indices == [2, 3]
    assert delivered_numbers(bucket) == Counter([0, 1, 4])


def test_oversized_records_are_refused_before_anything_is_sent():
    flaky = RefusingFirehose(client=None, refusals=[])
    with pytest.raises(contract.RecordTooLargeError):
        FirehoseWriter("s", flaky).put(lines(2) + [b"x" * (contract.MAX_RECORD_BYTES + 1)])
    assert flaky.calls == []


def test_unknown_stream_is_a_final_error_that_names_every_record_not_sent(aws_endpoint):
    """A final error is not retried; it stops the delivery, and every record is reported as not sent."""
    writer = FirehoseWriter("no-such-stream", boto3.client("firehose"), sleep=lambda s: pytest.fail("retried"))
    with pytest.raises(FirehoseDeliveryError, match="ResourceNotFoundException") as caught:
        writer.put(lines(501))  # two calls' worth: the second is never made
    assert caught.value.failed_indices == list(range(501)) and caught.value.report.calls == 1
    assert caught.value.reasons == Counter({"ResourceNotFoundException": 501})


# --- failures of whole calls, against a real endpoint behind a flaky one ---------------------------
def flaky_writer(aws_endpoint, stream, plan, **options):
    """A writer whose real boto3 client reaches moto through a FlakyFirehoseEndpoint."""
    endpoint = FlakyFirehoseEndpoint(aws_endpoint, plan, stall_seconds=2.0)
    config = Config(connect_timeout=1, read_timeout=1, retries={"mode": "standard", "total_max_attempts": 1})
    client = boto3.client("firehose", endpoint_url=endpoint.url, config=config)
    return endpoint, FirehoseWriter(stream, client, sleep=lambda s: None, call_timeout=2.0, **options)


@pytest.mark.parametrize("action, error_code, copies_of_the_second_call", [
    (DROP, "ConnectionClosedError", 1),
    (STALL, "ReadTimeoutError", 1),
    (LOSE_REPLY, "ConnectionClosedError", 2),  # Firehose took them, the answer was lost: sent again
])
def test_a_connection_error_mid_put_is_retried_and_everything_arrives(delivery_stream, aws_endpoint, action,
                                                                      error_code, copies_of_the_second_call):
    bucket, stream = delivery_stream
    endpoint, writer = flaky_writer(aws_endpoint, stream, lambda call: action if call == 2 else PASS)
    with endpoint:
        report = writer.put(lines(1200))  # calls of 500, 500 (the failing one), 200, then the 500 again
    assert endpoint.calls == [PASS, action, PASS, PASS]
    assert (report.records, report.failed_calls, report.retried_records) == (1200, 1, 500)
    assert report.error_codes == Counter({error_code: 500})
    expected = Counter(range(1200))
    expected.update({n: copies_of_the_second_call - 1 for n in range(500, 1000)})
    assert delivered_numbers(bucket) == expected


@pytest.mark.parametrize("plan, calls, reason", [
    # Down after the first call: every later connection is refused, retried, and given up.
    (lambda call: GO_DOWN if call == 1 else PASS, [GO_DOWN], "EndpointConnectionError"),
    # A final error: nothing more is sent, not even the third call's records.
    (lambda call: DENY if call == 2 else PASS, [PASS, DENY], "AccessDeniedException"),
])
def test_a_failed_call_maps_to_exactly_the_records_not_sent(delivery_stream, aws_endpoint, plan, calls, reason):
    bucket, stream = delivery_stream
    endpoint, writer = flaky_writer(aws_endpoint, stream, plan)
    with endpoint, pytest.raises(FirehoseDeliveryError) as caught:
        writer.put(lines(1200))
    assert endpoint.calls == calls  # refused connections never reach it
    assert caught.value.failed_indices == list(range(500, 1200))
    assert caught.value.reasons == Counter({reason: 700})
    assert caught.value.report.records == 500
    assert delivered_numbers(bucket) == Counter(range(500))


def test_no_call_starts_that_could_end_after_the_deadline(delivery_stream, aws_endpoint):
    """Each call may take call_timeout (2 s here); the clock says 1.5 s pass per call."""
    bucket, stream = delivery_stream
    endpoint, writer = flaky_writer(aws_endpoint, stream, lambda call: PASS)
    with endpoint, pytest.raises(FirehoseDeliveryError, match="delivery stopped: the deadline") as caught:
        writer.put(lines(1200), time_left=lambda: 4.0 - 1.5 * len(endpoint.calls))
    assert endpoint.calls == [PASS, PASS]  # a third would start with 1 s left
    assert caught.value.failed_indices == list(range(1000, 1200))
    assert caught.value.reasons == Counter({DEADLINE_EXCEEDED: 200})
    assert delivered_numbers(bucket) == Counter(range(1000))


def test_no_backoff_sleeps_past_the_deadline(delivery_stream):
    bucket, stream = delivery_stream
    flaky = RefusingFirehose(boto3.client("firehose"), [{3}])
    sleeps = []
    writer = FirehoseWriter(stream, flaky, sleep=sleeps.append, call_timeout=2.0, max_delay=0.5)
    with pytest.raises(FirehoseDeliveryError, match="the deadline, before a retry") as caught:
        writer.put(lines(5), time_left=lambda: 2.0)  # a call fits just; after any backoff it would not
    assert caught.value.failed_indices == [3] and caught.value.reasons == Counter({DEADLINE_EXCEEDED: 1})
    assert delivered_numbers(bucket) == Counter([0, 1, 2, 4]) and sleeps == []
