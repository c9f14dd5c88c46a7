"""The real daily Top 50 charts the local Spotify-compatible server replays.

``data/`` bundles, unchanged, the daily Top 50 of 10 markets from 2023-05-18 to
2024-11-27 (see data/README.md). The data has no Spotify ids, so ids are derived
deterministically: the same song by the same artists always gets the same
22-character base62 id, like a real Spotify id, in every market and every run.
ISRCs are derived the same way and are synthetic (country code ``QZ``, the range
reserved for such use); album names are not in the data and are synthesized.
"""
from __future__ import annotations

import csv
import gzip
import hashlib
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

DATA_DIR = Path(__file__).parent / "data"


@dataclass(frozen=True)
class Market:
    label: str
    playlist_id: str
    name: str
    file_stem: str


# Spotify's own ids of the "Top 50 - <market>" playlists.
MARKETS: tuple[Market, ...] = (
    Market("global", "37i9dQZEVXbMDoHDwVN2tF", "Top 50 - Global", "world"),
    Market("us", "37i9dQZEVXbLRQDuF5jeBp", "Top 50 - USA", "usa"),
    Market("gb", "37i9dQZEVXbLnolsZ8PSNw", "Top 50 - UK", "uk"),
    Market("es", "37i9dQZEVXbNFJfN1Vw8d9", "Top 50 - Spain", "spain"),
    Market("it", "37i9dQZEVXbIQnj7RRhdSX", "Top 50 - Italy", "italy"),
    Market("fr", "37i9dQZEVXbIPWwFssbupI", "Top 50 - France", "france"),
    Market("mx", "37i9dQZEVXbO3qyFxbkOE1", "Top 50 - Mexico", "mexico"),
    Market("ar", "37i9dQZEVXbMMy2roB9myp", "Top 50 - Argentina", "argentina"),
    Market("jp", "37i9dQZEVXbKXQ4mDTEBXq", "Top 50 - Japan", "japan"),
    Market("kr", "37i9dQZEVXbNxXF4SkHj9F", "Top 50 - South Korea", "south-korea"),
)
MARKETS_BY_LABEL = {m.label: m for m in MARKETS}

FIRST_DATE = date(2023, 5, 18)
LAST_DATE = date(2024, 11, 27)

_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def spotify_id(kind: str, *parts: str) -> str:
    """A stable 22-character base62 id for ``kind`` (track/artist/album) and its parts."""
    digest = hashlib.sha256("\x1f".join((kind, *parts)).encode("utf-8")).digest()
    number = int.from_bytes(digest[:17], "big")
    chars = []
    for _ in range(22):
        number, rest = divmod(number, 62)
        chars.append(_BASE62[rest])
    return "".join(chars)


def synthetic_isrc(track_id: str) -> str:
    digest = hashlib.sha256(track_id.encode()).hexdigest().upper()
    return "QZ" + digest[:3] + str(int(digest[3:10], 16) % 10**7).zfill(7)


@dataclass(frozen=True)
class ChartTrack:
    """One position of one day's chart, with derived ids."""

    position: int
    song: str
    artists: tuple[str, ...]
    popularity: int | None
    duration_ms: int
    album_type: str
    total_tracks: int
    release_date: str
    explicit: bool
    cover_url: str

    @property
    def track_id(self) -> str:
        return spotify_id("track", self.song, *self.artists)

    @property
    def artist_ids(self) -> tuple[str, ...]:
        return tuple(spotify_id("artist", a) for a in self.artists)

    @property
    def album_id(self) -> str:
        return spotify_id("album", self.cover_url or self.song)

    @property
    def album_name(self) -> str:
        return self.song if self.album_type == "single" else f"{self.song} (album)"

    @property
    def release_date_precision(self) -> str:
        return {4: "year", 7: "month"}.get(len(self.release_date), "day")

    @property
    def isrc(self) -> str:
        return synthetic_isrc(self.track_id)


def _int_or_none(text: str) -> int | None:
    return int(text) if text not in ("", None) else None


@lru_cache(maxsize=None)
def load_market(label: str) -> dict[date, tuple[ChartTrack, ...]]:
    """Every day's chart of one market, by date, positions in order."""
    market = MARKETS_BY_LABEL[label]
    path = DATA_DIR / f"spotify-streaming-top-50-{market.file_stem}.csv.gz"
    days: dict[date, list[ChartTrack]] = {}
    with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            days.setdefault(date.fromisoformat(row["date"]), []).append(
                ChartTrack(
                    position=int(row["position"]),
                    song=row["song"],
                    artists=tuple(a.strip() for a in (row["artist"] or "").split(" & ") if a.strip()),
                    popularity=_int_or_none(row["popularity"]),
                    duration_ms=int(row["duration_ms"]),
                    album_type=row["album_type"],
                    total_tracks=_int_or_none(row["total_tracks"]) or 1,
                    release_date=row["release_date"],
                    explicit=row["is_explicit"] == "True",
                    cover_url=row["album_cover_url"],
                )
            )
    return {d: tuple(sorted(rows, key=lambda t: t.position)) for d, rows in sorted(days.items())}


def chart_on(label: str, day: date) -> tuple[ChartTrack, ...]:
    """The chart of ``day``; on a day missing from the data, the last chart before it
    (the replay holds the playlist unchanged through a gap)."""
    days = load_market(label)
    if day in days:
        return days[day]
    earlier = [d for d in days if d <= day]
    if not earlier:
        raise KeyError(f"no chart for {label} on or before {day}")
    return days[max(earlier)]
