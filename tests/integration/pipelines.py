"""The whole local pipeline as the end-to-end and fault tests run it: the same markets
and chart days (one gap day inside), each module in its own stack."""
from __future__ import annotations

import uuid
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Iterator

from localdev.pipeline import LocalPipeline, PipelineSettings
from tests.integration.chart_expectations import chart_days

PIPELINE_MARKETS = ("global", "us")
PIPELINE_DAYS = chart_days(date(2024, 3, 12), 4)


@contextmanager
def running_pipeline(localstack, work_dir: Path, name: str) -> Iterator[LocalPipeline]:
    """A LocalPipeline over PIPELINE_MARKETS from the first of PIPELINE_DAYS, in a stack of its own."""
    settings = PipelineSettings(markets=PIPELINE_MARKETS, start_date=PIPELINE_DAYS[0], work_dir=work_dir,
                                stack_name=f"{name}-{uuid.uuid4().hex[:6]}")
    with LocalPipeline(settings, localstack=localstack) as running:
        yield running
