"""The live view: chart movements as the producer detects them, from its S3 event objects.

Each poll that moves a chart writes one event object within seconds; this view lists
the latest ones and, with ``follow``, checks for new ones every few seconds, so a
movement shows here well within a minute of the poll, before any batch job runs.
"""
from __future__ import annotations

import time
from typing import Any, Callable, TextIO

from spotify_charts.events import ProducerOutputs, matches, movements_of
from spotify_charts.text import DOWN, UP, artists_text, cell_width, fit, streams_text, terminal_json, terminal_text

_KIND_MARKERS = {"new_number_one": "NEW #1", "new_entries": "NEW", "exits": "EXIT"}


def movement_marker(move: dict[str, Any]) -> str:
    if move["kind"] in _KIND_MARKERS:
        return _KIND_MARKERS[move["kind"]]
    change = move.get("change") or 0
    return f"{UP}{change}" if change > 0 else f"{DOWN}{-change}"


def movement_line(move: dict[str, Any]) -> str:
    """One movement as a line: time, chart, position, marker, track (and where it was, and
    its streams where the movement states them: an imported Top 200's)."""
    detected = (move.get("detected_at") or "")[:19].replace("T", " ")
    where = f"#{move['position']}" if move.get("position") else "out"
    was = f" (was #{move['previous_position']})" if move.get("previous_position") else ""
    streams = f", {streams_text(move['streams'])} streams" if move.get("streams") is not None else ""
    return terminal_text(f"{detected}  {_chart_cell(move.get('chart_label') or '')} {fit(where, 4, '>')}  "
                         f"{fit(movement_marker(move), 6)}  {move.get('name') or move.get('key')} — "
                         f"{artists_text(move.get('artists'))}{was}{streams}")


def _chart_cell(label: str) -> str:
    """A playlist's label padded to 8 cells; a longer one (an export's alias, such as
    'regional-ar-daily' beside 'regional-ar-weekly') whole, never cut to look like another."""
    shown = " ".join(terminal_text(label).split())  # as fit shows it
    return fit(shown, max(8, cell_width(shown)))


class LiveView:
    """Prints movements of new event objects once each, as text lines or JSON lines."""

    def __init__(self, outputs: ProducerOutputs, out: TextIO, *, chart: str | None = None, as_json: bool = False):
        self.outputs = outputs
        self.out = out
        self.chart = chart
        self.as_json = as_json
        self.seen: set[str] = set()
        self.printed = 0

    def show_recent(self, events: int) -> int:
        """Print the movements of the newest ``events`` events (oldest first); returns movements printed."""
        # Everything already written counts as seen, printed or not, so follow shows only news
        # (listed first: an event landing in between is then either printed here or by check).
        self.seen.update(o.key for o in self.outputs.current_event_objects())
        return self._print(self.outputs.recent_event_objects(events))

    def check(self) -> int:
        """Print the movements of event objects not seen before; returns movements printed."""
        new = [o for o in self.outputs.current_event_objects() if o.key not in self.seen]
        return self._print(new)

    def follow(self, interval: float, duration: float | None, sleep: Callable[[float], None] = time.sleep) -> None:
        """Check every ``interval`` seconds, for ``duration`` seconds (None: until interrupted)."""
        deadline = None if duration is None else time.monotonic() + duration
        while deadline is None or time.monotonic() < deadline:
            wait = interval if deadline is None else min(interval, max(0.0, deadline - time.monotonic()))
            sleep(wait)
            self.check()

    def _print(self, objects) -> int:
        count = 0
        for obj in objects:
            self.seen.add(obj.key)
            event = self.outputs.read_event(obj.key)
            moves = [m for m in movements_of(event) if matches(m, self.chart)]
            if not moves:
                continue
            if not self.as_json:
                charts = sorted({m["chart_label"] for m in moves})
                print(terminal_text(f"-- poll {event.get('poll_id')} at {event.get('detected_at')}: "
                                    f"{len(moves)} movements in {', '.join(charts)}"), file=self.out)
            for move in moves:
                print(terminal_json(move) if self.as_json else movement_line(move), file=self.out)
            count += len(moves)
        self.out.flush()
        self.printed += count
        return count
