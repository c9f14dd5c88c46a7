"""A client of the local Spotify server's control API (``/_control/``).

It talks HTTP, so it works the same for a server in this process
(:class:`~local_spotify.server.LocalSpotifyServer`) and one in a child process::

    control = LocalSpotifyControl("http://127.0.0.1:8765")
    control.set_date("2024-01-01"); control.advance(1)
    control.add_fault(429, endpoint="items", retry_after=30)
"""
from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import date, datetime
from typing import Any, Iterable, Mapping
from urllib.parse import urlencode

from local_spotify.app import API_PREFIX, CONTROL_PREFIX, TOKEN_PATH
from local_spotify.authorize import AUTHORIZE_PATH


class LocalSpotifyAddresses:
    """The URLs of a local server at ``self.host``:``self.port`` (in-thread or child process)."""

    host: str
    port: int

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_url(self) -> str:
        return self.base_url + API_PREFIX

    @property
    def token_url(self) -> str:
        return self.base_url + TOKEN_PATH

    @property
    def authorize_url(self) -> str:
        return self.base_url + AUTHORIZE_PATH

    @property
    def control_url(self) -> str:
        return self.base_url + CONTROL_PREFIX

    @property
    def control(self) -> "LocalSpotifyControl":
        return LocalSpotifyControl(self.base_url)


class LocalSpotifyControlError(RuntimeError):
    """The control API refused a request (or could not be reached)."""


class LocalSpotifyControl:
    def __init__(self, base_url: str, timeout: float = 10.0):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def _call(self, method: str, route: str, body: dict | None = None, query: dict | None = None) -> Any:
        url = f"{self.base_url}/_control/{route}" + (f"?{urlencode(query)}" if query else "")
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as error:
            detail = error.read().decode("utf-8", "replace")
            raise LocalSpotifyControlError(f"{method} {url} answered {error.code}: {detail}") from None
        except urllib.error.URLError as error:
            raise LocalSpotifyControlError(f"{method} {url} failed: {error.reason}") from None

    # -- clock -----------------------------------------------------------------

    def date(self) -> date:
        return date.fromisoformat(self._call("GET", "date")["date"])

    def set_date(self, day: date | str) -> date:
        text = day.isoformat() if isinstance(day, date) else day
        return date.fromisoformat(self._call("POST", "date", {"date": text})["date"])

    def advance(self, days: int = 1) -> date:
        return date.fromisoformat(self._call("POST", "advance", {"days": days})["date"])

    def now(self) -> datetime:
        """The simulated instant (the ``Date`` header of the server's answers)."""
        return datetime.fromisoformat(self._call("GET", "time")["now"])

    def set_time(self, moment: datetime | str) -> datetime:
        """Put the simulated clock at an instant; time runs on from there."""
        text = moment.isoformat() if isinstance(moment, datetime) else moment
        return datetime.fromisoformat(self._call("POST", "time", {"at": text})["now"])

    def flips(self, first: date | str, last: date | str, playlist_id: str | None = None) -> dict[str, list[dict]]:
        """Each playlist's flips over chart days ``first``..``last``: ``{id: [{day, at, off_hour,
        snapshot_id, changes}]}``."""
        query = {"from": str(first), "to": str(last), **({"playlist_id": playlist_id} if playlist_id else {})}
        return self._call("GET", "flips", query=query)["flips"]

    # -- configuration ---------------------------------------------------------

    def config(self) -> dict:
        return self._call("GET", "config")

    def configure(self, **options: Any) -> dict:
        """Set any of ``latency_ms``, ``speed``, ``development_mode``, ``entry_key``, ``missing_days``
        and the flip settings (``flip_times``, ``flip_moves``, ``flip_jitter_minutes``, ``off_hour_rate``,
        ``flip_seed``; see local_spotify/flips.py)."""
        return self._call("POST", "config", options)

    def set_latency(self, ms: float) -> dict:
        return self.configure(latency_ms=ms)

    # -- faults and anomalies ------------------------------------------------

    def add_fault(
        self,
        status: int | None = None,
        count: int = 1,
        endpoint: str = "any",
        playlist_id: str | None = None,
        retry_after: int | None = None,
        malformed: str | None = None,
    ) -> dict:
        """Answer the next ``count`` matching requests with ``status``, or with a 200 whose
        body is ``malformed`` (``not_json``, ``truncated_json``, ``not_object``,
        ``no_snapshot_id``, ``items_not_list``). ``endpoint``: ``playlist``, ``items``,
        ``token`` or ``any``."""
        spec = {"count": count, "endpoint": endpoint, "playlist_id": playlist_id}
        spec.update({"malformed": malformed} if malformed is not None else {"status": status})
        if retry_after is not None:
            spec["retry_after"] = retry_after
        return self._call("POST", "faults", spec)["fault"]

    def faults(self) -> list[dict]:
        return self._call("GET", "faults")["faults"]

    def clear_faults(self) -> None:
        self._call("DELETE", "faults")

    def set_anomalies(
        self,
        playlist_id: str,
        *,
        null_positions: Iterable[int] = (),
        episode_positions: Iterable[int] = (),
        local_positions: Iterable[int] = (),
        unavailable_positions: Iterable[int] = (),
        length: int | None = None,
        poison: Mapping[int, str] | None = None,
        loop_next: bool = False,
    ) -> dict:
        """Replace the playlist's anomalies (each REPLACES the entry at its 1-based position).
        ``poison``: position -> how its entry is broken (``added_at_garbage``, ``added_at_number``,
        ``entry_not_object``, ``item_not_object``, ``artist_not_object``, ``album_not_object``);
        ``loop_next``: the last page's ``next`` points back to the first page."""
        return self._call(
            "POST",
            "anomalies",
            {
                "playlist_id": playlist_id,
                "null_positions": list(null_positions),
                "episode_positions": list(episode_positions),
                "local_positions": list(local_positions),
                "unavailable_positions": list(unavailable_positions),
                "length": length,
                "poison": {str(position): how for position, how in (poison or {}).items()},
                "loop_next": loop_next,
            },
        )

    def clear_anomalies(self, playlist_id: str | None = None) -> None:
        self._call("DELETE", "anomalies", query={"playlist_id": playlist_id} if playlist_id else None)

    # -- inspection ------------------------------------------------------------

    def playlists(self) -> list[dict]:
        return self._call("GET", "playlists")["playlists"]

    def state(self) -> dict:
        return self._call("GET", "state")

    def stats(self) -> dict:
        return self._call("GET", "stats")

    def reset_stats(self) -> None:
        self._call("DELETE", "stats")

    def expire_tokens(self) -> int:
        return self._call("POST", "tokens/expire")["expired"]

    def set_consent(self, approve: bool) -> bool:
        """How the simulated user answers the consent page of ``GET /authorize`` (reset: approve)."""
        return self._call("POST", "consent", {"approve": approve})["approve"]

    def reset(self) -> dict:
        """Back to the server's start options: clears faults, anomalies and stats."""
        return self._call("POST", "reset")

    def health(self) -> bool:
        return bool(self._call("GET", "health").get("ok"))
