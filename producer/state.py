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

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    @classmethod
    def from_json(cls, data: bytes) -> "PlaylistState":
        raw = json.loads(data)
        raw["slots"] = [ChartSlot(**slot) for slot in raw["slots"]]
        return cls(**raw)


class StateStore:
    """Per-playlist state objects under ``s3://bucket/prefix``."""

    def __init__(self, bucket: str, prefix: str, client=None):
        self.bucket = bucket
        self.prefix = prefix
        self.client = client or boto3.client("s3")

    def key(self, playlist_id: str) -> str:
        return f"{self.prefix}playlists/{playlist_id}.json"

    def load(self, playlist_id: str) -> PlaylistState | None:
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=self.key(playlist_id))["Body"].read()
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise
        return PlaylistState.from_json(body)

    def save(self, state: PlaylistState) -> None:
        self.client.put_object(
            Bucket=self.bucket, Key=self.key(state.playlist_id), Body=state.to_json(),
            ContentType="application/json",
        )

    def load_rate_limit(self) -> float:
        """Epoch seconds before which Spotify asked not to be called (0 if none)."""
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=self._rate_limit_key)["Body"].read()
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return 0.0
            raise
        return float(json.loads(body)["resume_at"])

    def save_rate_limit(self, resume_at: float) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self._rate_limit_key, ContentType="application/json",
                               Body=json.dumps({"resume_at": resume_at}).encode())

    @property
    def _rate_limit_key(self) -> str:
        return f"{self.prefix}rate_limit.json"

    def save_last_poll(self, summary: dict[str, Any]) -> None:
        """A heartbeat written by every poll, changed charts or not (for health views)."""
        self.client.put_object(Bucket=self.bucket, Key=self._last_poll_key, ContentType="application/json",
                               Body=json.dumps(summary, ensure_ascii=False).encode("utf-8"))

    def load_last_poll(self) -> dict[str, Any] | None:
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=self._last_poll_key)["Body"].read()
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise
        return json.loads(body)

    @property
    def _last_poll_key(self) -> str:
        return f"{self.prefix}last_poll.json"

    def save_event(self, name: str, day: str, event_id: str, body: dict[str, Any]) -> str:
        """Keep an event (e.g. a poll's chart movements) for live views; returns its key."""
        key = f"{self.prefix}events/{name}/dt={day}/{event_id}.json"
        self.client.put_object(
            Bucket=self.bucket, Key=key, ContentType="application/json",
            Body=json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8"),
        )
        return key
