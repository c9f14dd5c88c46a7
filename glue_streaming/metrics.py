"""Run metrics: counts per micro-batch and per run, as one JSON log line, a JSON object next
to the checkpoint and CloudWatch metrics (glue_streaming/README.md, "Arguments").
Per batch and run: records_read = curated + observations + quarantined, exactly."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

DEFAULT_NAMESPACE = "SpotifyCharts/Glue"

# CloudWatch metric name -> RunMetrics attribute (all Count).
CLOUDWATCH_METRICS: dict[str, str] = {
    "FilesRead": "files_read",
    "RecordsRead": "records_read",
    "RecordsCurated": "curated",
    "ObservationsCurated": "observations",
    "RecordsQuarantined": "quarantined",
    "Batches": "batches",
}


@dataclass
class BatchMetrics:
    batch_id: str
    files_read: int = 0
    records_read: int = 0  # non-blank lines, plus one per unreadable file
    curated: int = 0  # chart entries written
    observations: int = 0  # chart observations written
    quarantined: int = 0
    chart_dates: list[str] = field(default_factory=list)
    files_written: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> dict[str, Any]:
        """The batch's counts, without the files (for log lines)."""
        return {k: v for k, v in asdict(self).items() if k != "files_written"}


@dataclass
class RunMetrics:
    started_at: str
    finished_at: str = ""
    seconds: float = 0.0  # from the query's start to its end (excludes Spark start-up)
    batches: list[BatchMetrics] = field(default_factory=list)

    def total(self, name: str) -> int:
        return len(self.batches) if name == "batches" else sum(getattr(b, name) for b in self.batches)

    def to_dict(self) -> dict[str, Any]:
        totals = {attribute: self.total(attribute) for attribute in CLOUDWATCH_METRICS.values()}
        return {"event": "glue_streaming_run", "started_at": self.started_at, "finished_at": self.finished_at,
                "seconds": round(self.seconds, 3),
                "rows_per_second": round(totals["records_read"] / self.seconds) if self.seconds else 0,
                **totals, "batch_details": [asdict(b) for b in self.batches]}

    def log_line(self) -> str:
        """The run's counts as one JSON line (without per-file detail)."""
        return json.dumps({**self.to_dict(), "batch_details": [b.summary() for b in self.batches]},
                          separators=(",", ":"))


def metric_data(run: RunMetrics, job_name: str) -> list[dict[str, Any]]:
    """The run's counts as CloudWatch MetricData, one datum per metric."""
    dimensions = [{"Name": "JobName", "Value": job_name}]
    return [{"MetricName": name, "Dimensions": dimensions, "Value": float(run.total(attribute)), "Unit": "Count"}
            for name, attribute in CLOUDWATCH_METRICS.items()]


def put_cloudwatch(run: RunMetrics, namespace: str, job_name: str, client: Any = None) -> None:
    """Publish the run's counts (boto3 honours AWS_ENDPOINT_URL for local endpoints)."""
    import boto3  # only runs that publish metrics need it

    (client or boto3.client("cloudwatch")).put_metric_data(Namespace=namespace, MetricData=metric_data(run, job_name))
