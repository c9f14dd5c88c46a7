"""Spotify chart exports: the CSV files charts.spotify.com lets a logged-in listener download.

Pure parsing and record building, no AWS. :func:`parse_chart_file` checks a whole file and
returns a :class:`ChartExport`, or raises :class:`ChartFileError` with a reason a user can act
on: a file is never loaded half-way. :func:`chart_records` turns a parsed chart into contract
records: one ``chart_entry`` per row and one ``chart_observation`` per file.

What a file is, checked on 769 real files (producer/IMPORTS.md has the details):

* its name, ``{regional|viral}-{global|<ISO country>}-{daily|weekly}-{YYYY-MM-DD}.csv``, is the
  only place that states the chart and its date; a weekly chart is dated by the last day of its
  Friday-to-Thursday week, a Thursday. A browser's second download of a file gets `` (1)``
  before ``.csv``: the same chart, accepted.
* UTF-8, usually with a byte-order mark, LF or CRLF line ends, text fields quoted with quotes
  doubled inside; ``rank,uri,artist_names,track_name,source,peak_rank,previous_rank,
  days_on_chart|weeks_on_chart[,streams]`` (viral charts have no ``streams``).
* Ranks ascend, but Spotify's own files sometimes skip a rank or two (13 of 769 real files, e.g.
  Argentina 2024-03-09 has no rank 4): a few missing ranks are accepted and reported; more
  means rows were lost, and the file is rejected.
* The legacy spotifycharts.com format (until 2022): a note line, then
  ``Position,"Track Name",Artist,Streams,URL`` with the track id in the URL; regional daily
  files only (no real sample of its viral or weekly files was found to check against).
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from dataclasses import astuple, dataclass
from datetime import date, datetime
from functools import cached_property
from typing import Any, Iterator

from firehose import contract

# A real file is about 25 KB (200 rows); anything near this limit is not a chart export.
MAX_FILE_BYTES = 1024 * 1024
# Spotify's files skip at most 2 ranks in the real year checked; more than this means lost rows.
MAX_MISSING_RANKS = 5

REGIONAL, VIRAL = "regional", "viral"
DAILY, WEEKLY = "daily", "weekly"
CHARTS_LAYOUT, LEGACY_LAYOUT = "charts.spotify.com", "spotifycharts.com"

# Why a file is rejected: the ``code`` of a ChartFileError (a metric dimension, so a short, fixed set).
BAD_NAME = "bad_name"
BAD_DATE = "bad_date"
TOO_LARGE = "too_large"
EMPTY = "empty"
NOT_CSV = "not_csv"
TRUNCATED = "truncated"
MALFORMED = "malformed"
BAD_HEADER = "bad_header"
BAD_VALUE = "bad_value"
BAD_URI = "bad_uri"
BAD_RANKS = "bad_ranks"

_NAME = re.compile(r"(?P<kind>regional|viral)-(?P<market>global|[a-z]{2})-(?P<period>daily|weekly)-"
                   r"(?P<date>\d{4}-\d{2}-\d{2})(?: \(\d{1,3}\))?\.csv")
_INTEGER = re.compile(r"-?[0-9]{1,12}")  # ASCII digits only: int() would take '1_000' or '١٢'
_BASE62_ID = r"[0-9A-Za-z]{22}"
_TRACK_URI = re.compile(rf"spotify:track:({_BASE62_ID})")
_TRACK_URL = re.compile(rf"https://open\.spotify\.com/track/({_BASE62_ID})")
_LEGACY_HEADER = ("Position", "Track Name", "Artist", "Streams", "URL")
_THURSDAY = 3

# Markets charts.spotify.com publishes, for readable titles; another code reads as itself.
MARKET_NAMES = {
    "global": "Global", "ae": "United Arab Emirates", "ar": "Argentina", "at": "Austria", "au": "Australia",
    "be": "Belgium", "bg": "Bulgaria", "bo": "Bolivia", "br": "Brazil", "by": "Belarus", "ca": "Canada",
    "ch": "Switzerland", "cl": "Chile", "co": "Colombia", "cr": "Costa Rica", "cy": "Cyprus", "cz": "Czechia",
    "de": "Germany", "dk": "Denmark", "do": "Dominican Republic", "ec": "Ecuador", "ee": "Estonia", "eg": "Egypt",
    "es": "Spain", "fi": "Finland", "fr": "France", "gb": "United Kingdom", "gr": "Greece", "gt": "Guatemala",
    "hk": "Hong Kong", "hn": "Honduras", "hu": "Hungary", "id": "Indonesia", "ie": "Ireland", "il": "Israel",
    "in": "India", "is": "Iceland", "it": "Italy", "jp": "Japan", "kr": "South Korea", "kz": "Kazakhstan",
    "lt": "Lithuania", "lu": "Luxembourg", "lv": "Latvia", "ma": "Morocco", "mx": "Mexico", "my": "Malaysia",
    "ng": "Nigeria", "ni": "Nicaragua", "nl": "Netherlands", "no": "Norway", "nz": "New Zealand", "pa": "Panama",
    "pe": "Peru", "ph": "Philippines", "pk": "Pakistan", "pl": "Poland", "pt": "Portugal", "py": "Paraguay",
    "ro": "Romania", "sa": "Saudi Arabia", "se": "Sweden", "sg": "Singapore", "sk": "Slovakia",
    "sv": "El Salvador", "th": "Thailand", "tr": "Turkey", "tw": "Taiwan", "ua": "Ukraine", "us": "United States",
    "uy": "Uruguay", "ve": "Venezuela", "vn": "Vietnam", "za": "South Africa",
}


class RejectionError(ValueError):
    """Something that cannot be imported: ``code`` says what kind of problem (a short, fixed
    set: a metric dimension), ``reason`` says exactly what and where, for the user."""

    def __init__(self, code: str, reason: str):
        super().__init__(reason)
        self.code = code
        self.reason = reason


class ChartFileError(RejectionError):
    """A chart file that cannot be imported (one of the codes above)."""


@dataclass(frozen=True)
class ChartName:
    """What a file name states: which chart, which date."""

    kind: str  # REGIONAL or VIRAL
    market: str  # 'global' or an ISO country code
    period: str  # DAILY or WEEKLY
    chart_date: date

    @property
    def alias(self) -> str:
        """The chart's id in every record and view: the file name without its date."""
        return f"{self.kind}-{self.market}-{self.period}"

    @property
    def title(self) -> str:
        chart = "Top 200" if self.kind == REGIONAL else "Viral 50"
        return f"{chart} {MARKET_NAMES.get(self.market, self.market.upper())}, {self.period} (chart export)"


@dataclass(frozen=True)
class ChartRow:
    """One row as the file states it; what a layout or period lacks is None."""

    rank: int
    track_id: str
    artist_names: str  # the credited string, whole: an artist's name may contain a comma
    track_name: str
    label: str | None  # the 'source' column
    peak_rank: int | None
    previous_rank: int | None  # None: new or re-entry (the file's -1)
    days_on_chart: int | None
    weeks_on_chart: int | None
    streams: int | None  # None on viral charts


@dataclass(frozen=True)
class ChartExport:
    """One parsed, checked chart file."""

    name: str
    chart: ChartName
    layout: str  # CHARTS_LAYOUT or LEGACY_LAYOUT
    rows: tuple[ChartRow, ...]

    @property
    def alias(self) -> str:
        return self.chart.alias

    @property
    def chart_date(self) -> date:
        return self.chart.chart_date

    @property
    def missing_ranks(self) -> list[int]:
        """Ranks below the last one that the file skips (Spotify's own files skip one now and then)."""
        present = {row.rank for row in self.rows}
        return [rank for rank in range(1, self.rows[-1].rank) if rank not in present]

    @cached_property
    def snapshot_id(self) -> str:
        """Derived from what the file states, not its bytes: the same chart re-saved with other
        line ends or quoting keeps its id; a corrected file gets another."""
        content = [self.alias, self.chart_date.isoformat(), [astuple(row) for row in self.rows]]
        return _digest(json.dumps(content, ensure_ascii=False, separators=(",", ":")))

    def poll_id(self, revision: int = 1) -> str:
        """The observation's id: the same file sent again as the same revision is the same
        observation (a retried send is deduplicated); each later revision (a file replacing
        another for this chart and date, even one seen before) is a new observation."""
        return "import-" + _digest(f"{self.alias}|{self.chart_date.isoformat()}|{self.snapshot_id}|{revision}")


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def parse_chart_name(name: str) -> ChartName:
    """The chart and date a file name states, or ChartFileError."""
    match = _NAME.fullmatch(name)
    if not match:
        raise ChartFileError(BAD_NAME, f"{name!r} is not a chart export's name: expected "
                                       "{regional|viral}-{global|<country code>}-{daily|weekly}-YYYY-MM-DD.csv, "
                                       "as charts.spotify.com names its downloads")
    try:
        chart_date = date.fromisoformat(match["date"])
    except ValueError:
        raise ChartFileError(BAD_DATE, f"{name!r}: {match['date']} is not a date") from None
    if match["period"] == WEEKLY and chart_date.weekday() != _THURSDAY:
        raise ChartFileError(BAD_DATE, f"{name!r}: a weekly chart is dated by the last day of its "
                                       f"Friday-to-Thursday week, but {chart_date} is a {chart_date:%A}")
    return ChartName(match["kind"], match["market"], match["period"], chart_date)


def expected_header(chart: ChartName) -> tuple[str, ...]:
    on_chart = "days_on_chart" if chart.period == DAILY else "weeks_on_chart"
    streams = ("streams",) if chart.kind == REGIONAL else ()
    return ("rank", "uri", "artist_names", "track_name", "source", "peak_rank", "previous_rank", on_chart, *streams)


def parse_chart_file(name: str, data: bytes, *, max_bytes: int = MAX_FILE_BYTES) -> ChartExport:
    """Check a whole chart file and parse it, or raise ChartFileError saying why not."""
    chart = parse_chart_name(name)
    if len(data) > max_bytes:
        raise ChartFileError(TOO_LARGE, f"{len(data):,} bytes, over the {max_bytes:,}-byte limit of one chart file")
    lines = _csv_rows(_text_of(data))
    header_line, header = next(lines, (0, None))
    layout = LEGACY_LAYOUT if header is not None and tuple(header) == _LEGACY_HEADER else CHARTS_LAYOUT
    if header is not None and header[:3] == ["", "", ""] and len(header) == len(_LEGACY_HEADER):
        header_line, header = next(lines, (0, None))  # spotifycharts.com's note line, then its header
        layout = LEGACY_LAYOUT
    if header is None:
        raise ChartFileError(EMPTY, "the file holds no header and no rows")
    parse_row = _header_check(chart, header, layout, header_line)
    rows = tuple(parse_row(line, fields) for line, fields in lines)
    if not rows:
        raise ChartFileError(EMPTY, "the file has a header but no rows")
    _check_ranks(rows)
    return ChartExport(name, chart, layout, rows)


def _text_of(data: bytes) -> str:
    """The file's text, or why it is not a CSV text file."""
    if not data.strip():
        raise ChartFileError(EMPTY, "the file is empty")
    if data.startswith(b"\x1f\x8b") or data.startswith(b"PK\x03\x04"):
        raise ChartFileError(NOT_CSV, "compressed data (gzip or zip), not a CSV file: upload it as .csv.gz or .zip")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ChartFileError(NOT_CSV, f"not UTF-8 text (byte {data[error.start]:#04x} at offset {error.start}): "
                                      "not a chart export") from None
    if "\x00" in text:
        raise ChartFileError(NOT_CSV, "binary data (NUL bytes), not a CSV file")
    if text.lstrip()[:1] == "<":
        raise ChartFileError(NOT_CSV, "an HTML or XML page, not a CSV file (a failed download or a login page?)")
    if not text.endswith("\n"):
        raise ChartFileError(TRUNCATED, "the last line has no line end: the file looks cut short")
    return text


def _csv_rows(text: str) -> Iterator[tuple[int, list[str]]]:
    """(line number, fields) of each non-blank row; malformed or cut-short CSV raises ChartFileError."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        for fields in reader:
            if not fields:
                continue  # a blank line carries nothing
            if any("\n" in f or "\r" in f for f in fields):
                raise ChartFileError(MALFORMED, f"line {reader.line_num}: a quoted field spans lines "
                                                "(a quote not closed?)")
            yield reader.line_num, fields
    except csv.Error as error:
        if "unexpected end of data" in str(error):
            raise ChartFileError(TRUNCATED, "the file ends inside a quoted field: a quote not closed, "
                                            "or the file cut short") from None
        raise ChartFileError(MALFORMED, f"line {reader.line_num}: not valid CSV ({error})") from None


def _header_check(chart: ChartName, header: list[str], layout: str, line: int):
    """The row parser for this header, or ChartFileError when it is not the chart's header."""
    if layout == LEGACY_LAYOUT:
        if tuple(header) == _LEGACY_HEADER and chart.kind == REGIONAL and chart.period == DAILY:
            return lambda number, fields: _legacy_row(number, fields, chart)
        raise ChartFileError(BAD_HEADER, f"line {line}: a spotifycharts.com file must be a regional daily chart "
                                         f"with the header {','.join(_LEGACY_HEADER)}; found {','.join(header)}")
    expected = expected_header(chart)
    if tuple(header) != expected:
        raise ChartFileError(BAD_HEADER, f"line {line}: wrong header for a {chart.kind} {chart.period} chart: "
                                         f"expected {','.join(expected)}; found {','.join(header)}")
    return lambda number, fields: _export_row(number, fields, chart)


def _field_count(line: int, fields: list[str], expected: int) -> None:
    if len(fields) != expected:
        raise ChartFileError(MALFORMED, f"line {line}: {len(fields)} fields, expected {expected}")


def _integer(line: int, column: str, text: str, minimum: int) -> int:
    if not _INTEGER.fullmatch(text) or int(text) < minimum:
        raise ChartFileError(BAD_VALUE, f"line {line}: {column} {text!r} is not an integer of at least {minimum}")
    return int(text)


def _track_id(line: int, pattern: re.Pattern, text: str) -> str:
    match = pattern.fullmatch(text)
    if not match:
        raise ChartFileError(BAD_URI, f"line {line}: {text!r} is not a Spotify track "
                                      "(spotify:track: and a 22-character id)")
    return match[1]


def _export_row(line: int, fields: list[str], chart: ChartName) -> ChartRow:
    _field_count(line, fields, len(expected_header(chart)))
    rank, uri, artists, track, label, peak, previous, on_chart = fields[:8]
    rank_number = _integer(line, "rank", rank, 1)
    previous_rank = _integer(line, "previous_rank", previous, -1)
    if previous_rank == 0:
        raise ChartFileError(BAD_VALUE, f"line {line}: previous_rank 0 (expected -1 for none, or a rank)")
    on_chart_count = _integer(line, expected_header(chart)[7], on_chart, 1)
    return ChartRow(
        rank=rank_number,
        track_id=_track_id(line, _TRACK_URI, uri),
        artist_names=artists,
        track_name=track,
        label=label or None,
        peak_rank=_integer(line, "peak_rank", peak, 1),
        previous_rank=None if previous_rank == -1 else previous_rank,
        days_on_chart=on_chart_count if chart.period == DAILY else None,
        weeks_on_chart=on_chart_count if chart.period == WEEKLY else None,
        streams=_integer(line, "streams", fields[8], 0) if chart.kind == REGIONAL else None,
    )


def _legacy_row(line: int, fields: list[str], chart: ChartName) -> ChartRow:
    _field_count(line, fields, len(_LEGACY_HEADER))
    position, track, artist, streams, url = fields
    return ChartRow(rank=_integer(line, "Position", position, 1), track_id=_track_id(line, _TRACK_URL, url),
                    artist_names=artist, track_name=track, label=None, peak_rank=None, previous_rank=None,
                    days_on_chart=None, weeks_on_chart=None, streams=_integer(line, "Streams", streams, 0))


def _check_ranks(rows: tuple[ChartRow, ...]) -> None:
    """Ranks ascend with no repeat; a few skipped ranks are Spotify's, more are lost rows."""
    for before, row in zip(rows, rows[1:]):
        if row.rank == before.rank:
            raise ChartFileError(BAD_RANKS, f"rank {row.rank} appears twice")
        if row.rank < before.rank:
            raise ChartFileError(BAD_RANKS, f"rank {row.rank} comes after rank {before.rank}: ranks must ascend")
    missing = rows[-1].rank - len(rows)
    if missing > MAX_MISSING_RANKS:
        present = {row.rank for row in rows}
        listed = [rank for rank in range(1, rows[-1].rank) if rank not in present]
        shown = ", ".join(map(str, listed[:10])) + (", ..." if len(listed) > 10 else "")
        raise ChartFileError(BAD_RANKS, f"{missing} ranks missing below rank {rows[-1].rank} ({shown}): "
                                        f"rows were lost (Spotify's files skip at most a few)")


def chart_records(chart: ChartExport, observed_at: datetime, *, revision: int = 1) -> list[dict[str, Any]]:
    """The contract records of one chart file: a ``chart_entry`` per row, then one
    ``chart_observation``. ``observed_at`` is when it was imported; ``revision`` counts the
    snapshots held for this chart and date, this one included (see ChartExport.poll_id)."""
    read = dict(
        poll_id=chart.poll_id(revision),
        observed_at=contract.format_timestamp(observed_at),
        chart_date=contract.format_date(chart.chart_date),
        origin=contract.ORIGIN_CHART_EXPORT,
        playlist_id=chart.alias,
        chart_label=chart.alias,
        playlist_name=chart.chart.title,
        snapshot_id=chart.snapshot_id,
    )
    entries = [contract.make_record(
        **read,
        position=row.rank,
        entry_type=contract.ENTRY_TRACK,
        track_id=row.track_id,
        track_name=row.track_name,
        artist_ids=[None],
        artist_names=[row.artist_names],
        album_id=None, album_name=None, album_release_date=None, album_release_date_precision=None,
        duration_ms=None, explicit=None, isrc=None, popularity=None, added_at=None,
        streams=row.streams,
        previous_rank=row.previous_rank,
        peak_rank=row.peak_rank,
        days_on_chart=row.days_on_chart,
        weeks_on_chart=row.weeks_on_chart,
        label=row.label,
    ) for row in chart.rows]
    return entries + [contract.make_observation(**read, entry_count=len(chart.rows))]
