"""The producer's durable state: one S3 object per playlist.

It holds the last snapshot whose records Firehose accepted, and that version's
ordering (for movement detection). It is written only after delivery, so a poll
that fails part-way re-reads and re-sends that playlist next time (at-least-once;
the Glue job dedupes on the natural key).
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

import boto3
from botocore.exceptions import ClientError


@dataclass(frozen=True)
class ChartSlot:
    """What movement detection needs of one recorded position."""

    position: int
    key: str  # track id, or a stable stand-in for entries without one
    name: str | None
    artists: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class PlaylistState:
    playlist_id: str
    snapshot_id: str
    poll_id: str
    observed_at: str
    slots: list[ChartSlot]


class StateStore:
    """The producer's objects under ``s3://bucket/prefix``: per-playlist state, the
    rate-limit hold, the last poll's heartbeat, and events for live views."""

    def __init__(self, bucket: str, prefix: str, client=None):
        self.bucket = bucket
        self.prefix = prefix
        self.client = client or boto3.client("s3")

    def key(self, playlist_id: str) -> str:
        return f"{self.prefix}playlists/{playlist_id}.json"

    def load(self, playlist_id: str) -> PlaylistState | None:
        raw = self._get_json(self.key(playlist_id))
        if raw is None:
            return None
        raw["slots"] = [ChartSlot(**slot) for slot in raw["slots"]]
        return PlaylistState(**raw)

    def save(self, state: PlaylistState) -> None:
        self._put_json(self.key(state.playlist_id), asdict(state))

    def load_rate_limit(self) -> float:
        """Epoch seconds before which Spotify asked not to be called (0 if none)."""
        hold = self._get_json(self._rate_limit_key)
        return float(hold["resume_at"]) if hold else 0.0

    def save_rate_limit(self, resume_at: float) -> None:
        self._put_json(self._rate_limit_key, {"resume_at": resume_at})

    def save_last_poll(self, summary: dict[str, Any]) -> None:
        """A heartbeat written by every poll, changed charts or not (for health views)."""
        self._put_json(self._last_poll_key, summary)

    def load_last_poll(self) -> dict[str, Any] | None:
        return self._get_json(self._last_poll_key)

    def save_event(self, name: str, day: str, event_id: str, body: dict[str, Any]) -> str:
        """Keep an event (e.g. a poll's chart movements) for live views; returns its key."""
        key = f"{self.prefix}events/{name}/dt={day}/{event_id}.json"
        self._put_json(key, body)
        return key

    @property
    def _rate_limit_key(self) -> str:
        return f"{self.prefix}rate_limit.json"

    @property
    def _last_poll_key(self) -> str:
        return f"{self.prefix}last_poll.json"

    def _get_json(self, key: str) -> Any:
        """The object's JSON, or None when there is no such object."""
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise
        return json.loads(body)

    def _put_json(self, key: str, value: Any) -> None:
        self.client.put_object(
            Bucket=self.bucket, Key=key, ContentType="application/json",
            Body=json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8"),
        )
