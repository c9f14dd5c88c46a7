"""The chart-entry record contract: the one definition every stage shares.

The producer builds records with :func:`make_record` and checks them with
:func:`validate`; the Glue job derives its Spark schema from :data:`FIELDS`; the
Snowflake landing tables are checked against it by a test. Change a field here
and bump :data:`SCHEMA_VERSION`; readers quarantine versions they do not know.

On the wire a record is one JSON object per line (UTF-8, ``\\n``-terminated).
Timestamps are ISO-8601 UTC strings with millisecond precision and a ``Z``
suffix, e.g. ``2026-11-20T22:04:01.123Z``.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterable, Mapping

SCHEMA_VERSION = 1
SUPPORTED_SCHEMA_VERSIONS = frozenset({1})

# Logical types. Consumers map them to their own type systems
# (glue_streaming derives Spark types, snowflake/ derives SQL types).
STRING = "string"
LONG = "long"
BOOLEAN = "boolean"
TIMESTAMP = "timestamp"  # ISO-8601 UTC string on the wire
STRING_ARRAY = "array<string>"

# What an entry of a playlist was. Null entries carry no data and are counted
# and logged by the producer instead of being recorded.
ENTRY_TRACK = "track"
ENTRY_EPISODE = "episode"
ENTRY_LOCAL = "local"  # a local file: no Spotify id
ENTRY_UNAVAILABLE = "unavailable"  # a track Spotify marks as not playable
ENTRY_TYPES = frozenset({ENTRY_TRACK, ENTRY_EPISODE, ENTRY_LOCAL, ENTRY_UNAVAILABLE})

# Firehose's limit for one record is 1,000 KiB (before base64).
MAX_RECORD_BYTES = 1000 * 1024


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    nullable: bool = False
    doc: str = ""


FIELDS: tuple[Field, ...] = (
    Field("schema_version", LONG, doc="Version of this contract the record follows."),
    Field("poll_id", STRING, doc="Id of the producer invocation that observed the entry."),
    Field("observed_at", TIMESTAMP, doc="When the producer read the playlist (UTC)."),
    Field("playlist_id", STRING, doc="Spotify playlist id of the chart."),
    Field("chart_label", STRING, doc="Configured label of the chart, e.g. 'global', 'us'."),
    Field("playlist_name", STRING, doc="Playlist name as Spotify returned it."),
    Field("snapshot_id", STRING, doc="Spotify snapshot id of the playlist version read."),
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
)

FIELD_NAMES: tuple[str, ...] = tuple(f.name for f in FIELDS)
_FIELDS_BY_NAME = {f.name: f for f in FIELDS}

# The natural key of a chart entry: one row per position of one playlist version.
NATURAL_KEY: tuple[str, ...] = ("playlist_id", "snapshot_id", "position")


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


def _type_problem(field: Field, value: Any) -> str | None:
    if value is None:
        return None if field.nullable else f"{field.name}: null not allowed"
    if field.type == STRING:
        ok = isinstance(value, str)
    elif field.type == LONG:
        ok = isinstance(value, int) and not isinstance(value, bool)
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
    elif field.type == STRING_ARRAY:
        ok = isinstance(value, list) and all(v is None or isinstance(v, str) for v in value)
    else:  # pragma: no cover - a new logical type needs a rule here
        raise AssertionError(f"unknown logical type {field.type}")
    return None if ok else f"{field.name}: expected {field.type}, got {type(value).__name__}"


def validate(record: Mapping[str, Any]) -> list[str]:
    """Every way ``record`` breaks the contract; an empty list means it is valid."""
    problems = []
    missing = [n for n in FIELD_NAMES if n not in record]
    extra = sorted(set(record) - set(FIELD_NAMES))
    if missing:
        problems.append(f"missing fields: {', '.join(missing)}")
    if extra:
        problems.append(f"unknown fields: {', '.join(extra)}")
    for name, value in record.items():
        field = _FIELDS_BY_NAME.get(name)
        if field is not None:
            problem = _type_problem(field, value)
            if problem:
                problems.append(problem)
    if problems:
        return problems
    if record["schema_version"] not in SUPPORTED_SCHEMA_VERSIONS:
        problems.append(f"schema_version: unsupported version {record['schema_version']}")
    if record["position"] < 1:
        problems.append(f"position: must be >= 1, got {record['position']}")
    if record["entry_type"] not in ENTRY_TYPES:
        problems.append(f"entry_type: unknown type {record['entry_type']!r}")
    if len(record["artist_ids"]) != len(record["artist_names"]):
        problems.append("artist_ids and artist_names differ in length")
    return problems


def make_record(**values: Any) -> dict[str, Any]:
    """Build a record in contract field order; raise if it breaks the contract."""
    values.setdefault("schema_version", SCHEMA_VERSION)
    record = {name: values.pop(name) for name in FIELD_NAMES if name in values}
    record.update(values)  # leftovers are unknown fields: validate names them
    problems = validate(record)
    if problems:
        raise RecordContractError("; ".join(problems))
    return record


def encode(record: Mapping[str, Any]) -> bytes:
    """One record as a newline-terminated JSON line, within Firehose's size limit."""
    data = (json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")
    if len(data) > MAX_RECORD_BYTES:
        raise RecordTooLargeError(
            f"record {record.get('playlist_id')}#{record.get('position')} is {len(data)} bytes, "
            f"over the {MAX_RECORD_BYTES}-byte Firehose limit"
        )
    return data


def decode_lines(data: bytes | str) -> Iterable[dict[str, Any]]:
    """Records from newline-delimited JSON (what lands in S3), skipping blank lines."""
    text = data.decode("utf-8") if isinstance(data, bytes) else data
    for line in text.splitlines():
        if line.strip():
            yield json.loads(line)
