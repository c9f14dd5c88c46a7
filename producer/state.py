"""The producer's durable state: one S3 object per playlist (and, with adaptive polling,
one for every chart's read history: ``schedule.json``, see ``producer.schedule``).

It holds the last snapshot whose records Firehose accepted, that version's ordering
(for movements and chart events) and the tracks ever on the chart (for re-entries). It is written only after delivery, so a poll
that fails part-way re-reads and re-sends that playlist next time (at-least-once;
Snowflake's MERGE dedupes on the natural key).

Only one poll at a time may read and write it: a poll first takes the poll lease,
an object written with S3 conditional writes (``If-None-Match: *`` to create it,
``If-Match: <etag>`` to take it over), so of two polls that start together exactly
one gets it. A lease outlives its holder's time budget; one left by a crashed poll
expires and is taken over.

A warm container keeps the playlist states it read and wrote, and skips their reads (ten
GETs a poll for ten charts) while the lease shows that no other poll ran since its own:
the lease object still has the ETag this container's last poll released it with (then
taking the lease is one conditional write, no read). Any other
poll (another container, a redeploy) changes that ETag, and the states are read again. An
operator who deletes a state object to have a chart sent again also deletes ``poll.lease``.
"""
from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any

import boto3

from firehose import ledger
from firehose.s3_json import ObjectChangedError, get_json, if_unchanged, put_json


@dataclass(frozen=True)
class ChartSlot:
    """What movement detection needs of one recorded position."""

    position: int
    key: str  # track id, or a stable stand-in for entries without one
    name: str | None
    artists: list[str] = field(default_factory=list)
    # Aligned with ``artists``; chart events carry them (state written before had none).
    artist_ids: list[str | None] = field(default_factory=list)


class LeaseHeldError(RuntimeError):
    """Another poll holds the poll lease (or took it a moment before this one)."""


class LeaseLostError(RuntimeError):
    """The poll lease this poll held was taken over: it must not deliver or write state."""


@dataclass(frozen=True)
class PollLease:
    holder: str  # the poll id
    expires_at: float  # epoch seconds
    etag: str  # of the lease object as this poll wrote it: the condition of its next write


@dataclass(frozen=True)
class PlaylistState:
    playlist_id: str
    snapshot_id: str
    poll_id: str
    observed_at: str
    slots: list[ChartSlot]
    # Track ids on any delivered version of this chart, this one included: a track back on
    # the chart after its previous version is a RE_ENTRY, not a NEW_ENTRY (chart events).
    # State written before it existed has none; the previous version's tracks stand in.
    seen: list[str] = field(default_factory=list)


class StateStore:
    """The producer's objects under ``s3://bucket/prefix``: per-playlist state, the
    rate-limit hold, the last poll's heartbeat, and events for live views."""

    def __init__(self, bucket: str, prefix: str, client=None):
        self.bucket = bucket
        self.prefix = prefix
        self.client = client or boto3.client("s3")
        # Playlist states as this store last read or wrote them, trusted only under a lease
        # taken right after its own last poll released it (see the module's docstring).
        self._states: dict[str, PlaylistState | None] = {}
        self._released_etag: str | None = None  # the lease object's ETag after our last release
        self._cache_on = False  # True while this store holds the lease

    def _forget_states(self) -> None:
        self._states.clear()
        self._released_etag = None

    def key(self, playlist_id: str) -> str:
        return f"{self.prefix}playlists/{playlist_id}.json"

    def load(self, playlist_id: str) -> PlaylistState | None:
        if self._cache_on and playlist_id in self._states:
            return self._states[playlist_id]
        raw = self._get_json(self.key(playlist_id))
        state = None
        if raw is not None:
            raw["slots"] = [ChartSlot(**slot) for slot in raw["slots"]]
            state = PlaylistState(**raw)
        if self._cache_on:
            self._states[playlist_id] = state
        return state

    def save(self, state: PlaylistState) -> None:
        self._states.pop(state.playlist_id, None)  # if the write fails, whether it landed is unknown
        self._put_json(self.key(state.playlist_id), asdict(state))
        if self._cache_on:
            self._states[state.playlist_id] = state

    def load_rate_limit(self) -> float:
        """Epoch seconds before which Spotify asked not to be called (0 if none)."""
        hold = self._get_json(self._rate_limit_key)
        return float(hold["resume_at"]) if hold else 0.0

    def save_rate_limit(self, resume_at: float) -> None:
        self._put_json(self._rate_limit_key, {"resume_at": resume_at})

    def load_schedule(self) -> Any:
        """The adaptive polling histories (``producer.schedule``), or None when there are none.
        An object that is not JSON counts as none: the schedule starts afresh (plain interval)."""
        try:
            return self._get_json(self._schedule_key)
        except json.JSONDecodeError:
            return None

    def save_schedule(self, histories: dict[str, Any]) -> None:
        self._put_json(self._schedule_key, histories)

    @property
    def _schedule_key(self) -> str:
        return f"{self.prefix}schedule.json"

    def save_last_poll(self, summary: dict[str, Any]) -> None:
        """A heartbeat written by every poll, changed charts or not (for health views)."""
        self._put_json(self._last_poll_key, summary)

    def load_last_poll(self) -> dict[str, Any] | None:
        return self._get_json(self._last_poll_key)

    def save_sent(self, poll_id: str, body: bytes, sent_at: datetime | None = None) -> str:
        """Keep a poll's accepted records, as sent, in the sent ledger (firehose/ledger.py); its key."""
        key = ledger.sent_key(self.prefix, sent_at or datetime.now(timezone.utc), poll_id)
        self.client.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType="application/x-ndjson",
                               ContentEncoding="gzip")
        return key

    def save_event(self, name: str, day: str, event_id: str, body: dict[str, Any]) -> str:
        """Keep an event (e.g. a poll's chart movements) for live views; returns its key."""
        key = f"{self.prefix}events/{name}/dt={day}/{event_id}.json"
        self._put_json(key, body)
        return key

    def acquire_lease(self, holder: str, seconds: float) -> PollLease:
        """Take the poll lease for ``seconds``, or raise LeaseHeldError."""
        now = time.time()
        if self._released_etag is not None:  # nobody took it since our last poll: one write, no read
            lease = self._write_lease(holder, now + seconds, {"IfMatch": self._released_etag})
            if lease is not None:
                self._cache_on = True
                return lease
        current, etag = self._get_json_and_etag(self._lease_key)
        if current is not None and not current.get("released") and current["expires_at"] > now:
            raise LeaseHeldError(f"poll {current['holder']} holds the poll lease for another "
                                 f"{current['expires_at'] - now:.0f} s")
        lease = self._write_lease(holder, now + seconds, if_unchanged(etag))
        if lease is None:
            raise LeaseHeldError("another poll took the poll lease first")
        # Only the write above on our released ETag proves nobody polled since: here someone may have.
        self._forget_states()
        self._cache_on = True
        return lease

    def renew_lease(self, lease: PollLease, seconds: float) -> PollLease:
        """Extend a held lease; LeaseLostError if another poll took it over meanwhile."""
        renewed = self._write_lease(lease.holder, time.time() + seconds, {"IfMatch": lease.etag})
        if renewed is None:
            raise LeaseLostError(f"poll {lease.holder} lost the poll lease (it ran past its expiry)")
        return renewed

    def release_lease(self, lease: PollLease) -> bool:
        """Let the next poll start at once; False if the lease had already been taken over."""
        self._cache_on = False
        try:
            released = self._write_lease(lease.holder, time.time(), {"IfMatch": lease.etag}, released=True)
        except Exception:
            self._forget_states()
            raise
        if released is None:
            self._forget_states()
            return False
        self._released_etag = released.etag
        return True

    @property
    def _lease_key(self) -> str:
        return f"{self.prefix}poll.lease"

    def _write_lease(self, holder: str, expires_at: float, condition: dict[str, str],
                     released: bool = False) -> PollLease | None:
        """Write the lease object if ``condition`` holds; None if another write won."""
        body = {"holder": holder, "expires_at": expires_at, "released": released}
        try:
            etag = self._put_json(self._lease_key, body, **condition)
        except ObjectChangedError:
            return None
        return PollLease(holder, expires_at, etag)

    @property
    def _rate_limit_key(self) -> str:
        return f"{self.prefix}rate_limit.json"

    @property
    def _last_poll_key(self) -> str:
        return f"{self.prefix}last_poll.json"

    def _get_json(self, key: str) -> Any:
        """The object's JSON, or None when there is no such object."""
        return self._get_json_and_etag(key)[0]

    def _get_json_and_etag(self, key: str) -> tuple[Any, str | None]:
        return get_json(self.client, self.bucket, key)

    def _put_json(self, key: str, value: Any, **condition: str) -> str:
        """Write the object (``IfNoneMatch``/``IfMatch`` make it conditional); returns its ETag."""
        return put_json(self.client, self.bucket, key, value, **condition)
