"""The whole pipeline on one machine, with no AWS or Snowflake account.

``python -m localdev.pipeline --days 4`` (or ``LocalPipeline`` from Python) runs the
local Spotify-compatible server, LocalStack with the real stack deployed to it (the
producer Lambda, Firehose, buckets, the Snowpipe queue), the Glue job on local Spark,
and the local Snowpipe loading the embedded Snowflake engine. See ``localdev/PIPELINE.md``.

Modules: ``orchestrator`` (``LocalPipeline``, one method per stage: the facade that
composes the parts), ``settings`` (``PipelineSettings``, shared paths and prefixes), and
one module per part: ``stack`` (LocalStack, deploy, teardown, restart) with ``schedule``
(the producer's EventBridge rule), ``producer_clock`` (the Spotify side, the chart date,
the producer's polls), ``glue_runs`` (the Glue job on local Spark; its ``s3://`` paths on
the deployed stack: ``stack_glue_paths``), ``snowflake_load`` (the local engine and
Snowpipe), ``views`` (queries, the report, the second terminal's environment),
``replay`` (the pipeline over time: ``run_days``, ``keep_running``, ``serve``);
``progress`` (the progress lines) and ``cli`` (``main``). The job runs as a child process
through ``localdev.local_spark.glue_runner``.
"""
from localdev.pipeline.orchestrator import LocalPipeline
from localdev.pipeline.settings import PipelineError, PipelineSettings
from localdev.pipeline.cli import main  # noqa: E402 - after the classes it uses

__all__ = ["LocalPipeline", "PipelineError", "PipelineSettings", "main"]
