"""The pipeline's health, stage by stage, from what each stage leaves behind:

* last poll: the producer's heartbeat (``last_poll.json``, written by every poll),
  its per-chart state objects (written when a poll delivers a changed chart) and its
  rate-limit hold;
* polling: with adaptive polling, each chart's learned flip time and its reads today
  (``schedule.json``, see ``producer.schedule``);
* last Glue run: the run-metrics object the job writes under
  ``<checkpoint_path>/run_metrics/`` at the end of every successful run;
* files pending load: the Snowpipe queue's depth, and the engine's load history;
* quarantined rows: counted by the Glue job in its run metrics.

Each check reports ``ok``, ``warning`` or ``unknown`` (not configured, or unreadable)
with a one-line summary; none of them raises. An unreadable source's error is logged
under an id, and the summary shows the id, not the error's text (it ends up in a browser).
"""
from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlparse

import boto3

from producer.schedule import histories_from_json, learned_flip, settings_from_json
from spotify_charts.errors import error_reference, log_error
from spotify_charts.events import ProducerOutputs

log = logging.getLogger("spotify_charts.health")

OK, WARNING, UNKNOWN = "ok", "warning", "unknown"
# Charts change once a day; a day and a bit without a changed chart deserves a look.
STALE_POLL = timedelta(hours=26)
# The producer runs every minute (adaptive polling) or every 15 minutes (fixed) by default:
# an hour without a poll deserves a look.
STALE_HEARTBEAT = timedelta(hours=1)


@dataclass
class Check:
    name: str
    status: str
    summary: str
    details: dict[str, Any] = field(default_factory=dict)


def _unknown(name: str, summary: str) -> Check:
    return Check(name, UNKNOWN, summary)


def _guarded(name: str, check: Callable[[], Check]) -> Check:
    try:
        return check()
    except Exception:  # noqa: BLE001 - a broken source shows as unknown, the others still show
        return _unknown(name, f"could not read its source ({error_reference(log_error(log, 'health check %s', name))})")


# -- producer -------------------------------------------------------------------------

def last_poll(outputs: ProducerOutputs | None, labels: dict[str, str], now: datetime | None = None) -> Check:
    name = "last_poll"
    if outputs is None:
        return _unknown(name, "STATE_BUCKET not set")
    now = now or datetime.now(timezone.utc)
    charts = outputs.charted_playlists()
    if not charts:
        return _unknown(name, f"no chart state in s3://{outputs.bucket}/{outputs.prefix} yet (no poll delivered)")
    playlist_id, written = max(charts, key=lambda c: c[1])
    state = outputs.chart_state(playlist_id)
    age = now - written
    details = {
        "written_at": written.isoformat(),
        "observed_at": state.observed_at if state else None,
        "poll_id": state.poll_id if state else None,
        "chart": labels.get(playlist_id, playlist_id),
        "charts_with_state": len(charts),
        "age_seconds": round(age.total_seconds()),
    }
    resume_at = outputs.rate_limited_until()
    if resume_at > now.timestamp():
        details["rate_limited_until"] = datetime.fromtimestamp(resume_at, timezone.utc).isoformat()
        return Check(name, WARNING, f"rate-limited by Spotify until {when(details['rate_limited_until'])}", details)
    heartbeat = outputs.last_poll()
    if heartbeat:
        poll_age = now - datetime.fromisoformat(heartbeat["finished_at"])
        failed = len(heartbeat.get("failed") or {}) + len(heartbeat.get("deferred") or [])
        details.update(last_poll_at=heartbeat["finished_at"], last_poll_id=heartbeat["poll_id"],
                       last_poll_failed=failed)
        status = WARNING if failed or poll_age > STALE_HEARTBEAT or age > STALE_POLL else OK
        return Check(name, status, f"last poll {_ago(poll_age)}: {len(heartbeat.get('changed') or [])} changed, "
                                   f"{len(heartbeat.get('unchanged') or [])} unchanged, {failed} failed or deferred; "
                                   f"last changed chart {_ago(age)} ({details['chart']})", details)
    status = WARNING if age > STALE_POLL else OK
    return Check(name, status, f"last changed chart delivered {_ago(age)} ({details['chart']}, "
                               f"{len(charts)} charts tracked)", details)


def polling(outputs: ProducerOutputs | None, labels: dict[str, str], now: datetime | None = None) -> Check:
    name = "polling"
    if outputs is None:
        return _unknown(name, "STATE_BUCKET not set")
    return polling_check(outputs.schedule(), labels, now or datetime.now(timezone.utc))


def polling_check(raw: Any, labels: dict[str, str], now: datetime) -> Check:
    """Each chart's learned flip time and reads today, from adaptive polling's state."""
    name = "polling"
    if raw is None:
        return _unknown(name, "fixed schedule: every poll reads every chart (no adaptive polling state)")
    settings, histories = settings_from_json(raw), histories_from_json(raw)
    today = now.astimezone(timezone.utc).date().isoformat()
    charts = []
    for playlist_id, history in sorted(histories.items(), key=lambda item: labels.get(item[0], item[0])):
        learned = learned_flip(history, now.timestamp(), settings)
        charts.append({
            "chart": labels.get(playlist_id, playlist_id),
            "flip_time": _clock(learned.seconds_of_day) if learned else None,
            "window_minutes": round(learned.margin / 60, 1) if learned else None,
            "learned_from_flips": learned.flips if learned else 0,
            "reads_today": history.reads_today if history.reads_day == today else 0,
            "last_read_day": history.reads_day or None,
            "reads_that_day": history.reads_today,
            "last_read_at": _iso(history.last_read),
        })
    parts = [f"{c['chart']} flips ~{c['flip_time']} UTC" if c["flip_time"] else f"{c['chart']} learning"
             for c in charts]
    reads = sum(c["reads_today"] for c in charts)
    summary = f"{reads} reads today over {len(charts)} charts: " + ", ".join(parts) if charts else "no chart read yet"
    return Check(name, OK, summary, {"charts": charts, "settings": asdict(settings)})


def _clock(seconds_of_day: float) -> str:
    minutes = round(seconds_of_day / 60) % (24 * 60)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _iso(epoch: float | None) -> str | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, timezone.utc).isoformat()


def when(value: str | datetime | None) -> str:
    """A timestamp as people read it: 2024-03-15 06:00:00 UTC."""
    if value is None:
        return "?"
    try:
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return str(value)
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc)
    return f"{moment:%Y-%m-%d %H:%M:%S} UTC"


def _ago(age: timedelta) -> str:
    seconds = int(age.total_seconds())
    if seconds < 120:
        return f"{seconds} s ago"
    if seconds < 7200:
        return f"{seconds // 60} min ago"
    return f"{seconds // 3600} h ago"


# -- Glue -----------------------------------------------------------------------------

def read_run_metrics(checkpoint: str, s3=None) -> list[dict[str, Any]]:
    """Every run-metrics object of the Glue job, oldest first (names sort by start time)."""
    url = urlparse(checkpoint)
    if url.scheme in ("s3", "s3a"):
        s3 = s3 or boto3.client("s3")
        prefix = url.path.lstrip("/").rstrip("/") + "/run_metrics/"
        keys = sorted(o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=url.netloc, Prefix=prefix)
                      for o in page.get("Contents", []) if o["Key"].endswith(".json"))
        return [json.loads(s3.get_object(Bucket=url.netloc, Key=k)["Body"].read()) for k in keys]
    folder = Path(url.path if url.scheme == "file" else checkpoint) / "run_metrics"
    return [json.loads(p.read_text()) for p in sorted(folder.glob("run-*.json"))]


def last_glue_run(runs: list[dict[str, Any]] | None, checkpoint: str | None) -> Check:
    name = "last_glue_run"
    if runs is None:
        return _unknown(name, "GLUE_CHECKPOINT_PATH not set")
    if not runs:
        return _unknown(name, f"no run metrics under {checkpoint}/run_metrics/ yet (the job has not finished a run)")
    last = runs[-1]
    keys = ("started_at", "finished_at", "seconds", "batches", "files_read", "records_read", "curated",
            "observations", "quarantined", "rows_per_second")
    details = {k: last.get(k) for k in keys}
    details["runs"] = len(runs)
    return Check(name, OK, f"finished {when(last.get('finished_at'))}: {last.get('files_read', 0)} files, "
                           f"{last.get('records_read', 0)} records read, {last.get('curated', 0)} chart entries and "
                           f"{last.get('observations', 0)} observations curated, {last.get('quarantined', 0)} "
                           "quarantined", details)


def quarantine(runs: list[dict[str, Any]] | None) -> Check:
    name = "quarantine"
    if runs is None:
        return _unknown(name, "GLUE_CHECKPOINT_PATH not set")
    total = sum(int(r.get("quarantined") or 0) for r in runs)
    last = int(runs[-1].get("quarantined") or 0) if runs else 0
    details = {"quarantined_total": total, "quarantined_last_run": last, "runs": len(runs)}
    status = WARNING if last else OK
    return Check(name, status, f"{total} rows quarantined over {len(runs)} runs ({last} in the last run)", details)


# -- loading --------------------------------------------------------------------------

def pending_load(queue_url: str | None, db_history: Callable[[], dict[str, Any] | None] | None,
                 sqs=None) -> Check:
    name = "pending_load"
    details: dict[str, Any] = {}
    parts = []
    if queue_url:
        sqs = sqs or boto3.client("sqs")
        attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=[
            "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
        details["queued_notifications"] = int(attributes["ApproximateNumberOfMessages"])
        details["in_flight_notifications"] = int(attributes["ApproximateNumberOfMessagesNotVisible"])
        parts.append(f"{details['queued_notifications']} file notifications waiting, "
                     f"{details['in_flight_notifications']} being loaded")
    history = db_history() if db_history else None
    if history:
        details.update({k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in history.items()})
        parts.append(f"{history.get('files') or 0} files loaded"
                     + (f", last at {when(history['last_load_time'])}" if history.get("last_load_time") else ""))
    if not parts:
        return _unknown(name, "SNOWPIPE_QUEUE_URL and Snowflake not configured")
    waiting = details.get("queued_notifications", 0) + int(details.get("pending_files") or 0)
    return Check(name, WARNING if waiting else OK, "; ".join(parts), details)


def snowflake_load_history(db, local: bool) -> dict[str, Any]:
    """Loaded files: the local engine's LOAD_HISTORY, or Snowflake's pipe status (pending files)."""
    from spotify_charts import views

    if local:
        return views.load_history(db)
    from snowflake.charts.pipes import load_definitions

    pending = 0
    cursor = db.cursor()
    for pipe in load_definitions().pipes:
        cursor.execute(f"SELECT SYSTEM$PIPE_STATUS('{pipe.name}')")
        pending += int(json.loads(cursor.fetchone()[0]).get("pendingFileCount", 0))
    return {"pending_files": pending}


def pipeline_health(outputs: ProducerOutputs | None, labels: dict[str, str], checkpoint: str | None,
                    queue_url: str | None, db_history: Callable[[], dict[str, Any] | None] | None) -> list[Check]:
    runs: list[dict[str, Any]] | None = None
    runs_error = None
    if checkpoint:
        try:
            runs = read_run_metrics(checkpoint)
        except Exception:  # noqa: BLE001 - the other checks still show
            error_id = log_error(log, "reading the Glue run metrics under %s", checkpoint)
            runs_error = f"could not read the Glue run metrics ({error_reference(error_id)})"
    return [
        _guarded("last_poll", lambda: last_poll(outputs, labels)),
        _guarded("polling", lambda: polling(outputs, labels)),
        _unknown("last_glue_run", runs_error) if runs_error else last_glue_run(runs, checkpoint),
        _guarded("pending_load", lambda: pending_load(queue_url, db_history)),
        _unknown("quarantine", runs_error) if runs_error else quarantine(runs),
    ]


def health_dict(checks: list[Check]) -> dict[str, Any]:
    return {c.name: asdict(c) for c in checks}
