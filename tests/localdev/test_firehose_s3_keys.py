"""Firehose S3 keys as AWS builds them: the LocalStack plugin's key function (localdev/localstack_plugins).

The plugin runs inside LocalStack's own virtualenv; its key module has no LocalStack
import, so it is loaded here from its file. tests/infra/test_deploy_localstack.py checks
the keys LocalStack writes with the plugin installed.
"""
from __future__ import annotations

import importlib.util
import re
from datetime import datetime, timezone

import pytest

from firehose import settings
from localdev import localstack as ls

MOMENT = datetime(2026, 11, 29, 7, 5, 9, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def keys():
    spec = importlib.util.spec_from_file_location("firehose_s3_keys_under_test",
                                                  ls.PLUGINS_DIST / "firehose_s3_keys" / "keys.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_stacks_raw_prefix_becomes_its_hive_partitions(keys):
    key = keys.object_key(settings.RAW_PREFIX, "charts-chart-entries", MOMENT)
    assert re.fullmatch(r"raw/chart_entries/dt=2026-11-29/hour=07/"
                        r"charts-chart-entries-2026-11-29-07-05-09-[0-9a-f-]{36}", key), key


def test_a_prefix_without_a_timestamp_expression_gets_the_default_time_folders(keys):
    assert keys.evaluate_prefix("raw/", MOMENT) == "raw/2026/11/29/07/"
    assert keys.evaluate_prefix("", MOMENT) == "2026/11/29/07/"
    assert keys.evaluate_prefix("legacy", MOMENT) == "legacy2026/11/29/07/"  # AWS adds no '/'
    random_prefix = keys.evaluate_prefix("r=!{firehose:random-string}/", MOMENT)
    assert re.fullmatch(r"r=[A-Za-z0-9]{11}/2026/11/29/07/", random_prefix), random_prefix


def test_java_patterns_and_quoted_literals(keys):
    assert keys.evaluate_prefix("!{timestamp:yyyy/MM/dd}/!{timestamp:'h'HH'm'mm}/", MOMENT) == "2026/11/29/h07m05/"
    assert keys.evaluate_prefix("y=!{timestamp:yy}/", MOMENT) == "y=26/"


def test_what_it_does_not_evaluate_fails_loudly_rather_than_writing_a_wrong_key(keys):
    with pytest.raises(keys.PrefixExpressionError, match="'E'"):
        keys.evaluate_prefix("d=!{timestamp:EEE}/", MOMENT)
    with pytest.raises(keys.PrefixExpressionError, match="partitionKeyFromQuery"):
        keys.evaluate_prefix("c=!{partitionKeyFromQuery:chart}/!{timestamp:yyyy}/", MOMENT)
