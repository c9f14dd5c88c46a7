"""AWS Lambda entry point of chart-export imports: S3 notifications of the imports bucket's
``incoming/`` prefix (a user's upload) and ``results/continue/`` prefix (an import resuming)
invoke it; it imports each file of the upload (producer.importer, design in producer/IMPORTS.md).

Configuration comes from environment variables (``ENV_VARS``); clients are built on the first
invocation and reused while the container lives. Logs are JSON; metrics are EMF lines.
"""
from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Mapping

import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric

from firehose.writer import CLIENT_CONFIG, FirehoseWriter
from producer import budget
from producer.config import DEFAULT_STATE_PREFIX, ConfigError, state_prefix
from producer.event_publisher import EventPublisher
from producer.import_events import EventSettings, ImportEvents
from producer.import_store import ImportStore
from producer.importer import LOADED, REPLACED, UNCHANGED, Importer, ImportRun, utc_now
from producer.observability import NAMESPACE
from producer.state import StateStore
from producer.upload_files import UploadLimits

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "chart-importer")
logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)

# Every environment variable the import Lambda reads, with whether the stack must set it.
ENV_VARS: dict[str, bool] = {
    "DELIVERY_STREAM_NAME": True,
    "IMPORTS_BUCKET": True,
    # The producer's sent ledger (firehose/ledger.py): what Firehose accepted, for the reconciler.
    "STATE_BUCKET": True,
    "STATE_PREFIX": False,  # as the producer's (default producer-state/)
    "MAX_UPLOAD_BYTES": False,  # one uploaded object, as uploaded (default 128 MiB)
    "MAX_FILE_BYTES": False,  # one chart file, uncompressed (default 1 MiB)
    "MAX_ZIP_ENTRIES": False,  # files in one zip (default 20,000)
    "MAX_ZIP_BYTES": False,  # a zip's files together, uncompressed (default 1 GiB)
    "CONTINUE_BELOW_SECONDS": False,  # continue in another invocation when less time is left (default 30)
    # Chart events (producer/import_events.py); without a topic none are published.
    "CHART_EVENTS_TOPIC_ARN": False,
    "CLIMB_EVENT_PLACES": False,  # a CLIMB event is a rise of at least this many places (default 10)
    "CHART_EVENTS_MAX_AGE_DAYS": False,  # only editions this recent publish events; 0: any (default 7)
}


@dataclass(frozen=True)
class ImportConfig:
    delivery_stream_name: str
    imports_bucket: str
    state_bucket: str
    state_prefix: str = DEFAULT_STATE_PREFIX
    limits: UploadLimits = field(default_factory=UploadLimits)
    continue_below_seconds: float = 30.0
    events_topic_arn: str | None = None
    events: EventSettings = field(default_factory=EventSettings)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "ImportConfig":
        env = os.environ if environ is None else environ
        values = {name: env.get(name, "").strip() for name in ENV_VARS}
        missing = [name for name, required in ENV_VARS.items() if required and not values[name]]
        if missing:
            raise ConfigError(f"missing environment variables: {', '.join(missing)}")
        defaults = UploadLimits()
        try:
            limits = UploadLimits(
                max_object_bytes=int(values["MAX_UPLOAD_BYTES"] or defaults.max_object_bytes),
                max_file_bytes=int(values["MAX_FILE_BYTES"] or defaults.max_file_bytes),
                max_zip_entries=int(values["MAX_ZIP_ENTRIES"] or defaults.max_zip_entries),
                max_zip_bytes=int(values["MAX_ZIP_BYTES"] or defaults.max_zip_bytes))
            continue_below = float(values["CONTINUE_BELOW_SECONDS"] or 30)
        except ValueError as error:
            raise ConfigError(f"the import limits must be numbers: {error}") from None
        if min(limits.max_object_bytes, limits.max_file_bytes, limits.max_zip_entries, limits.max_zip_bytes) < 1:
            raise ConfigError("the import limits must be at least 1")
        return cls(values["DELIVERY_STREAM_NAME"], values["IMPORTS_BUCKET"], values["STATE_BUCKET"],
                   state_prefix(values["STATE_PREFIX"]), limits, continue_below,
                   values["CHART_EVENTS_TOPIC_ARN"] or None, event_settings(values))


def event_settings(values: Mapping[str, str]) -> EventSettings:
    """Chart event settings from the environment's values ('' = the default)."""
    defaults = EventSettings()
    try:
        settings = EventSettings(int(values["CLIMB_EVENT_PLACES"] or defaults.climb_places),
                                 int(values["CHART_EVENTS_MAX_AGE_DAYS"] or defaults.max_age_days))
    except ValueError as error:
        raise ConfigError(f"CLIMB_EVENT_PLACES and CHART_EVENTS_MAX_AGE_DAYS must be integers: {error}") from None
    if settings.climb_places < 1 or settings.max_age_days < 0:
        raise ConfigError("CLIMB_EVENT_PLACES must be at least 1 and CHART_EVENTS_MAX_AGE_DAYS at least 0")
    return settings


_importer: Importer | None = None


def build_importer(config: ImportConfig) -> Importer:
    s3 = boto3.client("s3")
    store = ImportStore(config.imports_bucket, s3)
    events = None
    if config.events_topic_arn:
        events = ImportEvents(store, EventPublisher(config.events_topic_arn, logger=logger), config.events,
                              today=lambda: utc_now().date(), logger=logger)
    return Importer(store,
                    # Short timeouts and no botocore retries: the writer retries (firehose/writer.py).
                    FirehoseWriter(config.delivery_stream_name, boto3.client("firehose", config=CLIENT_CONFIG)),
                    StateStore(config.state_bucket, config.state_prefix, s3),  # its sent ledger only
                    config.limits, continue_below_seconds=config.continue_below_seconds, logger=logger,
                    events=events)


def get_importer() -> Importer:
    global _importer
    if _importer is None:
        _importer = build_importer(ImportConfig.from_env())
    return _importer


def record_metrics(runs: list[ImportRun]) -> None:
    count = MetricUnit.Count
    for name, outcome in (("FilesLoaded", LOADED), ("FilesUnchanged", UNCHANGED), ("FilesReplaced", REPLACED)):
        metrics.add_metric(name, count, sum(run.outcomes[outcome] for run in runs))
    rejected: Counter = Counter()
    for run in runs:
        rejected.update(run.rejected)
    # The alarm watches the total (service dimension only); the Reason dimension says what kind.
    metrics.add_metric("RejectedFiles", count, sum(rejected.values()))
    for reason, number in sorted(rejected.items()):
        with single_metric(name="RejectedFiles", unit=count, value=number, namespace=NAMESPACE,
                           default_dimensions={"service": SERVICE}) as metric:
            metric.add_dimension(name="Reason", value=reason)
    metrics.add_metric("RecordsSent", count, sum(run.records_sent for run in runs))
    metrics.add_metric("FirehoseRetries", count, sum(run.firehose_retries for run in runs))
    metrics.add_metric("ImportsContinued", count, sum(1 for run in runs if run.continuation))
    metrics.add_metric("UploadsImported", count, sum(1 for run in runs if run.status == "done" and not run.skipped))
    # Chart events for subscribers; an alarm watches the failed ones.
    metrics.add_metric("ChartEventsPublished", count, sum(run.events.published for run in runs))
    metrics.add_metric("ChartEventsFailed", count, sum(run.events.failed for run in runs))


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict, context: Any) -> dict:
    runs = get_importer().handle_event(event, budget.time_left_from(context))
    record_metrics(runs)
    summary = {"uploads": [run.summary() for run in runs]}
    logger.info("import finished", extra={"summary": summary})
    return summary
