import json

import pytest
from awsglue.utils import GlueArgumentError, getResolvedOptions

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
    assert settings.shuffle_partitions == 0


def test_missing_or_bad_arguments_are_clear_errors():
    with pytest.raises(job.JobArgumentError, match="--checkpoint_path"):
        job.JobSettings.from_arguments({"source_path": "a", "target_path": "b", "quarantine_path": "c"})
    args = job.parse_local_arguments(REQUIRED + ["--max_files_per_trigger", "seven"])
    with pytest.raises(job.JobArgumentError, match="max_files_per_trigger must be an integer"):
        job.JobSettings.from_arguments(args)
    with pytest.raises(SystemExit):
        job.parse_local_arguments(["--source_path", "x"])


# What Glue puts before the job's own arguments on every run (and the stack's --TempDir).
GLUE_ARGV = ["job.py", "--JOB_ID", "j_1", "--JOB_RUN_ID", "jr_1", "--job-bookmark-option", "job-bookmark-disable",
             "--TempDir", "s3://artifacts/glue-temp/", "--JOB_NAME", "curate-charts"]


def test_glue_arguments_come_through_awsglue_s_own_get_resolved_options():
    """awsglue's getResolvedOptions (aws-glue-libs, branch glue-5.1) fails on any name it is
    asked for and not given: the job asks for the optional ones only when they are there."""
    with pytest.raises(GlueArgumentError, match="metrics_namespace"):
        getResolvedOptions(GLUE_ARGV + REQUIRED, ["JOB_NAME", *job.JOB_ARGUMENTS])

    settings = job.JobSettings.from_arguments(job._glue_arguments(GLUE_ARGV + REQUIRED, getResolvedOptions))
    assert settings.job_name == "curate-charts" and settings.paths.checkpoint == "s3://ops/ck"
    assert settings.metrics_namespace == "" and settings.max_files_per_trigger == 0  # the job's defaults

    given = GLUE_ARGV + REQUIRED + ["--metrics_namespace", "SpotifyCharts/Glue", "--max_files_per_trigger", "50"]
    settings = job.JobSettings.from_arguments(job._glue_arguments(given, getResolvedOptions))
    assert (settings.metrics_namespace, settings.max_files_per_trigger) == ("SpotifyCharts/Glue", 50)

    without_checkpoint = GLUE_ARGV + REQUIRED[:-2]
    with pytest.raises(GlueArgumentError, match="checkpoint_path"):
        job._glue_arguments(without_checkpoint, getResolvedOptions)


def test_a_run_is_on_glue_when_glue_named_the_job():
    assert job.on_glue(GLUE_ARGV + REQUIRED)
    # Locally awsglue may be importable (it is in this virtualenv) yet there is no Glue JVM.
    assert not job.on_glue(["job.py", *REQUIRED, "--job_name", "local"])


def run_metrics():
    run = RunMetrics(started_at="2026-11-20T00:00:00.000000Z", seconds=2.0)
    run.batches.append(BatchMetrics("000000-abc", files_read=2, records_read=10, curated=6, observations=3,
                                    quarantined=1, files_written=["x"]))
    run.batches.append(BatchMetrics("000001-abc", files_read=1, records_read=4, curated=2, quarantined=2))
    return run


def test_run_metrics_total_the_batches_in_one_json_line():
    line = run_metrics().log_line()
    assert "\n" not in line
    summary = json.loads(line)
    assert (summary["records_read"], summary["curated"], summary["observations"], summary["quarantined"]) == (
        14, 8, 3, 3)
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

