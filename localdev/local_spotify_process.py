"""Run the local Spotify server as a child process (for the local pipeline, or for
code that must reach it from another process), stopped by pid like every local server."""
from __future__ import annotations

from pathlib import Path

from localdev.process import ManagedProcess, free_port, http_ready, python_module
from local_spotify.app import CONTROL_PREFIX
from local_spotify.control import LocalSpotifyAddresses


class LocalSpotifyProcess(LocalSpotifyAddresses, ManagedProcess):
    """``python -m local_spotify`` in a child process::

        with LocalSpotifyProcess(extra_playlists=40, log_path="logs/spotify.log") as spotify:
            os.environ["SPOTIFY_API_URL"] = spotify.api_url
            spotify.control.advance(1)

    ``args`` are extra command-line options (see ``python -m local_spotify --help``);
    pass credentials through ``env`` (``LOCAL_SPOTIFY_CLIENT_ID`` / ``_SECRET``).
    """

    def __init__(
        self,
        *args: str,
        port: int | None = None,
        host: str = "127.0.0.1",
        extra_playlists: int = 0,
        env: dict[str, str] | None = None,
        log_path: str | Path | None = None,
        start_timeout: float = 30.0,
    ):
        self.host = host
        self.port = port or free_port(host)
        argv = python_module(
            "local_spotify", "--host", host, "--port", str(self.port),
            "--extra-playlists", str(extra_playlists), *args,
        )
        super().__init__(
            argv,
            ready=http_ready(self.base_url + CONTROL_PREFIX + "health"),
            name="local_spotify",
            env=env,
            cwd=Path(__file__).resolve().parent.parent,  # the checkout, so `-m local_spotify` imports
            log_path=log_path,
            start_timeout=start_timeout,
        )

