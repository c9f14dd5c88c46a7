"""What a local pipeline run is asked to do (``PipelineSettings``), and the places every
part of it shares: the checkout's folders and the stack's S3 prefixes."""
from __future__ import annotations

import os
import uuid
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Mapping

from local_spotify import catalog

REPO_ROOT = Path(__file__).resolve().parents[2]
LOCAL_DIR = REPO_ROOT / ".local"  # gitignored
DEFAULT_WORK_DIR = LOCAL_DIR / "pipeline"
DEFAULT_BUILD_DIR = LOCAL_DIR / "build"  # the deploy command's artifacts, reused between runs

# Where Firehose delivers, where the curated files Snowpipe loads are, the producer's state.
# The Glue job's own paths come from the template (``stack_glue_paths``).
RAW_PREFIX = "raw/chart_entries/"
CURATED_PREFIX = "curated/"
STATE_PREFIX = "producer-state/"


class PipelineError(RuntimeError):
    """A stage of the local pipeline failed; the message says which and why."""


def live_spotify(environ: Mapping[str, str] | None = None) -> bool:
    """Spotify credentials are configured and no local API is asked for: poll the real Spotify."""
    env = os.environ if environ is None else environ
    return bool(env.get("SPOTIFY_CLIENT_ID") and env.get("SPOTIFY_CLIENT_SECRET") and not env.get("SPOTIFY_API_URL"))


def market_playlists(markets: tuple[str, ...]) -> str:
    """``PLAYLISTS`` for the local server's market playlists: ``id:label,...``."""
    return ",".join(f"{catalog.MARKETS_BY_LABEL[m].playlist_id}:{m}" for m in markets)


@dataclass
class PipelineSettings:
    markets: tuple[str, ...] = ("global", "us")  # local server: the charts to poll
    playlists: str | None = None  # "id:label,..." (live Spotify); default: the markets' playlists
    start_date: date = date(2024, 3, 1)  # local server: first chart day (2024-03-14 and -25 are gaps in the data)
    work_dir: Path = DEFAULT_WORK_DIR  # Snowpipe's stage, logs (cleared on start)
    build_dir: Path = DEFAULT_BUILD_DIR
    stack_name: str = field(default_factory=lambda: f"charts-{uuid.uuid4().hex[:6]}")
    poll_schedule: str = "rate(1 minute)"  # LocalStack's scheduler checks rules once a minute
    spark_master: str = "local[2]"
    long_lived_spark: bool = True  # the Glue runs share one Spark session (glue_worker); False: a JVM each
    localstack_endpoint: str | None = None  # default: AWS_ENDPOINT_URL / LOCALSTACK_HOST / :4566
    live: bool = field(default_factory=live_spotify)
    stack_parameters: dict[str, str] = field(default_factory=dict)  # more template parameters, e.g. timeouts

    def __post_init__(self) -> None:
        unknown = [m for m in self.markets if m not in catalog.MARKETS_BY_LABEL]
        if unknown:
            raise PipelineError(f"unknown markets {unknown}; choose from {', '.join(catalog.MARKETS_BY_LABEL)}")
        if self.live and not self.playlists:
            self.playlists = os.environ.get("PLAYLISTS")
            if not self.playlists:
                raise PipelineError("live Spotify: set PLAYLISTS (or --playlists) to the playlists your app may read")
        self.playlists = self.playlists or market_playlists(self.markets)
        self.work_dir = Path(self.work_dir)

    @property
    def logs(self) -> Path:
        return self.work_dir / "logs"
