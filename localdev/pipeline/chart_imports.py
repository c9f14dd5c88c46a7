"""The chart-export source of the local pipeline: files go where a user's would, through
the deployed path: ``spotify-charts import``'s own code uploads them under the stack's
imports bucket's ``incoming/``, LocalStack's S3 notification invokes the deployed import
Lambda, which puts their records on the delivery stream; the next Glue run and load
take them like the producer's."""
from __future__ import annotations

import io
import tempfile
import time
from pathlib import Path

from localdev.pipeline.progress import Say
from localdev.pipeline.settings import PipelineError
from localdev.pipeline.stack import Stack
from spotify_charts.imports import ChartImporter, ImportSummary, collect_files, outcome_lines, pack_csv_files

# A year of two markets is 732 files; LocalStack runs one Lambda invocation at a time here.
RESULTS_TIMEOUT_SECONDS = 900.0


class ChartImports:
    """Imports folders, files and zips of chart exports into the deployed stack."""

    def __init__(self, say: Say, stack: Stack):
        self.say, self.stack = say, stack
        self.busy_seconds = 0.0
        self.summaries: list[ImportSummary] = []

    def run(self, paths: list[Path | str], *, each_file: bool = False) -> ImportSummary:
        """Upload ``paths`` and wait for the import Lambda's verdict on every file."""
        started = time.monotonic()
        files = collect_files(paths)
        bucket = self.stack.outputs["ImportsBucketName"]
        importer = ChartImporter(bucket, self.stack.aws("s3"), out=io.StringIO())  # one line each, below
        with tempfile.TemporaryDirectory(prefix="chart-exports-") as folder:
            sources = pack_csv_files(files, Path(folder))
            self.say("import", f"{len(files)} files in {len(sources)} uploads "
                               f"({sum(f.stat().st_size for f in sources):,} bytes) to s3://{bucket}/incoming/ "
                               "-> import Lambda -> Firehose ...")
            uploads = importer.upload(sources)
        summary = importer.wait(uploads, RESULTS_TIMEOUT_SECONDS)
        self.summaries.append(summary)
        self.busy_seconds += time.monotonic() - started
        lines = outcome_lines(summary)
        for line in lines[:-1]:
            if each_file or not line.startswith(("loaded", "unchanged")):  # always say what went wrong
                self.say("import", line)
        self.say("import", f"{lines[-1]} ({time.monotonic() - started:.1f} s)")
        if summary.unfinished:
            raise PipelineError(f"import: no results for {len(summary.unfinished)} uploads after "
                                f"{RESULTS_TIMEOUT_SECONDS:.0f} s (the import Lambda's log: LocalStack's log)")
        return summary
