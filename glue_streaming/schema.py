"""Spark types derived from the record contract and the curated dataset definitions."""
from __future__ import annotations

from pyspark.sql import types as T

from firehose import contract
from glue_streaming import curated

_SPARK_TYPES = {
    contract.STRING: T.StringType(),
    contract.LONG: T.LongType(),
    contract.BOOLEAN: T.BooleanType(),
    contract.TIMESTAMP: T.TimestampType(),
    contract.DATE: T.DateType(),
    contract.STRING_ARRAY: T.ArrayType(T.StringType(), containsNull=True),
}

# What binaryFile yields per raw object; a streaming source needs it up front.
RAW_FILE_SCHEMA = T.StructType([
    T.StructField("path", T.StringType(), False),
    T.StructField("modificationTime", T.TimestampType(), False),
    T.StructField("length", T.LongType(), False),
    T.StructField("content", T.BinaryType(), True),
])


def spark_type(logical_type: str) -> T.DataType:
    return _SPARK_TYPES[logical_type]


def line_schema() -> T.StructType:
    """One row per raw line, as ``glue_streaming.lines`` yields it: where it came from,
    its problem or null, the raw text of a problem line, every field of every record type
    typed (those of the other type null)."""
    return T.StructType([
        T.StructField("source_file", T.StringType(), False),
        T.StructField("line_number", T.LongType(), False),
        T.StructField("problem", T.StringType(), True),
        T.StructField("raw_line", T.StringType(), True),
        *[T.StructField(f.name, spark_type(f.type), True) for f in contract.ALL_FIELDS],
    ])


LINE_SCHEMA = line_schema()


def dataset_schema(dataset: curated.Dataset) -> T.StructType:
    return T.StructType([T.StructField(c.name, spark_type(c.type), c.nullable) for c in dataset.columns])
