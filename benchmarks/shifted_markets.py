"""Extra markets made from real ones by shifting dates, for the chart-intelligence tests and
benchmark: the shared data holds two markets (Argentina and Global), too few for spread
and lead-lag to measure anything.

A shifted market is a real daily chart's files, bytes unchanged, renamed to another
country chart's alias and dated ``days`` later (earlier if negative), optionally with some
source dates left out (gaps). Its aliases use the ISO 3166 user-assigned codes ``xa`` to
``xz``, which no country has, so a shifted market can never pass for a real one, and it
is always printed with its source (``label``). Standard library only: the truth reads the
written files like any others.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from benchmarks.truth.chart_exports import FILE_NAME, export_files


@dataclass(frozen=True)
class ShiftedMarket:
    alias: str  # e.g. regional-xa-daily
    source: str  # the real chart it is made from, e.g. regional-ar-daily
    days: int  # how many days later its dates are
    skip: tuple[date, ...] = ()  # source dates left out: gaps

    @property
    def label(self) -> str:
        gaps = f", {len(self.skip)} source date{'s' * (len(self.skip) > 1)} left out" if self.skip else ""
        return f"{self.alias} = {self.source} shifted {self.days:+d} days{gaps} (made up, not a market)"


def write_shifted(markets: list[ShiftedMarket], sources: list[Path], folder: Path) -> list[Path]:
    """Write the files of ``markets`` (made from the exports under ``sources``) into
    ``folder``; returns the paths written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in export_files(*sources):
        match = FILE_NAME.match(name)
        day = date.fromisoformat(match["date"])
        for market in markets:
            if match["alias"] == market.source and day not in market.skip:
                path = folder / f"{market.alias}-{(day + timedelta(days=market.days)).isoformat()}.csv"
                path.write_bytes(data)
                written.append(path)
    return written
