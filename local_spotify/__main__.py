"""Run the local Spotify-compatible server: ``python -m local_spotify --port 8765``."""
from __future__ import annotations

import argparse
import os
import signal
import sys
from datetime import date

from local_spotify import catalog
from local_spotify.app import MISSING_DAYS, MISSING_DAYS_OUTAGE
from local_spotify.flips import MIDNIGHT, SPREAD
from local_spotify.objects import ENTRY_KEYS
from local_spotify.server import LocalSpotifyServer


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m local_spotify",
        description="A local server speaking the Spotify Web API subset the producer uses, "
        "replaying the real Top 50 charts of 10 markets as playlists over simulated time. "
        "See local_spotify/README.md.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: %(default)s)")
    parser.add_argument("--port", type=int, default=8765, help="port, 0 for any free one (default: %(default)s)")
    parser.add_argument(
        "--start-date", type=date.fromisoformat, default=catalog.FIRST_DATE,
        help=f"first simulated chart date, YYYY-MM-DD (default: {catalog.FIRST_DATE}; data ends {catalog.LAST_DATE})",
    )
    parser.add_argument(
        "--speed", type=float, default=0.0,
        help="simulated days per real second; 0 moves only through the control API (default: %(default)s)",
    )
    parser.add_argument("--latency-ms", type=float, default=0, help="added latency per API request (default: 0)")
    parser.add_argument("--extra-playlists", type=int, default=0, help="synthetic playlists besides the 10 markets")
    parser.add_argument(
        "--production-mode", action="store_true",
        help="answer like an app with extended quota (tracks carry popularity); default: development mode",
    )
    parser.add_argument("--entry-key", choices=ENTRY_KEYS, default="item",
                        help="where an entry holds its track: item (2026), track (older), both")
    parser.add_argument(
        "--client-id", default=os.environ.get("LOCAL_SPOTIFY_CLIENT_ID"),
        help="accept only this client id (default: $LOCAL_SPOTIFY_CLIENT_ID, else any)",
    )
    parser.add_argument(
        "--client-secret", default=os.environ.get("LOCAL_SPOTIFY_CLIENT_SECRET"),
        help="accept only this client secret (default: $LOCAL_SPOTIFY_CLIENT_SECRET, else any); "
        "prefer the environment variable: arguments are visible to other users",
    )
    parser.add_argument(
        "--redirect-uri", action="append", dest="redirect_uris", metavar="URI",
        help="a redirect URI the app registered, for GET /authorize (repeatable; default: any HTTPS or "
        "http://127.0.0.1:PORT URI, as Spotify allows)",
    )
    parser.add_argument("--missing-days", choices=MISSING_DAYS, default=MISSING_DAYS_OUTAGE,
                        help="on a day missing from the data: answer 503 as a Spotify outage (a gap in the "
                        "replayed history), or hold the previous chart (default: %(default)s)")
    parser.add_argument(
        "--flip-times", default=MIDNIGHT, type=_flip_times,
        help=f"when each day's chart goes live: {MIDNIGHT} (every chart at 00:00 UTC, the default), {SPREAD} (a "
        "time of day per playlist drawn from --flip-seed) or market=HH:MM,... (others at midnight)",
    )
    parser.add_argument("--flip-jitter-minutes", type=float, default=0.0,
                        help="each day's flip lands up to this far either side of its time (default: 0)")
    parser.add_argument("--off-hour-rate", type=float, default=0.0,
                        help="share of days whose flip lands at any time of day instead (default: 0)")
    parser.add_argument("--flip-seed", type=int, default=0, help="seed of the spread times, jitter and off-hour days")
    parser.add_argument("--preload", action="store_true", help="load every market's charts before serving")
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    return parser.parse_args(argv)


def _flip_times(text: str) -> str | dict[str, str]:
    """``spread``, ``midnight`` or ``label=HH:MM,...`` (checked by the server)."""
    if text in (SPREAD, MIDNIGHT):
        return text
    pairs = [part.partition("=") for part in text.split(",") if part.strip()]
    if not pairs or any(not sep for _, sep, _ in pairs):
        raise argparse.ArgumentTypeError(f"{SPREAD}, {MIDNIGHT} or market=HH:MM,..., not {text!r}")
    return {name.strip(): clock.strip() for name, _, clock in pairs}


def flip_settings(args: argparse.Namespace) -> dict:
    return {"flip_times": args.flip_times, "flip_jitter_minutes": args.flip_jitter_minutes,
            "off_hour_rate": args.off_hour_rate, "flip_seed": args.flip_seed}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    server = LocalSpotifyServer(
        host=args.host,
        port=args.port,
        start_date=args.start_date,
        speed=args.speed,
        latency_ms=args.latency_ms,
        extra_playlists=args.extra_playlists,
        development_mode=not args.production_mode,
        client_id=args.client_id,
        client_secret=args.client_secret,
        redirect_uris=tuple(args.redirect_uris) if args.redirect_uris else None,
        entry_key=args.entry_key,
        missing_days=args.missing_days,
        flips=flip_settings(args),
        preload=args.preload,
        verbose=args.verbose,
    )

    def stop(signum, frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    server.start()
    print(f"local Spotify server: {server.base_url}", flush=True)
    print(f"  SPOTIFY_API_URL={server.api_url}", flush=True)
    print(f"  SPOTIFY_TOKEN_URL={server.token_url}", flush=True)
    print(f"  SPOTIFY_AUTHORIZE_URL={server.authorize_url}", flush=True)
    print(f"  control API: {server.control_url} (see local_spotify/README.md)", flush=True)
    print(f"  {len(server.app.playlists)} playlists, chart date {server.app.clock.today()}, "
          f"speed {args.speed} days/s", flush=True)
    try:
        signal.pause()  # serve until SIGTERM or Ctrl-C
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
