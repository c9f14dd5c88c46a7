"""The record contract's rules (``firehose.contract.validate``) as Spark column expressions.

Validating in the JVM keeps Python off the per-line path (``json.loads`` plus
``validate`` for every line caps a job at about 20,000 rows/s per core). All rules
are derived from the contract's constants, and a test feeds the same good and
broken lines to this and to ``contract.validate`` and requires the same verdicts.

Fast path: the producer writes records with ``contract.encode`` (compact JSON,
fields in contract order). If re-serializing the typed parse gives back the line
byte for byte, the line has exactly the contract's keys, each with a value of the
contract's type; only the value rules remain to check. Any other line (another
writer's spacing or key order, a wrong type, a missing or unknown key) takes the
slow path, which also parses the line for its keys and each value's JSON text.
"""
from __future__ import annotations

from pyspark.sql import Column
from pyspark.sql import functions as F

from firehose import contract
from glue_streaming.schema import record_read_schema, record_text_schema

MALFORMED = "malformed JSON: not a JSON object"
_NAMES = contract.FIELD_NAMES


def parse_typed(line: Column) -> dict[str, Column]:
    """The typed record, and whether the line is its canonical serialization."""
    typed = F.from_json(line, record_read_schema())
    return {"typed": typed, "canonical": F.to_json(typed, {"ignoreNullFields": "false"}) == line}


def parse_shape(line: Column, canonical: Column) -> dict[str, Column]:
    """Off the fast path only: the keys (null when not a JSON object) and each value's JSON text."""
    return {
        "keys": F.when(~canonical, F.json_object_keys(line)),
        "text": F.when(~canonical, F.from_json(line, record_text_schema())),
    }


def typed_value(typed: Column, field: contract.Field) -> Column:
    """A field's value with its Spark type (timestamps cast from their text)."""
    value = typed[field.name]
    if field.type == contract.TIMESTAMP:
        return F.try_to_timestamp(value)
    return value


def _timestamp_problem(typed: Column, field: contract.Field) -> Column:
    """True when a timestamp's text is not one Spark reads, or has no time zone
    (the contract wants aware timestamps: 'Z' or an offset)."""
    text = typed[field.name]
    zoned = text.endswith("Z") | text.rlike(r"[+-][0-9]{2}(:?[0-9]{2})?$")
    return text.isNotNull() & (typed_value(typed, field).isNull() | ~zoned)


def record_problem(parsed: Column) -> Column:
    """Why a line is not a valid record (a string), or null when it is one.

    ``parsed`` is a struct of the columns :func:`parse_typed` and :func:`parse_shape` return."""
    typed, keys, text = parsed["typed"], parsed["keys"], parsed["text"]
    version = typed["schema_version"]
    supported = F.array(*[F.lit(v).cast("long") for v in sorted(contract.SUPPORTED_SCHEMA_VERSIONS)])
    other_version = version.isNotNull() & ~F.array_contains(supported, version)
    value_rules = _joined([
        *[F.when(typed[f.name].isNull(), F.lit(f"{f.name}: null not allowed"))
          for f in contract.FIELDS if not f.nullable],
        *[F.when(_timestamp_problem(typed, f), F.lit(f"{f.name}: expected {f.type}"))
          for f in contract.FIELDS if f.type == contract.TIMESTAMP],
        F.when(typed["position"] < 1, F.concat(F.lit("position: must be >= 1, got "),
                                                typed["position"].cast("string"))),
        F.when(~typed["entry_type"].isin(*sorted(contract.ENTRY_TYPES)),
               F.concat(F.lit("entry_type: unknown type "), typed["entry_type"])),
        F.when(F.size(typed["artist_ids"]) != F.size(typed["artist_names"]),
               F.lit("artist_ids and artist_names differ in length")),
    ])
    names = F.array(*[F.lit(n) for n in _NAMES])
    missing = F.array_except(names, keys)
    extra = F.array_sort(F.array_except(keys, names))
    shape_rules = _joined([
        F.when(F.size(missing) > 0, F.concat(F.lit("missing fields: "), F.concat_ws(", ", missing))),
        F.when(F.size(extra) > 0, F.concat(F.lit("unknown fields: "), F.concat_ws(", ", extra))),
        *[F.when(F.array_contains(keys, f.name) & text[f.name].isNull(), F.lit(f"{f.name}: null not allowed"))
          for f in contract.FIELDS if not f.nullable],
        *[F.when(text[f.name].isNotNull() & typed[f.name].isNull(), F.lit(f"{f.name}: expected {f.type}"))
          for f in contract.FIELDS],
    ])
    invalid = F.lit("invalid record: ")
    return (
        F.when(parsed["canonical"], F.when(other_version, _unsupported(version))
               .when(value_rules.isNotNull(), F.concat(invalid, value_rules)))
        .when(keys.isNull(), F.lit(MALFORMED))
        # A record of another version usually breaks other rules too; the version is the cause.
        .when(other_version, _unsupported(version))
        .when(shape_rules.isNotNull(), F.concat(invalid, shape_rules))
        .when(value_rules.isNotNull(), F.concat(invalid, value_rules))
    )


def _unsupported(version: Column) -> Column:
    return F.concat(F.lit("unsupported schema_version: "), version.cast("string"))


def _joined(problems: list[Column]) -> Column:
    """The non-null problems joined with '; ', or null when there are none."""
    text = F.concat_ws("; ", *problems)
    return F.when(text != "", text)
