"""Realistic raw data for the Glue job: what Firehose would land from the producer.

Built from the real Top 50 charts the local Spotify server replays
(``local_spotify.catalog``): the 10 markets plus 40 derived charts (each market
shifted by 1-4 days, with its own playlist id), 50 positions each, polled 24 times
a day. Every poll has its own poll_id; a chart's snapshot_id changes only when its
content changes, so most polls repeat natural keys already seen (the producer
would skip them; at-least-once delivery and restarts repeat them anyway).

One gzip JSON-lines object per hour, named like a Firehose object (no extension)
under ``raw/chart_entries/dt=YYYY-MM-DD/hour=HH/``.

    .venv/bin/python -m benchmarks.raw_generator OUT_DIR --days 7 [--start 2024-06-01]
"""
from __future__ import annotations

import argparse
import gzip
import json
import uuid
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from pathlib import Path

from firehose import contract
from local_spotify import catalog

CHARTS = 50
POSITIONS = 50
POLLS_PER_DAY = 24
DEFAULT_START = date(2024, 6, 1)
STREAM_NAME = "spotify-charts-raw"
_NAMESPACE = uuid.UUID("6f1c2a52-8c1e-4a8e-9a43-3b1f0d7c9e11")


@dataclass(frozen=True)
class Chart:
    label: str
    playlist_id: str
    name: str
    market: str  # the market whose real chart it shows
    lag_days: int  # ... as it was this many days earlier


def charts() -> tuple[Chart, ...]:
    """The 10 real markets, then each shifted by 1..4 days (50 charts)."""
    result = [Chart(m.label, m.playlist_id, m.name, m.label, 0) for m in catalog.MARKETS]
    for lag in range(1, CHARTS // len(catalog.MARKETS)):
        for m in catalog.MARKETS:
            result.append(Chart(f"{m.label}-lag{lag}", catalog.spotify_id("playlist", m.playlist_id, str(lag)),
                                f"{m.name} ({lag} days ago)", m.label, lag))
    return tuple(result[:CHARTS])


@lru_cache(maxsize=4096)
def chart_lines(chart: Chart, day: date) -> tuple[str, ...]:
    """The chart's entries of one day as encoded records, minus the poll fields.

    Each record is built and checked once with ``contract.make_record``; a poll then
    only fills in poll_id and observed_at (the fields that follow schema_version),
    which gives exactly what ``contract.encode`` would, fast enough for millions of lines."""
    tracks = catalog.chart_on(chart.market, day - timedelta(days=chart.lag_days))[:POSITIONS]
    snapshot_id = catalog.spotify_id("snapshot", chart.playlist_id, *(t.track_id for t in tracks))
    added_at = contract.format_timestamp(datetime.combine(day, time(0, 5), timezone.utc))
    lines = []
    for track in tracks:
        record = contract.make_record(
            poll_id="-", observed_at=added_at, playlist_id=chart.playlist_id, chart_label=chart.label,
            playlist_name=chart.name, snapshot_id=snapshot_id, position=track.position, entry_type="track",
            track_id=track.track_id, track_name=track.song, artist_ids=list(track.artist_ids),
            artist_names=list(track.artists), album_id=track.album_id, album_name=track.album_name,
            album_release_date=track.release_date or None,
            album_release_date_precision=track.release_date_precision if track.release_date else None,
            duration_ms=track.duration_ms, explicit=track.explicit, isrc=track.isrc,
            popularity=track.popularity, added_at=added_at,
        )
        rest = {k: v for k, v in record.items() if k not in ("schema_version", "poll_id", "observed_at")}
        lines.append(json.dumps(rest, ensure_ascii=False, separators=(",", ":"))[1:])  # '"playlist_id":...}'
    return tuple(lines)


def poll_lines(day: date, hour: int) -> bytes:
    """Every chart's entries as read by the poll of ``day`` at ``hour``, as JSON lines."""
    poll_id = str(uuid.uuid5(_NAMESPACE, f"{day.isoformat()}T{hour:02d}"))
    out = []
    for index, chart in enumerate(charts()):
        observed = datetime.combine(day, time(hour, 0), timezone.utc) + timedelta(seconds=index * 0.25)
        head = (f'{{"schema_version":{contract.SCHEMA_VERSION},"poll_id":"{poll_id}",'
                f'"observed_at":"{contract.format_timestamp(observed)}",')
        out.extend(head + rest for rest in chart_lines(chart, day))
    return ("\n".join(out) + "\n").encode("utf-8")


def object_key(day: date, hour: int) -> str:
    stamp = f"{day:%Y-%m-%d}-{hour:02d}-00-00"
    return (f"raw/chart_entries/dt={day:%Y-%m-%d}/hour={hour:02d}/"
            f"{STREAM_NAME}-1-{stamp}-{uuid.uuid5(_NAMESPACE, stamp)}")


def write_day(out_dir: Path, day: date) -> int:
    """Write one day's 24 hourly gzip objects; returns the number of records."""
    records = 0
    for hour in range(POLLS_PER_DAY):
        data = poll_lines(day, hour)
        path = out_dir / object_key(day, hour)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(gzip.compress(data, compresslevel=6))
        records += data.count(b"\n")
    return records


def write_days(out_dir: Path, start: date, days: int, workers: int = 2) -> int:
    """Write ``days`` days from ``start``, a day per worker process; returns the record count."""
    dates = [start + timedelta(days=n) for n in range(days)]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return sum(pool.map(write_day, [out_dir] * len(dates), dates))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--days", type=int, default=1)
    parser.add_argument("--start", type=date.fromisoformat, default=DEFAULT_START)
    args = parser.parse_args()
    records = write_days(args.out_dir, args.start, args.days)
    print(f"wrote {records} records for {args.days} days from {args.start} under {args.out_dir}")


if __name__ == "__main__":
    main()
