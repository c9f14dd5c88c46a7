"""Chart events of imported chart exports: each file the importer holds (loaded, replaced,
or found unchanged) is noted; when the importer saves its results, the notes go into each
chart's history (``producer.chart_history``, an S3 object written with conditional writes)
and the events they bring are published (``producer.event_publisher``).

Why at the results' save points and not per file: a history is one object per chart, and
an archive of 3,600 files would rewrite it 3,600 times; saved with the results (every 5 s,
and when an invocation stops or continues), a crash loses no note that the results kept,
because the files after the last save are imported again and found in the ledger. Events
are published after their history is written, so an edition's events go out at most once
(a crash between the two loses them; a failed publish is counted, logged and alarmed).

The window (``CHART_EVENTS_MAX_AGE_DAYS``): an edition publishes only if its date is at
most that many days before the import's day (UTC); 0 lifts the limit. A recent edition is
news; an archive of last year's files imported in date order is not, even though each one
is, as it arrives, its chart's newest.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Callable

from firehose.contract import ORIGIN_CHART_EXPORT
from producer.chart_events import DEFAULT_CLIMB_PLACES, Entry, edition
from producer.chart_export import ChartExport
from producer.chart_history import ChartHistory, HeldEdition, add_edition
from producer.event_publisher import EditionRef, EventMessage, EventPublisher, PublishReport
from producer.import_store import HeldChart, ImportStore, ObjectChangedError

# A week: a weekly chart's file comes out the day after the Thursday it is dated by, and
# users download charts a few days late.
DEFAULT_MAX_AGE_DAYS = 7
# An edition whose history could not be written counts as one failed event.
HISTORY_FAILED = "HistoryNotSaved"


@dataclass(frozen=True)
class EventSettings:
    climb_places: int = DEFAULT_CLIMB_PLACES
    max_age_days: int = DEFAULT_MAX_AGE_DAYS  # 0: no limit


def held_edition(chart: ChartExport, replaced: HeldChart | None = None) -> HeldEdition:
    """A chart file as its history takes it (an export credits one artist string per track:
    the views key such artists by that string, and so do the events)."""
    entries = edition(Entry(row.track_id, row.rank, row.track_name, (row.artist_names,), (row.artist_names,))
                      for row in chart.rows)
    tracks = tuple(replaced.tracks) if replaced is not None and replaced.tracks is not None else None
    return HeldEdition(chart.chart_date.isoformat(), chart.snapshot_id, entries, tracks)


class ImportEvents:
    def __init__(self, store: ImportStore, publisher: EventPublisher, settings: EventSettings = EventSettings(),
                 *, today: Callable[[], date], logger=None):
        self.store = store
        self.publisher = publisher
        self.settings = settings
        self.today = today
        self.logger = logger
        self._pending: dict[str, list[HeldEdition]] = {}
        self._histories: dict[str, tuple[ChartHistory, str]] = {}  # written by this container, with ETags

    def note(self, chart: ChartExport, replaced: HeldChart | None = None) -> None:
        """A file now held for its chart and date (``replaced``: the ledger entry it replaced)."""
        self._pending.setdefault(chart.alias, []).append(held_edition(chart, replaced))

    def flush(self, time_left: Callable[[], float] | None = None) -> PublishReport:
        """Add the noted files to their charts' histories, then publish their events."""
        messages, unsaved = [], 0
        while self._pending:
            chart, editions = self._pending.popitem()
            try:
                messages += self._add(chart, editions)
            except Exception as error:  # noqa: BLE001 - an import never fails for its alerts
                unsaved += len(editions)
                self._histories.pop(chart, None)
                self._log("error", "chart history not saved: its files' events are not published", chart=chart,
                          files=len(editions), error=f"{type(error).__name__}: {error}")
        report = self.publisher.publish(messages, time_left)
        report.failed += unsaved
        if unsaved:
            report.errors[HISTORY_FAILED] += unsaved
        return report

    def _add(self, chart: str, editions: list[HeldEdition], attempts: int = 5) -> list[EventMessage]:
        """The editions into the chart's history, written if no other import wrote it
        meanwhile (else read again and redone); returns the events to publish."""
        for _ in range(attempts):
            history, etag = self._history(chart)
            if all(history.dates.get(held.chart_date) == held.snapshot_id for held in editions):
                self._histories[chart] = history, etag  # files held already (uploaded again): no write
                return []
            history = history.copy()  # the one kept stays as written until this write succeeds
            messages = []
            for held in editions:
                previous = history.previous_date(held.chart_date)
                ref = EditionRef(chart, chart, ORIGIN_CHART_EXPORT, held.chart_date, held.snapshot_id, previous)
                events = add_edition(history, held, self.settings.climb_places)
                if events and self._recent(held.chart_date):
                    messages += [EventMessage(ref, event) for event in events]
            try:
                self._histories[chart] = history, self.store.save_history(chart, history.to_json(), etag)
            except ObjectChangedError:
                self._histories.pop(chart, None)
                continue
            return messages
        raise ObjectChangedError(f"the chart history of {chart} kept changing")

    def _history(self, chart: str) -> tuple[ChartHistory, str | None]:
        if chart in self._histories:
            return self._histories[chart]
        body, etag = self.store.history(chart)
        return (ChartHistory.from_json(body) if body else ChartHistory(chart)), etag

    def _recent(self, chart_date: str) -> bool:
        days = self.settings.max_age_days
        return days == 0 or date.fromisoformat(chart_date) >= self.today() - timedelta(days=days)

    def _log(self, level: str, message: str, **fields) -> None:
        if self.logger is not None:
            getattr(self.logger, level)(message, extra={"chart_events": fields})
