"""The whole pipeline on one machine, with no AWS or Snowflake account.

``python -m localdev.pipeline --days 4`` (or ``LocalPipeline`` from Python) runs the
local Spotify-compatible server, LocalStack with the real stack deployed to it (the
producer Lambda, Firehose, buckets, the Snowpipe queue), the Glue job on local Spark,
and the local Snowpipe loading the embedded Snowflake engine. See ``localdev/PIPELINE.md``.

Modules: ``orchestrator`` (``LocalPipeline``, one method per stage), ``cli`` (``main``).
The Glue job as a child process: ``localdev.local_spark.glue_runner``; S3 <-> local
folders: ``localdev.s3_mirror``.
"""
from localdev.pipeline.orchestrator import LocalPipeline, PipelineError, PipelineSettings
from localdev.pipeline.cli import main  # noqa: E402 - after the classes it uses

__all__ = ["LocalPipeline", "PipelineError", "PipelineSettings", "main"]
