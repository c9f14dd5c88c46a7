"""The job's CloudWatch metrics, with real boto3 against the local AWS endpoint."""
from datetime import datetime, timedelta, timezone

import boto3
import pytest

from glue_streaming.metrics import CLOUDWATCH_METRICS, BatchMetrics, RunMetrics, put_cloudwatch
from tests.conftest import unique_name


def test_run_counts_reach_cloudwatch(aws_endpoint):
    namespace = f"SpotifyCharts/Glue-{unique_name('test')}"
    run = RunMetrics(started_at="2026-11-20T00:00:00Z")
    run.batches.append(BatchMetrics("000000-ab", files_read=2, records_read=10, curated=6, observations=3,
                                    quarantined=1))
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
