"""The daily chart history through the whole local pipeline equals the truth computed
from the CSV files alone (benchmarks/truth/csv_charts.py), in all 10 markets.

The local Spotify server replays 2024-03-01 to 2024-03-21: 2024-03-14 is missing from the
data (the server answers as Spotify failing: a gap) and 2024-03-05 and 2024-03-12 repeat
the day before in every market (the producer sends one observation per chart, no
entries). The deployed producer Lambda polls once per day; Firehose, the Glue job on local
Spark, the local Snowpipe and the views on the local engine do the rest. The whole 556
days: ``make bench-history`` (benchmarks/bench_history.py --truth).
"""
from __future__ import annotations

import time
import uuid
from datetime import date

import pytest

from localdev.pipeline import LocalPipeline, PipelineSettings
from benchmarks.truth.compare import compare
from benchmarks.truth.csv_charts import MARKET_FILES, calendar, market_truth

# The whole pipeline: LocalStack, the Glue job on Spark, fakesnow, the local Spotify server.
pytestmark = [pytest.mark.localstack, pytest.mark.spark, pytest.mark.fakesnow, pytest.mark.spotify_server]

FIRST, LAST = date(2024, 3, 1), date(2024, 3, 21)
GAP_DAY, UNCHANGED_DAYS = date(2024, 3, 14), (date(2024, 3, 5), date(2024, 3, 12))
MARKETS = tuple(MARKET_FILES)


@pytest.fixture(scope="module")
def replayed(localstack, tmp_path_factory, record_timing):
    settings = PipelineSettings(markets=MARKETS, start_date=FIRST, work_dir=tmp_path_factory.mktemp("truth"),
                                stack_name=f"truth-{uuid.uuid4().hex[:6]}")
    days = calendar(FIRST, LAST)
    with LocalPipeline(settings, localstack=localstack) as pipeline:
        started = time.monotonic()
        pipeline.run_days(len(days), glue_every=len(days))  # one Glue run and load at the end
        record_timing(f"truth: {len(days)} days x {len(MARKETS)} markets through the pipeline",
                      time.monotonic() - started)
        yield pipeline, dict(zip(days, pipeline.polls))


def test_each_day_was_polled_as_the_data_has_it(replayed):
    _, polls = replayed
    for day, poll in polls.items():
        if day == GAP_DAY:  # missing from the data: Spotify "fails", nothing is observed
            assert len(poll["failed"]) == len(MARKETS) and poll["observations_sent"] == 0, day
        elif day in UNCHANGED_DAYS:  # one small observation per chart, no entries
            assert len(poll["unchanged"]) == len(MARKETS) and poll["records_sent"] == 0, day
            assert poll["observations_sent"] == len(MARKETS), day
        else:
            assert not poll["failed"] and poll["observations_sent"] == len(MARKETS), day


@pytest.mark.parametrize("label", MARKETS)
def test_the_daily_views_equal_the_csv_truth(replayed, label):
    pipeline, _ = replayed
    truth = market_truth(label, FIRST, LAST)
    assert len(truth.charts) == 20 and sum(len(c.rows) for c in truth.charts) >= 990  # the test is not empty
    result = compare(pipeline.db, truth, FIRST, LAST)
    print(result.line())
    assert result.ok, result.line() + "\n" + "\n".join(result.differences)
