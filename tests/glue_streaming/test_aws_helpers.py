"""The S3 mirror and the CloudWatch metrics, with real boto3 against the local AWS endpoint."""
from datetime import datetime, timedelta, timezone

import boto3
import pytest

from localdev import s3_mirror
from glue_streaming.metrics import CLOUDWATCH_METRICS, BatchMetrics, RunMetrics, put_cloudwatch
from tests.conftest import unique_name

# Keys as the local emulators write them: literal Firehose placeholders plus YYYY/MM/DD/HH/.
ODD_KEY = "raw/chart_entries/dt=!{timestamp:yyyy-MM-dd}/hour=!{timestamp:HH}/2026/11/20/22/charts-1-2026-11-20-22-04-01-ab"


def test_mirror_downloads_new_objects_and_uploads_changed_files(aws_endpoint, tmp_path):
    s3 = boto3.client("s3")
    bucket = unique_name("mirror")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key=ODD_KEY, Body=b'{"a":1}\n')
    s3.put_object(Bucket=bucket, Key="raw/chart_entries/other", Body=b"x")
    s3.put_object(Bucket=bucket, Key="elsewhere/ignored", Body=b"y")

    local = tmp_path / "raw"
    bucket_name, prefix = s3_mirror.split_s3_url(f"s3://{bucket}/raw")
    assert prefix == "raw/"
    assert len(s3_mirror.download(bucket_name, prefix, local)) == 2
    assert (local / ODD_KEY[len("raw/"):]).read_bytes() == b'{"a":1}\n'
    assert not list(local.rglob(".*"))  # no temporary files left
    assert s3_mirror.download(bucket_name, prefix, local) == []  # a second sync copies nothing

    out = tmp_path / "curated"
    (out / "chart_entries/chart_date=2026-11-20").mkdir(parents=True)
    (out / "chart_entries/chart_date=2026-11-20/chart_entries-000000-ab.parquet").write_bytes(b"PAR1")
    (out / "chart_entries/_SUCCESS").write_bytes(b"")
    (out / "chart_entries/chart_date=2026-11-20/.x.parquet.crc").write_bytes(b"")
    assert s3_mirror.upload(out, bucket, "curated/") == [
        "curated/chart_entries/chart_date=2026-11-20/chart_entries-000000-ab.parquet"]
    assert s3_mirror.upload(out, bucket, "curated/") == []
    (out / "chart_entries/chart_date=2026-11-20/chart_entries-000000-ab.parquet").write_bytes(b"PAR1 changed")
    assert len(s3_mirror.upload(out, bucket, "curated/")) == 1


def test_mirror_refuses_keys_that_leave_the_folder(tmp_path):
    with pytest.raises(s3_mirror.MirrorError):
        s3_mirror._local_path(tmp_path, "../outside")
    with pytest.raises(s3_mirror.MirrorError):
        s3_mirror.split_s3_url("/not/s3")


def test_run_counts_reach_cloudwatch(aws_endpoint):
    namespace = f"SpotifyCharts/Glue-{unique_name('test')}"
    run = RunMetrics(started_at="2026-11-20T00:00:00Z")
    run.batches.append(BatchMetrics("000000-ab", files_read=2, records_read=10, curated=6, quarantined=1,
                                    duplicates=3))
    put_cloudwatch(run, namespace, "charts-glue")

    cloudwatch = boto3.client("cloudwatch")
    now = datetime.now(timezone.utc)
    listed = cloudwatch.list_metrics(Namespace=namespace)["Metrics"]
    assert sorted(m["MetricName"] for m in listed) == sorted(CLOUDWATCH_METRICS)
    data = cloudwatch.get_metric_data(
        MetricDataQueries=[{"Id": "read", "MetricStat": {
            "Metric": {"Namespace": namespace, "MetricName": "RecordsRead",
                       "Dimensions": [{"Name": "JobName", "Value": "charts-glue"}]},
            "Period": 60, "Stat": "Sum"}}],
        StartTime=now - timedelta(hours=1), EndTime=now + timedelta(hours=1),
    )["MetricDataResults"][0]
    assert data["Values"] == [10.0]
