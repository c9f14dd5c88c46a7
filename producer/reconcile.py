"""AWS Lambda entry point of reconciliation (#21 item 3): an EventBridge schedule invokes it;
it sends again what the producer sent that never reached the curated data, and restores
curated files changed after publication (``producer.reconciler``). What it cannot repair
it counts in the ``ReconcileUnrepaired`` metric, which a CloudWatch alarm watches.

Configuration comes from environment variables (``ENV_VARS``); clients are built on the
first invocation and reused while the container lives. Logs are JSON; metrics are EMF lines.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Mapping

import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from firehose.writer import CLIENT_CONFIG, FirehoseWriter
from producer import budget
from producer.config import ConfigError, state_prefix
from producer.observability import NAMESPACE
from producer.reconciler import CuratedStore, Reconciler, ReconcileRun, ReconcileSettings, SentLedger

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "chart-reconciler")
logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
# Seconds kept back from the invocation's time to save the run's progress.
SAFETY_MARGIN_SECONDS = 10.0

# Every environment variable the reconciler reads, with whether the stack must set it.
ENV_VARS: dict[str, bool] = {
    "DELIVERY_STREAM_NAME": True,  # where records are sent again
    "STATE_BUCKET": True,  # the producer's sent ledger, and this run's progress
    "STATE_PREFIX": False,
    "CURATED_BUCKET": True,  # the curated files and the Glue job's manifests
    "MANIFEST_PREFIX": True,  # <the Glue job's checkpoint>/manifests/
    "RECONCILE_WINDOW_DAYS": False,  # default 14
    "RECONCILE_GRACE_HOURS": False,  # default 30
    "RECONCILE_MAX_RESENDS": False,  # default 3
}


@dataclass(frozen=True)
class ReconcileConfig:
    delivery_stream_name: str
    state_bucket: str
    state_prefix: str
    curated_bucket: str
    manifest_prefix: str
    settings: ReconcileSettings

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "ReconcileConfig":
        env = os.environ if environ is None else environ
        values = {name: env.get(name, "").strip() for name in ENV_VARS}
        missing = [name for name, required in ENV_VARS.items() if required and not values[name]]
        if missing:
            raise ConfigError(f"missing environment variables: {', '.join(missing)}")
        defaults = ReconcileSettings()
        try:
            settings = ReconcileSettings(
                window_days=int(values["RECONCILE_WINDOW_DAYS"] or defaults.window_days),
                grace_hours=float(values["RECONCILE_GRACE_HOURS"] or defaults.grace_hours),
                max_resends=int(values["RECONCILE_MAX_RESENDS"] or defaults.max_resends))
        except ValueError as error:
            raise ConfigError(f"the reconciliation settings must be numbers: {error}") from None
        if settings.window_days < 1 or settings.grace_hours < 0 or settings.max_resends < 0:
            raise ConfigError("RECONCILE_WINDOW_DAYS must be at least 1, the others at least 0")
        return cls(values["DELIVERY_STREAM_NAME"], values["STATE_BUCKET"], state_prefix(values["STATE_PREFIX"]),
                   values["CURATED_BUCKET"], values["MANIFEST_PREFIX"], settings)


_reconciler: Reconciler | None = None


def build_reconciler(config: ReconcileConfig) -> Reconciler:
    s3 = boto3.client("s3")
    return Reconciler(SentLedger(config.state_bucket, config.state_prefix, s3),
                      CuratedStore(config.curated_bucket, config.manifest_prefix, s3),
                      # Short timeouts and no botocore retries: the writer retries (firehose/writer.py).
                      FirehoseWriter(config.delivery_stream_name, boto3.client("firehose", config=CLIENT_CONFIG)),
                      config.settings, logger=logger)


def get_reconciler() -> Reconciler:
    global _reconciler
    if _reconciler is None:
        _reconciler = build_reconciler(ReconcileConfig.from_env())
    return _reconciler


def record_metrics(run: ReconcileRun) -> None:
    count = MetricUnit.Count
    metrics.add_metric("SentPollsChecked", count, run.polls_checked)
    metrics.add_metric("RecordsMissing", count, run.records_missing)
    metrics.add_metric("RecordsResent", count, run.records_resent)
    metrics.add_metric("CuratedFilesRestored", count, len(run.files_restored))
    # Every run counts what is still unrepaired in the window: the alarm stays on until it is fixed.
    metrics.add_metric("ReconcileUnrepaired", count, len(run.unrepaired))
    metrics.add_metric("ReconcileSucceeded", count, 1)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict, context: Any) -> dict:
    run = get_reconciler().run(budget.time_left_from(context, SAFETY_MARGIN_SECONDS))
    record_metrics(run)
    summary = run.summary()
    (logger.error if run.unrepaired else logger.info)("reconciliation finished", extra={"summary": summary})
    return summary
