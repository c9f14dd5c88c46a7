import subprocess
import sys

import pytest

from firehose import contract
from glue_streaming import curated


@pytest.mark.parametrize("dataset", list(curated.ALL_DATASETS.values()), ids=lambda d: d.name)
def test_every_dataset_is_well_formed(dataset):
    names = dataset.column_names
    assert len(names) == len(set(names))
    assert {c.type for c in dataset.columns} <= curated.LOGICAL_TYPES
    assert set(dataset.key) <= set(names)
    assert dataset.partition_column in names, "Snowflake COPY needs the partition value inside the file"
    assert not dataset.column(dataset.partition_column).nullable
    assert {"batch_id"} <= set(names)


def test_record_columns_keep_the_contract_types_and_nullability():
    fields = {f.name: f for f in contract.FIELDS}
    for column in curated.CHART_ENTRIES_DATASET.columns:
        if column.name in fields:
            assert (column.type, column.nullable) == (fields[column.name].type, fields[column.name].nullable)
    # Every record field but the version is kept in chart entries.
    assert set(fields) - set(curated.CHART_ENTRIES_DATASET.column_names) == {"schema_version"}
    assert curated.CHART_ENTRIES_DATASET.key == contract.NATURAL_KEY


def test_tracks_and_daily_rows_always_have_a_track_id():
    assert not curated.TRACKS_DATASET.column("track_id").nullable
    assert not curated.CHART_DAILY_DATASET.column("track_id").nullable


def test_curated_schemas_import_without_pyspark():
    code = "import sys, glue_streaming.curated; assert 'pyspark' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=str(__import__("pathlib").Path(__file__).parents[2]))
