from collections import Counter

import boto3
import pytest
from botocore.exceptions import ClientError

from firehose import contract
from firehose.writer import FirehoseDeliveryError, FirehoseWriter, batches
from localdev.aws import read_records


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
