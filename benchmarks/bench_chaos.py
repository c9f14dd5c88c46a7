"""The chaos replay (#21 item 8): weeks of real charts through the local pipeline, twice in
one run: fault-free, then with faults injected at random (seeded) in every stage
(benchmarks/chaos.py). The second run's views must equal the first's.

    .venv/bin/python benchmarks/bench_chaos.py                  # 3 weeks of Global and US (make chaos, ~15 min)
    .venv/bin/python benchmarks/bench_chaos.py --seed 7 --fault-rate 0.8 --restart
    .venv/bin/python benchmarks/bench_chaos.py --days 28 --markets global,us,gb

Prints the faults injected by kind, what repaired them (polls, Glue runs, records sent
again, curated files restored, files loaded by the refresh), the rows compared view by
view and the differences (0 expected), and the chaos run's views against the truth
computed from the CSV files alone. Exit code 1 if anything differs.

It uses LocalStack at $AWS_ENDPOINT_URL if one answers there, else starts one in host
mode there (a LocalStack restart, ``--restart``, needs one it started).
"""
from __future__ import annotations

import argparse
import sys
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.chaos import COMPARED_VIEWS, FAULT_KINDS, ChaosReplay, ChaosSettings, differences, dump_views  # noqa: E402
from benchmarks.truth.compare import compare  # noqa: E402
from benchmarks.truth.csv_charts import market_truth  # noqa: E402
from localdev.localstack import localstack  # noqa: E402
from localdev.pipeline import LocalPipeline, PipelineSettings  # noqa: E402
from localdev.pipeline.progress import minutes, print_line  # noqa: E402
from localdev.pipeline.settings import LOCAL_DIR  # noqa: E402


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=21, help="chart days replayed (default 21: three weeks)")
    parser.add_argument("--start", type=date.fromisoformat, default=date(2024, 3, 1),
                        help="first chart day (default 2024-03-01; 2024-03-14 and -25 are gaps in the data)")
    parser.add_argument("--markets", default="global,us")
    parser.add_argument("--seed", type=int, default=21)
    parser.add_argument("--fault-rate", type=float, default=0.5, help="chance of each fault at each chance (0.5)")
    parser.add_argument("--glue-every", type=int, default=3, help="Glue + load + reconcile every K days (3)")
    parser.add_argument("--restart", action="store_true", help="also restart LocalStack once (about a minute)")
    parser.add_argument("--work-dir", default=str(LOCAL_DIR / "bench-chaos"))
    return parser.parse_args()


def replay_clean(stack, settings: PipelineSettings, days: int, say) -> tuple[dict, float]:
    started = time.monotonic()
    with LocalPipeline(settings, localstack=stack, out=sys.stdout) as pipeline:
        pipeline.run_days(days, glue_every=7, progress_seconds=30)
        views = dump_views(pipeline)
    say("clean", f"fault-free replay of {days} days in {minutes(time.monotonic() - started)}")
    return views, time.monotonic() - started


def replay_chaos(stack, settings: PipelineSettings, chaos: ChaosSettings, say):
    started = time.monotonic()
    with LocalPipeline(settings, localstack=stack, out=sys.stdout) as pipeline:
        report = ChaosReplay(pipeline, chaos, say).run()
        views = dump_views(pipeline)
        last = settings.start_date + timedelta(days=chaos.days - 1)
        truth = [compare(pipeline.db, market_truth(label, settings.start_date, last), settings.start_date, last)
                 for label in settings.markets]
    say("chaos", f"replay of {chaos.days} days with faults in {minutes(time.monotonic() - started)}")
    return report, views, truth, time.monotonic() - started


def print_results(report, clean: dict, chaos: dict, truth, seconds: tuple[float, float], args) -> int:
    diff = differences(clean, chaos)
    rows = sum(sum(c.values()) for c in clean.values())
    print(f"\nchaos replay: {args.days} days of {args.markets}, seed {args.seed}, fault rate {args.fault_rate}")
    print(f"faults injected: {sum(report.faults.values())}")
    for kind in FAULT_KINDS:
        if report.faults[kind]:
            print(f"  {kind:<26}{report.faults[kind]:>4}")
    print(f"repairs: {report.polls} polls for {args.days} chart days, {report.glue_runs} Glue runs, "
          f"{report.reconciles} reconciliations: {report.records_resent} records sent again, "
          f"{report.files_restored} curated files restored, {report.files_refreshed} files no pipe had loaded loaded")
    print(f"unrepaired: {len(report.unrepaired)}")
    print(f"\n{'view':<24}{'rows (clean)':>14}{'rows (chaos)':>14}{'differences':>13}")
    for view in COMPARED_VIEWS:
        print(f"{view:<24}{sum(clean[view].values()):>14,}{sum(chaos[view].values()):>14,}{diff[view]:>13}")
    print(f"rows compared: {rows:,}; differences: {sum(diff.values())}")
    print("truth (CSV files alone): " + "; ".join(t.line() for t in truth))
    print(f"time: fault-free {minutes(seconds[0])}, with faults {minutes(seconds[1])}")
    return 0 if sum(diff.values()) == 0 and all(t.ok for t in truth) and not report.unrepaired else 1


def main() -> int:
    args = parse_args()
    markets = tuple(m.strip() for m in args.markets.split(",") if m.strip())
    say = print_line(sys.stdout)
    work = Path(args.work_dir)
    chaos = ChaosSettings(days=args.days, seed=args.seed, fault_rate=args.fault_rate, glue_every=args.glue_every,
                          restart=args.restart,
                          kinds=FAULT_KINDS if args.restart else tuple(k for k in FAULT_KINDS
                                                                        if k != "localstack_restart"))

    def settings(name: str) -> PipelineSettings:
        return PipelineSettings(markets=markets, start_date=args.start, work_dir=work / name,
                                stack_name=f"{name}-{uuid.uuid4().hex[:6]}")

    with localstack(mode="host" if args.restart else "auto") as stack:
        clean_views, clean_seconds = replay_clean(stack, settings("clean"), args.days, say)
        report, chaos_views, truth, chaos_seconds = replay_chaos(stack, settings("chaos"), chaos, say)
    return print_results(report, clean_views, chaos_views, truth, (clean_seconds, chaos_seconds), args)


if __name__ == "__main__":
    sys.exit(main())
