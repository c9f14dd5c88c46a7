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


@pytest.mark.parametrize("record_type, dataset", [(contract.CHART_ENTRY, curated.CHART_ENTRIES_DATASET),
                                                  (contract.CHART_OBSERVATION, curated.CHART_OBSERVATIONS_DATASET)])
def test_record_columns_keep_the_contract_types_and_nullability(record_type, dataset):
    kind = contract.RECORD_TYPES[record_type]
    fields = {f.name: f for f in kind.fields}
    for column in dataset.columns:
        if column.name == "chart_date":  # resolved: the record's chart date, else observed_at's date
            assert (column.type, column.nullable) == (contract.DATE, False)
        elif column.name in fields:
            assert (column.type, column.nullable) == (fields[column.name].type, fields[column.name].nullable)
    # Every record field but the version and the type (the dataset is the type) is kept.
    assert set(fields) - set(dataset.column_names) == {"schema_version", "record_type"}
    assert dataset.key == kind.key


def test_curated_schemas_import_without_pyspark():
    code = "import sys, glue_streaming.curated; assert 'pyspark' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=str(__import__("pathlib").Path(__file__).parents[2]))
