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
    contract.STRING_ARRAY: T.ArrayType(T.StringType(), containsNull=True),
    curated.DATE: T.DateType(),
}

TIMESTAMP_FIELDS: tuple[str, ...] = tuple(f.name for f in contract.FIELDS if f.type == contract.TIMESTAMP)

# What binaryFile yields per raw object; a streaming source needs it up front.
RAW_FILE_SCHEMA = T.StructType([
    T.StructField("path", T.StringType(), False),
    T.StructField("modificationTime", T.TimestampType(), False),
    T.StructField("length", T.LongType(), False),
    T.StructField("content", T.BinaryType(), True),
])

# What glue_streaming.decode.decode_object returns per file.
DECODED_OBJECT_TYPE = T.StructType([
    T.StructField("data", T.BinaryType(), True),
    T.StructField("bad_lines", T.ArrayType(T.LongType(), False), False),
    T.StructField("problem", T.StringType(), True),
])


def spark_type(logical_type: str) -> T.DataType:
    return _SPARK_TYPES[logical_type]


def record_read_schema() -> T.StructType:
    """The contract's fields for from_json. Timestamps are read as text and cast
    afterwards, so a value Spark cannot parse is caught instead of becoming null."""
    return T.StructType([
        T.StructField(f.name, T.StringType() if f.type == contract.TIMESTAMP else spark_type(f.type), True)
        for f in contract.FIELDS
    ])


def record_text_schema() -> T.StructType:
    """Every field as its JSON text: non-null exactly when the key holds a non-null value."""
    return T.StructType([T.StructField(f.name, T.StringType(), True) for f in contract.FIELDS])


def dataset_schema(dataset: curated.Dataset) -> T.StructType:
    return T.StructType([T.StructField(c.name, spark_type(c.type), c.nullable) for c in dataset.columns])
