"""AWS Lambda entry point: one invocation polls every configured chart once (with
adaptive polling, every chart due now: see ``producer.schedule``).

Configuration comes from environment variables (see ``producer.config``);
clients are built on the first invocation and reused while the container lives.
"""
from __future__ import annotations

import uuid
from typing import Any

import boto3
from aws_lambda_powertools.metrics import MetricUnit

from firehose.writer import CLIENT_CONFIG, FirehoseWriter
from producer import budget
from producer.config import ProducerConfig
from producer.credentials import SecretRefreshTokens, spotify_credentials
from producer.event_publisher import EventPublisher
from producer.observability import logger, metrics
from producer.poll import ChartPoller, PollResult
from producer.schedule import ReadSchedule
from producer.spotify import ChartReader, ResponseClock, build_spotify
from producer.state import StateStore

# Seconds kept back from the Lambda's remaining time for delivery and state writes.
SAFETY_MARGIN_SECONDS = 10.0

_poller: ChartPoller | None = None


def build_poller(config: ProducerConfig) -> ChartPoller:
    credentials = spotify_credentials(config)
    # A user's refresh token from the secret goes back there when Spotify rotates it.
    store = SecretRefreshTokens(config.secret_arn, boto3.client("secretsmanager")) \
        if config.secret_arn and credentials.refresh_token else None
    clock = ResponseClock()  # charts are dated by Spotify's Date header (see producer.spotify)
    client = build_spotify(client_id=credentials.client_id, client_secret=credentials.client_secret,
                           refresh_token=credentials.refresh_token, refresh_token_store=store,
                           api_url=config.api_url, token_url=config.token_url, pool_size=config.max_concurrency,
                           clock=clock)
    state = StateStore(config.state_bucket, config.state_prefix, boto3.client("s3"))
    schedule = ReadSchedule(config.schedule, state, logger=logger) if config.schedule else None
    return ChartPoller(
        config,
        ChartReader(client, market=config.market, clock=clock, max_pages=config.max_pages_per_chart,
                    max_entries=config.max_entries_per_chart, base_delay=config.spotify_retry_delay_ms / 1000),
        # Short timeouts and no botocore retries: the writer retries, within the poll's deadline.
        FirehoseWriter(config.delivery_stream_name, boto3.client("firehose", config=CLIENT_CONFIG)),
        state,
        logger=logger,
        schedule=schedule,
        publisher=EventPublisher(config.events_topic_arn, logger=logger) if config.events_topic_arn else None,
    )


def get_poller() -> ChartPoller:
    global _poller
    if _poller is None:
        _poller = build_poller(ProducerConfig.from_env())
    return _poller


def record_metrics(result: PollResult) -> None:
    count = MetricUnit.Count
    if result.skipped:  # another poll was running: this one did nothing
        metrics.add_metric("PollsOverlapped", count, 1)
        return
    metrics.add_metric("PlaylistsPolled", count, len(result.outcomes) - len(result.by_status("deferred")))
    metrics.add_metric("PlaylistsNotDue", count, result.not_due)  # adaptive polling left them for later
    metrics.add_metric("PlaylistsChanged", count, len(result.by_status("changed")))
    metrics.add_metric("PlaylistsUnchanged", count, len(result.by_status("unchanged")))
    metrics.add_metric("PlaylistsFailed", count, len(result.by_status("failed")))
    metrics.add_metric("PlaylistsDeferred", count, len(result.by_status("deferred")))
    metrics.add_metric("RecordsSent", count, result.records_sent)
    metrics.add_metric("ObservationsSent", count, result.observations_sent)
    metrics.add_metric("EntriesSkipped", count, sum(len(o.skipped) for o in result.outcomes))
    metrics.add_metric("SpotifyRequests", count, result.spotify_requests)
    metrics.add_metric("SpotifyRateLimited", count, result.rate_limited)
    metrics.add_metric("FirehoseRetries", count, result.delivery.retried_records)
    metrics.add_metric("PollDurationMs", MetricUnit.Milliseconds, result.duration_ms)
    totals = result.movement_totals()
    for name, key in (("ChartNewEntries", "new_entries"), ("ChartExits", "exits"), ("ChartClimbs", "climbs"),
                      ("ChartFalls", "falls"), ("ChartNewNumberOne", "new_number_one")):
        metrics.add_metric(name, count, totals.get(key, 0))
    # Chart events for subscribers; an alarm watches the failed ones.
    metrics.add_metric("ChartEventsPublished", count, result.events.published)
    metrics.add_metric("ChartEventsFailed", count, result.events.failed)
    # A poll that reached the end, even with failed playlists; the "no successful poll" alarm watches it.
    metrics.add_metric("PollSucceeded", count, 1)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict, context: Any) -> dict:
    poll_id = getattr(context, "aws_request_id", None) or str(uuid.uuid4())
    logger.append_keys(poll_id=poll_id)
    result = get_poller().poll(poll_id, budget.time_left_from(context, SAFETY_MARGIN_SECONDS))
    record_metrics(result)
    summary = result.summary()
    logger.info("poll finished", extra={"summary": summary})
    return summary
