"""The record contract: the one definition every stage shares.

Two record types travel the same delivery stream, told apart by ``record_type``:

* ``chart_entry``: one record per position of one version (snapshot) of a chart,
  sent when the producer finds a new snapshot. Natural key
  ``(playlist_id, snapshot_id, position)``.
* ``chart_observation``: one small record per successful read of a chart, changed or
  not: "poll P saw snapshot S of playlist X at time T". A day's chart is the snapshot
  its observations saw, so a day on which the chart did not change still has a chart,
  and a day with no observation (the producer down, Spotify failing) has none.
  Natural key ``(playlist_id, poll_id)``.

Two origins feed the stream, told apart by ``origin``: ``playlist`` (the producer read a
chart playlist through the Web API) and ``chart_export`` (the import Lambda read a CSV
file a user downloaded from charts.spotify.com: Top 200 with streams, or Viral 50). An
export's entries also carry what the file states: ``streams``, Spotify's
``previous_rank``, ``peak_rank``, ``days_on_chart`` or ``weeks_on_chart``, the record
``label``; null for a playlist's entries.

Dates: ``observed_at`` is when the chart was read (UTC). ``chart_date`` is the chart's
date when the source states it (an export is the chart of its file's date whenever it
is read); null means the UTC date of ``observed_at``.

The producer builds records with :func:`make_record` / :func:`make_observation` and
checks them with :func:`validate`; the Glue job derives its Spark schema from
:data:`ALL_FIELDS`; the Snowflake landing tables are checked against it by a test.
Change a field here and bump :data:`SCHEMA_VERSION`, giving the field ``since`` the new
version; readers quarantine versions they do not know. Older versions are still read,
each with the fields it had: version 1 (chart entries without ``record_type`` and
``chart_date``) is a chart entry dated by its ``observed_at``; versions 1 and 2 (no
``origin``, no export fields) came from playlists.

On the wire a record is one JSON object per line (UTF-8, ``\\n``-terminated).
Timestamps are ISO-8601 UTC strings with millisecond precision and a ``Z``
suffix, e.g. ``2026-11-20T22:04:01.123Z``; dates are ``YYYY-MM-DD``.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any, Iterable, Mapping

SCHEMA_VERSION = 3
SUPPORTED_SCHEMA_VERSIONS = frozenset({1, 2, 3})

# Logical types. Consumers map them to their own type systems
# (glue_streaming derives Spark types, snowflake/ derives SQL types).
STRING = "string"
LONG = "long"
BOOLEAN = "boolean"
TIMESTAMP = "timestamp"  # ISO-8601 UTC string on the wire
DATE = "date"  # 'YYYY-MM-DD' on the wire
STRING_ARRAY = "array<string>"

# What an entry of a playlist was. Null entries carry no data and are counted
# and logged by the producer instead of being recorded.
ENTRY_TRACK = "track"
ENTRY_EPISODE = "episode"
ENTRY_LOCAL = "local"  # a local file: no Spotify id
ENTRY_UNAVAILABLE = "unavailable"  # a track Spotify marks as not playable
ENTRY_TYPES = frozenset({ENTRY_TRACK, ENTRY_EPISODE, ENTRY_LOCAL, ENTRY_UNAVAILABLE})

# The record types (values of the record_type field).
CHART_ENTRY = "chart_entry"
CHART_OBSERVATION = "chart_observation"

# Where a record's chart came from (values of the origin field).
ORIGIN_PLAYLIST = "playlist"  # the producer read a chart playlist (Web API)
ORIGIN_CHART_EXPORT = "chart_export"  # a charts.spotify.com CSV file, imported
ORIGINS = frozenset({ORIGIN_PLAYLIST, ORIGIN_CHART_EXPORT})

# Firehose's limit for one record is 1,000 KiB (before base64).
MAX_RECORD_BYTES = 1000 * 1024


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    nullable: bool = False
    doc: str = ""
    since: int = 1  # the first SCHEMA_VERSION that has the field


_SCHEMA_VERSION = Field("schema_version", LONG, doc="Version of this contract the record follows.")
_RECORD_TYPE = Field("record_type", STRING, doc="CHART_ENTRY or CHART_OBSERVATION.", since=2)
_POLL_ID = Field("poll_id", STRING, doc="Id of the producer invocation that read the chart.")
_OBSERVED_AT = Field("observed_at", TIMESTAMP, doc=(
    "When the chart was read (UTC): the Date header of Spotify's response, or the producer's clock "
    "when a response has none."))
_CHART_DATE = Field("chart_date", DATE, True, (
    "The chart's date when the source states it (e.g. a charts.spotify.com export); "
    "null: the UTC date of observed_at."), since=2)
_ORIGIN = Field("origin", STRING, doc="One of ORIGINS: a playlist read, or an imported chart export.", since=3)
_PLAYLIST_ID = Field("playlist_id", STRING, doc=(
    "The chart's id: a playlist's Spotify id, or an export's alias (its file name without the date, "
    "e.g. 'regional-ar-daily')."))
_CHART_LABEL = Field("chart_label", STRING, doc="Label of the chart, e.g. 'global', 'us'; an export's: its alias.")
_PLAYLIST_NAME = Field("playlist_name", STRING, doc="Playlist name as Spotify returned it; an export's: its title.")
_SNAPSHOT_ID = Field("snapshot_id", STRING, doc=(
    "Spotify snapshot id of the playlist version read; an export's: derived from the file's content."))

# What every record type starts with: which read of which chart version, when.
_READ_FIELDS: tuple[Field, ...] = (
    _SCHEMA_VERSION,
    _RECORD_TYPE,
    _POLL_ID,
    _OBSERVED_AT,
    _CHART_DATE,
    _ORIGIN,
    _PLAYLIST_ID,
    _CHART_LABEL,
    _PLAYLIST_NAME,
    _SNAPSHOT_ID,
)

# A chart entry: one position of one playlist version.
FIELDS: tuple[Field, ...] = (
    *_READ_FIELDS,
    Field("position", LONG, doc="1-based index of the entry in the playlist."),
    Field("entry_type", STRING, doc="One of ENTRY_TYPES."),
    Field("track_id", STRING, True, "Spotify id; null for local files."),
    Field("track_name", STRING, True, "Track or episode name."),
    Field("artist_ids", STRING_ARRAY, doc="Artist ids, aligned with artist_names (items may be null)."),
    Field("artist_names", STRING_ARRAY, doc="Artist names (for an episode: its show)."),
    Field("album_id", STRING, True),
    Field("album_name", STRING, True),
    Field("album_release_date", STRING, True, "'YYYY', 'YYYY-MM' or 'YYYY-MM-DD'."),
    Field("album_release_date_precision", STRING, True, "'year', 'month' or 'day'."),
    Field("duration_ms", LONG, True),
    Field("explicit", BOOLEAN, True),
    Field("isrc", STRING, True, "International Standard Recording Code, when known."),
    Field("popularity", LONG, True, "0-100; not returned to development-mode apps since 2026."),
    Field("added_at", TIMESTAMP, True, "When the entry was added to the playlist."),
    # What a chart export states of each entry (null for a playlist's entries).
    Field("streams", LONG, True, "Streams counted for the chart's day or week (regional charts).", since=3),
    Field("previous_rank", LONG, True, "Spotify's stated rank on its previous chart; null: new or re-entry.", since=3),
    Field("peak_rank", LONG, True, "Spotify's stated best rank over the chart's whole life.", since=3),
    Field("days_on_chart", LONG, True, "Spotify's stated days on a daily chart, over its whole life.", since=3),
    Field("weeks_on_chart", LONG, True, "Spotify's stated weeks on a weekly chart, over its whole life.", since=3),
    Field("label", STRING, True, "The record label an export names (its 'source' column).", since=3),
)

# The entry fields only chart exports fill: make_record sets them null unless given.
EXPORT_FIELDS: tuple[str, ...] = ("streams", "previous_rank", "peak_rank", "days_on_chart", "weeks_on_chart",
                                  "label")

# A chart observation: one successful read of a chart, changed or not.
OBSERVATION_FIELDS: tuple[Field, ...] = (
    *_READ_FIELDS,
    Field("entry_count", LONG, doc="Chart-entry records the snapshot has (entries the producer skipped not counted)."),
)

FIELD_NAMES: tuple[str, ...] = tuple(f.name for f in FIELDS)
OBSERVATION_FIELD_NAMES: tuple[str, ...] = tuple(f.name for f in OBSERVATION_FIELDS)
# Every field of any record type, once (a field has one type in every record type):
# what a reader of the mixed stream parses.
ALL_FIELDS: tuple[Field, ...] = FIELDS + tuple(f for f in OBSERVATION_FIELDS if f not in FIELDS)
_FIELDS_BY_NAME = {f.name: f for f in ALL_FIELDS}

# The natural key of a chart entry: one row per position of one playlist version.
NATURAL_KEY: tuple[str, ...] = ("playlist_id", "snapshot_id", "position")
# The natural key of an observation: one per chart and poll.
OBSERVATION_KEY: tuple[str, ...] = ("playlist_id", "poll_id")


@dataclass(frozen=True)
class RecordType:
    name: str
    fields: tuple[Field, ...]
    key: tuple[str, ...]
    version: int = SCHEMA_VERSION

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    def of_version(self, version: int) -> "RecordType":
        """This type as an older version had it: the fields it had then."""
        return RecordType(self.name, tuple(f for f in self.fields if f.since <= version), self.key, version)


RECORD_TYPES: dict[str, RecordType] = {
    CHART_ENTRY: RecordType(CHART_ENTRY, FIELDS, NATURAL_KEY),
    CHART_OBSERVATION: RecordType(CHART_OBSERVATION, OBSERVATION_FIELDS, OBSERVATION_KEY),
}


class RecordContractError(ValueError):
    """A record does not follow the contract."""


class RecordTooLargeError(RecordContractError):
    """An encoded record is over Firehose's 1,000 KiB limit."""


def format_timestamp(moment: datetime) -> str:
    """The contract's timestamp text for an aware datetime."""
    if moment.tzinfo is None:
        raise RecordContractError("timestamps must be timezone-aware")
    utc = moment.astimezone(timezone.utc)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def parse_timestamp(text: str) -> datetime:
    """Parse a contract timestamp (also accepts Spotify's second-precision form)."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def format_date(day: date) -> str:
    return day.isoformat()


def parse_date(text: str) -> date:
    """Parse a contract date (exactly ``YYYY-MM-DD``)."""
    if len(text) != 10:
        raise ValueError(f"not a YYYY-MM-DD date: {text!r}")
    return date.fromisoformat(text)


def _type_problem(field: Field, value: Any) -> str | None:
    if value is None:
        return None if field.nullable else f"{field.name}: null not allowed"
    if field.type == STRING:
        ok = isinstance(value, str)
    elif field.type == LONG:
        ok = isinstance(value, int) and not isinstance(value, bool)
        if ok and not -(2**63) <= value < 2**63:  # Parquet's INT64, Snowflake's NUMBER(19)
            return f"{field.name}: expected long, out of 64-bit range"
    elif field.type == BOOLEAN:
        ok = isinstance(value, bool)
    elif field.type == TIMESTAMP:
        if not isinstance(value, str):
            ok = False
        else:
            try:
                ok = parse_timestamp(value).tzinfo is not None
            except ValueError:
                ok = False
    elif field.type == DATE:
        try:
            ok = isinstance(value, str) and parse_date(value) is not None
        except ValueError:
            ok = False
    elif field.type == STRING_ARRAY:
        ok = isinstance(value, list) and all(v is None or isinstance(v, str) for v in value)
    else:  # pragma: no cover - a new logical type needs a rule here
        raise AssertionError(f"unknown logical type {field.type}")
    return None if ok else f"{field.name}: expected {field.type}, got {type(value).__name__}"


def record_type_of(record: Mapping[str, Any]) -> RecordType | None:
    """The record's type, with the fields of its version, by its version and
    ``record_type``; None when neither names one."""
    version = record.get("schema_version")
    version = version if type(version) is int and version in SUPPORTED_SCHEMA_VERSIONS else SCHEMA_VERSION
    if version == 1:  # version 1 knew chart entries only
        return RECORD_TYPES[CHART_ENTRY].of_version(1)
    value = record.get("record_type")
    kind = RECORD_TYPES.get(value) if isinstance(value, str) else None
    return kind.of_version(version) if kind else None


def validate(record: Mapping[str, Any]) -> list[str]:
    """Every way ``record`` breaks the contract; an empty list means it is valid."""
    kind = record_type_of(record)
    if kind is None:
        value = record.get("record_type")
        return [f"record_type: unknown record type {value!r}" if "record_type" in record
                else "missing fields: record_type"]
    problems = []
    names = kind.field_names
    missing = [n for n in names if n not in record]
    extra = sorted(set(record) - set(names))
    if missing:
        problems.append(f"missing fields: {', '.join(missing)}")
    if extra:
        problems.append(f"unknown fields: {', '.join(extra)}")
    for name, value in record.items():
        field = _FIELDS_BY_NAME.get(name) if name in names else None
        if field is not None:
            problem = _type_problem(field, value)
            if problem:
                problems.append(problem)
    if problems:
        return problems
    if "origin" in record and record["origin"] not in ORIGINS:
        problems.append(f"origin: unknown origin {record['origin']!r}")
    if record["schema_version"] not in SUPPORTED_SCHEMA_VERSIONS:
        problems.append(f"schema_version: unsupported version {record['schema_version']}")
    if kind.name == CHART_OBSERVATION:
        if record["entry_count"] < 0:
            problems.append(f"entry_count: must be >= 0, got {record['entry_count']}")
        return problems
    if record["position"] < 1:
        problems.append(f"position: must be >= 1, got {record['position']}")
    problems += [f"{name}: must be >= 1, got {record[name]}" for name in _RANKS_AND_COUNTS
                 if record.get(name) is not None and record[name] < 1]
    if record.get("streams") is not None and record["streams"] < 0:
        problems.append(f"streams: must be >= 0, got {record['streams']}")
    if record["entry_type"] not in ENTRY_TYPES:
        problems.append(f"entry_type: unknown type {record['entry_type']!r}")
    if len(record["artist_ids"]) != len(record["artist_names"]):
        problems.append("artist_ids and artist_names differ in length")
    return problems


def _make(kind: RecordType, values: dict[str, Any]) -> dict[str, Any]:
    values.setdefault("schema_version", SCHEMA_VERSION)
    values.setdefault("record_type", kind.name)
    values.setdefault("chart_date", None)
    values.setdefault("origin", ORIGIN_PLAYLIST)
    if kind.name == CHART_ENTRY:
        for name in EXPORT_FIELDS:
            values.setdefault(name, None)
    record = {name: values.pop(name) for name in kind.field_names if name in values}
    record.update(values)  # leftovers are unknown fields: validate names them
    problems = validate(record)
    if problems:
        raise RecordContractError("; ".join(problems))
    return record


def make_record(**values: Any) -> dict[str, Any]:
    """Build a chart-entry record in contract field order; raise if it breaks the contract.
    ``schema_version``, ``record_type``, ``chart_date`` (null), ``origin`` (a playlist) and
    the export fields (null) are filled in if not given."""
    return _make(RECORD_TYPES[CHART_ENTRY], values)


def make_observation(**values: Any) -> dict[str, Any]:
    """Build a chart-observation record in contract field order; raise if it breaks the contract."""
    return _make(RECORD_TYPES[CHART_OBSERVATION], values)


def encode(record: Mapping[str, Any]) -> bytes:
    """One record as a newline-terminated JSON line, within Firehose's size limit."""
    data = (json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")
    if len(data) > MAX_RECORD_BYTES:
        raise RecordTooLargeError(
            f"record {record.get('playlist_id')}#{record.get('position', record.get('poll_id'))} is "
            f"{len(data)} bytes, "
            f"over the {MAX_RECORD_BYTES}-byte Firehose limit"
        )
    return data


_RANKS_AND_COUNTS = ("previous_rank", "peak_rank", "days_on_chart", "weeks_on_chart")


MALFORMED = "malformed JSON: not a JSON object"
NOT_UTF8 = "not UTF-8"
INVALID = "invalid record: "


def decide_line(line: str | bytes) -> tuple[str | None, dict[str, Any]]:
    """(problem or None, the record with typed values: timestamps as UTC datetimes, dates as
    dates) for one line of what lands in S3 (the Glue job's slow path)."""
    try:
        record = json.loads(line.decode("utf-8") if isinstance(line, bytes) else line)
    except UnicodeDecodeError:
        return NOT_UTF8, {}
    except ValueError:
        return MALFORMED, {}
    if not isinstance(record, dict):
        return MALFORMED, {}
    version = record.get("schema_version")
    if type(version) is int and version not in SUPPORTED_SCHEMA_VERSIONS:
        # A record of another version usually breaks other rules too; the version is the cause.
        return f"unsupported schema_version: {version}", {}
    problems = validate(record)
    if problems:
        return INVALID + "; ".join(problems), {}
    typed = {**record, "record_type": record_type_of(record).name}  # version 1: a chart entry
    for field in ALL_FIELDS:
        if field.type == TIMESTAMP and typed.get(field.name) is not None:
            typed[field.name] = parse_timestamp(typed[field.name]).astimezone(timezone.utc)
        elif field.type == DATE and typed.get(field.name) is not None:
            typed[field.name] = parse_date(typed[field.name])
    return None, typed


def decode_lines(data: bytes | str) -> Iterable[dict[str, Any]]:
    """Records from newline-delimited JSON (what lands in S3), skipping blank lines.

    Lines end at ``\n`` only (a ``\r`` before it is dropped): ``encode`` writes U+2028,
    U+0085 and other characters that ``str.splitlines`` also breaks at as they are, inside
    a record's strings."""
    text = data.decode("utf-8") if isinstance(data, bytes) else data
    for line in text.split("\n"):
        line = line.removesuffix("\r")
        if line.strip():
            yield json.loads(line)
