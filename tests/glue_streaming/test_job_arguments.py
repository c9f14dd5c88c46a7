import json

import pytest

from glue_streaming import job
from glue_streaming.metrics import CLOUDWATCH_METRICS, BatchMetrics, RunMetrics, metric_data

REQUIRED = ["--source_path", "s3://raw/r/", "--target_path", "s3://cur/c/", "--quarantine_path", "s3://cur/q",
            "--checkpoint_path", "s3://ops/ck"]


def test_job_arguments_lists_required_then_optional_names():
    assert job.JOB_ARGUMENTS[:4] == ("source_path", "target_path", "quarantine_path", "checkpoint_path")
    assert set(job.JOB_ARGUMENTS) == set(job.REQUIRED_JOB_ARGUMENTS) | set(job.OPTIONAL_JOB_ARGUMENTS)
    assert "metrics_namespace" in job.JOB_ARGUMENTS
    assert not any(name.startswith("--") for name in job.JOB_ARGUMENTS)


def test_local_arguments_get_defaults_and_paths_lose_trailing_slashes():
    settings = job.JobSettings.from_arguments(job.parse_local_arguments(REQUIRED))
    assert settings.paths.source == "s3://raw/r" and settings.paths.target == "s3://cur/c"
    assert settings.paths.stream_checkpoint == "s3://ops/ck/stream"
    assert settings.metrics_namespace == "" and settings.max_files_per_trigger == 0
    assert settings.dedupe_lookback_days == 7


def test_missing_or_bad_arguments_are_clear_errors():
    with pytest.raises(job.JobArgumentError, match="--checkpoint_path"):
        job.JobSettings.from_arguments({"source_path": "a", "target_path": "b", "quarantine_path": "c"})
    args = job.parse_local_arguments(REQUIRED + ["--dedupe_lookback_days", "seven"])
    with pytest.raises(job.JobArgumentError, match="dedupe_lookback_days must be an integer"):
        job.JobSettings.from_arguments(args)
    with pytest.raises(SystemExit):
        job.parse_local_arguments(["--source_path", "x"])


def test_glue_is_asked_only_for_the_optional_arguments_it_was_given():
    asked = []

    def get_resolved_options(argv, names):  # stands in for awsglue.utils.getResolvedOptions
        asked.extend(names)
        return {}

    job._glue_arguments(["job.py", "--JOB_NAME", "j", *REQUIRED, "--metrics_namespace", "N"], get_resolved_options)
    assert asked == ["JOB_NAME", *job.REQUIRED_JOB_ARGUMENTS, "metrics_namespace"]


def run_metrics():
    run = RunMetrics(started_at="2026-11-20T00:00:00.000000Z", seconds=2.0)
    run.batches.append(BatchMetrics("000000-abc", files_read=2, records_read=10, curated=6, quarantined=1,
                                    duplicates=3, tracks=4, chart_daily=5, files_written=["x"]))
    run.batches.append(BatchMetrics("000001-abc", files_read=1, records_read=4, curated=2, quarantined=2))
    return run


def test_run_metrics_total_the_batches_in_one_json_line():
    line = run_metrics().log_line()
    assert "\n" not in line
    summary = json.loads(line)
    assert (summary["records_read"], summary["curated"], summary["quarantined"], summary["duplicates"]) == (14, 8, 3, 3)
    assert summary["batches"] == 2 and summary["rows_per_second"] == 7
    assert "files_written" not in summary["batch_details"][0]


def test_cloudwatch_data_has_one_count_per_metric():
    data = metric_data(run_metrics(), "charts-glue")
    assert [d["MetricName"] for d in data] == list(CLOUDWATCH_METRICS)
    by_name = {d["MetricName"]: d for d in data}
    assert by_name["RecordsRead"]["Value"] == 14.0 and by_name["RecordsQuarantined"]["Value"] == 3.0
    assert by_name["Batches"]["Value"] == 2.0
    assert all(d["Unit"] == "Count" and d["Dimensions"] == [{"Name": "JobName", "Value": "charts-glue"}]
               for d in data)

