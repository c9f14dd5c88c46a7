"""Run the producer locally: the bundled Spotify-compatible server replays real charts,
the producer polls it as charts move day by day, and Firehose on a local AWS endpoint
(moto server) lands the records in S3. Ends by showing what landed.

    python -m localdev.run_local [--days 3] [--markets global,us,...] [--start-date 2024-03-12] [--verbose]

Every server it starts is a child process stopped by pid when it ends (Ctrl-C too).
"""
from __future__ import annotations

import argparse
import os
import sys
from collections import Counter
from datetime import date
from pathlib import Path

import boto3

from firehose import contract, settings
from local_spotify.catalog import FIRST_DATE, LAST_DATE, MARKETS, MARKETS_BY_LABEL
from localdev.local_spotify_process import LocalSpotifyProcess
from localdev.aws import apply_environ, create_delivery_stream, list_keys, local_aws_environ, moto_server, read_records
from spotify_charts.stages import LocalLambdaContext
from spotify_charts.text import artists_text, change_marker, fit, terminal_text

LOG_DIR = Path(".local/logs")
RAW_BUCKET, STATE_BUCKET, STREAM = "charts-raw-local", "charts-state-local", "chart-entries-local"
EVENTS_PREFIX = "producer-state/events/"
# Values the local server is told to expect; not real credentials.
LOCAL_CLIENT_ID, LOCAL_CLIENT_SECRET = "local-client-id", "local-client-secret"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=3, help="chart days to replay, one poll each plus a repeat poll (default 3)")
    parser.add_argument("--markets", default=",".join(m.label for m in MARKETS),
                        help="comma-separated market labels (default: all 10)")
    parser.add_argument("--start-date", type=date.fromisoformat, default=date(2024, 3, 12),
                        help=f"first chart date, {FIRST_DATE} to {LAST_DATE} (default 2024-03-12: spans a missing day)")
    parser.add_argument("--verbose", action="store_true", help="show the Lambda's JSON logs and EMF metrics")
    args = parser.parse_args(argv)
    unknown = [m for m in args.markets.split(",") if m not in MARKETS_BY_LABEL]
    if unknown:
        parser.error(f"unknown markets {unknown}; choose from {', '.join(MARKETS_BY_LABEL)}")
    if args.days < 1:
        parser.error("--days must be at least 1")
    return args


def print_chart(records: list[dict], label: str, rows: int = 10) -> None:
    """The chart's latest recorded version, with each track's move since the version before."""
    polls = sorted({(r["observed_at"], r["poll_id"]) for r in records if r["chart_label"] == label})
    by_poll = {poll_id: sorted((r for r in records if r["poll_id"] == poll_id and r["chart_label"] == label),
                               key=lambda r: r["position"]) for _, poll_id in polls[-2:]}
    chart = by_poll[polls[-1][1]]
    before = {r["track_id"]: r["position"] for r in by_poll[polls[-2][1]]} if len(polls) > 1 else {}
    print("\n" + terminal_text(f"{chart[0]['playlist_name']}, top {rows} of the latest version"
                              + (" (moves since the version before):" if before else ":")))
    for r in chart[:rows]:
        old = before.get(r["track_id"])
        marker = "" if not before else change_marker("NEW" if old is None else None,
                                                     None if old is None else old - r["position"])
        print(f"  {r['position']:>3}  {fit(marker, 4)} {fit(r['track_name'], 40)} "
              f"{fit(artists_text(r['artist_names']), 40)}".rstrip())


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    markets = [MARKETS_BY_LABEL[m] for m in args.markets.split(",")]
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    if not args.verbose:
        os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
        os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    spotify_env = {"LOCAL_SPOTIFY_CLIENT_ID": LOCAL_CLIENT_ID, "LOCAL_SPOTIFY_CLIENT_SECRET": LOCAL_CLIENT_SECRET}
    print(f"Starting the local Spotify-compatible server and a local AWS endpoint (logs in {LOG_DIR}/) ...")
    with LocalSpotifyProcess("--start-date", args.start_date.isoformat(), "--preload", env=spotify_env,
                             log_path=LOG_DIR / "local_spotify.log") as spotify, \
            moto_server(log_path=str(LOG_DIR / "moto.log")) as aws_url:
        apply_environ(local_aws_environ(aws_url))
        create_delivery_stream(RAW_BUCKET, STREAM)
        boto3.client("s3").create_bucket(Bucket=STATE_BUCKET)
        apply_environ({
            "PLAYLISTS": ",".join(f"{m.playlist_id}:{m.label}" for m in markets),
            "DELIVERY_STREAM_NAME": STREAM, "STATE_BUCKET": STATE_BUCKET, "STATE_PREFIX": "producer-state/",
            "SPOTIFY_CLIENT_ID": LOCAL_CLIENT_ID, "SPOTIFY_CLIENT_SECRET": LOCAL_CLIENT_SECRET,
            "SPOTIFY_API_URL": spotify.api_url, "SPOTIFY_TOKEN_URL": spotify.token_url,
        })
        print(f"  Spotify API  {spotify.api_url}\n  AWS endpoint {aws_url}\n")
        from producer.handler import lambda_handler  # after the environment is set: it configures logging

        for day in range(args.days):
            for attempt in ("poll", "repeat"):
                summary = lambda_handler({"source": "localdev.run_local"}, LocalLambdaContext())
                chart_date = spotify.control.date()
                print(f"[{chart_date}] {attempt:<6} changed {len(summary['changed']):>2}  unchanged "
                      f"{len(summary['unchanged']):>2}  failed {len(summary['failed'])}  records sent "
                      f"{summary['records_sent']:>4}  Spotify requests {summary['spotify_requests']:>3}  "
                      f"Firehose calls {summary['firehose_calls']}  movements {summary['movements'] or '-'}  "
                      f"({summary['duration_ms']} ms)")
                if summary["failed"]:
                    print(f"  failed: {summary['failed']}", file=sys.stderr)
            if day < args.days - 1:
                spotify.control.advance(1)
        objects, records = len(list_keys(RAW_BUCKET)), read_records(RAW_BUCKET, record_type=contract.CHART_ENTRY)
        observations = read_records(RAW_BUCKET, record_type=contract.CHART_OBSERVATION)
        print(f"\nLanded in s3://{RAW_BUCKET}/: {objects} objects, {len(records)} chart entries and "
              f"{len(observations)} observations (one per chart and successful poll) "
              f"(local Firehose writes one plain object per batch; real Firehose writes gzip every "
              f"{settings.BUFFER_INTERVAL_SECONDS} s)")
        per_chart = Counter(r["chart_label"] for r in records)
        print("  records per chart: " + ", ".join(f"{label} {n}" for label, n in per_chart.most_common()))
        print(f"  snapshots recorded: {len({(r['playlist_id'], r['snapshot_id']) for r in records})}")
        events = list_keys(STATE_BUCKET, EVENTS_PREFIX)
        print(f"  chart movement events kept for live views: {len(events)} "
              f"(s3://{STATE_BUCKET}/{EVENTS_PREFIX}chart_movements/)")
        print_chart(records, markets[0].label)
    print("\nAll local servers stopped.")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("\nInterrupted: local servers stopped.", file=sys.stderr)
        sys.exit(130)
