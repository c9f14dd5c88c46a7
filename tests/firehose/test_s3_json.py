"""firehose/s3_json.py: JSON objects on S3 with ETags and conditional writes (the leases and
the producer's and importer's state use it; their own tests run it against moto and LocalStack)."""
from __future__ import annotations

import io

import pytest
from botocore.exceptions import ClientError

from firehose.s3_json import ObjectChangedError, get_json, if_unchanged, put_json


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
