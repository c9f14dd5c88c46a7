"""``python -m localdev.pipeline`` (``spotify-charts run``): run the whole pipeline locally,
then show the charts.

    spotify-charts run                        # 4 weeks of real daily charts (2024-03-01..28), then the report
    spotify-charts run --import DIR           # chart exports (files, folders, zips) through the import Lambda
    spotify-charts run --import localdev/data/chart-exports-2024-05.zip --days 28   # both sources (make run)
    spotify-charts run --days 6 --glue-every 3 --markets global,us,gb
    spotify-charts run --keep-running         # then poll on the EventBridge schedule until Ctrl-C
    spotify-charts run --history              # the whole real history (10 markets x 560 calendar days, 556 with a chart), then serve it

Ctrl-C (or SIGTERM) during the replay stops every process it started, by pid, and exits
130. Ctrl-C while it keeps running (or serves) ends that phase: the report of what was
loaded, then every process stops (exit 130).
"""
from __future__ import annotations

import argparse
import signal
import sys
import threading
from datetime import date
from typing import Sequence

from local_spotify import catalog
from localdev.aws import apply_environ
from localdev.local_spark.glue_runner import GlueJobError
from localdev.local_snowflake.engine import local_environ
from localdev.pipeline.orchestrator import LocalPipeline
from localdev.pipeline.settings import DEFAULT_WORK_DIR, STATE_PREFIX, PipelineError, PipelineSettings, live_spotify
from snowflake.charts import connection
from spotify_charts.dashboard import DashboardData, DashboardServer, SnowflakeViews
from spotify_charts.settings import MonitorSettings, playlist_labels

EXIT_OK, EXIT_FAILED, EXIT_INTERRUPTED = 0, 1, 130
DEFAULT_DAYS, DEFAULT_GLUE_EVERY = 28, 14
HISTORY_DAYS = (catalog.LAST_DATE - catalog.FIRST_DATE).days + 1  # 560 calendar days
# Missing in every market's data (2024-03-14, -03-25, -07-11, -08-13): replayed as gaps, days without a chart.
DAYS_MISSING_FROM_DATA = 4
HISTORY_GLUE_EVERY = 140  # --history: Glue starts at most every 20 weeks of chart days, beside the polls (each run costs a JVM start)
PROGRESS_SECONDS = 15.0  # --history: a progress line this often instead of one per poll


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m localdev.pipeline", description=__doc__.split("\n\n")[0],
                                     epilog="See localdev/PIPELINE.md. Exit codes: 0 done, 1 a stage failed, "
                                            "130 interrupted.")
    parser.add_argument("--import", dest="imports", action="append", metavar="PATH", default=[],
                        help="import these charts.spotify.com exports (CSV, .csv.gz, .zip, folders; repeatable) "
                             "through the deployed import path (S3 notification -> import Lambda -> Firehose) "
                             "before the first Glue run")
    parser.add_argument("--days", type=int, help="chart days to run in accelerated time: each day the local "
                        f"server moves on a day and the deployed producer is invoked (default {DEFAULT_DAYS}; "
                        f"0 with --keep-running or --import, {HISTORY_DAYS} with --history)")
    parser.add_argument("--glue-every", type=int, metavar="K",
                        help=f"run Glue + load after every K polls, and at the end (default {DEFAULT_GLUE_EVERY}; "
                             f"{HISTORY_GLUE_EVERY} with --history)")
    parser.add_argument("--keep-running", action="store_true",
                        help="then keep polling on the producer's EventBridge schedule until Ctrl-C")
    parser.add_argument("--serve", action="store_true",
                        help="then keep the views (local engine) and the dashboard up, without polling, until Ctrl-C")
    parser.add_argument("--history", action="store_true",
                        help=f"replay the whole real history: every market from {catalog.FIRST_DATE} to "
                             f"{catalog.LAST_DATE} ({HISTORY_DAYS} calendar days; the data holds "
                             f"{HISTORY_DAYS - DAYS_MISSING_FROM_DATA} of them, the {DAYS_MISSING_FROM_DATA} missing "
                             "days replay as gaps; about 278,000 chart positions) with a progress line, then --serve "
                             "(unless --keep-running)")
    parser.add_argument("--markets", default="global,us",
                        help=f"local server: comma-separated charts, of {', '.join(catalog.MARKETS_BY_LABEL)}, "
                             "or all (default global,us; all with --history)")
    parser.add_argument("--start-date", type=date.fromisoformat,
                        help="local server: first chart day (default 2024-03-01: 4 weeks with 2 days missing "
                             "from the data, 03-14 and 03-25, and unchanged charts on 03-05 and 03-12; "
                             f"{catalog.FIRST_DATE} with --history)")
    parser.add_argument("--playlists", help="live Spotify: id:label,... (default: $PLAYLISTS)")
    parser.add_argument("--work-dir", default=str(DEFAULT_WORK_DIR), help="Glue folders, stage, logs (cleared)")
    parser.add_argument("--stack-name", help="CloudFormation stack name (default: charts-<random>)")
    parser.add_argument("--localstack-endpoint", help="use (or start) LocalStack here (default: AWS_ENDPOINT_URL, "
                        "LOCALSTACK_HOST, http://127.0.0.1:4566)")
    parser.add_argument("--poll-schedule", default="rate(1 minute)", help="--keep-running: the producer's schedule")
    parser.add_argument("--glue-seconds", type=float, default=120.0, help="--keep-running: Glue + load interval")
    parser.add_argument("--day-seconds", type=float, default=120.0,
                        help="--keep-running, local server: real seconds per chart day (0: the date stays)")
    parser.add_argument("--rows", type=int, default=10, help="report rows per chart (default 10)")
    parser.add_argument("--dashboard-port", type=int, default=0, help="dashboard port (default: any free one)")
    parser.add_argument("--no-dashboard", action="store_true", help="do not serve the dashboard")
    return parser


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The options, with the defaults that depend on others filled in; refuses what cannot run."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.history:
        args.markets = "all" if args.markets == "global,us" else args.markets
        args.start_date = args.start_date or catalog.FIRST_DATE
        args.serve = args.serve or not args.keep_running
    if args.markets == "all":
        args.markets = ",".join(catalog.MARKETS_BY_LABEL)
    args.start_date = args.start_date or date(2024, 3, 1)
    if args.days is None:
        args.days = 0 if (args.keep_running or args.imports) and not args.history else (
            (catalog.LAST_DATE - args.start_date).days + 1 if args.history else DEFAULT_DAYS)
    if args.glue_every is None:
        args.glue_every = HISTORY_GLUE_EVERY if args.history else DEFAULT_GLUE_EVERY
    if args.days < 0 or args.glue_every < 1:
        parser.error("--days must be >= 0 and --glue-every >= 1")
    if args.keep_running and args.serve:
        parser.error("--keep-running already keeps everything up: drop --serve")
    if args.days and live_spotify():
        parser.error("live Spotify: chart days pass in real time; use --keep-running (and --days 0)")
    if args.history and live_spotify():
        parser.error("--history replays the bundled real charts: unset SPOTIFY_CLIENT_ID/SECRET or set SPOTIFY_API_URL")
    return args


def settings_from(args: argparse.Namespace) -> PipelineSettings:
    extra = {"stack_name": args.stack_name} if args.stack_name else {}
    return PipelineSettings(markets=tuple(m.strip() for m in args.markets.split(",") if m.strip()),
                            playlists=args.playlists, start_date=args.start_date, work_dir=args.work_dir,
                            poll_schedule=args.poll_schedule, localstack_endpoint=args.localstack_endpoint, **extra)


def start_dashboard(pipeline: LocalPipeline, port: int):
    """The spotify_charts dashboard over this pipeline's data, in a thread."""
    settings = MonitorSettings(
        state_bucket=pipeline.outputs["StateBucketName"], state_prefix=STATE_PREFIX,
        glue_checkpoint=str(pipeline.glue_paths().checkpoint), snowpipe_queue_url=pipeline.queue_url,
        labels=playlist_labels(pipeline.settings.playlists))
    views = SnowflakeViews(lambda: connection.connect(local_environ(pipeline.snowflake_url)))
    server = DashboardServer(DashboardData(settings, views, snowflake_local=True), port)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, name="dashboard",
                     daemon=True).start()
    return server


def interrupt(signum, frame):
    raise KeyboardInterrupt  # SIGTERM cleans up like Ctrl-C


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        pipeline = LocalPipeline(settings_from(args))
    except PipelineError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILED
    previous_term = signal.signal(signal.SIGTERM, interrupt)
    dashboard = None
    code = EXIT_OK
    try:
        pipeline.start()
        apply_environ(pipeline.localstack.environ())  # the dashboard's boto3 clients
        if not args.no_dashboard:
            dashboard = start_dashboard(pipeline, args.dashboard_port)
            pipeline.say("dashboard", f"{dashboard.url} (up while this runs)")
        pipeline.say("terminal", f"in another terminal: source {pipeline.write_environment()} then spotify-charts "
                                 "report, live or dashboard read this run's data (while it runs)")
        if args.imports:
            pipeline.import_charts(args.imports)
        if args.days:
            pipeline.run_days(args.days, args.glue_every, progress_seconds=PROGRESS_SECONDS if args.history else None,
                              background_glue=args.history)
        elif args.imports:  # only the exports: one Glue run and load takes them all
            pipeline.run_glue()
            pipeline.load()
        try:
            if args.keep_running:
                pipeline.keep_running(threading.Event(), glue_seconds=args.glue_seconds,
                                      day_seconds=args.day_seconds or None)
            elif args.serve:
                pipeline.serve(threading.Event())
        except KeyboardInterrupt:  # ends the phase that runs until Ctrl-C: the report, then stop
            print("\ninterrupted: the report of what was loaded, then every process this run started stops",
                  file=sys.stderr, flush=True)
            code = EXIT_INTERRUPTED
        print("\n" + pipeline.report_text(args.rows) + "\n", flush=True)
        if dashboard is not None:
            pipeline.say("dashboard", f"was {dashboard.url} (--keep-running or --serve keeps it up)")
    except KeyboardInterrupt:
        print("\ninterrupted: stopping every process this run started ...", file=sys.stderr, flush=True)
        code = EXIT_INTERRUPTED
    except (PipelineError, GlueJobError) as error:
        print(f"error: {error}", file=sys.stderr, flush=True)
        code = EXIT_FAILED
    finally:
        # A second Ctrl-C must not cut the cleanup short.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if dashboard is not None:
            dashboard.shutdown()
            dashboard.server_close()
        pipeline.stop()
        signal.signal(signal.SIGTERM, previous_term)
        signal.signal(signal.SIGINT, signal.default_int_handler)
    print("all local processes stopped", file=sys.stderr, flush=True)
    return code
