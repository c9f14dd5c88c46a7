"""Chart export files for the import tests: the real files the project bundles
(localdev/data/chart-exports-2024-05.zip, as charts.spotify.com served them), files built from
their real rows (a viral chart, a small market, a rank Spotify skipped), and one bad file per
way a file can be wrong, each with the reason code and words the importer must give."""
from __future__ import annotations

import csv
import gzip
import io
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BUNDLE = REPO / "localdev" / "data" / "chart-exports-2024-05.zip"
LEGACY = Path(__file__).parent / "chart_exports" / "regional-global-daily-2020-01-01.csv"
AR_DAY = "regional-ar-daily-2024-05-01.csv"  # LF line ends
GLOBAL_DAY = "regional-global-daily-2024-05-01.csv"  # CRLF line ends, a quoted "Barbie" title
GLOBAL_WEEK = "regional-global-weekly-2024-05-30.csv"


@lru_cache(maxsize=1)
def bundle_files() -> dict[str, bytes]:
    with zipfile.ZipFile(BUNDLE) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def real(name: str = AR_DAY) -> bytes:
    return bundle_files()[name]


def bundle_zip() -> bytes:
    return BUNDLE.read_bytes()


MiB = 1024 * 1024


def zeros_zip(name: str, size: int) -> bytes:
    """A zip bomb: ``size`` zero bytes under ``name``, a few hundred KB for hundreds of MB."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open(name, "w", force_zip64=size >= 4096 * MiB) as stream:
            chunk = bytes(MiB)
            for _ in range(size // MiB):
                stream.write(chunk)
    return buffer.getvalue()


def make_zip(files: list[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files:
            archive.writestr(name, data)
    return buffer.getvalue()


@dataclass
class CsvFile:
    """A chart file as lines of fields, to change and write back as Spotify writes them."""

    bom: bool
    newline: str
    header: list[str]
    rows: list[list[str]]

    @classmethod
    def of(cls, data: bytes) -> "CsvFile":
        text = data.decode("utf-8-sig")
        table = list(csv.reader(io.StringIO(text, newline="")))
        return cls(data.startswith(b"\xef\xbb\xbf"), "\r\n" if "\r\n" in text else "\n", table[0], table[1:])

    def to_bytes(self) -> bytes:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator=self.newline)
        writer.writerow(self.header)
        writer.writerows(self.rows)
        return (b"\xef\xbb\xbf" if self.bom else b"") + buffer.getvalue().encode("utf-8")

    def column(self, name: str) -> int:
        return self.header.index(name)


def edited(data: bytes, edit) -> bytes:
    """``data`` with ``edit(CsvFile)`` applied."""
    chart = CsvFile.of(data)
    edit(chart)
    return chart.to_bytes()


def viral_from(data: bytes, rows: int = 50) -> bytes:
    """A viral chart built from a real regional file's rows: no streams column, 50 rows."""
    def edit(chart: CsvFile) -> None:
        chart.header = chart.header[:-1]
        chart.rows = [row[:-1] for row in chart.rows[:rows]]
    return edited(data, edit)


def first_rows(data: bytes, count: int) -> bytes:
    """A small market's chart: fewer rows than 200 (built from a real file's first rows)."""
    return edited(data, lambda chart: chart.rows.__delitem__(slice(count, None)))


def without_ranks(data: bytes, *ranks: int) -> bytes:
    return edited(data, lambda chart: chart.rows.__setitem__(
        slice(None), [row for row in chart.rows if int(row[0]) not in ranks]))


def top_two_swapped(data: bytes) -> bytes:
    """A corrected file: the tracks at ranks 1 and 2 change places (each keeps its own row)."""
    def edit(chart: CsvFile) -> None:
        first, second = chart.rows[0], chart.rows[1]
        chart.rows[0], chart.rows[1] = [first[0], *second[1:]], [second[0], *first[1:]]
    return edited(data, edit)


def with_field(data: bytes, rank: int, column: str, value: str) -> bytes:
    def edit(chart: CsvFile) -> None:
        chart.rows[rank - 1][chart.column(column)] = value
    return edited(data, edit)


@dataclass(frozen=True)
class BadFile:
    id: str
    name: str
    data: bytes
    code: str  # the reason code the importer must give
    says: str  # words its reason must contain


def bad_files() -> list[BadFile]:
    """One file per way a chart file can be wrong, each built from a real file."""
    day = real(AR_DAY)
    text = day.decode("utf-8-sig")
    last_line_start = text.rstrip("\n").rfind("\n") + 1
    swapped = CsvFile.of(day)
    swapped.rows[4], swapped.rows[5] = swapped.rows[5], swapped.rows[4]
    duplicate = CsvFile.of(day)
    duplicate.rows[5][0] = duplicate.rows[4][0]
    return [
        BadFile("name", "charts.csv", day, "bad_name", "not a chart export's name"),
        BadFile("name-legacy-weekly", "regional-global-weekly-2019-12-27--2020-01-03.csv", day, "bad_name", "name"),
        BadFile("date", "regional-ar-daily-2024-02-30.csv", day, "bad_date", "2024-02-30 is not a date"),
        BadFile("weekly-not-thursday", "regional-global-weekly-2024-05-29.csv", real(GLOBAL_WEEK), "bad_date",
                "2024-05-29 is a Wednesday"),
        BadFile("header", AR_DAY, day.replace(b"rank,uri", b"position,uri", 1), "bad_header",
                "expected rank,uri,"),
        BadFile("header-weekly-as-daily", "regional-global-daily-2024-05-30.csv", real(GLOBAL_WEEK), "bad_header",
                "found rank,uri,artist_names,track_name,source,peak_rank,previous_rank,weeks_on_chart"),
        BadFile("header-viral-as-regional", AR_DAY, viral_from(day), "bad_header", "regional daily chart"),
        BadFile("rank-not-integer", AR_DAY, with_field(day, 7, "rank", "7th"), "bad_value", "rank '7th'"),
        BadFile("streams-not-integer", AR_DAY, with_field(day, 3, "streams", "1,234"), "bad_value",
                "streams '1,234'"),
        BadFile("peak-empty", AR_DAY, with_field(day, 9, "peak_rank", ""), "bad_value", "peak_rank ''"),
        BadFile("previous-not-integer", AR_DAY, with_field(day, 9, "previous_rank", "new"), "bad_value",
                "previous_rank 'new'"),
        BadFile("previous-zero", AR_DAY, with_field(day, 9, "previous_rank", "0"), "bad_value", "previous_rank 0"),
        BadFile("days-not-integer", AR_DAY, with_field(day, 9, "days_on_chart", "1.5"), "bad_value",
                "days_on_chart '1.5'"),
        BadFile("days-negative", AR_DAY, with_field(day, 9, "days_on_chart", "-2"), "bad_value",
                "days_on_chart '-2'"),
        BadFile("rank-duplicate", AR_DAY, duplicate.to_bytes(), "bad_ranks", "rank 5 appears twice"),
        BadFile("rank-order", AR_DAY, swapped.to_bytes(), "bad_ranks", "rank 5 comes after rank 6"),
        BadFile("ranks-missing", AR_DAY, without_ranks(day, *range(50, 60)), "bad_ranks",
                "10 ranks missing below rank 200 (50, 51"),
        BadFile("uri-album", AR_DAY, with_field(day, 2, "uri", "spotify:album:6XjDF6nds4DE2BBbagZol6"), "bad_uri",
                "'spotify:album:6XjDF6nds4DE2BBbagZol6' is not a Spotify track"),
        BadFile("uri-short", AR_DAY, with_field(day, 2, "uri", "spotify:track:6XjDF6nds4DE2BBbagZol"), "bad_uri",
                "not a Spotify track"),
        BadFile("empty", AR_DAY, b"", "empty", "empty"),
        BadFile("header-only", AR_DAY, day[:day.index(b"\n") + 1], "empty", "no rows"),
        BadFile("last-line-cut", AR_DAY, day[:len(day) - 30], "truncated", "cut short"),
        BadFile("quote-not-closed", AR_DAY, (text[:last_line_start] + text[last_line_start:][:60] + "\n").encode(),
                "truncated", "quote not closed"),
        BadFile("binary", AR_DAY, bytes(range(256)) * 40, "not_csv", "not UTF-8"),
        BadFile("nul-bytes", AR_DAY, day.replace(b"Gata Only", b"Gata\x00Only"), "not_csv", "NUL"),
        BadFile("html", AR_DAY, b"<!doctype html>\n<html><head><title>Spotify Charts</title></head>"
                                b"<body>Log in</body></html>\n", "not_csv", "HTML"),
        BadFile("gzip-named-csv", AR_DAY, gzip.compress(day), "not_csv", "compressed"),
        BadFile("utf16", AR_DAY, text.encode("utf-16"), "not_csv", "not UTF-8"),
        BadFile("too-large", AR_DAY, day + b"\n" * (1024 * 1024), "too_large", "over the 1,048,576-byte limit"),
        BadFile("row-short", AR_DAY, edited(day, lambda chart: chart.rows[1].pop(4)), "malformed",
                "line 3: 8 fields, expected 9"),
        BadFile("text-after-quote", AR_DAY, day.replace(b'"Gata Only"', b'"Gata" Only', 1), "malformed",
                "not valid CSV"),
    ]
