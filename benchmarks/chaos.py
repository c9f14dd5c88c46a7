"""The chaos replay (#21 item 8): real charts replayed day by day through the local pipeline
while faults are injected at random (seeded) in every stage; at the end the views must
equal those of a fault-free run of the same days.

Every stage gets its faults (``FAULT_KINDS``), each answered by what the pipeline does on
AWS: the producer retries, defers or fails a chart and the next poll sends it; refused
Firehose records are retried; records Firehose lost, curated files overwritten and
curated files no notification announced are repaired by reconciliation (the reconciler
Lambda and the Snowflake side's refresh); a killed Glue run is replayed from its
checkpoint; two Glue runs take turns on the run lease; duplicates meet the MERGE.

The driver (``ChaosReplay``) does, per chart day: maybe arm producer-side faults, poll, and
poll again while charts failed or were deferred (not on a day missing from the data: that
is a real gap, in the clean run too); every ``glue_every`` days, maybe arm Glue-side and
load-side faults, run Glue and the load, reconcile, and run Glue and the load again if
records were sent again. At the end it settles: Glue, load, reconcile until nothing is
missing. Used by benchmarks/bench_chaos.py (``make chaos``) and tests/integration/test_chaos.py.
"""
from __future__ import annotations

import base64
import json
import random
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Callable

from firehose import contract
from local_spotify import catalog
from local_spotify.faults import MALFORMED_BODIES
from localdev.aws import read_records
from localdev.firehose_faults import firehose_faults
from localdev.local_spark.glue_runner import GlueJobError, run_glue_job
from localdev.pipeline import LocalPipeline
from localdev.pipeline.settings import CURATED_PREFIX, RAW_PREFIX, PipelineError

PRODUCER_FAULTS = ("spotify_rate_limit", "spotify_server_error", "spotify_malformed", "firehose_refused",
                   "firehose_lost")
GLUE_FAULTS = ("glue_killed", "glue_twice", "duplicate_late")
LOAD_FAULTS = ("notification_lost", "notification_duplicated", "curated_corrupt")
FAULT_KINDS = PRODUCER_FAULTS + GLUE_FAULTS + LOAD_FAULTS + ("localstack_restart",)
# The views compared, and their columns (observed_at and poll ids left out: the time of day
# of a read, and its id, differ from run to run; dates, positions and movements may not).
COMPARED_VIEWS = {
    "daily_chart": "chart_date, playlist_id, position, previous_position, change, status, track_id, "
                   "previous_chart_date, missing_days, last_chart_date, last_chart_position, snapshot_id",
    "daily_chart_exits": "chart_date, playlist_id, last_position, track_id, previous_chart_date, missing_days",
    "snapshot_chart": "playlist_id, snapshot_id, chart_date, position, previous_position, change, status, track_id, "
                      "previous_snapshot_id, missing_days",
    "snapshot_chart_exits": "playlist_id, snapshot_id, chart_date, last_position, track_id",
    "track_chart_stats": "playlist_id, track_id, entry_date, entry_position, peak_position, peak_date, "
                         "days_at_peak, days_on_chart, last_chart_date, last_position, current_streak, "
                         "current_streak_since, current_streak_missing_days",
    "daily_biggest_movers": "chart_date, playlist_id, direction, mover_rank, track_id, change",
    "daily_artist_counts": "chart_date, playlist_id, artist_name, tracks_on_chart, best_position, new_tracks",
    "artist_chart_stats": "playlist_id, artist_name, distinct_tracks, days_on_chart, track_days, best_position",
    "chart_entries": "playlist_id, snapshot_id, position, track_id, chart_date",
    "chart_observations": "DISTINCT playlist_id, snapshot_id, chart_date",
}
# chart_observations holds reads: a chart read again after a fault (the next poll, when the
# other chart of the same poll had failed) is one more read of the same snapshot on the
# same day, which the views take once. So its rows are compared as distinct (chart, snapshot, day).


@dataclass(frozen=True)
class ChaosSettings:
    days: int = 21
    seed: int = 21
    fault_rate: float = 0.5  # chance of a fault at each point where one can be injected
    glue_every: int = 3
    restart: bool = False  # a LocalStack restart once (about a minute of redeploy)
    kinds: tuple[str, ...] = tuple(k for k in FAULT_KINDS if k != "localstack_restart")


@dataclass
class ChaosReport:
    faults: Counter = field(default_factory=Counter)  # injected, by kind
    polls: int = 0
    glue_runs: int = 0
    reconciles: int = 0
    records_resent: int = 0
    files_restored: int = 0
    files_refreshed: int = 0
    unrepaired: dict[str, str] = field(default_factory=dict)


def is_gap(day: date) -> bool:
    """A day missing from the data (every market's): the server answers as Spotify failing."""
    return day not in catalog.load_market("global")


def dump_views(pipeline: LocalPipeline) -> dict[str, Counter]:
    """Every row of the compared views, as a multiset of tuples of text."""
    dumped = {}
    for view, columns in COMPARED_VIEWS.items():
        rows = pipeline.query(f"SELECT {columns} FROM {view}")
        dumped[view] = Counter(tuple("" if v is None else str(v) for v in row.values()) for row in rows)
    return dumped


def differences(clean: dict[str, Counter], chaos: dict[str, Counter]) -> dict[str, int]:
    """Rows in one run's view and not the other's, by view (a duplicate row counts too)."""
    return {view: sum(((clean[view] - chaos[view]) + (chaos[view] - clean[view])).values()) for view in clean}


class ChaosReplay:
    def __init__(self, pipeline: LocalPipeline, settings: ChaosSettings, say: Callable[[str, str], None]):
        self.pipeline, self.settings, self.say = pipeline, settings, say
        self.rng = random.Random(settings.seed)
        self.report = ChaosReport()
        self.playlists = [catalog.MARKETS_BY_LABEL[m].playlist_id for m in pipeline.settings.markets]
        self.restart_day = self.rng.randrange(1, max(2, settings.days)) if settings.restart else None

    def chance(self, kind: str) -> bool:
        return kind in self.settings.kinds and self.rng.random() < self.settings.fault_rate

    def run(self) -> ChaosReport:
        for index in range(self.settings.days):
            if index:
                self.pipeline.advance_day()
            self.poll_day()
            if index == self.restart_day:
                self.report.faults["localstack_restart"] += 1
                self.pipeline.restart_localstack()
            if (index + 1) % self.settings.glue_every == 0:
                self.glue_and_load()
        self.settle()
        return self.report

    # -- the producer's side --------------------------------------------------------------
    def poll_day(self) -> None:
        kinds = [k for k in PRODUCER_FAULTS if self.chance(k)]
        for kind in kinds:
            self.report.faults[kind] += 1
            if kind.startswith("spotify_"):
                self.arm_spotify(kind)
        refuse = self.refuse_plan() if "firehose_refused" in kinds else None
        lose = self.lose_plan() if "firehose_lost" in kinds else None
        if refuse or lose:
            with firehose_faults(self.pipeline, refuse or (lambda call, records: set()), lose):
                summary = self.poll()
        else:
            summary = self.poll()
        attempts = 0
        while (summary["failed"] or summary["deferred"]) and not is_gap(self.pipeline.chart_date()) and attempts < 5:
            summary, attempts = self.poll(), attempts + 1  # the next scheduled poll
        self.pipeline.spotify.control.clear_faults()  # an unused fault must not spill into the next day

    def poll(self) -> dict[str, Any]:
        self.report.polls += 1
        return self.pipeline.poll()

    def arm_spotify(self, kind: str) -> None:
        control, rng = self.pipeline.spotify.control, self.rng
        if kind == "spotify_rate_limit":
            control.add_fault(429, count=rng.randint(2, 8), endpoint="playlist", retry_after=1)
        elif kind == "spotify_server_error":
            control.add_fault(rng.choice([500, 502, 503]), count=rng.randint(1, 6),
                              endpoint=rng.choice(["playlist", "items"]))
        else:
            control.add_fault(malformed=rng.choice(MALFORMED_BODIES), endpoint=rng.choice(["playlist", "items"]),
                              playlist_id=rng.choice(self.playlists))

    def refuse_plan(self):
        """Refuse a random third of the first call's records (the writer retries them)."""
        seed = self.rng.random()
        return lambda call, records: ({i for i in range(len(records)) if random.Random(seed + i).random() < 0.34}
                                      if call == 1 else set())

    def lose_plan(self):
        """Accept one chart's records and never deliver them (Firehose after 24 h of failures)."""
        victim = self.rng.choice(self.playlists)

        def lose(call: int, records: list[dict]) -> set[int]:
            return {i for i, r in enumerate(records) if json.loads(base64.b64decode(r["Data"]))["playlist_id"] == victim}
        return lose

    # -- Glue, the load, reconciliation --------------------------------------------------------
    def glue_and_load(self) -> None:
        if self.chance("duplicate_late"):
            self.resend_an_old_day()
        before = self.pipeline.glue.curated_files()
        self.run_glue()
        published = sorted(self.pipeline.glue.curated_files() - before)
        self.load_with_faults(published)
        self.reconcile_and_catch_up()

    def run_glue(self) -> None:
        """A Glue run, maybe killed part way (then run again) or joined by a second run at once."""
        if self.chance("glue_killed"):
            self.report.faults["glue_killed"] += 1
            before = self.pipeline.glue.curated_files()
            try:
                self.report.glue_runs += 1
                self.pipeline.run_glue(kill_when=lambda: bool(self.pipeline.glue.curated_files() - before))
            except GlueJobError:
                pass  # killed: the next run replays its batch
        if self.chance("glue_twice"):
            self.report.faults["glue_twice"] += 1
            self.report.glue_runs += 1
            second = threading.Thread(target=lambda: run_glue_job(
                self.pipeline.glue_paths(), self.pipeline.settings.logs / "glue-second.log",
                env=self.pipeline.stack.aws_environ()))
            second.start()
            self.report.glue_runs += 1
            self.pipeline.run_glue()
            second.join()
        else:
            self.report.glue_runs += 1
            self.pipeline.run_glue()

    def load_with_faults(self, published: list[str]) -> None:
        if published and self.chance("curated_corrupt"):
            self.report.faults["curated_corrupt"] += 1
            self.pipeline.aws("s3").put_object(Bucket=self.pipeline.outputs["CuratedBucketName"],
                                               Key=self.rng.choice(published), Body=b"PAR1\x00 corrupt \x00PAR1")
        if published and self.chance("notification_lost"):
            self.report.faults["notification_lost"] += self.drop_a_notification()
        if self.chance("notification_duplicated"):
            self.report.faults["notification_duplicated"] += self.duplicate_notifications()
        try:
            self.pipeline.load(timeout=30)
        except PipelineError as error:  # a corrupt file's load failed: reconciliation restores it
            self.say("chaos", f"load incomplete, reconciliation repairs it: {str(error)[:120]}")

    def reconcile_and_catch_up(self) -> None:
        """Reconcile; what it sent again needs a Glue run and a load."""
        outcome = self.reconcile()
        if outcome.lambda_summary["records_resent"]:
            self.report.glue_runs += 1
            self.pipeline.run_glue()
            self.pipeline.load(timeout=30)

    def reconcile(self):
        outcome = self.pipeline.reconcile()
        self.report.reconciles += 1
        self.report.records_resent += outcome.lambda_summary["records_resent"]
        self.report.files_restored += len(outcome.lambda_summary["files_restored"])
        self.report.files_refreshed += outcome.refresh.files_loaded
        self.report.unrepaired = outcome.unrepaired
        return outcome

    def settle(self) -> None:
        """The last Glue run and load, then reconciliation until nothing is missing or unloaded."""
        self.report.glue_runs += 1
        self.pipeline.run_glue()
        self.load_with_faults([])
        for _ in range(4):
            outcome = self.reconcile()
            if not outcome.lambda_summary["records_resent"] and not outcome.refresh.files_loaded:
                break
            self.report.glue_runs += 1
            self.pipeline.run_glue()
            self.pipeline.load(timeout=30)

    # -- faults that need a few calls -------------------------------------------------------------
    def resend_an_old_day(self) -> None:
        """An earlier poll's records delivered again (a retried delivery, weeks later)."""
        records = read_records(self.pipeline.outputs["RawBucketName"], RAW_PREFIX, self.pipeline.aws("s3"))
        polls = sorted({r["poll_id"] for r in records})
        if not polls:
            return
        self.report.faults["duplicate_late"] += 1
        poll = self.rng.choice(polls)
        chosen = [r for r in records if r["poll_id"] == poll]
        for start in range(0, len(chosen), 500):
            self.pipeline.aws("firehose").put_record_batch(
                DeliveryStreamName=self.pipeline.outputs["DeliveryStreamName"],
                Records=[{"Data": contract.encode(r)} for r in chosen[start:start + 500]])

    def pending_notifications(self) -> list[dict]:
        sqs, found, empty = self.pipeline.aws("sqs"), [], 0
        while empty < 2:
            batch = sqs.receive_message(QueueUrl=self.pipeline.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                        VisibilityTimeout=20).get("Messages", [])
            found += batch
            empty = empty + 1 if not batch else 0
        return found

    def release(self, messages: list[dict]) -> None:
        for message in messages:
            self.pipeline.aws("sqs").change_message_visibility(
                QueueUrl=self.pipeline.queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0)

    def drop_a_notification(self) -> int:
        pending = self.pending_notifications()
        messages = [m for m in pending if CURATED_PREFIX in m["Body"]]
        if not messages:
            self.release(pending)
            return 0
        lost = self.rng.choice(messages)
        self.pipeline.aws("sqs").delete_message(QueueUrl=self.pipeline.queue_url, ReceiptHandle=lost["ReceiptHandle"])
        self.release([m for m in pending if m is not lost])
        self.pipeline.snowflake.unloaded_files -= 1  # the load waits only for the files announced
        return 1

    def duplicate_notifications(self) -> int:
        pending = self.pending_notifications()
        messages = [m for m in pending if CURATED_PREFIX in m["Body"]]
        self.release(pending)
        for message in messages:
            self.pipeline.aws("sqs").send_message(QueueUrl=self.pipeline.queue_url, MessageBody=message["Body"])
        return 1 if messages else 0
