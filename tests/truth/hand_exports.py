"""Small hand-made chart exports with every case the intelligence rules name (tied
records, a track's two equal runs, a gap inside a run, re-entries that are no debut,
charts of different windows, a non-country chart), and what a reader works out from them
by hand. The truth's unit tests and the views' tests both use them.

Files are written as charts.spotify.com writes them (BOM, the daily header, quoted
fields); a chart is a string of one-letter (or two-character) track names by position.
"""
from __future__ import annotations

from datetime import date
from pathlib import Path

HEADER = "rank,uri,artist_names,track_name,source,peak_rank,previous_rank,days_on_chart,streams"


def track_id(name: str) -> str:
    """A 22-character Spotify-like id for a short track name."""
    return (name * 22)[:22]


def day(text: str) -> date:
    return date.fromisoformat(text)


def write_export(folder: Path, alias: str, chart_date: str, tracks: list[str],
                 streams: list[int] | None = None) -> Path:
    """One export file; streams by position (default: 100 per place above 5th)."""
    streams = streams or [(5 - position) * 100 for position in range(1, len(tracks) + 1)]
    lines = [HEADER] + [f'{position},"spotify:track:{track_id(name)}","Artist {name}","Song {name}","Label",'
                        f'{position},-1,1,"{count}"'
                        for position, (name, count) in enumerate(zip(tracks, streams), start=1)]
    path = folder / f"{alias}-{chart_date}.csv"
    path.write_bytes(("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8"))
    return path


# RECORDS: chart X (2024-01-03 missing: a gap) and chart Y (streams stated by hand).
X, Y = "regional-xy-daily", "regional-xz-daily"
X_CHARTS = {"2024-01-01": "ABCD", "2024-01-02": "ACBE", "2024-01-04": "AECB", "2024-01-05": "BAFC",
            "2024-01-06": "BDAE", "2024-01-07": "BADF", "2024-01-08": "ABGC", "2024-01-09": "ABCG",
            "2024-01-10": "ACBG"}
Y_CHARTS = {"2024-01-01": ("PQRS", [50, 40, 30, 20]), "2024-01-02": ("SPQR", [70, 40, 30, 20]),
            "2024-01-03": ("PQRS", [60, 50, 40, 20]), "2024-01-04": ("SPQR", [70, 30, 20, 10])}


def write_record_charts(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for chart_date, tracks in X_CHARTS.items():
        write_export(folder, X, chart_date, list(tracks))
    for chart_date, (tracks, streams) in Y_CHARTS.items():
        write_export(folder, Y, chart_date, list(tracks), streams)
    return folder


def _records(alias: str, rows: list[tuple]) -> set[tuple]:
    return {(alias, record, track_id(track), value, from_date and day(from_date), to_date and day(to_date))
            for record, track, value, from_date, to_date in rows}


# (chart, record, track id, value, from, to), worked out by hand.
EXPECTED_RECORDS = _records(X, [
    # A is #1 on Jan 1, 2, 4 (3 editions: the missing Jan 3 is no edition) and again Jan 8-10:
    # its first of two equal runs; B's Jan 5-7 ties it.
    ("longest_run_at_number_one", "A", 3, "2024-01-01", "2024-01-04"),
    ("longest_run_at_number_one", "B", 3, "2024-01-05", "2024-01-07"),
    ("most_days_at_number_one", "A", 6, None, None),
    ("most_days_in_top_10", "A", 9, None, None),
    ("most_days_in_top_10", "B", 9, None, None),
    # E debuts at 4, F and G at 3; D, E, F and C come back later (re-entries, no debuts).
    ("biggest_debut", "F", 3, "2024-01-05", "2024-01-05"),
    ("biggest_debut", "G", 3, "2024-01-08", "2024-01-08"),
    ("biggest_climb", "B", 3, "2024-01-05", "2024-01-05"),
    # 400 streams at #1: every #1 entry ties (one row per occurrence).
    *[("most_streams_in_a_day", track, 400, d, d) for track, d in [
        ("A", "2024-01-01"), ("A", "2024-01-02"), ("A", "2024-01-04"), ("B", "2024-01-05"), ("B", "2024-01-06"),
        ("B", "2024-01-07"), ("A", "2024-01-08"), ("A", "2024-01-09"), ("A", "2024-01-10")]],
    ("most_streams_total", "A", 3200, None, None),
]) | _records(Y, [
    ("longest_run_at_number_one", "P", 1, "2024-01-01", "2024-01-01"),  # P's first of two runs of 1
    ("longest_run_at_number_one", "S", 1, "2024-01-02", "2024-01-02"),
    ("most_days_at_number_one", "P", 2, None, None),
    ("most_days_at_number_one", "S", 2, None, None),
    *[("most_days_in_top_10", track, 4, None, None) for track in "PQRS"],
    # No debut: every track is on the first edition.
    ("biggest_climb", "S", 3, "2024-01-02", "2024-01-02"),  # the same track's two occurrences
    ("biggest_climb", "S", 3, "2024-01-04", "2024-01-04"),
    ("most_streams_in_a_day", "S", 70, "2024-01-02", "2024-01-02"),
    ("most_streams_in_a_day", "S", 70, "2024-01-04", "2024-01-04"),
    ("most_streams_total", "P", 180, None, None),
    ("most_streams_total", "S", 180, None, None),
])

# MARKETS: four country charts of different windows (xb misses Feb 5) and Global, which is
# no country chart (its T4 on Feb 1 changes nothing below).
XA, XB, XC, XD, GLOBAL = (f"regional-{code}-daily" for code in ("xa", "xb", "xc", "xd", "global"))
MARKET_CHARTS = {
    XA: {"2024-02-01": ["T1", "T2"], "2024-02-02": ["T1", "T3"], "2024-02-03": ["T3", "T4"],
         "2024-02-04": ["T4", "T5"], "2024-02-05": ["T5", "T2"]},
    XB: {"2024-02-02": ["T3", "T1"], "2024-02-03": ["T3", "T5"], "2024-02-04": ["T4", "T6"],
         "2024-02-06": ["T2", "T4"]},
    XC: {"2024-02-01": ["T9"], "2024-02-03": ["T4", "T5"], "2024-02-04": ["T5", "T6"]},
    XD: {"2024-02-01": ["T1"], "2024-02-02": ["T1"]},
    GLOBAL: {"2024-02-01": ["T4", "T7"], "2024-02-02": ["T7"]},
}


def write_market_charts(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for alias, charts in MARKET_CHARTS.items():
        for chart_date, tracks in charts.items():
            write_export(folder, alias, chart_date, tracks)
    return folder


# track -> (first date, charts that date, charts ever, most charts on one date, its first date)
EXPECTED_SPREAD = {track_id(track): (day(first), charts, total, most, day(most_date))
                   for track, (first, charts, total, most, most_date) in {
    "T1": ("2024-02-01", (XA, XD), 3, 3, "2024-02-02"),
    "T2": ("2024-02-01", (XA,), 2, 1, "2024-02-01"),
    "T3": ("2024-02-02", (XA, XB), 2, 2, "2024-02-02"),
    "T4": ("2024-02-03", (XA, XC), 3, 2, "2024-02-03"),
    "T5": ("2024-02-03", (XB, XC), 3, 2, "2024-02-03"),
    "T6": ("2024-02-04", (XB, XC), 2, 2, "2024-02-04"),
    "T9": ("2024-02-01", (XC,), 1, 1, "2024-02-01"),
}.items()}

# Entries after each chart's first edition: xa T3 Feb 2, T4 Feb 3, T5 Feb 4 (T2's return on
# Feb 5 is a re-entry); xb T5 Feb 3, T4 and T6 Feb 4, T2 Feb 6; xc T4 and T5 Feb 3, T6
# Feb 4; xd none. (A, B) -> (tracks, A first, same day, median, mean, share A first).
NO_TRACKS = (0, 0, 0, None, None, None)
EXPECTED_LEAD_LAG = {
    (XA, XB): (2, 1, 0, 0.0, 0.0, 0.5),  # T4 +1, T5 -1
    (XB, XA): (2, 1, 0, 0.0, 0.0, 0.5),
    (XA, XC): (2, 0, 1, -0.5, -0.5, 0.0),  # T4 0, T5 -1
    (XC, XA): (2, 1, 1, 0.5, 0.5, 0.5),
    (XB, XC): (3, 0, 2, 0.0, -1 / 3, 0.0),  # T5 0, T4 -1, T6 0
    (XC, XB): (3, 1, 2, 0.0, 1 / 3, 1 / 3),
    **{pair: NO_TRACKS for other in (XA, XB, XC) for pair in ((XD, other), (other, XD))},
}
