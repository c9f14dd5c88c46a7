"""One poll of every configured chart: read, record, deliver, remember.

0. With adaptive polling (``producer.schedule``), keep only the charts due now; the
   schedule learns from the reads once they are delivered (step 3).
1. Read each playlist concurrently (bounded): its snapshot id first, its items
   only if the snapshot changed since the last delivered poll.
2. Deliver to Firehose, in as few ``PutRecordBatch`` calls as the limits allow, the
   chart entries of every changed playlist and one observation record per playlist
   read, changed or unchanged: the snapshot in force, when it was seen. A day's chart is
   built from the observations, so an unchanged day costs one small record, not 50.
3. Keep the records Firehose accepted in the sent ledger (one object per poll,
   ``firehose/ledger.py``), which the reconciler compares with what was curated.
4. Only for playlists whose records were all accepted and recorded: advance the state
   and report the chart's movements since the previous delivered version.

A rate limit that does not fit the time left stops the poll from starting more
playlists; those are reported as deferred and read next time. So are playlists
that reading did not reach, or finish, before its deadline: the poll's time left less
``DELIVERY_RESERVE_SECONDS``, kept for delivery (whose deadline is the poll's time left)
and state writes. Neither starts a request that could end after its deadline.

One playlist's trouble is its own: a malformed response, a playlist over the caps, or
any unexpected error while reading it fails that playlist (``failed``, with the reason);
a malformed entry is skipped and counted, as null entries are.

Polls never overlap: a poll first takes the poll lease (``StateStore.acquire_lease``)
and renews it just before delivering, so a poll that starts while another runs
stops at once (reported as skipped), and one that lost its lease sends nothing.
"""
from __future__ import annotations

import threading
import time
import weakref
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable

from firehose import ledger
from firehose.contract import ORIGIN_PLAYLIST, RecordContractError, encode
from firehose.writer import DeliveryReport, FirehoseDeliveryError, FirehoseWriter
from producer.chart_events import ChartEvent, Entry, artist_keys, chart_events, edition
from producer.config import Playlist, ProducerConfig
from producer.event_publisher import EditionRef, EventMessage, EventPublisher, PublishReport
from producer.movements import ChartMovements, compute_movements
from producer.records import MalformedEntryError, SkippedEntry, entry_to_record, observation_record, utc_from_epoch
from producer.spotify import (
    ChartReader,
    OutOfTimeError,
    PlaylistUnavailableError,
    PlaylistVersion,
    RateLimitedError,
    SpotifyError,
)
from producer.schedule import ReadSchedule
from producer.state import ChartSlot, LeaseHeldError, PlaylistState, StateStore

CHANGED, UNCHANGED, FAILED, DEFERRED = "changed", "unchanged", "failed", "deferred"
# A poll's lease outlives its time budget by this much. A Lambda is stopped by its own
# timeout before then, so an expired lease has no live holder left.
LEASE_GRACE_SECONDS = 60.0


@dataclass
class PlaylistOutcome:
    playlist: Playlist
    status: str
    snapshot_id: str | None = None
    previous: PlaylistState | None = None
    new_state: PlaylistState | None = None
    records: list[bytes] = field(default_factory=list)
    observation: bytes | None = None  # for a chart read successfully (changed or unchanged)
    observation_accepted: bool = False  # Firehose took it
    observed_at: str | None = None  # contract timestamp of the read
    skipped: list[SkippedEntry] = field(default_factory=list)
    movements: ChartMovements | None = None
    events: list[ChartEvent] = field(default_factory=list)  # chart events, for subscribers
    error: str | None = None


@dataclass
class PollResult:
    poll_id: str
    outcomes: list[PlaylistOutcome]
    delivery: DeliveryReport  # chart entries and observations together
    spotify_requests: int
    rate_limited: int
    duration_ms: float
    events_key: str | None = None
    skipped: str | None = None  # why this poll did nothing: another poll held the lease
    not_due: int = 0  # charts adaptive polling did not read this time
    events: PublishReport = field(default_factory=PublishReport)  # chart events published, failed

    @classmethod
    def skipped_because(cls, poll_id: str, reason: str, duration_ms: float) -> "PollResult":
        return cls(poll_id, [], DeliveryReport(), 0, 0, duration_ms, skipped=reason)

    def by_status(self, status: str) -> list[PlaylistOutcome]:
        return [o for o in self.outcomes if o.status == status]

    @property
    def observations_sent(self) -> int:
        """Observation records Firehose accepted."""
        return sum(o.observation_accepted for o in self.outcomes)

    @property
    def records_sent(self) -> int:
        """Chart-entry records Firehose accepted."""
        return self.delivery.records - self.observations_sent

    def movement_totals(self) -> Counter:
        totals: Counter = Counter()
        for outcome in self.outcomes:
            if outcome.movements:
                totals.update(outcome.movements.counts())
        return totals

    def summary(self) -> dict[str, Any]:
        """What the Lambda returns: small, JSON-serialisable, no secrets."""
        skipped = Counter(s.reason for o in self.outcomes for s in o.skipped)
        return {
            "poll_id": self.poll_id,
            "playlists": len(self.outcomes),
            "changed": [o.playlist.id for o in self.by_status(CHANGED)],
            "unchanged": [o.playlist.id for o in self.by_status(UNCHANGED)],
            "failed": {o.playlist.id: o.error for o in self.by_status(FAILED)},
            "deferred": [o.playlist.id for o in self.by_status(DEFERRED)],
            "not_due": self.not_due,
            "records_sent": self.records_sent,
            "observations_sent": self.observations_sent,
            "entries_skipped": dict(skipped),
            "firehose_calls": self.delivery.calls,
            "firehose_retried_records": self.delivery.retried_records,
            "spotify_requests": self.spotify_requests,
            "spotify_rate_limited": self.rate_limited,
            "movements": dict(self.movement_totals()),
            "events": {"published": self.events.published, "failed": self.events.failed},
            "duration_ms": round(self.duration_ms),
            **({"skipped": self.skipped} if self.skipped else {}),
        }


def slot_key(record: dict[str, Any]) -> str:
    """Identity of a charted item for movement detection (local files have no id)."""
    if record["track_id"]:
        return record["track_id"]
    return f"{record['entry_type']}:{record['track_name']}|{'|'.join(record['artist_names'])}"


def is_track_key(key: str) -> bool:
    """A slot key that is a track id (Spotify ids have no ':'; slot_key's stand-in does)."""
    return ":" not in key


def slot_edition(slots: list[ChartSlot]) -> dict[str, Entry]:
    """A chart version as chart events compare it: its tracks, each at its best position
    (entries without a track id, local files, are not tracked, as in the views)."""
    return edition(
        Entry(slot.key, slot.position, slot.name, tuple(slot.artists),
              artist_keys(slot.artist_ids or [None] * len(slot.artists), slot.artists))
        for slot in slots if is_track_key(slot.key))


def seen_tracks(state: PlaylistState) -> set[str]:
    """The tracks on any delivered version up to ``state``'s (its own slots stand in for
    state written before ``seen`` existed)."""
    return set(state.seen) | {slot.key for slot in state.slots if is_track_key(slot.key)}


class ChartPoller:
    def __init__(self, config: ProducerConfig, reader: ChartReader, writer: FirehoseWriter,
                 state: StateStore, logger=None, schedule: ReadSchedule | None = None,
                 publisher: EventPublisher | None = None):
        self.config = config
        self.reader = reader
        self.writer = writer
        self.state = state
        self.logger = logger
        self.schedule = schedule  # adaptive polling; None: every poll reads every chart
        self.publisher = publisher  # chart events to subscribers; None: none published
        # Threads for reads and state writes, made once and reused by every poll of this container.
        self.pool = ThreadPoolExecutor(max_workers=config.max_concurrency, thread_name_prefix="poll")
        weakref.finalize(self, self.pool.shutdown, wait=False)

    def poll(self, poll_id: str, time_left: Callable[[], float]) -> PollResult:
        """One poll under the poll lease; a skipped result if another poll holds it."""
        started = time.monotonic()
        try:
            lease = self.state.acquire_lease(poll_id, time_left() + LEASE_GRACE_SECONDS)
        except LeaseHeldError as error:
            self._log("warning", "poll skipped: another poll is running", reason=str(error))
            return PollResult.skipped_because(poll_id, str(error), (time.monotonic() - started) * 1000)
        leases = [lease]  # renewing gives a new ETag: release the latest

        def renew_lease() -> None:
            leases.append(self.state.renew_lease(leases[-1], time_left() + LEASE_GRACE_SECONDS))

        try:
            return self._poll(poll_id, time_left, renew_lease, started)
        finally:
            if not self.state.release_lease(leases[-1]):
                self._log("error", "another poll took over the poll lease before this one ended")

    def _poll(self, poll_id: str, time_left: Callable[[], float], renew_lease: Callable[[], None],
              started: float) -> PollResult:
        requests_before, limited_before = self.reader.requests, self.reader.rate_limited
        stop = threading.Event()
        playlists = self._due_playlists()
        # A Retry-After seen by an earlier invocation (maybe another container) still holds.
        self.reader.gate.hold_until(self.state.load_rate_limit())
        try:
            if playlists and self.reader.gate.delay() <= 0:
                self.reader.authenticate()
        except SpotifyError as error:
            self._log("error", str(error))
            outcomes = [PlaylistOutcome(p, FAILED, error=str(error)) for p in playlists]
        else:
            reserve = self.config.delivery_reserve_seconds

            def read_time_left() -> float:
                return time_left() - reserve

            outcomes = list(self.pool.map(lambda p: self._read(p, poll_id, read_time_left, stop), playlists))
        renew_lease()  # raises LeaseLostError, before anything is sent, if another poll took over
        delivery = self._deliver(outcomes, time_left)
        self._record_sent(poll_id, outcomes)
        if stop.is_set():
            self.state.save_rate_limit(self.reader.gate.resume_at)
        for outcome in self._save_states([o for o in outcomes if o.status == CHANGED]):
            if outcome.previous is not None:
                outcome.movements = compute_movements(
                    outcome.previous.slots, outcome.new_state.slots, self.config.movement_threshold
                )
                outcome.events = chart_events(slot_edition(outcome.previous.slots),
                                              slot_edition(outcome.new_state.slots), seen_tracks(outcome.previous),
                                              self.config.climb_event_places)
        events = self._publish_events(outcomes, time_left)
        if self.schedule is not None:
            self.schedule.record(outcomes, self.config.playlists)
        result = PollResult(
            poll_id=poll_id,
            outcomes=outcomes,
            delivery=delivery,
            spotify_requests=self.reader.requests - requests_before,
            rate_limited=self.reader.rate_limited - limited_before,
            duration_ms=(time.monotonic() - started) * 1000,
            not_due=len(self.config.playlists) - len(playlists),
            events=events,
        )
        result.events_key = self._save_movements(result)
        self.state.save_last_poll({**result.summary(), "finished_at": datetime.now(timezone.utc).isoformat()})
        return result

    def _due_playlists(self) -> list[Playlist]:
        """The charts this poll reads: all of them, or those adaptive polling says are due."""
        if self.schedule is None:
            return list(self.config.playlists)
        return self.schedule.due(self.config.playlists)

    def _read(self, playlist: Playlist, poll_id: str, time_left: Callable[[], float],
              stop: threading.Event) -> PlaylistOutcome:
        """Read one playlist; whatever goes wrong is this playlist's outcome, never the poll's."""
        if stop.is_set():
            return PlaylistOutcome(playlist, DEFERRED, error="poll stopped by a rate limit")
        if time_left() <= 0:  # nothing read, not even its state (the reader checks each request)
            return PlaylistOutcome(playlist, DEFERRED, error="no time left in this poll to read it")
        try:
            return self._read_playlist(playlist, poll_id, time_left)
        except RateLimitedError as error:
            stop.set()
            return PlaylistOutcome(playlist, DEFERRED, error=str(error))
        except OutOfTimeError as error:
            self._log("warning", str(error), playlist_id=playlist.id)
            return PlaylistOutcome(playlist, DEFERRED, error=str(error))
        except PlaylistUnavailableError as error:
            self._log("warning", str(error), playlist_id=playlist.id, status=error.status)
            return PlaylistOutcome(playlist, FAILED, error=str(error))
        except SpotifyError as error:
            self._log("error", str(error), playlist_id=playlist.id)
            return PlaylistOutcome(playlist, FAILED, error=str(error))
        except Exception as error:  # noqa: BLE001 - one playlist's surprise must not stop the others
            reason = f"unexpected {type(error).__name__} reading playlist {playlist.id}: {error}"
            self._log("exception", reason, playlist_id=playlist.id)
            return PlaylistOutcome(playlist, FAILED, error=reason)

    def _read_playlist(self, playlist: Playlist, poll_id: str, time_left: Callable[[], float]) -> PlaylistOutcome:
        """Its snapshot first; its items only if the snapshot changed since the last delivery."""
        previous = self.state.load(playlist.id)
        version = self.reader.version(playlist.id, time_left)
        if previous is not None and previous.snapshot_id == version.snapshot_id:
            outcome = PlaylistOutcome(playlist, UNCHANGED, version.snapshot_id, previous)
            self._observe(outcome, poll_id, version, len(previous.slots))
            return outcome
        items = self.reader.items(version, time_left)
        return self._build(playlist, poll_id, items, previous)

    def _build(self, playlist: Playlist, poll_id: str, items, previous: PlaylistState | None) -> PlaylistOutcome:
        version = items.version
        observed_at: datetime = utc_from_epoch(version.observed_at)
        outcome = PlaylistOutcome(playlist, CHANGED, version.snapshot_id, previous)
        slots = []
        for position, entry in enumerate(items.entries, start=1):
            try:
                record = entry_to_record(
                    entry, position, poll_id=poll_id, observed_at=observed_at, playlist_id=playlist.id,
                    chart_label=playlist.label, playlist_name=version.name, snapshot_id=version.snapshot_id,
                )
                if isinstance(record, SkippedEntry):
                    outcome.skipped.append(record)
                    continue
                outcome.records.append(encode(record))
            except MalformedEntryError as error:
                outcome.skipped.append(SkippedEntry(position, f"malformed_entry: {error}"))
                continue
            except (RecordContractError, UnicodeError) as error:  # UnicodeError: a lone surrogate in a name
                outcome.skipped.append(SkippedEntry(position, f"{type(error).__name__}: {error}"))
                continue
            slots.append(ChartSlot(position, slot_key(record), record["track_name"], record["artist_names"],
                                   record["artist_ids"]))
        for skipped in outcome.skipped:
            self._log("warning", "entry not recorded", playlist_id=playlist.id, position=skipped.position,
                      reason=skipped.reason, snapshot_id=version.snapshot_id)
        seen = seen_tracks(previous) if previous else set()
        outcome.new_state = PlaylistState(
            playlist.id, version.snapshot_id, poll_id, observed_at.isoformat(), slots,
            sorted(seen | {slot.key for slot in slots if is_track_key(slot.key)}),
        )
        self._observe(outcome, poll_id, version, len(outcome.records))
        return outcome

    @staticmethod
    def _observe(outcome: PlaylistOutcome, poll_id: str, version: PlaylistVersion, entry_count: int) -> None:
        observed_at = utc_from_epoch(version.observed_at)
        outcome.observed_at = observed_at.isoformat()
        outcome.observation = encode(observation_record(
            poll_id=poll_id, observed_at=observed_at, playlist_id=outcome.playlist.id,
            chart_label=outcome.playlist.label, playlist_name=version.name, snapshot_id=version.snapshot_id,
            entry_count=entry_count))

    def _deliver(self, outcomes: list[PlaylistOutcome], time_left: Callable[[], float]) -> DeliveryReport:
        """Every read playlist's records in as few calls as the limits allow: a changed one's
        entries, then its observation; an unchanged one's observation. A playlist with a
        record Firehose did not accept (refused, or not sent: a failed call, the deadline)
        fails: its state stays put, so the next poll reads and sends it again (at least
        once). An observation whose snapshot's entries are incomplete in the meantime is
        not used by the views (they check its entry_count)."""
        records, owners = [], []
        for outcome in outcomes:
            if outcome.status in (CHANGED, UNCHANGED) and outcome.observation is not None:
                mine = (outcome.records if outcome.status == CHANGED else []) + [outcome.observation]
                records.extend(mine)
                owners.extend([outcome] * len(mine))
        if not records:
            return DeliveryReport()
        refused_indices: set[int] = set()
        try:
            report = self.writer.put(records, time_left)
        except FirehoseDeliveryError as error:
            refused_indices = set(error.failed_indices)
            refused = Counter(id(owners[i]) for i in refused_indices)
            for outcome in outcomes:
                if id(outcome) in refused:
                    outcome.status = FAILED
                    # The reasons tell refused records from ones never sent (a failed call, the deadline).
                    outcome.error = f"Firehose refused {refused[id(outcome)]} records: {dict(error.reasons)}"
            self._log("error", str(error), failed_playlists=sum(1 for o in outcomes if id(o) in refused))
            report = error.report
        for index, outcome in enumerate(owners):
            if records[index] is outcome.observation and index not in refused_indices:
                outcome.observation_accepted = True
        return report

    def _record_sent(self, poll_id: str, outcomes: list[PlaylistOutcome]) -> None:
        """Keep what Firehose accepted (a changed chart's entries, every read's observation)
        in the sent ledger. If that fails, the charts it would have recorded fail: their state
        stays put and the next poll sends them again (the MERGE drops the repeats), so a
        record is never accepted without a trace the reconciler can follow."""
        recorded = [o for o in outcomes if o.status in (CHANGED, UNCHANGED) and o.observation_accepted]
        records = [r for o in recorded for r in (o.records if o.status == CHANGED else []) + [o.observation]]
        if not records:
            return
        try:
            self.state.save_sent(poll_id, ledger.encode_sent(records))
        except Exception as error:  # noqa: BLE001 - the charts fail, the poll goes on
            for outcome in recorded:
                outcome.status = FAILED
                outcome.error = f"delivered, but not recorded as sent ({type(error).__name__}: {error})"
            self._log("error", "sent ledger not written", error=str(error), playlists=len(recorded))

    def _save_states(self, delivered: list[PlaylistOutcome]) -> list[PlaylistOutcome]:
        """Write the new state of each playlist delivered whole; those whose write failed
        fail (the next poll sends them again). Returns the playlists whose state moved."""

        def save(outcome: PlaylistOutcome) -> bool:
            try:
                self.state.save(outcome.new_state)
            except Exception as error:  # noqa: BLE001 - one failed write must not keep the others'
                outcome.status = FAILED
                outcome.error = f"delivered, but its state was not saved ({type(error).__name__}: {error})"
                self._log("error", outcome.error, playlist_id=outcome.playlist.id)
                return False
            return True

        saved = list(self.pool.map(save, delivered))
        return [outcome for outcome, ok in zip(delivered, saved) if ok]

    def _publish_events(self, outcomes: list[PlaylistOutcome], time_left: Callable[[], float]) -> PublishReport:
        """Every chart's events to the subscribers' topic, after its state moved (a version's
        events go out once; what fails to go is counted and logged, never fails the poll)."""
        messages = [EventMessage(EditionRef(o.playlist.label, o.playlist.id, ORIGIN_PLAYLIST, o.observed_at[:10],
                                            o.snapshot_id, o.previous.observed_at[:10]), event)
                    for o in outcomes for event in o.events]
        if self.publisher is None or not messages:
            return PublishReport()
        report = self.publisher.publish(messages, time_left)
        self._log("info", "chart events published", **report.summary())
        return report

    def _save_movements(self, result: PollResult) -> str | None:
        charts = [
            {
                "playlist_id": o.playlist.id,
                "chart_label": o.playlist.label,
                "snapshot_id": o.snapshot_id,
                "observed_at": o.observed_at,
                "previous_snapshot_id": o.previous.snapshot_id,
                **o.movements.to_dict(),
            }
            for o in result.outcomes
            if o.movements is not None and o.movements.any
        ]
        if not charts:
            return None
        now = datetime.now(timezone.utc)
        event = {"event": "chart_movements", "poll_id": result.poll_id, "detected_at": now.isoformat(),
                 "charts": charts}
        self._log("info", "chart movements", **event)
        return self.state.save_event("chart_movements", now.date().isoformat(), result.poll_id, event)

    def _log(self, level: str, message: str, **fields: Any) -> None:
        if self.logger is not None:
            getattr(self.logger, level)(message, extra=fields)
