"""Raw objects -> one row per line: the record's typed fields, or why the line is not a record.

Runs inside Spark's Python workers (``DataFrame.mapInArrow``), one raw object at a time:

1. Gunzip when the bytes start with the gzip magic number, never by name: real
   Firehose objects have no ``.gz`` suffix, local emulators write plain objects.
2. Split into lines; blank lines carry no record and are skipped (their numbers too).
3. Fast path, per record type: lines that name ``"record_type":"chart_observation"``
   form one group, the others (chart entries) another. Arrow's JSON reader parses a
   group's lines at once with that type's fields. It is strict (an unknown key, a value
   of the wrong JSON type, a repeated key fail the whole group), and vectorised checks
   then certify each row as a valid record of the current version.
4. Every line the fast path cannot certify is decided by the contract itself
   (``json.loads`` + ``firehose.contract.validate``), one line at a time. Such lines
   are rare (a broken line, another writer's formatting, a version-1 record), and the
   verdicts and reasons are the contract's own.

A row holds every field of every record type (:data:`firehose.contract.ALL_FIELDS`);
those its type lacks are null. Version-1 records become chart entries of version 2
(``record_type`` filled in, no ``chart_date``).

No Python code runs per line on the fast path: that is what makes the job fast.
"""
from __future__ import annotations

import gzip
import json
import zlib
from datetime import timezone
from typing import Any, Iterable, Iterator

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pa_json

from firehose import contract

GZIP_MAGIC = b"\x1f\x8b"
MALFORMED = "malformed JSON: not a JSON object"
NOT_UTF8 = "not UTF-8"
INVALID = "invalid record: "
_BLANK = " \t\r"
_LONG_RANGE = (-(2**63), 2**63 - 1)

# Logical types -> Arrow types (the Arrow twin of schema.spark_type; curated files use it too).
ARROW_TYPES = {
    contract.STRING: pa.string(),
    contract.LONG: pa.int64(),
    contract.BOOLEAN: pa.bool_(),
    contract.TIMESTAMP: pa.timestamp("us", tz="UTC"),
    contract.DATE: pa.date32(),
    contract.STRING_ARRAY: pa.list_(pa.string()),
}
# One row per line, what read_records hands to Spark.
ARROW_LINE_SCHEMA = pa.schema([
    pa.field("source_file", pa.string(), nullable=False),
    pa.field("line_number", pa.int64(), nullable=False),  # 1-based; 0 for a file that cannot be read at all
    pa.field("problem", pa.string()),  # null for a valid record
    pa.field("raw_line", pa.string()),  # kept for problems only
    *[pa.field(f.name, ARROW_TYPES[f.type]) for f in contract.ALL_FIELDS],
])
_TEXT_TYPES = (contract.TIMESTAMP, contract.DATE)  # parsed as text, checked and cast afterwards
_TIMESTAMPS = [f.name for f in contract.ALL_FIELDS if f.type == contract.TIMESTAMP]
_DATES = [f.name for f in contract.ALL_FIELDS if f.type == contract.DATE]
# The contract's timestamp form and its offset variant; anything else takes the slow path.
_TIMESTAMP_PATTERN = (r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]"
                      r"(\.[0-9]{1,6})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$")
_DATE_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"
# How a line names the observation type; a line that says so otherwise takes the slow path.
_OBSERVATION_MARK = f'"record_type":"{contract.CHART_OBSERVATION}"'


class _FastType:
    """What the fast path needs to know of one record type."""

    def __init__(self, kind: contract.RecordType):
        self.kind = kind
        self.json_schema = pa.schema([  # what Arrow's JSON reader parses into
            pa.field(f.name, pa.string() if f.type in _TEXT_TYPES else ARROW_TYPES[f.type]) for f in kind.fields])
        self.required = [f.name for f in kind.fields if not f.nullable]
        self.nullable = [f.name for f in kind.fields if f.nullable]
        self.names = set(kind.field_names)


_ENTRY = _FastType(contract.RECORD_TYPES[contract.CHART_ENTRY])
_OBSERVATION = _FastType(contract.RECORD_TYPES[contract.CHART_OBSERVATION])


def read_objects(batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """``mapInArrow`` function: binaryFile batches (path, content) -> ARROW_LINE_SCHEMA batches."""
    for batch in batches:
        paths, contents = batch.column("path"), batch.column("content")
        for index in range(batch.num_rows):
            content = contents[index].as_buffer()
            yield from read_object(paths[index].as_py(), b"" if content is None else content.to_pybytes())


def read_object(path: str, content: bytes) -> Iterator[pa.RecordBatch]:
    """The rows of one raw object (see the module docstring)."""
    try:
        data = gzip.decompress(content) if content[:2] == GZIP_MAGIC else content
    except (OSError, EOFError, zlib.error) as error:
        problem = pa.array([f"unreadable file: {type(error).__name__}: {error}"])
        yield _line_rows(path, pa.array([0], pa.int64()), problem, pa.nulls(1, pa.string()),
                         [pa.nulls(1, ARROW_TYPES[f.type]) for f in contract.ALL_FIELDS])
        return
    if not data:
        return
    try:
        text = _utf8_text(data)
    except pa.ArrowInvalid:
        yield from _slow_object(path, data)  # rare: find the lines that are not UTF-8
        return
    lines = pc.split_pattern(text, "\n").flatten().cast(pa.string())
    if b"\r" in data:
        lines = pc.replace_substring_regex(lines, "\r$", "")
    numbers = pa.array(range(1, len(lines) + 1), pa.int64())
    keep = pc.not_equal(pc.utf8_length(pc.utf8_trim(lines, _BLANK)), 0)
    lines, numbers = lines.filter(keep), numbers.filter(keep)
    if not len(lines):
        return
    # Arrow's reader needs one object per line; a top-level non-object can crash it.
    shaped = pc.and_(pc.starts_with(lines, "{"), pc.ends_with(lines, "}"))
    observation = pc.match_substring(lines, _OBSERVATION_MARK)
    rejected = [pc.invert(shaped)]  # masks over lines: what the contract decides line by line
    for fast, in_group in ((_ENTRY, pc.and_(shaped, pc.invert(observation))), (_OBSERVATION, pc.and_(shaped, observation))):
        group_lines, group_numbers = lines.filter(in_group), numbers.filter(in_group)
        if not len(group_lines):
            continue
        table = _parse_fast(fast, group_lines, data if len(group_lines) == len(lines) else None)
        if table is None:  # the group breaks the reader's strict rules somewhere: decide line by line
            rejected.append(in_group)
            continue
        certified = _certify(fast, table, group_lines)
        rows = _fast_rows(fast, path, group_numbers.filter(certified), table.filter(certified))
        if rows is None:  # a timestamp or date of a day that does not exist (Feb 30): rare
            rejected.append(in_group)
            continue
        if rows.num_rows:
            yield rows
        rejected.append(_scatter(in_group, pc.invert(certified)))
    slow = rejected[0]
    for mask in rejected[1:]:
        slow = pc.or_(slow, mask)
    if pc.any(slow).as_py():
        yield _slow_rows(path, lines.filter(slow).to_pylist(), numbers.filter(slow).to_pylist())


def _scatter(group: pa.Array, values: pa.Array) -> pa.Array:
    """A mask over all lines: ``values`` (one per line of ``group``) where ``group`` is true, else false."""
    return pc.replace_with_mask(pa.repeat(pa.scalar(False), len(group)), group, values)


def _utf8_text(data: bytes) -> pa.Array:
    """``data`` as a one-value Arrow string array, without copying; ArrowInvalid when it is
    not UTF-8 (checked in C, about ten times faster than a cast, which copies)."""
    offsets = pa.array([0, len(data)], pa.int64()).buffers()[1]
    text = pa.Array.from_buffers(pa.large_string(), 1, [None, offsets, pa.py_buffer(data)])
    text.validate(full=True)
    return text


def _parse_fast(fast: _FastType, lines: pa.Array, data: bytes | None) -> pa.Table | None:
    """The lines parsed with one record type's fields, or None when the reader refuses them."""
    if data is None:  # the object has other lines too: parse only these
        data = "\n".join(lines.to_pylist()).encode("utf-8")
    longest = pc.max(pc.binary_length(lines)).as_py()
    options = pa_json.ReadOptions(use_threads=False, block_size=max(1 << 20, 2 * longest + 2))
    parse = pa_json.ParseOptions(explicit_schema=fast.json_schema, unexpected_field_behavior="error",
                                 newlines_in_values=False)
    try:
        table = pa_json.read_json(pa.BufferReader(data), read_options=options, parse_options=parse)
    except pa.ArrowInvalid:
        return None
    return table if table.num_rows == len(lines) else None  # e.g. two objects on one line


def _certify(fast: _FastType, table: pa.Table, lines: pa.Array) -> pa.Array:
    """True where a parsed row is certainly a valid record of the current version of its
    type (False: let the contract decide)."""
    ok = pa.repeat(pa.scalar(True), table.num_rows)
    for name in fast.required:
        ok = pc.and_(ok, pc.is_valid(table[name]))
    for name in fast.nullable:  # null must come from the key, not from its absence
        column = table[name]
        if column.null_count:
            ok = pc.and_(ok, pc.or_(pc.is_valid(column), pc.match_substring(lines, f'"{name}":')))
    for name in fast.names:
        pattern = _TIMESTAMP_PATTERN if name in _TIMESTAMPS else _DATE_PATTERN if name in _DATES else None
        if pattern:
            column = table[name]  # or_kleene: null OR true is true (or_ would make it null: not certified)
            ok = pc.and_(ok, pc.or_kleene(pc.is_null(column), pc.match_substring_regex(column, pattern)))
    # Older versions (and types) are the contract's to decide.
    ok = pc.and_(ok, pc.equal(table["schema_version"], contract.SCHEMA_VERSION))
    ok = pc.and_(ok, pc.equal(table["record_type"], fast.kind.name))
    if fast is _ENTRY:
        ok = pc.and_(ok, pc.greater_equal(table["position"], 1))
        ok = pc.and_(ok, pc.is_in(table["entry_type"], pa.array(sorted(contract.ENTRY_TYPES))))
        ok = pc.and_(ok, pc.equal(pc.list_value_length(table["artist_ids"]),
                                  pc.list_value_length(table["artist_names"])))
    else:
        ok = pc.and_(ok, pc.greater_equal(table["entry_count"], 0))
    return pc.fill_null(ok, False).combine_chunks() if isinstance(ok, pa.ChunkedArray) else pc.fill_null(ok, False)


def _fast_rows(fast: _FastType, path: str, numbers: pa.Array, table: pa.Table) -> pa.RecordBatch | None:
    """Certified rows in the line schema (fields of the other type null), timestamps and
    dates cast; None when one cannot be."""
    columns = []
    for field in contract.ALL_FIELDS:
        if field.name not in fast.names:
            columns.append(pa.nulls(len(numbers), ARROW_TYPES[field.type]))
            continue
        column = table[field.name]
        if field.type in _TEXT_TYPES:
            try:  # the patterns admit dates that do not exist; Arrow refuses them
                column = pc.cast(column, ARROW_TYPES[field.type])
            except pa.ArrowInvalid:
                return None
        columns.append(column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column)
    return _line_rows(path, numbers, pa.nulls(len(numbers), pa.string()), pa.nulls(len(numbers), pa.string()),
                      columns)


def _slow_object(path: str, data: bytes) -> Iterator[pa.RecordBatch]:
    """An object that is not UTF-8 throughout: decide every line here."""
    lines, numbers = [], []
    for number, raw in enumerate(data.split(b"\n"), start=1):
        if raw.strip(_BLANK.encode()):
            lines.append(raw.removesuffix(b"\r"))
            numbers.append(number)
    yield _slow_rows(path, lines, numbers)


def _slow_rows(path: str, lines: list[Any], numbers: list[int]) -> pa.RecordBatch:
    """Lines decided one by one by the contract (``lines``: str, or bytes that may not be UTF-8)."""
    problems, raw_lines, records = [], [], []
    for line in lines:
        if isinstance(line, bytes):
            try:
                line = line.decode("utf-8")
            except UnicodeDecodeError:
                problems.append(NOT_UTF8)
                raw_lines.append(line.decode("utf-8", "replace"))  # kept, undecodable bytes replaced
                records.append({})
                continue
        problem, record = decide_line(line)
        problems.append(problem)
        raw_lines.append(line if problem else None)
        records.append(record if problem is None else {})
    columns = [pa.array([r.get(f.name) for r in records], ARROW_TYPES[f.type]) for f in contract.ALL_FIELDS]
    return _line_rows(path, pa.array(numbers, pa.int64()), pa.array(problems, pa.string()),
                      pa.array(raw_lines, pa.string()), columns)


def decide_line(line: str) -> tuple[str | None, dict[str, Any]]:
    """(problem or None, the record with typed values) for one line, by the contract's rules."""
    try:
        record = json.loads(line)
    except ValueError:
        return MALFORMED, {}
    if not isinstance(record, dict):
        return MALFORMED, {}
    version = record.get("schema_version")
    if _is_long(version) and version not in contract.SUPPORTED_SCHEMA_VERSIONS:
        # A record of another version usually breaks other rules too; the version is the cause.
        return f"unsupported schema_version: {version}", {}
    problems = contract.validate(record)
    problems += [f"{f.name}: expected {f.type}, out of 64-bit range" for f in contract.ALL_FIELDS
                 if f.type == contract.LONG and _is_long(record.get(f.name))
                 and not _LONG_RANGE[0] <= record[f.name] <= _LONG_RANGE[1]]
    if problems:
        return INVALID + "; ".join(problems), {}
    typed = dict(record)
    typed["record_type"] = contract.record_type_of(record).name  # version 1: a chart entry
    for name in _TIMESTAMPS:
        if typed.get(name) is not None:
            typed[name] = contract.parse_timestamp(typed[name]).astimezone(timezone.utc)
    for name in _DATES:
        if typed.get(name) is not None:
            typed[name] = contract.parse_date(typed[name])
    return None, typed


def _is_long(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _line_rows(path: str, numbers: pa.Array, problems: pa.Array, raw_lines: pa.Array,
               columns: list[pa.Array]) -> pa.RecordBatch:
    """One batch of ARROW_LINE_SCHEMA: rows of one object, each standing for one line."""
    rows = len(numbers)
    return pa.RecordBatch.from_arrays(
        [pa.repeat(pa.scalar(path, pa.string()), rows), numbers, problems, raw_lines, *columns],
        schema=ARROW_LINE_SCHEMA,
    )
