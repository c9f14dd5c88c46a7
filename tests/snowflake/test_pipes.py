"""How the local runner reads pipes and notifications (no servers)."""
from __future__ import annotations

import json

import pytest

from snowflake.charts.pipes import PipeDefinitionError, load_definitions, parse_pipe
from localdev.local_snowflake.snowpipe import MessageFormatError, S3Object, parse_notification


def test_keys_map_to_the_pipe_of_their_dataset():
    definitions = load_definitions()
    match = definitions.match("curated/chart_entries/chart_date=2024-01-01/part-00000-batch-3.parquet")
    assert match[0].name == "chart_entries_pipe"
    assert match[1] == "chart_entries/chart_date=2024-01-01/part-00000-batch-3.parquet"
    assert definitions.match("chart_observations/chart_date=2024-01-01/a.parquet")[0].table == \
        "landing_chart_observations"
    # Datasets the history dropped (snowflake_only/V8) have no pipe any more.
    assert definitions.match("curated/tracks/chart_date=2024-01-01/a.parquet") is None
    assert definitions.match("curated/chart_daily/chart_date=2024-01-01/a.parquet") is None
    for ignored in ("curated/chart_entries/_SUCCESS", "curated/quarantine/run_date=2024-01-01/x.parquet",
                    "raw/chart_entries/2024/01/01/00/x", "curated/chart_entries.parquet"):
        assert definitions.match(ignored) is None, ignored


def test_local_copy_swaps_only_the_location_and_drops_pattern():
    pipe = parse_pipe(
        "CREATE PIPE IF NOT EXISTS p AUTO_INGEST = TRUE AS COPY INTO landing_x FROM @curated_stage/x/ "
        "PATTERN = '.*[.]parquet' FILE_FORMAT = (FORMAT_NAME = 'parquet_format') MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE"
    )
    assert (pipe.table, pipe.stage, pipe.path, pipe.pattern) == ("landing_x", "curated_stage", "x/", ".*[.]parquet")
    assert pipe.local_copy_sql("local_stage", "b/curated/x/d=1", "f.parquet") == (
        "COPY INTO landing_x FROM @local_stage/b/curated/x/d=1/ FILES = ('f.parquet') "
        "FILE_FORMAT = (FORMAT_NAME = 'parquet_format') MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE"
    )
    with pytest.raises(PipeDefinitionError):
        pipe.local_copy_sql("local_stage", "b/x", "it's.parquet")


def test_a_pipe_without_auto_ingest_is_refused():
    with pytest.raises(PipeDefinitionError, match="AUTO_INGEST"):
        parse_pipe("CREATE PIPE p AS COPY INTO t FROM @s/x/")


def _s3_event(key: str, bucket: str = "curated-bucket", event: str = "ObjectCreated:Put") -> str:
    return json.dumps({"Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "eventName": event,
        "s3": {"bucket": {"name": bucket}, "object": {"key": key, "size": 10}},
    }]})


def test_notifications_decode_keys_as_s3_encodes_them():
    # Real S3 form-encodes keys ('+' for a space); moto percent-encodes '/' and '='.
    assert parse_notification(_s3_event("curated/chart_entries/chart_date%3D2024-01-01/a+b.parquet")) == [
        S3Object("curated-bucket", "curated/chart_entries/chart_date=2024-01-01/a b.parquet")]
    assert parse_notification(_s3_event("curated%2Ftracks%2Fchart_date%3D2024-01-01%2Fx.parquet")) == [
        S3Object("curated-bucket", "curated/tracks/chart_date=2024-01-01/x.parquet")]


def test_test_events_removals_and_sns_envelopes():
    assert parse_notification(json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": "b"})) is None
    assert parse_notification(_s3_event("curated/x.parquet", event="ObjectRemoved:Delete")) == []
    wrapped = json.dumps({"Type": "Notification", "Message": _s3_event("curated/k.parquet")})
    assert parse_notification(wrapped) == [S3Object("curated-bucket", "curated/k.parquet")]


@pytest.mark.parametrize("body", ["not json", "[1]", "{}", json.dumps({"Records": [{"eventName": "ObjectCreated:Put"}]})])
def test_malformed_messages_are_errors(body):
    with pytest.raises(MessageFormatError):
        parse_notification(body)
