"""The pipeline over time: chart days in accelerated time (``run_days``), polls on the
producer's EventBridge schedule (``keep_running``), or only the views kept up (``serve``)."""
from __future__ import annotations

import threading
import time
from collections import Counter
from typing import TYPE_CHECKING, Any, Callable

from localdev.local_snowflake.snowpipe import MERGE_EVERY_FILES
from localdev.pipeline.progress import minutes, poll_text

if TYPE_CHECKING:
    from localdev.pipeline.orchestrator import LocalPipeline


def run_days(pipeline: LocalPipeline, days: int, glue_every: int = 2, *, progress_seconds: float | None = None,
             background_glue: bool = False) -> None:
    """``days`` chart days in accelerated time: each day the server moves on and the
    producer polls; Glue + load after every ``glue_every`` polls (beside the polls: also
    near the end, see ``glue_due``) and at the end.

    With ``progress_seconds``, one ``replay`` progress line at most that often instead
    of a line per poll. With ``background_glue``, the stages run side by side, as on
    AWS (``SideBySide``)."""
    started = time.monotonic()
    pipeline.clock.quiet = progress_seconds is not None
    beside = SideBySide(pipeline) if background_glue else None
    try:
        _replay(pipeline, days, glue_every, progress_seconds, beside, started)
    finally:
        if beside is not None:
            beside.close()
        pipeline.clock.quiet = False
    seconds = pipeline.seconds
    pipeline.say("replay", f"{days} chart days in {minutes(time.monotonic() - started)}; busy time "
                           + ", ".join(f"{stage} {minutes(seconds[stage])}" for stage in ("poll", "glue", "load"))
                           + (" (Glue and the load beside the polls)" if background_glue else ""))
    failures = Counter(reason for poll in pipeline.polls for reason in poll["failed"].values())
    if failures:  # each such chart was read and sent again by the next poll
        pipeline.say("replay", f"{sum(failures.values())} chart reads failed, each retried by the next poll: "
                               + "; ".join(f"{count} x {reason[:160]}" for reason, count in failures.most_common(3)))


def _replay(pipeline: LocalPipeline, days: int, glue_every: int, progress_seconds: float | None,
            beside: SideBySide | None, started: float) -> None:
    last_line, since_glue = started, 0
    for day in range(days):
        if beside is not None:
            beside.check()
        if day:
            pipeline.advance_day()
        pipeline.poll()
        since_glue += 1
        last = day == days - 1
        if progress_seconds is not None and (time.monotonic() - last_line >= progress_seconds or last):
            pipeline.say("replay", progress_text(pipeline, day + 1, days, time.monotonic() - started))
            last_line = time.monotonic()
        if beside is None and (since_glue >= glue_every or last):
            pipeline.run_glue()
            pipeline.load()
            since_glue = 0
        elif beside is not None and glue_due(since_glue, days - day - 1, glue_every) and beside.glue_idle():
            beside.start_glue()
            since_glue = 0
    if beside is not None:
        beside.finish()


def glue_due(polls_waiting: int, polls_left: int, glue_every: int) -> bool:
    """Whether a background Glue run should start (if none is going): every ``glue_every``
    polls, and near the end as soon as the polls waiting are at least as many as those left,
    so that the last run, after the last poll, has little to do."""
    return polls_waiting >= glue_every or (polls_waiting > 0 and polls_waiting >= polls_left)


class SideBySide:
    """Glue and the load beside the polls, as on AWS: the producer keeps polling while Glue
    runs (one run at a time, started when ``glue_every`` polls are due and the previous run
    has ended, so each run takes what landed meanwhile) and a local Snowpipe loads each
    file as it is notified; after the last poll, a last Glue run and the load of what is
    left (``finish``). A failure in a thread is raised in the polling thread (``check``)."""

    def __init__(self, pipeline: LocalPipeline):
        self.pipeline = pipeline
        self.stop = threading.Event()
        self.failures: list[BaseException] = []
        self.glue: threading.Thread | None = None  # the Glue run in the background, if one is going
        self.polls_before_glue = -1  # polls done when the latest Glue run started (-1: none started)
        # Beside the polls, merges wait for bigger backlogs: a MERGE costs about the same for
        # 100 files as for 500, and more as the tables grow.
        self.snowpipe = pipeline.snowflake.snowpipe(merge_every_files=5 * MERGE_EVERY_FILES)
        self.loading = self._thread("snowpipe", lambda: self.snowpipe.poll(self.stop, wait_seconds=1))

    def _thread(self, name: str, work: Callable[[], Any]) -> threading.Thread:
        def run() -> None:
            try:
                work()
            except BaseException as error:  # handed to the polling thread
                self.failures.append(error)
        thread = threading.Thread(target=run, name=name, daemon=True)
        thread.start()
        return thread

    def check(self) -> None:
        if self.failures:
            raise self.failures[0]

    def glue_idle(self) -> bool:
        return self.glue is None or not self.glue.is_alive()

    def start_glue(self) -> None:
        self.polls_before_glue = len(self.pipeline.polls)
        self.glue = self._thread("glue", lambda: self.pipeline.run_glue(kill_when=self.stop.is_set))

    def finish(self) -> None:
        """The last Glue run (none if the latest one started after the last poll: it took
        everything), then what Snowpipe has not loaded yet."""
        if self.glue is not None:
            self.glue.join()
        self.check()
        if self.polls_before_glue != len(self.pipeline.polls):
            self.pipeline.run_glue()
        self.stop.set()
        self.loading.join()
        self.check()
        self.pipeline.snowflake.count_background_load(self.snowpipe.stats)
        self.pipeline.load()

    def close(self) -> None:
        self.stop.set()  # an interrupted replay kills a Glue run still going in the background
        for thread in (self.glue, self.loading):
            if thread is not None:
                thread.join(timeout=30)  # a killed Glue run ends at once; a load gets a bounded wait


def progress_text(pipeline: LocalPipeline, done: int, total: int, elapsed: float) -> str:
    """``[2023-09-12] 118/560 chart days (21%), ...; 1m41s elapsed, about 6m20s left``."""
    day = pipeline.chart_date()
    polls = pipeline.polls
    sent = sum(p["records_sent"] for p in polls)
    observed = sum(p.get("observations_sent", 0) for p in polls)
    failed = sum(1 for p in polls if p["failed"])
    left = elapsed / done * (total - done) if done else 0.0
    return (f"{'[' + str(day) + '] ' if day else ''}{done}/{total} chart days ({done / total:.0%}), "
            f"{sent:,} chart entries and {observed:,} observations sent, {failed} polls with failed charts; "
            f"{minutes(elapsed)} elapsed" + (f", about {minutes(left)} left" if done < total else ""))


def keep_running(pipeline: LocalPipeline, stop: threading.Event, *, glue_seconds: float = 120.0,
                 day_seconds: float | None = 120.0, check_seconds: float = 5.0) -> None:
    """Polls on the EventBridge schedule until ``stop`` is set; Glue + load every
    ``glue_seconds``; with the local server, a new chart day every ``day_seconds``."""
    pipeline.set_schedule(True)
    pipeline.say("schedule", f"producer polls on its EventBridge schedule ({pipeline.settings.poll_schedule}); "
                             f"Glue + load every {glue_seconds:g} s"
                             + (f"; a new chart day every {day_seconds:g} s" if pipeline.spotify and day_seconds else "")
                             + ". Ctrl-C stops everything.")
    next_glue = time.monotonic() + glue_seconds
    next_day = time.monotonic() + (day_seconds or float("inf"))
    seen = (pipeline.clock.last_poll() or {}).get("poll_id")
    while not stop.wait(check_seconds):
        now = time.monotonic()
        if pipeline.spotify is not None and day_seconds and now >= next_day:
            pipeline.say("spotify", f"chart date is now {pipeline.advance_day()}")
            next_day = now + day_seconds
        last = pipeline.clock.last_poll()
        if last and last.get("poll_id") != seen:
            seen = last["poll_id"]
            pipeline.say("poll", f"scheduled: {poll_text(last)}")
        if now >= next_glue:
            pipeline.run_glue()
            pipeline.load()
            next_glue = time.monotonic() + glue_seconds


def serve(pipeline: LocalPipeline, stop: threading.Event) -> None:
    """Keep everything up, polling nothing, until ``stop`` is set (or Ctrl-C): the views
    and the dashboard stay readable, from here or another terminal."""
    pipeline.say("serve", "the views and the dashboard stay up, nothing polls; Ctrl-C stops everything")
    while not stop.wait(1.0):
        pass
