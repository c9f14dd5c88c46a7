"""The producer's near-real-time outputs in S3, read back for people.

* movement events: ``<prefix>events/chart_movements/dt=YYYY-MM-DD/<poll_id>.json``, one
  per poll that moved a chart (written by ``producer.state.StateStore.save_event``);
* chart state: ``<prefix>playlists/<playlist_id>.json``, each chart's latest delivered
  version (``producer.state.PlaylistState``).

Both land within seconds of a poll, long before any batch job runs.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable

import boto3

from producer.state import PlaylistState, StateStore

EVENT_NAME = "chart_movements"

# Movement kinds as the event names them, in the order people read them.
KINDS: tuple[tuple[str, str], ...] = (
    ("new_number_one", "new number one"),
    ("new_entries", "new entry"),
    ("climbs", "climb"),
    ("falls", "fall"),
    ("exits", "exit"),
)


@dataclass(frozen=True)
class EventObject:
    key: str
    last_modified: datetime


def movements_of(event: dict[str, Any]) -> list[dict[str, Any]]:
    """One flat row per movement of an event, in reading order (number one first)."""
    rows = []
    for chart in event.get("charts", []):
        for kind, _ in KINDS:
            moves = chart.get(kind)
            for move in ([moves] if isinstance(moves, dict) else moves or []):
                rows.append({
                    "detected_at": event.get("detected_at"),
                    "poll_id": event.get("poll_id"),
                    "chart_label": chart.get("chart_label"),
                    "playlist_id": chart.get("playlist_id"),
                    "snapshot_id": chart.get("snapshot_id"),
                    "kind": kind,
                    **move,
                })
    return rows


class ProducerOutputs:
    """Movement events and chart state under ``s3://bucket/prefix``."""

    def __init__(self, bucket: str, prefix: str, s3=None):
        self.bucket = bucket
        self.prefix = prefix
        self.s3 = s3 or boto3.client("s3")
        self.state = StateStore(bucket, prefix, self.s3)

    @property
    def events_prefix(self) -> str:
        return f"{self.prefix}events/{EVENT_NAME}/"

    # -- events ------------------------------------------------------------------

    def event_days(self) -> list[str]:
        """The ``dt=`` partitions holding events, oldest first."""
        days = []
        for page in self.s3.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=self.events_prefix, Delimiter="/"):
            for common in page.get("CommonPrefixes", []):
                days.append(common["Prefix"][len(self.events_prefix):].strip("/").removeprefix("dt="))
        return sorted(days)

    def event_objects(self, days: Iterable[str]) -> list[EventObject]:
        """Event objects of the given days, oldest first (by when they were written)."""
        objects = []
        for day in days:
            for page in self.s3.get_paginator("list_objects_v2").paginate(
                    Bucket=self.bucket, Prefix=f"{self.events_prefix}dt={day}/"):
                objects += [EventObject(o["Key"], o["LastModified"]) for o in page.get("Contents", [])
                            if o["Key"].endswith(".json")]
        return sorted(objects, key=lambda o: (o.last_modified, o.key))

    def recent_event_objects(self, limit: int) -> list[EventObject]:
        """The ``limit`` newest event objects, oldest first; reads only the partitions it needs."""
        found: list[EventObject] = []
        for day in reversed(self.event_days()):
            found = self.event_objects([day]) + found
            if len(found) >= limit:
                break
        return found[-limit:] if limit else []

    def current_event_objects(self, now: datetime | None = None) -> list[EventObject]:
        """Event objects of today and yesterday (UTC): where new events land."""
        now = now or datetime.now(timezone.utc)
        return self.event_objects([(now - timedelta(days=1)).date().isoformat(), now.date().isoformat()])

    def read_event(self, key: str) -> dict[str, Any]:
        return json.loads(self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read())

    def latest_movements(self, limit: int = 50, chart: str | None = None, events: int = 20) -> list[dict[str, Any]]:
        """Movements of the newest ``events`` events, newest first, at most ``limit``."""
        rows = []
        for obj in reversed(self.recent_event_objects(events)):
            rows += [m for m in movements_of(self.read_event(obj.key)) if matches(m, chart)]
            if len(rows) >= limit:
                break
        return rows[:limit]

    # -- chart state ---------------------------------------------------------------

    def charted_playlists(self) -> list[tuple[str, datetime]]:
        """(playlist id, when its state was last written) of every chart with state."""
        prefix = f"{self.prefix}playlists/"
        found = []
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            for o in page.get("Contents", []):
                if o["Key"].endswith(".json"):
                    found.append((o["Key"][len(prefix):-len(".json")], o["LastModified"]))
        return sorted(found)

    def chart_state(self, playlist_id: str) -> PlaylistState | None:
        return self.state.load(playlist_id)

    def rate_limited_until(self) -> float:
        return self.state.load_rate_limit()

    def last_poll(self) -> dict[str, Any] | None:
        """The producer's heartbeat: the summary of its latest poll, changed charts or not."""
        return self.state.load_last_poll()

    def schedule(self) -> Any:
        """Adaptive polling's state (``producer.schedule``), None with a fixed schedule."""
        return self.state.load_schedule()


def matches(movement: dict[str, Any], chart: str | None) -> bool:
    """``chart`` is a label or a playlist id; None matches every chart."""
    return chart is None or chart in (movement.get("chart_label"), movement.get("playlist_id"))
