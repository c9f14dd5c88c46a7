"""``spotify-charts``: the project's command-line entry point.

    spotify-charts poll       one producer poll (in process, or the deployed Lambda)
    spotify-charts glue       start a run of the deployed Glue job
    spotify-charts import     chart exports (CSV, .csv.gz, .zip, folders) through the deployed import path
    spotify-charts deploy     package and deploy the stack (arguments go to infra.deploy)
    spotify-charts report     a chart on a date, from the Snowflake views
    spotify-charts export     daily charts with movements and streams as CSV, JSON or Parquet
    spotify-charts live       chart movements as the producer detects them
    spotify-charts dashboard  the web dashboard on 127.0.0.1
    spotify-charts auth       a Spotify user's refresh token for the producer (spotify_charts/auth.py)
    spotify-charts subscribe      an SNS subscription to chart events, by chart, artist and event
    spotify-charts subscriptions  the chart-event subscriptions, with their filter policies in words
    spotify-charts unsubscribe    remove one

Installed packages add commands of their own through the ``spotify_charts.commands``
entry points (see :mod:`spotify_charts.commands`); ``spotify-charts --help`` lists them all.

Exit codes: 0 done, 1 failed (the message says why), 2 bad usage or configuration,
130 interrupted.
"""
from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from datetime import date
from typing import Sequence

from spotify_charts import auth, stages
from spotify_charts.commands import (AddedCommand, CommandError, Passthrough, added_commands, non_negative,
                                      positive, print_json)
from spotify_charts.settings import MonitorSettings, SettingsError

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
# A Top 50 shows whole; a Top 200 its first 50 and how many more (--rows 0 or 200 shows all).
DEFAULT_REPORT_ROWS = 50

DEPLOY = Passthrough("package and deploy the stack (arguments: spotify-charts deploy --help)", "infra.deploy")


# -- poll -------------------------------------------------------------------------------

def cmd_poll(args: argparse.Namespace) -> int:
    event = {"source": "spotify-charts"}
    if args.function:
        summary = stages.invoke_function(args.function, event)
    else:
        from producer.config import ConfigError

        try:
            summary = stages.poll_in_process(event, args.verbose)
        except ConfigError as error:
            raise SettingsError(f"producer configuration: {error} (see producer/README.md, 'Configuration')") from None
    if args.json:
        print_json(summary)
    else:
        print(f"poll {summary['poll_id']}: {len(summary['changed'])} changed, {len(summary['unchanged'])} unchanged, "
              f"{len(summary['failed'])} failed, {len(summary['deferred'])} deferred; "
              f"{summary['records_sent']} records sent in {summary['firehose_calls']} Firehose calls, "
              f"{summary['spotify_requests']} Spotify requests, {summary['duration_ms']} ms")
        if summary["movements"]:
            print("movements: " + ", ".join(f"{k} {v}" for k, v in summary["movements"].items() if v)
                  + "  (spotify-charts live shows them)")
        for playlist_id, error in summary["failed"].items():
            print(f"failed {playlist_id}: {error}", file=sys.stderr)
    return EXIT_FAILED if summary["failed"] else EXIT_OK


# -- glue -------------------------------------------------------------------------------

GLUE_PATH_ARGUMENTS = ("source_path", "target_path", "quarantine_path", "checkpoint_path")


def cmd_glue(args: argparse.Namespace) -> int:
    if not args.job_name:
        raise SettingsError("--job-name (or GLUE_JOB_NAME) is required: the deployed Glue job to start")
    arguments = {name: getattr(args, name) for name in GLUE_PATH_ARGUMENTS if getattr(args, name)}
    result = stages.start_glue_job_run(args.job_name, arguments, wait=args.wait, poll_seconds=args.poll_seconds)
    if args.json:
        print_json(result)
    else:
        print(f"Glue job {result['job_name']} run {result['run_id']}: {result['state']}")
    return EXIT_OK


# -- import -----------------------------------------------------------------------------

def cmd_import(args: argparse.Namespace) -> int:
    import boto3

    from spotify_charts.imports import import_paths

    if not args.bucket:
        raise SettingsError("--bucket (or IMPORTS_BUCKET) is required: the stack's ImportsBucketName output")
    summary = import_paths(args.paths, args.bucket, boto3.client("s3"), timeout=args.wait, out=sys.stderr,
                           say=print)
    if args.json:
        print_json([{"upload": u.key, "path": str(u.path), **(u.results or {"status": "pending"})}
                    for u in summary.uploads])
    return EXIT_OK if summary.ok else EXIT_FAILED


# -- report -----------------------------------------------------------------------------

def snowflake_connection():
    from snowflake.charts import connection

    try:
        connection.connect_arguments()
    except connection.ConnectionSettingsError as error:
        raise SettingsError(str(error)) from None
    return connection.connect()


def cmd_report(args: argparse.Namespace) -> int:
    from spotify_charts import views
    from spotify_charts.report import build_report, render_text, report_json

    with snowflake_connection() as db:
        try:
            report = build_report(db, args.chart, args.date, movers=args.movers, artists=args.artists)
        except views.ChartNotFoundError as error:
            raise CommandError(str(error)) from None
    print(report_json(report) if args.json else render_text(report, args.rows))
    return EXIT_OK


# -- export -----------------------------------------------------------------------------

def cmd_export(args: argparse.Namespace) -> int:
    from pathlib import Path

    from spotify_charts import views
    from spotify_charts.export import export

    charts = [c.strip() for c in args.chart.split(",") if c.strip()]
    with snowflake_connection() as db:
        try:
            export(db, charts, args.first, args.last, args.format, Path(args.out) if args.out else None,
                   sys.stdout, sys.stderr)
        except views.ChartNotFoundError as error:
            raise CommandError(str(error)) from None
    return EXIT_OK


# -- live -------------------------------------------------------------------------------

def cmd_live(args: argparse.Namespace) -> int:
    from spotify_charts.events import ProducerOutputs
    from spotify_charts.live import LiveView

    settings = MonitorSettings.from_env(state_bucket=args.bucket, state_prefix=args.prefix)
    outputs = ProducerOutputs(settings.require_state_bucket(), settings.state_prefix)
    view = LiveView(outputs, sys.stdout, chart=args.chart, as_json=args.json)
    shown = view.show_recent(args.last)
    if not args.follow:
        if not shown and not args.json:
            print(f"no movements yet in s3://{outputs.bucket}/{outputs.events_prefix}")
        return EXIT_OK
    if not args.json:
        print(f"-- following s3://{outputs.bucket}/{outputs.events_prefix} every {args.interval:g} s"
              + (f" for {args.duration:g} s" if args.duration else " (Ctrl-C stops)"), flush=True)
    view.follow(args.interval, args.duration)
    return EXIT_OK


# -- chart-event subscriptions --------------------------------------------------------------

def _events_topic(args: argparse.Namespace) -> str:
    from spotify_charts.subscriptions import TOPIC_VARIABLE

    if not args.topic:
        raise SettingsError(f"--topic (or {TOPIC_VARIABLE}) is required: the stack's ChartEventsTopicArn output")
    return args.topic


def cmd_subscribe(args: argparse.Namespace) -> int:
    import boto3

    from spotify_charts import subscriptions, views

    topic, keys = _events_topic(args), []
    if args.artist:
        with snowflake_connection() as db:
            artists = subscriptions.resolve_artists(views.chart_artists(db), args.artist)
        for artist in artists:
            keys += artist.keys
            if artist.credits:
                shown = ", ".join(map(repr, artist.credits[:5])) + (" ..." if len(artist.credits) > 5 else "")
                print(f"note: imported charts also credit {artist.name!r} within {shown}; add --artist for each "
                      "you want too", file=sys.stderr)
    policy = subscriptions.filter_policy(args.chart or (), keys, args.event or ())
    protocol, endpoint = next((p, e) for p, e in (("email", args.email), ("sqs", args.sqs), ("https", args.https)) if e)
    if protocol == "sqs" and not args.no_queue_policy:
        added = subscriptions.allow_topic(boto3.client("sqs", region_name=endpoint.split(":")[3]), endpoint, topic)
        print(f"{'added to' if added else 'already in'} the queue's policy: the topic may send to it", file=sys.stderr)
    arn = subscriptions.subscribe(boto3.client("sns"), topic, protocol, endpoint, policy)
    if args.json:
        print_json({"arn": arn, "filter_policy": policy, "receives": subscriptions.describe_policy(policy)})
    else:
        print(f"{arn}\n    receives {subscriptions.describe_policy(policy)}")
    return EXIT_OK


def cmd_subscriptions(args: argparse.Namespace) -> int:
    import boto3

    from spotify_charts.subscriptions import list_subscriptions

    found = list_subscriptions(boto3.client("sns"), _events_topic(args))
    if args.json:
        print_json([s.to_json() for s in found])
    for item in [] if args.json else found:
        print(f"{item.arn}  {item.protocol} {item.endpoint}\n    receives {item.to_json()['receives']}")
    if not found and not args.json:
        print("no subscriptions to chart events yet (spotify-charts subscribe adds one)")
    return EXIT_OK


def cmd_unsubscribe(args: argparse.Namespace) -> int:
    import boto3

    from spotify_charts.subscriptions import unsubscribe

    unsubscribe(boto3.client("sns"), _events_topic(args), args.arn)
    print(f"unsubscribed {args.arn}")
    return EXIT_OK


# -- dashboard --------------------------------------------------------------------------

def cmd_dashboard(args: argparse.Namespace) -> int:
    from snowflake.charts import connection
    from spotify_charts.dashboard import DashboardData, DashboardServer, SnowflakeViews

    settings = MonitorSettings.from_env(state_bucket=args.bucket, state_prefix=args.prefix,
                                        glue_checkpoint=args.glue_checkpoint, snowpipe_queue_url=args.queue_url)
    connect = None
    if not args.no_snowflake:
        try:
            connection.connect_arguments()
            connect = connection.connect
        except connection.ConnectionSettingsError:
            print("Snowflake not configured: the bump chart and full chart stats stay empty "
                  f"(set {connection.LOCAL_URL_VAR} or SNOWFLAKE_* to show them)", file=sys.stderr)
    snowflake = SnowflakeViews(connect)
    server = DashboardServer(DashboardData(settings, snowflake, snowflake_local=connection.is_local()), args.port)
    print(f"Dashboard: {server.url}  (Ctrl-C stops)", flush=True)
    if args.duration:
        threading.Timer(args.duration, server.shutdown).start()
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
        snowflake.close()
    return EXIT_OK


# -- parser -----------------------------------------------------------------------------

def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date like 2024-03-15: {text!r}") from None


def build_parser(added: dict[str, AddedCommand] | None = None) -> argparse.ArgumentParser:
    """The parser of the commands here, then of the ``added`` ones (see spotify_charts.commands)."""
    parser = argparse.ArgumentParser(prog="spotify-charts", description="Monitor Spotify charts: run the pipeline, "
                                     "look at charts and their movements.",
                                     epilog="exit codes: 0 done, 1 failed, 2 bad usage or configuration, "
                                            "130 interrupted")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    commands.add_parser("deploy", help=DEPLOY.help, add_help=False)
    for add_command in (_add_poll, _add_glue, _add_import, _add_report, _add_export, _add_live, _add_dashboard,
                        auth.add_parser, _add_subscribe, _add_subscriptions, _add_unsubscribe):
        add_command(commands)
    for name, command in (added or {}).items():
        if name in commands.choices:
            raise TypeError(f"an installed package adds a command named {name!r}, which spotify-charts has already")
        if isinstance(command, Passthrough):
            commands.add_parser(name, help=command.help, add_help=False)
        else:
            sub = commands.add_parser(name, help=command.help, description=command.description)
            command.add_arguments(sub)
            sub.set_defaults(handler=command.run)
    return parser


def _add_poll(commands) -> None:
    poll = commands.add_parser("poll", help="one producer poll", description=(
        "Poll every configured chart once, as the Lambda does. In process by default, with the producer's "
        "environment (PLAYLISTS, DELIVERY_STREAM_NAME, STATE_BUCKET, SPOTIFY_*; producer/README.md 'Configuration'); "
        "or invoke a deployed function. Exit 1 if a playlist failed."))
    poll.add_argument("--function", metavar="NAME", help="invoke this deployed producer Lambda instead")
    poll.add_argument("--json", action="store_true", help="print the poll summary as JSON")
    poll.add_argument("--verbose", action="store_true", help="show the producer's JSON logs and EMF metrics (stderr)")
    poll.set_defaults(handler=cmd_poll)


def _add_glue(commands) -> None:
    glue = commands.add_parser("glue", help="start a run of the deployed Glue job", description=(
        "Start a run of the deployed Glue job (boto3), optionally overriding its paths; with --wait, "
        "check its state until it ends (exit 1 if it failed). Paths default to GLUE_SOURCE_PATH, "
        "GLUE_TARGET_PATH, GLUE_QUARANTINE_PATH, GLUE_CHECKPOINT_PATH; unset ones keep the job's own."))
    glue.add_argument("--job-name", default=os.environ.get("GLUE_JOB_NAME"),
                      help="the deployed Glue job (default $GLUE_JOB_NAME)")
    for name in GLUE_PATH_ARGUMENTS:
        glue.add_argument(f"--{name}", default=os.environ.get(f"GLUE_{name.upper()}"), metavar="PATH")
    glue.add_argument("--wait", action="store_true", help="wait until the run ends")
    glue.add_argument("--poll-seconds", type=positive(float), default=15.0,
                      help="with --wait: seconds between status checks (default 15)")
    glue.add_argument("--json", action="store_true", help="print the run's id and state as JSON")
    glue.set_defaults(handler=cmd_glue)


def _add_import(commands) -> None:
    imports = commands.add_parser("import", help="import chart exports through the deployed import path",
                                  description=(
        "Upload charts.spotify.com chart exports (CSV, .csv.gz, or .zip archives; folders are searched) to "
        "the deployment's imports bucket under incoming/, with a progress bar; the import Lambda takes each "
        "file through Firehose, Glue and Snowpipe into the views. Then print what became of each chart file: "
        "loaded, unchanged (already held), replaced (a corrected file) or rejected with its reason. "
        "Exit 1 if a file was rejected or no result came within --wait."))
    imports.add_argument("paths", nargs="+", metavar="PATH", help="files, folders or zip archives")
    imports.add_argument("--bucket", default=os.environ.get("IMPORTS_BUCKET"),
                         help="the stack's imports bucket (default $IMPORTS_BUCKET; output ImportsBucketName)")
    imports.add_argument("--wait", type=positive(float), default=300.0, metavar="SECONDS",
                         help="how long to wait for the import Lambda's results (default 300)")
    imports.add_argument("--json", action="store_true", help="also print every upload's results as JSON")
    imports.set_defaults(handler=cmd_import)


def _add_report(commands) -> None:
    report = commands.add_parser("report", help="a chart on a date, from the Snowflake views", description=(
        "The chart with position, change (▲3 ▼2 =, NEW, RE-ENTRY), streams (imported Top 200 exports), peak "
        "and days (weeks) on chart as of the date; the biggest climbers and fallers; new entries and exits; "
        "top artists. Any chart the views hold: playlists, and imported daily or weekly chart exports. Reads "
        "the Snowflake views (SNOWFLAKE_* settings, or SNOWFLAKE_LOCAL_URL for the local engine)."))
    report.add_argument("--chart", help="chart label (e.g. global, regional-ar-daily) or playlist id "
                                        "(default: global, else regional-global-daily, or the only chart)")
    report.add_argument("--date", type=_iso_date, help="chart date YYYY-MM-DD (default: the latest)")
    report.add_argument("--rows", type=non_negative(int), default=DEFAULT_REPORT_ROWS,
                        help=f"chart rows shown (default {DEFAULT_REPORT_ROWS}: all of a Top 50; 0: all)")
    report.add_argument("--movers", type=positive(int), default=5, help="climbers and fallers shown (default 5)")
    report.add_argument("--artists", type=positive(int), default=10, help="top artists shown (default 10)")
    report.add_argument("--json", action="store_true", help="print the report as JSON")
    report.set_defaults(handler=cmd_report)


def _add_export(commands) -> None:
    exports = commands.add_parser("export", help="daily charts with movements and streams, as CSV, JSON or Parquet",
                                  description=(
        "Write the daily charts of one or more charts over a date range from the Snowflake views: chart, date, "
        "position, track, artists, status, previous position, change, streams, previous chart date, missing "
        "days; one row per position, with a progress bar on stderr."))
    exports.add_argument("--chart", required=True, help="chart labels or playlist ids, comma-separated")
    exports.add_argument("--from", dest="first", type=_iso_date, required=True, help="first chart date")
    exports.add_argument("--to", dest="last", type=_iso_date, required=True, help="last chart date")
    exports.add_argument("--format", choices=("csv", "json", "parquet"), default="csv", help="default csv")
    exports.add_argument("--out", metavar="PATH", help="write here (default: stdout; parquet needs a file)")
    exports.set_defaults(handler=cmd_export)


def _add_live(commands) -> None:
    live = commands.add_parser("live", help="chart movements as they happen", description=(
        "List the latest chart movements from the producer's event objects (s3://STATE_BUCKET/"
        "STATE_PREFIX/events/chart_movements/), seconds after each poll and before any batch runs. "
        "--follow keeps checking for new ones."))
    live.add_argument("--bucket", help="the producer's state bucket (default $STATE_BUCKET)")
    live.add_argument("--prefix", help="the producer's state prefix (default $STATE_PREFIX or producer-state/)")
    live.add_argument("--chart", help="only this chart (label or playlist id)")
    live.add_argument("--last", type=int, default=5, help="events shown first (default 5)")
    live.add_argument("--follow", action="store_true", help="keep checking for new movements")
    live.add_argument("--interval", type=positive(float), default=3.0, help="seconds between checks (default 3)")
    live.add_argument("--for", dest="duration", type=positive(float), metavar="SECONDS",
                      help="with --follow: stop after this many seconds")
    live.add_argument("--json", action="store_true", help="one JSON object per movement (JSON lines)")
    live.set_defaults(handler=cmd_live)


def _add_dashboard(commands) -> None:
    board = commands.add_parser("dashboard", help="the web dashboard on 127.0.0.1", description=(
        "Serve the dashboard on http://127.0.0.1:PORT/: the current chart, a rank-over-time bump chart, "
        "the latest movements and the pipeline's health, with JSON endpoints under /api/."))
    board.add_argument("--port", type=int, default=8050, help="port (default 8050; 0 picks a free one)")
    board.add_argument("--bucket", help="the producer's state bucket (default $STATE_BUCKET)")
    board.add_argument("--prefix", help="the producer's state prefix (default $STATE_PREFIX)")
    board.add_argument("--glue-checkpoint", help="the Glue job's checkpoint path, for its run metrics "
                                                 "(default $GLUE_CHECKPOINT_PATH)")
    board.add_argument("--queue-url", help="the Snowpipe queue (default $SNOWPIPE_QUEUE_URL)")
    board.add_argument("--no-snowflake", action="store_true", help="do not read the Snowflake views")
    board.add_argument("--for", dest="duration", type=positive(float), metavar="SECONDS",
                       help="stop after this many seconds (default: until Ctrl-C)")
    board.set_defaults(handler=cmd_dashboard)


def _topic_argument(parser) -> None:
    parser.add_argument("--topic", default=os.environ.get("CHART_EVENTS_TOPIC_ARN"), metavar="ARN",
                        help="the chart events topic (default $CHART_EVENTS_TOPIC_ARN; output ChartEventsTopicArn)")


def _add_subscribe(commands) -> None:
    from producer.chart_events import EVENTS

    subscribe = commands.add_parser("subscribe", help="subscribe to chart events by chart, artist and event",
                                    description=(
        "Create an SNS subscription to the stack's chart events whose filter policy says exactly what you ask "
        "for: every --chart, --artist and --event given must match (several values of one option: any of "
        "them). Artist names are looked up in the Snowflake views, case-insensitively (SNOWFLAKE_* settings). "
        "Events: " + ", ".join(EVENTS) + "."))
    _topic_argument(subscribe)
    subscribe.add_argument("--chart", action="append", metavar="C", help="a chart label (repeat for more)")
    subscribe.add_argument("--artist", action="append", metavar="NAME", help="an artist's name (repeat for more)")
    subscribe.add_argument("--event", nargs="+", action="extend", choices=EVENTS, metavar="E",
                           help="one or more events (repeatable)")
    to = subscribe.add_mutually_exclusive_group(required=True)
    to.add_argument("--email", metavar="ADDR", help="mail each event here (after the address confirms)")
    to.add_argument("--sqs", metavar="ARN", help="send each event to this SQS queue")
    to.add_argument("--https", metavar="URL", help="POST each event here (after the endpoint confirms)")
    subscribe.add_argument("--no-queue-policy", action="store_true",
                           help="with --sqs: leave the queue's policy alone (it must let the topic send)")
    subscribe.add_argument("--json", action="store_true", help="print the subscription as JSON")
    subscribe.set_defaults(handler=cmd_subscribe)


def _add_subscriptions(commands) -> None:
    listing = commands.add_parser("subscriptions", help="the chart-event subscriptions and what each receives",
                                  description="List the chart events topic's subscriptions with their filter "
                                              "policies in words.")
    _topic_argument(listing)
    listing.add_argument("--json", action="store_true", help="as JSON, with the filter policies as SNS holds them")
    listing.set_defaults(handler=cmd_subscriptions)


def _add_unsubscribe(commands) -> None:
    remove = commands.add_parser("unsubscribe", help="remove a chart-event subscription",
                                 description="Remove one subscription of the chart events topic, by its ARN.")
    _topic_argument(remove)
    remove.add_argument("arn", help="the subscription's ARN (spotify-charts subscriptions lists them)")
    remove.set_defaults(handler=cmd_unsubscribe)


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def _exit_code(exit: SystemExit) -> int:
    """argparse and delegated modules exit with SystemExit; main returns the code instead."""
    if exit.code is None or isinstance(exit.code, int):
        return exit.code or EXIT_OK
    print(exit.code, file=sys.stderr)
    return EXIT_FAILED


def dispatch(argv: list[str]) -> int:
    added = added_commands()
    passthrough = {"deploy": DEPLOY, **{n: c for n, c in added.items() if isinstance(c, Passthrough)}}
    if argv and argv[0] in passthrough:
        program = sys.argv[0]
        sys.argv[0] = f"spotify-charts {argv[0]}"  # what the delegated parser's usage line shows
        try:
            return passthrough[argv[0]].main(argv[1:])
        finally:
            sys.argv[0] = program
    args = build_parser(added).parse_args(argv)
    return args.handler(args)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    previous_sigterm = None
    if threading.current_thread() is threading.main_thread():
        previous_sigterm = signal.signal(signal.SIGTERM, _interrupt)  # stopped by pid: clean up as on Ctrl-C
    try:
        return dispatch(argv)
    except SystemExit as exit:
        return _exit_code(exit)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except SettingsError as error:
        print(f"spotify-charts: {error}", file=sys.stderr)
        return EXIT_USAGE
    except CommandError as error:
        print(f"spotify-charts: {error}", file=sys.stderr)
        return EXIT_FAILED
    except Exception as error:  # noqa: BLE001 - AWS/Snowflake errors: one clear line, not a traceback
        if os.environ.get("SPOTIFY_CHARTS_DEBUG"):
            raise
        print(f"spotify-charts: {type(error).__name__}: {error} (SPOTIFY_CHARTS_DEBUG=1 shows the traceback)",
              file=sys.stderr)
        return EXIT_FAILED
    finally:
        if previous_sigterm is not None:
            signal.signal(signal.SIGTERM, previous_sigterm)


if __name__ == "__main__":
    sys.exit(main())
