"""Benchmark: poll N playlists (snapshot, then one page of items each) through the real
spotipy client with 8 concurrent workers, against the local server with injected latency.

    python benchmarks/bench_local_spotify.py                 # server in a child process (as the pipeline runs it)
    python benchmarks/bench_local_spotify.py --in-process    # server in a thread of this process

Prints the one-off cost of loading every market's charts, then wall-clock figures for a
first poll, warm polls, and a poll after the simulated day advanced (new content everywhere).
"""
from __future__ import annotations

import argparse
import statistics
import time
from concurrent.futures import ThreadPoolExecutor

from local_spotify import catalog
from localdev.local_spotify_process import LocalSpotifyProcess
from local_spotify.example import spotipy_client
from local_spotify.server import LocalSpotifyServer

CLIENT_ID, CLIENT_SECRET = "bench-client", "bench-secret"  # local stand-in values, not credentials
# The producer's item selection (producer/spotify.py), both entry keys.
_TRACK = (
    "id,name,type,uri,duration_ms,explicit,popularity,is_local,is_playable,restrictions,"
    "external_ids(isrc),artists(id,name),album(id,name,release_date,release_date_precision),"
    "show(id,name),release_date,release_date_precision"
)
ITEM_FIELDS = f"items(added_at,is_local,item({_TRACK}),track({_TRACK})),next,total"


def poll_all(sp, playlist_ids: list[str], workers: int) -> tuple[float, int]:
    """Seconds to read every playlist's snapshot and first page; entries read."""

    def poll(playlist_id: str) -> int:
        sp.playlist(playlist_id, fields="snapshot_id,name")
        page = sp.playlist_items(playlist_id, limit=50, fields=ITEM_FIELDS, market="US")
        return len(page["items"])

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        entries = sum(pool.map(poll, playlist_ids))
    return time.perf_counter() - started, entries


def run(api_url: str, token_url: str, control, count: int, workers: int, rounds: int) -> None:
    sp = spotipy_client(api_url, token_url, CLIENT_ID, CLIENT_SECRET, retries=0)
    sp.playlist(catalog.MARKETS[0].playlist_id, fields="name")  # fetch the token
    started = time.perf_counter()
    playlist_ids = [p["id"] for p in control.playlists()][:count]  # lists snapshots: loads every market
    print(f"loading the charts of every market: {time.perf_counter() - started:.2f} s (once per server)")
    control.reset_stats()
    cold, entries = poll_all(sp, playlist_ids, workers)
    print(f"first poll:   {len(playlist_ids)} playlists, {entries} entries in {cold:.3f} s")
    warm = [poll_all(sp, playlist_ids, workers)[0] for _ in range(rounds)]
    print(f"warm polls:   median {statistics.median(warm):.3f} s, max {max(warm):.3f} s over {rounds} rounds")
    control.advance(1)
    moved, _ = poll_all(sp, playlist_ids, workers)
    print(f"after +1 day: {moved:.3f} s (new content for every playlist)")
    stats = control.stats()
    print(f"requests served: {stats['total']} {stats['by_endpoint']}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="benchmarks/bench_local_spotify.py", description=__doc__.splitlines()[0])
    parser.add_argument("--playlists", type=int, default=50, help="playlists to poll (>= 10; default 50)")
    parser.add_argument("--latency-ms", type=float, default=50)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--in-process", action="store_true", help="run the server in a thread of this process")
    args = parser.parse_args(argv)
    extra = max(0, args.playlists - 10)
    print(f"{args.playlists} playlists x (playlist + items), {args.latency_ms:g} ms latency, "
          f"{args.workers} workers, server {'in-process' if args.in_process else 'in a child process'}")
    if args.in_process:
        with LocalSpotifyServer(extra_playlists=extra, latency_ms=args.latency_ms) as server:
            run(server.api_url, server.token_url, server.control, args.playlists, args.workers, args.rounds)
    else:
        with LocalSpotifyProcess("--latency-ms", str(args.latency_ms), extra_playlists=extra) as server:
            run(server.api_url, server.token_url, server.control, args.playlists, args.workers, args.rounds)


if __name__ == "__main__":
    main()
