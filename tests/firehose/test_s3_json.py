"""firehose/s3_json.py: JSON objects on S3 with ETags and conditional writes (the leases and
the producer's and importer's state use it; their own tests run it against moto and LocalStack)."""
from __future__ import annotations

import io

import pytest
from botocore.exceptions import ClientError

from firehose.s3_json import ObjectChangedError, bucket_and_key, get_json, if_unchanged, put_if_absent, put_json


def client_error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}}, "PutObject")


class FakeS3:
    """Answers with ``error`` if given, else stores the object."""

    def __init__(self, error: str | None = None):
        self.error, self.puts = error, []

    def put_object(self, **kwargs):
        if self.error:
            raise client_error(self.error)
        self.puts.append(kwargs)
        return {"ETag": '"e1"'}

    def get_object(self, **kwargs):
        if self.error:
            raise client_error(self.error)
        return {"Body": io.BytesIO(b'{"n":1}'), "ETag": '"e1"'}


def test_a_write_without_a_condition_or_that_wins_returns_the_etag_and_writes_compact_utf8_json():
    s3 = FakeS3()
    assert put_json(s3, "b", "k", {"name": "Beyoncé", "n": 1}, **if_unchanged(None)) == '"e1"'
    [put] = s3.puts
    assert put["Body"] == '{"name":"Beyoncé","n":1}'.encode("utf-8")
    assert put["IfNoneMatch"] == "*" and "IfMatch" not in put


@pytest.mark.parametrize("code", ["PreconditionFailed", "ConditionalRequestConflict", "NoSuchKey", "412", "409"])
def test_a_lost_conditional_write_is_object_changed(code):
    with pytest.raises(ObjectChangedError, match="s3://b/k changed"):
        put_json(FakeS3(code), "b", "k", {}, **if_unchanged('"e0"'))


def test_other_errors_and_unconditional_writes_keep_s3_s_error():
    with pytest.raises(ClientError, match="AccessDenied"):
        put_json(FakeS3("AccessDenied"), "b", "k", {}, IfMatch='"e0"')
    with pytest.raises(ClientError, match="PreconditionFailed"):  # no condition given: not a lost race
        put_json(FakeS3("PreconditionFailed"), "b", "k", {})


def test_a_missing_object_reads_as_none_and_other_errors_are_raised():
    assert get_json(FakeS3(), "b", "k") == ({"n": 1}, '"e1"')
    assert get_json(FakeS3("NoSuchKey"), "b", "k") == (None, None)
    with pytest.raises(ClientError, match="AccessDenied"):
        get_json(FakeS3("AccessDenied"), "b", "k")


def test_the_condition_replaces_the_version_read_or_creates():
    assert if_unchanged('"e0"') == {"IfMatch": '"e0"'}
    assert if_unchanged(None) == {"IfNoneMatch": "*"}


def test_put_if_absent_writes_the_bytes_once_with_if_none_match():
    s3 = FakeS3()
    assert put_if_absent(s3, "b", "curated/x.parquet", b"PAR1") is True
    assert s3.puts == [{"Bucket": "b", "Key": "curated/x.parquet", "Body": b"PAR1", "IfNoneMatch": "*"}]


@pytest.mark.parametrize("code", ["PreconditionFailed", "ConditionalRequestConflict", "412", "409"])
def test_put_if_absent_is_false_when_the_object_exists_or_is_being_created(code):
    assert put_if_absent(FakeS3(code), "b", "k", b"x") is False


@pytest.mark.parametrize("code", ["NoSuchBucket", "NoSuchKey", "AccessDenied"])
def test_put_if_absent_raises_what_is_not_an_existing_object(code):
    with pytest.raises(ClientError, match=code):
        put_if_absent(FakeS3(code), "b", "k", b"x")


def test_put_if_absent_on_s3_keeps_the_first_bytes(aws_endpoint):
    import boto3

    s3 = boto3.client("s3", endpoint_url=aws_endpoint)
    s3.create_bucket(Bucket="put-if-absent")
    assert put_if_absent(s3, "put-if-absent", "k", b"first") is True
    assert put_if_absent(s3, "put-if-absent", "k", b"second") is False
    assert s3.get_object(Bucket="put-if-absent", Key="k")["Body"].read() == b"first"


def test_bucket_and_key_of_an_s3_url():
    assert bucket_and_key("s3://curated/curated/chart_entries/x.parquet") == ("curated", "curated/chart_entries/x.parquet")
    assert bucket_and_key("s3a://raw/") == ("raw", "")
    assert bucket_and_key("s3://raw") == ("raw", "")
