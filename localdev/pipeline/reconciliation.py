"""Reconciliation on the local stack (#21 item 3): both halves, where each runs on AWS and
Snowflake.

1. The AWS side: the DEPLOYED reconciler Lambda (``producer.reconcile``), invoked as its
   EventBridge schedule would: the producer's sent ledger against the Glue job's
   manifests; missing records sent to Firehose again (the next Glue run curates them);
   curated files changed after publication given their first version back (the bucket's
   notification tells the local Snowpipe).
2. The Snowflake side: what ``reconcile_curated_loads_task`` does on Snowflake
   (``ALTER PIPE ... REFRESH``): the local Snowpipe loads every curated file its load
   history lacks, whatever became of the file's notification, and merges.

The local stack deploys with ``ReconcileGraceHours`` 0: the local pipeline runs Glue itself,
and reconciles after a Glue run, so every record sent before it is due in the curated data.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from localdev.local_snowflake.snowpipe import RefreshStats
from localdev.pipeline.progress import Say
from localdev.pipeline.settings import PipelineError
from localdev.pipeline.snowflake_load import SnowflakeLoad
from localdev.pipeline.stack import Stack
from spotify_charts.stages import StageFailedError, invoke_function


@dataclass
class ReconcileOutcome:
    lambda_summary: dict[str, Any]  # the reconciler Lambda's answer (producer.reconciler.ReconcileRun.summary)
    refresh: RefreshStats  # the Snowflake side's

    @property
    def unrepaired(self) -> dict[str, str]:
        return {**self.lambda_summary["unrepaired"], **{key: "failed to load" for key in self.refresh.failed}}


class Reconciliation:
    def __init__(self, say: Say, stack: Stack, snowflake: SnowflakeLoad):
        self.say, self.stack, self.snowflake = say, stack, snowflake
        self.runs: list[ReconcileOutcome] = []
        self.busy_seconds = 0.0

    def run(self) -> ReconcileOutcome:
        started = time.monotonic()
        try:
            summary = invoke_function(self.stack.outputs["ReconcilerFunctionName"], {}, self.stack.aws("lambda"))
        except StageFailedError as error:
            raise PipelineError(f"the reconciler Lambda failed: {error}") from None
        refresh = self.snowflake.snowpipe().refresh(self.stack.outputs["CuratedBucketName"])
        self.snowflake.unloaded_files = 0  # every curated file that can load is loaded now
        outcome = ReconcileOutcome(summary, refresh)
        self.runs.append(outcome)
        self.busy_seconds += time.monotonic() - started
        self.say("reconcile", f"{summary['polls_checked']} sent polls checked: {summary['records_missing']} records "
                              f"missing, {summary['records_resent']} sent again; {len(summary['files_restored'])} "
                              f"curated files restored; {refresh.files_loaded} files no pipe had loaded now loaded "
                              f"({refresh.rows_loaded} rows); {len(outcome.unrepaired)} unrepaired "
                              f"({time.monotonic() - started:.1f} s)")
        return outcome
