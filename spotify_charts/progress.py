"""A small progress bar on stderr (no third-party library).

On a terminal it redraws one line; elsewhere (CI logs, pipes) it prints one line per
update, so the progress stays readable in a log.
"""
from __future__ import annotations

import sys
import time
from typing import TextIO


class ProgressBar:
    def __init__(self, total: int, unit: str, label: str = "", out: TextIO | None = None, width: int = 28):
        self.total = max(0, total)
        self.unit = unit
        self.label = label
        self.out = out or sys.stderr
        self.width = width
        self.done = 0
        self.note = ""
        self.started = time.monotonic()
        self._interactive = hasattr(self.out, "isatty") and self.out.isatty()
        self._shown: tuple[int, str] | None = None

    def line(self) -> str:
        fraction = min(1.0, self.done / self.total) if self.total else 1.0
        filled = int(round(fraction * self.width))
        bar = "█" * filled + "░" * (self.width - filled)
        elapsed = time.monotonic() - self.started
        label = f"{self.label} " if self.label else ""
        note = f"  {self.note}" if self.note else ""
        return (f"{label}[{bar}] {fraction:4.0%}  {self.done:,}/{self.total:,} {self.unit}{note}  "
                f"{elapsed:5.1f} s")

    def update(self, done: int, note: str = "") -> None:
        self.done = done
        self.note = note
        self._shown = (done, note)
        if self._interactive:
            self.out.write("\r\x1b[2K" + self.line())
        else:
            self.out.write(self.line() + "\n")
        self.out.flush()

    def finish(self, note: str | None = None) -> None:
        """Show the final state (a log gets no repeat of a line it already has), end the line."""
        note = self.note if note is None else note
        if self._interactive or (self.done, note) != self._shown:
            self.update(self.done, note)
        if self._interactive:
            self.out.write("\n")
            self.out.flush()
