"""Raw objects -> one row per non-blank line: the record's typed fields, or why the line is
not a record, in Spark's Python workers (``mapInArrow``). How: glue_streaming/README.md,
"What it does with the data", steps 1 and 2 (no Python code per line on the fast path)."""
from __future__ import annotations

import gzip
import zlib
from functools import reduce
from typing import Any, Iterable, Iterator

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pa_json

from firehose import contract

GZIP_MAGIC = b"\x1f\x8b"
_BLANK = " \t\r"

# The contract's logical types in Arrow; the job's Spark types derive from them (transforms.py).
ARROW_TYPES = {contract.STRING: pa.string(), contract.LONG: pa.int64(), contract.BOOLEAN: pa.bool_(),
               contract.TIMESTAMP: pa.timestamp("us", tz="UTC"), contract.DATE: pa.date32(),
               contract.STRING_ARRAY: pa.list_(pa.string())}
# One row per line: every field of every record type (those of the other type null).
ARROW_LINE_SCHEMA = pa.schema([
    pa.field("source_file", pa.string(), nullable=False),
    pa.field("line_number", pa.int64(), nullable=False),  # 1-based; 0 for a file that cannot be read at all
    pa.field("problem", pa.string()),  # null for a valid record
    pa.field("raw_line", pa.string()),  # kept for problems only
    *[pa.field(f.name, ARROW_TYPES[f.type]) for f in contract.ALL_FIELDS],
])
# Timestamps and dates are parsed as text, checked against the contract's form, then cast.
_TIMESTAMP_PATTERN = (r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]"
                      r"(\.[0-9]{1,6})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$")
_DATE_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"
_PATTERNS = {f.name: _TIMESTAMP_PATTERN if f.type == contract.TIMESTAMP else _DATE_PATTERN
             for f in contract.ALL_FIELDS if f.type in (contract.TIMESTAMP, contract.DATE)}
# How a line names the observation type; a line that says so otherwise takes the slow path.
_OBSERVATION_MARK = f'"record_type":"{contract.CHART_OBSERVATION}"'


_ENTRY = contract.RECORD_TYPES[contract.CHART_ENTRY]
_OBSERVATION = contract.RECORD_TYPES[contract.CHART_OBSERVATION]
# What Arrow's JSON reader parses each record type's lines into.
_JSON_SCHEMAS = {kind.name: pa.schema([pa.field(f.name, pa.string() if f.name in _PATTERNS else ARROW_TYPES[f.type])
                                       for f in kind.fields]) for kind in (_ENTRY, _OBSERVATION)}


def read_objects(batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """``mapInArrow`` function: binaryFile batches (path, content) -> ARROW_LINE_SCHEMA batches."""
    for batch in batches:
        for raw_object in batch.to_pylist():
            yield from read_object(raw_object["path"], raw_object["content"] or b"")


def read_object(path: str, content: bytes) -> Iterator[pa.RecordBatch]:
    """The rows of one raw object: gunzipped by its magic bytes (names never decide)."""
    try:
        data = gzip.decompress(content) if content[:2] == GZIP_MAGIC else content
    except (OSError, EOFError, zlib.error) as error:
        yield _line_rows(path, [0], [f"unreadable file: {type(error).__name__}: {error}"], [None], {})
        return
    try:  # the cast checks UTF-8
        text = pa.array([data], pa.large_binary()).cast(pa.large_string())
    except pa.ArrowInvalid:  # rare: the contract finds the lines that are not UTF-8
        numbered = [(n, raw.removesuffix(b"\r")) for n, raw in enumerate(data.split(b"\n"), start=1)
                    if raw.strip(_BLANK.encode())]
        yield _decided(path, [n for n, _ in numbered], [raw for _, raw in numbered])
        return
    lines = pc.split_pattern(text, "\n").flatten().cast(pa.string())
    if b"\r" in data:
        lines = pc.replace_substring_regex(lines, "\r$", "")
    numbers = pa.array(range(1, len(lines) + 1), pa.int64())
    keep = pc.not_equal(pc.utf8_length(pc.utf8_trim(lines, _BLANK)), 0)  # blank lines carry no record
    lines, numbers = lines.filter(keep), numbers.filter(keep)
    # Arrow's reader needs one object per line; a top-level non-object can crash it.
    shaped = pc.and_(pc.starts_with(lines, "{"), pc.ends_with(lines, "}"))
    observation = pc.match_substring(lines, _OBSERVATION_MARK)
    slow = pc.invert(shaped)  # the lines the contract decides one by one
    for kind, in_group in ((_ENTRY, pc.and_(shaped, pc.invert(observation))),
                           (_OBSERVATION, pc.and_(shaped, observation))):
        if not pc.any(in_group).as_py():
            continue
        rows, left = _fast_rows(kind, path, lines.filter(in_group), numbers.filter(in_group))
        if rows is not None and rows.num_rows:
            yield rows
        # ``left`` has one value per line of the group: spread it over all lines.
        slow = pc.or_(slow, pc.replace_with_mask(pa.repeat(pa.scalar(False), len(lines)), in_group, left))
    if pc.any(slow).as_py():
        yield _decided(path, numbers.filter(slow).to_pylist(), lines.filter(slow).to_pylist())


def _fast_rows(kind: contract.RecordType, path: str, lines: pa.Array,
               numbers: pa.Array) -> tuple[pa.RecordBatch | None, pa.Array]:
    """The certified rows of one record type's lines, and a mask of the lines left to the
    contract: all of them when the reader refuses the group (an unknown key, a value of
    the wrong JSON type, a repeated key anywhere) or a date does not exist (Feb 30)."""
    everything = pa.repeat(pa.scalar(True), len(lines))
    joined = pc.binary_join(pa.ListArray.from_arrays(pa.array([0, len(lines)], pa.int32()), lines), "\n")[0]
    data = joined.as_buffer()
    parse = pa_json.ParseOptions(explicit_schema=_JSON_SCHEMAS[kind.name], unexpected_field_behavior="error",
                                 newlines_in_values=False)
    try:  # one block: the reader needs each line whole in a block
        table = pa_json.read_json(pa.BufferReader(data), parse_options=parse,
                                  read_options=pa_json.ReadOptions(use_threads=False, block_size=len(data) + 1))
    except pa.ArrowInvalid:
        return None, everything
    if table.num_rows != len(lines):  # e.g. two objects on one line
        return None, everything
    columns = {name: table[name].combine_chunks() for name in table.column_names}
    certified = _certify(kind, columns, lines)
    try:  # timestamps and dates from text; the patterns admit days that do not exist, Arrow does not
        fields = {name: pc.cast(column.filter(certified), ARROW_LINE_SCHEMA.field(name).type)
                  for name, column in columns.items()}
    except pa.ArrowInvalid:
        return None, everything
    nulls = pa.nulls(len(fields["schema_version"]), pa.string())
    return _line_rows(path, numbers.filter(certified), nulls, nulls, fields), pc.invert(certified)


def _certify(kind: contract.RecordType, columns: dict[str, pa.Array], lines: pa.Array) -> pa.Array:
    """True where a parsed row is certainly a valid record of the current version of its
    type; False: let the contract decide (older versions and other types included)."""
    checks = [pc.equal(columns["schema_version"], contract.SCHEMA_VERSION),
              pc.equal(columns["record_type"], kind.name)]
    for field in kind.fields:
        column = columns[field.name]
        if not field.nullable:
            checks.append(pc.is_valid(column))
        elif column.null_count:  # null must be written as "key":null, not be a missing key
            checks.append(pc.or_(pc.is_valid(column), pc.match_substring(lines, f'"{field.name}":')))
        if field.name in _PATTERNS:
            # Kleene "or": a null field passes (its nullability is checked above), whatever the match says.
            checks.append(pc.or_kleene(pc.is_null(column), pc.match_substring_regex(column, _PATTERNS[field.name])))
    if kind is _ENTRY:
        checks += [pc.greater_equal(columns["position"], 1),
                   pc.is_in(columns["entry_type"], pa.array(sorted(contract.ENTRY_TYPES))),
                   pc.equal(pc.list_value_length(columns["artist_ids"]), pc.list_value_length(columns["artist_names"]))]
    else:
        checks.append(pc.greater_equal(columns["entry_count"], 0))
    return pc.fill_null(reduce(pc.and_, checks), False)


def _decided(path: str, numbers: list[int], lines: list[str | bytes]) -> pa.RecordBatch:
    """Lines decided one by one by the contract (str, or bytes that may not be UTF-8)."""
    verdicts = [contract.decide_line(line) for line in lines]
    raw_lines = [(line.decode("utf-8", "replace") if isinstance(line, bytes) else line) if problem else None
                 for line, (problem, _) in zip(lines, verdicts)]  # undecodable bytes replaced
    return _line_rows(path, numbers, [problem for problem, _ in verdicts], raw_lines,
                      {f.name: [record.get(f.name) for _, record in verdicts] for f in contract.ALL_FIELDS})


def _line_rows(path: str, numbers, problems, raw_lines, fields: dict[str, Any]) -> pa.RecordBatch:
    """Rows of one object in ARROW_LINE_SCHEMA, from Arrow arrays or Python lists; the
    fields not given (those of the other record type, or all for a problem) are null."""
    nulls = {f.name: pa.nulls(len(numbers), ARROW_TYPES[f.type]) for f in contract.ALL_FIELDS}
    return pa.RecordBatch.from_pydict({"source_file": pa.repeat(pa.scalar(path, pa.string()), len(numbers)),
                                       "line_number": numbers, "problem": problems, "raw_line": raw_lines,
                                       **nulls, **fields}, schema=ARROW_LINE_SCHEMA)
