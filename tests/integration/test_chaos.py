"""A short chaos replay (#21 item 8; benchmarks/chaos.py, the long one is ``make chaos``): four
chart days of the Global and US charts through the whole local pipeline with faults injected
at random, seeded, in every stage (Spotify's answers, Firehose, Glue, the S3 notifications,
the curated files). At the end the views equal the truth computed from the CSV files alone,
which is what a fault-free run shows (tests/integration/test_chart_truth.py), and nothing is
left unrepaired or duplicated."""
from __future__ import annotations

import time
import uuid
from datetime import date, timedelta

import pytest

from benchmarks.chaos import GLUE_FAULTS, LOAD_FAULTS, PRODUCER_FAULTS, ChaosReplay, ChaosSettings
from benchmarks.truth.compare import compare
from benchmarks.truth.csv_charts import market_truth
from localdev.pipeline import LocalPipeline, PipelineSettings

pytestmark = [pytest.mark.localstack, pytest.mark.spark, pytest.mark.fakesnow, pytest.mark.spotify_server]

FIRST, DAYS = date(2024, 3, 1), 4
MARKETS = ("global", "us")


def test_a_seeded_chaos_replay_ends_with_the_views_of_a_clean_run(localstack, tmp_path, record_timing):
    settings = PipelineSettings(markets=MARKETS, start_date=FIRST, work_dir=tmp_path,
                                stack_name=f"chaos-{uuid.uuid4().hex[:6]}")
    chaos = ChaosSettings(days=DAYS, seed=4, fault_rate=0.7, glue_every=2)
    started = time.monotonic()
    with LocalPipeline(settings, localstack=localstack) as pipeline:
        report = ChaosReplay(pipeline, chaos, pipeline.say).run()
        print("faults injected:", dict(report.faults))
        # Every stage had its faults.
        for stage in (PRODUCER_FAULTS, GLUE_FAULTS, LOAD_FAULTS):
            assert any(report.faults[kind] for kind in stage), f"no fault among {stage}: the replay proves less"
        assert report.unrepaired == {}
        last = FIRST + timedelta(days=DAYS - 1)
        for label in MARKETS:
            result = compare(pipeline.db, market_truth(label, FIRST, last), FIRST, last)
            assert result.ok, result.line() + "\n" + "\n".join(result.differences)
        [counts] = pipeline.query("SELECT COUNT(*) AS n, COUNT(DISTINCT playlist_id || '/' || snapshot_id || '/' "
                                  "|| position) AS keys FROM chart_entries")
        assert counts["n"] == counts["keys"] == 2 * 50 * DAYS  # each chart changed every day: 50 entries each
    record_timing(f"chaos: {DAYS} days, {sum(report.faults.values())} faults survived", time.monotonic() - started)
