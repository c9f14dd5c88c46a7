"""The producer side: the Spotify it polls (the local server replaying real charts, or
the live Web API), the local server's chart date, and polls by the deployed producer Lambda."""
from __future__ import annotations

import os
import time
from contextlib import ExitStack
from datetime import date
from typing import Any

from localdev.local_spotify_process import LocalSpotifyProcess
from localdev.pipeline.progress import Say, poll_text
from localdev.pipeline.settings import STATE_PREFIX, PipelineError, PipelineSettings
from localdev.pipeline.stack import Stack
from producer.state import StateStore
from spotify_charts.stages import StageFailedError, invoke_function

# Credentials the local Spotify server is told to expect: not real ones.
LOCAL_CLIENT_ID, LOCAL_CLIENT_SECRET = "local-client-id", "local-client-secret"


class ProducerClock:
    """Moves the local server's chart date on and has the deployed producer poll it."""

    def __init__(self, settings: PipelineSettings, say: Say, stack: Stack):
        self.settings, self.say, self.stack = settings, say, stack
        self.spotify: LocalSpotifyProcess | None = None  # None: live Spotify
        self.polls: list[dict[str, Any]] = []
        self.busy_seconds = 0.0
        self.quiet = False  # the replay prints one progress line per several polls instead

    def start(self, cleanup: ExitStack) -> None:
        s = self.settings
        if s.live:
            self.say("spotify", "live Spotify Web API (SPOTIFY_CLIENT_ID/SECRET set, no SPOTIFY_API_URL)")
            return
        self.spotify = LocalSpotifyProcess(
            "--start-date", s.start_date.isoformat(), log_path=s.logs / "local_spotify.log",
            env={"LOCAL_SPOTIFY_CLIENT_ID": LOCAL_CLIENT_ID, "LOCAL_SPOTIFY_CLIENT_SECRET": LOCAL_CLIENT_SECRET})
        cleanup.enter_context(self.spotify)
        self.say("spotify", f"local server {self.spotify.base_url} (pid {self.spotify.pid}) replaying "
                            f"{', '.join(s.markets)} from {s.start_date}")

    def stack_parameters(self) -> dict[str, str]:
        """The template parameters that point the producer at the local server (none for live Spotify)."""
        if self.spotify is None:
            return {}
        return {"SpotifyApiUrl": self.spotify.api_url, "SpotifyTokenUrl": self.spotify.token_url}

    def secret(self) -> dict[str, str]:
        """The Spotify secret's value: the local server's credentials, or the live ones from the environment."""
        if not self.settings.live:
            return {"client_id": LOCAL_CLIENT_ID, "client_secret": LOCAL_CLIENT_SECRET}
        secret = {"client_id": os.environ["SPOTIFY_CLIENT_ID"], "client_secret": os.environ["SPOTIFY_CLIENT_SECRET"]}
        if os.environ.get("SPOTIFY_REFRESH_TOKEN"):
            secret["refresh_token"] = os.environ["SPOTIFY_REFRESH_TOKEN"]
        return secret

    def chart_date(self) -> date | None:
        return self.spotify.control.date() if self.spotify else None

    def advance_day(self, days: int = 1) -> date:
        if self.spotify is None:
            raise PipelineError("live Spotify: chart days pass in real time (use --keep-running)")
        return self.spotify.control.advance(days)

    def poll(self) -> dict[str, Any]:
        """One poll by the deployed producer Lambda (``lambda.invoke``); returns its summary."""
        started = time.monotonic()
        try:
            payload = invoke_function(self.stack.outputs["ProducerFunctionName"], {}, self.stack.aws("lambda"))
        except StageFailedError as error:
            raise PipelineError(f"the producer Lambda failed: {error}") from None
        self.polls.append(payload)
        self.busy_seconds += time.monotonic() - started
        if payload.get("skipped"):  # another poll (e.g. the schedule's) held the poll lease
            self.say("poll", f"skipped: {payload['skipped']}")
        elif not self.quiet:
            day = self.chart_date()
            self.say("poll", f"{'[' + str(day) + '] ' if day else ''}{poll_text(payload)} "
                             f"({time.monotonic() - started:.1f} s)")
        return payload

    def last_poll(self) -> dict[str, Any] | None:
        """The summary of the producer's latest poll (its heartbeat in the state bucket)."""
        return StateStore(self.stack.outputs["StateBucketName"], STATE_PREFIX, self.stack.aws("s3")).load_last_poll()
