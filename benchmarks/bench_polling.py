"""Benchmark: adaptive polling against the fixed 15-minute schedule, on the same replay.

    python benchmarks/bench_polling.py              # make bench-polling: 35 days x 10 charts
    python benchmarks/bench_polling.py --days 60 --off-hour-rate 0.1

The local Spotify server replays 10 markets' real charts; each chart flips once a day at
its own time of day (drawn from the seed), give or take ``--jitter-minutes``, with an
occasional off-hour flip (``--off-hour-rate``) and one chart moving its hour halfway
through. Simulated time advances a minute per scheduler tick, as EventBridge's
``rate(1 minute)`` fires it; the server's clock is put at each tick's instant.

- fixed: every chart is read at every 15th tick (the stack's fixed schedule);
- adaptive: at every tick ``producer.schedule.decide`` picks the charts to read, and
  ``producer.schedule.record`` learns from what they showed, as the producer does.

Both read with the producer's own reader (``producer.spotify.ChartReader``: real spotipy
over HTTP), each with its own client, and both start with no history. A read is one
snapshot read, dated by the server's ``Date`` header. A flip is detected by the first
read that shows its snapshot; its delay runs from the flip to that read. A flip whose
snapshot was replaced before any read saw it is missed. The truth (each day's flip
instant and snapshot) comes from the server (``GET /_control/flips``), and every read is
checked against it.

Adaptive settings come from the environment as the Lambda reads them
(``FLIP_WINDOW_MINUTES`` etc., defaults as the stack's). Exit status 1 if a goal is
missed: every flip detected, median delay at most 60 s, adaptive reads at most a
quarter of fixed's.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, time as time_of_day, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from local_spotify import catalog  # noqa: E402
from local_spotify.flips import SPREAD, FlipSchedule, clock_text  # noqa: E402
from local_spotify.control import LocalSpotifyControl  # noqa: E402
from localdev.local_spotify_process import LocalSpotifyProcess  # noqa: E402
from producer.config import schedule_settings  # noqa: E402
from producer.schedule import ChartHistory, ReadResult, ScheduleSettings, decide, record  # noqa: E402
from producer.spotify import ChartReader, PlaylistVersion, ResponseClock, build_spotify  # noqa: E402

CLIENT_ID, CLIENT_SECRET = "bench-client", "bench-secret"  # local stand-in values, not credentials
TICK_SECONDS = 60  # EventBridge rate(1 minute)
TICK_OFFSET_SECONDS = 7  # an invocation fires some seconds into its minute
FIXED_EVERY_TICKS = 15  # the fixed schedule: rate(15 minutes)
MOVING_CHART = "us"  # moves its flip hour by MOVE_HOURS halfway through
MOVE_HOURS = 7
READERS = 8  # charts read at once, as the producer's MAX_CONCURRENCY


@dataclass(frozen=True)
class TrueFlip:
    at: float  # epoch seconds
    snapshot_id: str
    off_hour: bool


@dataclass
class Policy:
    """One schedule's reader and what it saw. Flips count from just after the first read to
    the end of the last replayed day; reads count until then too (the replay runs on a
    little longer, so that a flip late on the last day has its chance to be seen)."""

    name: str
    reader: ChartReader
    counted: tuple[float, float]  # epoch seconds: flips in (first, end) count, reads before end
    histories: dict[str, ChartHistory] = field(default_factory=dict)
    detected: dict[str, int] = field(default_factory=dict)  # index of the last flip seen per chart
    delays: list[float] = field(default_factory=list)
    slow: list[tuple[str, TrueFlip, float, str]] = field(default_factory=list)  # over 60 s: chart, flip, delay, why read
    missed: int = 0
    reads: int = 0
    wrong: int = 0  # reads whose snapshot differs from the truth

    def counts(self, flip: TrueFlip) -> bool:
        return self.counted[0] < flip.at < self.counted[1]

    def read(self, pool: ThreadPoolExecutor, charts: list[str], truth: dict[str, list[TrueFlip]],
             settings: ScheduleSettings, now: float, why: dict[str, str]) -> None:
        """Read the charts at once, as the producer does (``MAX_CONCURRENCY``), then learn in order."""
        versions = pool.map(lambda chart: self.reader.version(chart, lambda: 60.0), charts)
        for chart, version in zip(charts, versions):
            self.observe(chart, version, truth[chart], settings, now, why.get(chart, self.name))

    def observe(self, chart: str, version: PlaylistVersion, truth: list[TrueFlip], settings: ScheduleSettings,
                now: float, why: str) -> None:
        self.reads += now < self.counted[1]
        self.histories[chart] = record(self.histories.get(chart, ChartHistory()),
                                       ReadResult(chart, version.observed_at, version.snapshot_id, True), settings)
        live = max((i for i, f in enumerate(truth) if f.at <= version.observed_at), default=-1)
        if live < 0 or truth[live].snapshot_id != version.snapshot_id:
            self.wrong += 1
            return
        last = self.detected.setdefault(chart, live)  # the first read only sets the starting point
        self.missed += sum(self.counts(f) for f in truth[last + 1:live])  # replaced before any read saw them
        if live > last and self.counts(truth[live]):
            delay = version.observed_at - truth[live].at
            self.delays.append(delay)
            if delay > 60:
                self.slow.append((chart, truth[live], delay, why))
        self.detected[chart] = live


def flip_settings(args: argparse.Namespace, first: date, charts: list[str]) -> dict:
    """Spread flip times, jitter, off-hour days, and one chart moving its hour halfway."""
    moving = catalog.MARKETS_BY_LABEL[MOVING_CHART].playlist_id
    usual = FlipSchedule(SPREAD, seed=args.seed).usual_seconds(moving, first)
    moves = [{"playlist": MOVING_CHART, "from": (first + timedelta(days=args.days // 2)).isoformat(),
              "at": clock_text((usual + MOVE_HOURS * 3600) % 86_400)}] if moving in charts else []
    return {"flip_times": SPREAD, "flip_jitter_minutes": args.jitter_minutes, "off_hour_rate": args.off_hour_rate,
            "flip_seed": args.seed, "flip_moves": moves}


def truth_of(control, first: date, last: date, charts: list[str]) -> dict[str, list[TrueFlip]]:
    """Each chart's flips that change it, the day before ``first`` (the chart at the start) included."""
    listed = control.flips(first - timedelta(days=1), last)
    return {c: [TrueFlip(datetime.fromisoformat(f["at"]).timestamp(), f["snapshot_id"], f["off_hour"])
                for f in listed[c] if f["changes"]] for c in charts}


def make_reader(server: LocalSpotifyProcess) -> ChartReader:
    clock = ResponseClock()
    client = build_spotify(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, api_url=server.api_url,
                           token_url=server.token_url, clock=clock, pool_size=READERS)
    return ChartReader(client, clock=clock)


def replay(server, args, charts, truth, settings) -> tuple[Policy, Policy]:
    """Every tick of the replay: each policy reads what it decides to."""
    start = server_start(args)
    counted = (start + TICK_OFFSET_SECONDS, start + args.days * 86_400)
    fixed, adaptive = (Policy(name, make_reader(server), counted) for name in ("fixed", "adaptive"))
    # On past the last day for as long as the slowest detection may take (see Policy).
    ticks = int(args.days * 86_400 + settings.safety_seconds + settings.interval_seconds) // TICK_SECONDS
    began = time.monotonic()
    pool = ThreadPoolExecutor(max_workers=READERS, thread_name_prefix="read")
    for tick in range(ticks):
        if tick and tick % (7 * 1440) == 0:  # progress: a line a simulated week
            print(f"  day {tick // 1440} of {args.days}: fixed {fixed.reads} reads, adaptive {adaptive.reads}, "
                  f"{time.monotonic() - began:.0f} s", flush=True)
        now = start + tick * TICK_SECONDS + TICK_OFFSET_SECONDS
        fixed_due = charts if tick % FIXED_EVERY_TICKS == 0 else []
        decisions = {c: decide(adaptive.histories.get(c, ChartHistory()), now, settings) for c in charts}
        adaptive_due = [c for c in charts if decisions[c].read]
        if not fixed_due and not adaptive_due:
            continue
        server.control.set_time(datetime.fromtimestamp(now, timezone.utc))
        fixed.read(pool, fixed_due, truth, settings, now, {})
        adaptive.read(pool, adaptive_due, truth, settings, now, {c: d.reason for c, d in decisions.items()})
    pool.shutdown()
    return fixed, adaptive


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


def report(policy: Policy, flips: int, chart_days: int) -> dict:
    delays = policy.delays
    # Flips never seen at all count as missed too, not only those replaced before a read.
    row = {"reads": policy.reads / chart_days, "median": statistics.median(delays) if delays else float("nan"),
           "p95": percentile(delays, 0.95), "max": max(delays, default=float("nan")),
           "missed": flips - len(delays), "wrong": policy.wrong}
    print(f"{policy.name:>9}: {row['reads']:5.1f} reads/chart/day, detection median {row['median']:6.0f} s, "
          f"p95 {row['p95']:6.0f} s, max {row['max']:6.0f} s, {len(delays)} of {flips} flips detected, "
          f"{row['missed']} missed ({policy.missed} replaced before a read), {policy.wrong} reads unlike the truth")
    return row


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=35, help="replayed days (default: %(default)s)")
    parser.add_argument("--charts", type=int, default=10, help="market charts, 1 to 10 (default: %(default)s)")
    parser.add_argument("--start", type=date.fromisoformat, default=date(2023, 6, 1),
                        help="first replayed day (default: %(default)s)")
    parser.add_argument("--jitter-minutes", type=float, default=3.0, help="flip jitter (default: %(default)s)")
    parser.add_argument("--off-hour-rate", type=float, default=0.03, help="share of off-hour flips (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=2026, help="flip times' seed (default: %(default)s)")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    charts = [m.playlist_id for m in catalog.MARKETS[:args.charts]]
    settings = schedule_settings(lambda name: "adaptive" if name == "POLL_SCHEDULE" else os.environ.get(name))
    last = args.start + timedelta(days=args.days - 1)
    print(f"Polling {len(charts)} charts over {args.days} replayed days ({args.start} to {last}), a tick a minute; "
          f"adaptive: window {settings.window_seconds / 60:g} min, safety {settings.safety_seconds / 60:g} min, "
          f"plain interval {settings.interval_seconds / 60:g} min; fixed: every {FIXED_EVERY_TICKS} min", flush=True)
    # The server in a child process (stopped by pid), so that it and the readers use both cores.
    env = {"LOCAL_SPOTIFY_CLIENT_ID": CLIENT_ID, "LOCAL_SPOTIFY_CLIENT_SECRET": CLIENT_SECRET}
    with LocalSpotifyProcess("--start-date", args.start.isoformat(), "--missing-days", "hold", env=env) as server:
        server.control.configure(**flip_settings(args, args.start, charts))
        # Listing the flips computes every chart of every day: more than a control call's usual 10 s.
        truth = truth_of(LocalSpotifyControl(server.base_url, timeout=300), args.start, last + timedelta(days=1), charts)
        counted = (server_start(args) + TICK_OFFSET_SECONDS, server_start(args) + args.days * 86_400)
        flips = sum(1 for c in charts for f in truth[c] if counted[0] < f.at < counted[1])
        started = time.monotonic()
        fixed, adaptive = replay(server, args, charts, truth, settings)
        elapsed = time.monotonic() - started
    chart_days = len(charts) * args.days
    off_hour = sum(f.off_hour for c in charts for f in truth[c] if counted[0] < f.at < counted[1])
    print(f"replayed in {elapsed:.0f} s; {flips} flips ({off_hour} "
          f"off-hour, {MOVING_CHART} moved its hour by {MOVE_HOURS} h on day {args.days // 2 + 1})")
    f, a = report(fixed, flips, chart_days), report(adaptive, flips, chart_days)
    for chart, flip, delay, why in adaptive.slow:
        label, day = catalog.MARKETS[charts.index(chart)].label, (flip.at - server_start(args)) // 86_400 + 1
        print(f"  adaptive, slower than a minute: {label} on day {day:.0f}, {delay:.0f} s, by a {why} read"
              f"{' (an off-hour flip)' if flip.off_hour else ''}")
    met = a["missed"] == 0 and a["median"] <= 60 and a["reads"] <= f["reads"] / 4 and not a["wrong"] + f["wrong"]
    print(f"goals (every flip detected, median <= 60 s, reads <= fixed / 4 = {f['reads'] / 4:.1f}): "
          f"{'met' if met else 'MISSED'}")
    print(f"polling: adaptive {a['reads']:.1f} reads/chart/day vs fixed {f['reads']:.1f}, detection median "
          f"{a['median']:.0f} s, p95 {a['p95']:.0f} s, missed {a['missed']} of {flips}")
    return 0 if met else 1


def server_start(args: argparse.Namespace) -> float:
    return datetime.combine(args.start, time_of_day(), tzinfo=timezone.utc).timestamp()


if __name__ == "__main__":
    sys.exit(main())
