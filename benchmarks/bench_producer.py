"""Benchmark: one poll of 50 playlists x 50 tracks against the local Spotify server
with 50 ms latency per request, delivered to Firehose on a local AWS endpoint.

Prints wall time, Spotify requests and Firehose calls for a poll where every chart
changed and one where none did, against the targets: at most 2.5 s wall, at most
2 Spotify requests per changed playlist, 1 per unchanged one, and
ceil(records / 500) Firehose calls (chart entries and observations together).

    .venv/bin/python benchmarks/bench_producer.py [--latency-ms 50] [--rounds 3]
"""
from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import boto3  # noqa: E402

from localdev.local_spotify_process import LocalSpotifyProcess  # noqa: E402
from localdev.aws import apply_environ, create_delivery_stream, local_aws_environ, moto_server  # noqa: E402
from spotify_charts.stages import LocalLambdaContext  # noqa: E402

CLIENT_ID, CLIENT_SECRET = "bench-client-id", "bench-client-secret"  # local server only


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3, help="changed + unchanged polls to time (default 3)")
    args = parser.parse_args()
    os.environ.update(POWERTOOLS_LOG_LEVEL="WARNING", POWERTOOLS_METRICS_DISABLED="true")
    env = {"LOCAL_SPOTIFY_CLIENT_ID": CLIENT_ID, "LOCAL_SPOTIFY_CLIENT_SECRET": CLIENT_SECRET}
    with LocalSpotifyProcess("--preload", "--latency-ms", str(args.latency_ms), extra_playlists=40, env=env,
                             start_timeout=90) as spotify, moto_server() as aws_url:
        apply_environ(local_aws_environ(aws_url))
        create_delivery_stream("bench-raw", "bench")
        boto3.client("s3").create_bucket(Bucket="bench-state")
        playlists = spotify.control.playlists()
        apply_environ({
            "PLAYLISTS": ",".join(f"{p['id']}:{p.get('market', 'p')}{i}" for i, p in enumerate(playlists)),
            "DELIVERY_STREAM_NAME": "bench", "STATE_BUCKET": "bench-state",
            "SPOTIFY_CLIENT_ID": CLIENT_ID, "SPOTIFY_CLIENT_SECRET": CLIENT_SECRET,
            "SPOTIFY_API_URL": spotify.api_url, "SPOTIFY_TOKEN_URL": spotify.token_url,
        })
        from producer.handler import lambda_handler

        print(f"{len(playlists)} playlists x 50 tracks, {args.latency_ms} ms latency per Spotify request, "
              f"MAX_CONCURRENCY={os.environ.get('MAX_CONCURRENCY', 8)}")
        changed, unchanged = [], []
        for round_ in range(args.rounds):
            for kind, results in (("changed", changed), ("unchanged", unchanged)):
                spotify.control.reset_stats()
                summary = lambda_handler({}, LocalLambdaContext())
                served = spotify.control.stats()["by_endpoint"]
                api_requests = sum(v["total"] for k, v in served.items() if k in ("playlist", "items"))
                n_changed, n_unchanged = len(summary["changed"]), len(summary["unchanged"])
                results.append(summary["duration_ms"] / 1000)
                print(f"  round {round_ + 1} {kind:<9}: wall {summary['duration_ms'] / 1000:.2f} s, "
                      f"changed {n_changed}, unchanged {n_unchanged}, failed {len(summary['failed'])}, "
                      f"Spotify API requests {api_requests} (+{served.get('token', {}).get('total', 0)} token), "
                      f"records {summary['records_sent']} + {summary['observations_sent']} observations, "
                      f"Firehose calls {summary['firehose_calls']}")
                assert not summary["failed"], summary["failed"]
                sent = summary["records_sent"] + summary["observations_sent"]
                expected_calls = math.ceil(sent / 500)
                ok = (api_requests <= 2 * n_changed + n_unchanged and summary["firehose_calls"] == expected_calls)
                print(f"    requests <= 2 x changed + unchanged = {2 * n_changed + n_unchanged}: "
                      f"{'yes' if ok else 'NO'}; Firehose calls = ceil({sent}/500) = "
                      f"{expected_calls}: {'yes' if summary['firehose_calls'] == expected_calls else 'NO'}")
            spotify.control.advance(1)
        print(f"\nchanged poll wall: median {statistics.median(changed):.2f} s, max {max(changed):.2f} s "
              f"(target <= 2.5 s: {'met' if max(changed) <= 2.5 else 'MISSED'})")
        print(f"unchanged poll wall: median {statistics.median(unchanged):.2f} s, max {max(unchanged):.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
