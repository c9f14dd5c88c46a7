"""The local Spotify server's behaviour, independent of HTTP plumbing: one
:class:`LocalSpotifyApp` turns a :class:`Request` into a :class:`Response`.

Routes (see README.md for the full contract):

- ``POST /api/token``                        Accounts service token endpoint
- ``GET  /authorize``                        a user's authorization (Authorization Code flow, PKCE)
- ``GET  /v1/playlists/{id}``                playlist object
- ``GET  /v1/playlists/{id}/items``          paging object of entries
- ``GET  /v1/playlists/{id}/tracks``         removed in February 2026: 404 like any unknown endpoint
- ``/_control/...``                          test and demo control (JSON, no auth)
"""
from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from email.utils import formatdate
from typing import Any, Callable, Mapping

from local_spotify import catalog
from local_spotify.auth import Credentials, TokenRequestError, TokenService
from local_spotify.authorize import AUTHORIZE_PATH, ENDPOINT_AUTHORIZE
from local_spotify.faults import (
    ENDPOINT_ITEMS,
    ENDPOINT_PLAYLIST,
    ENDPOINT_TOKEN,
    FaultError,
    FaultQueue,
    RequestStats,
    malformed_body,
)
from local_spotify.fields import FieldsSyntaxError, filter_fields, parse_fields
from local_spotify.flips import FlipSchedule, FlipScheduleError, schedule_from_json
from local_spotify.objects import ENTRY_KEYS, RenderOptions, error_body, paging_object, playlist_object
from local_spotify.replay import (
    NO_ANOMALIES,
    Anomalies,
    PlaylistSource,
    ReplayError,
    SimulatedClock,
    build_playlists,
    market_history,
    playlist_content,
)

API_PREFIX = "/v1/"
TOKEN_PATH = "/api/token"
CONTROL_PREFIX = "/_control/"
MAX_LIMIT = 50  # Spotify's page limit for playlist items since 2026
DEFAULT_ITEMS_LIMIT = 20

# What the server does on a day missing from the data (4 days inside the range, and
# every day after its end): answer as Spotify failing (503), so a replay of the data
# has a gap there, as the real chart history does; or hold the last chart before it
# (the playlist looks unchanged).
MISSING_DAYS_OUTAGE = "outage"
MISSING_DAYS_HOLD = "hold"
MISSING_DAYS = (MISSING_DAYS_OUTAGE, MISSING_DAYS_HOLD)

# What ``POST /_control/config`` may set (the flip settings: local_spotify/flips.py).
FLIP_FIELDS = frozenset({"flip_times", "flip_moves", "flip_jitter_minutes", "off_hour_rate", "flip_seed"})
CONFIG_FIELDS = frozenset({"latency_ms", "speed", "development_mode", "entry_key", "missing_days"}) | FLIP_FIELDS

# Statistics also count these two endpoints, which only ever answer errors.
ENDPOINT_TRACKS = "tracks"  # the removed /playlists/{id}/tracks
ENDPOINT_OTHER = "other"

_PLAYLIST_PATH = re.compile(r"^/v1/playlists/(?P<id>[^/]+)(?:/(?P<sub>[^/]+))?/?$")
_BASE62 = re.compile(r"^[0-9A-Za-z]+$")
_MARKET = re.compile(r"^(?:[A-Z]{2}|from_token)$")


@dataclass
class Request:
    method: str
    path: str
    query: list[tuple[str, str]]  # in request order
    headers: Mapping[str, str]
    body: bytes = b""
    base_url: str = "http://127.0.0.1"  # scheme://host:port as the client addressed the server

    def param(self, name: str) -> str | None:
        return next((v for k, v in self.query if k == name), None)


@dataclass
class Response:
    status: int
    body: Any  # JSON-serialisable, or bytes sent as they are (with content_type)
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json; charset=utf-8"


class ControlError(ValueError):
    """A malformed control request (answered with 400)."""


def _api_error(status: int, message: str, headers: dict | None = None) -> Response:
    return Response(status, error_body(status, message), headers or {})


class LocalSpotifyApp:
    def __init__(
        self,
        *,
        start_date: date = catalog.FIRST_DATE,
        speed: float = 0.0,
        latency_ms: int = 0,
        extra_playlists: int = 0,
        development_mode: bool = True,
        entry_key: str = "item",
        client_id: str | None = None,
        client_secret: str | None = None,
        refresh_token: str | None = None,
        redirect_uris: tuple[str, ...] | None = None,
        missing_days: str = MISSING_DAYS_OUTAGE,
        flips: dict[str, Any] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.initial_config = {
            "start_date": start_date,
            "speed": speed,
            "latency_ms": latency_ms,
            "development_mode": development_mode,
            "entry_key": entry_key,
            "missing_days": missing_days,
            **(flips or {}),
        }
        self.playlists: dict[str, PlaylistSource] = {p.id: p for p in build_playlists(extra_playlists)}
        # What a flip setting may name a playlist by: its id, or its market's label.
        self.playlist_names = {**{m.label: m.playlist_id for m in catalog.MARKETS}, **{p: p for p in self.playlists}}
        self.flips = FlipSchedule()
        self.clock = SimulatedClock(start_date, speed)
        self.tokens = TokenService(Credentials(client_id, client_secret, refresh_token, redirect_uris))
        self.faults = FaultQueue()
        self.stats = RequestStats()
        self._sleep = sleep
        self._lock = threading.Lock()
        self._anomalies: dict[str, Anomalies] = {}
        self.latency_ms = 0
        self.development_mode = True
        self.entry_key = "item"
        self.missing_days = MISSING_DAYS_OUTAGE
        self._configure({k: v for k, v in self.initial_config.items() if k not in ("start_date", "speed")})

    # -- entry point ---------------------------------------------------------

    def handle(self, request: Request) -> Response:
        if request.path.startswith(CONTROL_PREFIX):
            return self._control(request)
        if self.latency_ms:
            self._sleep(self.latency_ms / 1000)  # each request has its own thread: latency overlaps
        endpoint, response = self._serve(request)
        self.stats.count(endpoint, response.status)
        return response

    def http_date(self) -> str:
        """The ``Date`` header of every response: the simulated instant (see SimulatedClock.now),
        so a client dating what it reads by the server's clock dates replayed charts right."""
        return formatdate(self.clock.now().timestamp(), usegmt=True)

    def preload(self) -> None:
        """Load every served market now (about 0.3 s each) instead of on first request."""
        for label in sorted({p.market for p in self.playlists.values()}):
            market_history(label)

    def _serve(self, request: Request) -> tuple[str, Response]:
        if request.path == TOKEN_PATH:
            return ENDPOINT_TOKEN, self._token(request)
        if request.path == AUTHORIZE_PATH and request.method == "GET":
            answer = self.tokens.authorization.authorize(request.query)
            if answer.location is None:
                return ENDPOINT_AUTHORIZE, _api_error(answer.status, answer.error)
            return ENDPOINT_AUTHORIZE, Response(answer.status, None, {"Location": answer.location})
        if not request.path.startswith(API_PREFIX):
            return ENDPOINT_OTHER, _api_error(404, "Service not found")
        match = _PLAYLIST_PATH.match(request.path)
        endpoint = ENDPOINT_OTHER
        if match:
            subpaths = {None: ENDPOINT_PLAYLIST, "items": ENDPOINT_ITEMS, "tracks": ENDPOINT_TRACKS}
            endpoint = subpaths.get(match.group("sub"), ENDPOINT_OTHER)
        problem = self.tokens.check_bearer(request.headers.get("Authorization"))
        if problem:
            return endpoint, _api_error(401, problem)
        if endpoint in (ENDPOINT_TRACKS, ENDPOINT_OTHER):
            return endpoint, _api_error(404, "Service not found")
        if request.method != "GET":
            return endpoint, _api_error(405, "Method not allowed")
        playlist_id = match.group("id")
        fault = self.faults.take(endpoint, playlist_id)
        if fault and fault.status:
            return endpoint, self._fault_response(fault)
        try:
            response = self._playlist_endpoint(request, endpoint, playlist_id)
        except (FieldsSyntaxError, ReplayError) as error:
            return endpoint, _api_error(400, str(error))
        if fault and response.status == 200:  # a malformed 200: the real answer, spoilt
            body, content_type = malformed_body(fault.malformed, response.body)
            response = Response(200, body, _fault_headers(fault), content_type)
        return endpoint, response

    # -- token ---------------------------------------------------------------

    def _token(self, request: Request) -> Response:
        if request.method != "POST":
            return Response(405, {"error": "invalid_request", "error_description": "Use POST"})
        fault = self.faults.take(ENDPOINT_TOKEN)
        if fault:
            error = "temporarily_unavailable" if fault.status in (429, 503) else (
                "server_error" if fault.status >= 500 else "access_denied"
            )
            return Response(fault.status, {"error": error, "error_description": fault.message}, _fault_headers(fault))
        try:
            return Response(200, self.tokens.grant(request.headers.get("Authorization"), request.body))
        except TokenRequestError as error:
            return Response(error.status, error.body)

    # -- playlists -----------------------------------------------------------

    def _fault_response(self, fault) -> Response:
        return _api_error(fault.status, fault.message, _fault_headers(fault))

    def _playlist_endpoint(self, request: Request, endpoint: str, playlist_id: str) -> Response:
        if not _BASE62.match(playlist_id):
            return _api_error(400, "Invalid base62 id")
        playlist = self.playlists.get(playlist_id)
        if playlist is None:
            return _api_error(404, "Resource not found")
        market = request.param("market")
        if market is not None and not _MARKET.match(market):
            return _api_error(400, "Invalid market code")
        selection = parse_fields(request.param("fields"))
        day = self.live_day(playlist)
        if self.missing_days == MISSING_DAYS_OUTAGE and not self.has_chart(playlist, day):
            return _api_error(503, f"no chart of {playlist.market} for {day} in the replayed data: served as an "
                                   "outage (missing_days='outage'; 'hold' keeps the previous chart)")
        content = self.content(playlist)
        options = RenderOptions(f"{request.base_url}{API_PREFIX}", self.development_mode, self.entry_key, market)
        if endpoint == ENDPOINT_PLAYLIST:
            page_params = [(k, v) for k, v in request.query if k in ("market", "additional_types")]
            body = playlist_object(content, options, page_params, MAX_LIMIT)
        else:
            limit = _int_param(request, "limit", DEFAULT_ITEMS_LIMIT)
            offset = _int_param(request, "offset", 0)
            if limit is None or not 1 <= limit <= MAX_LIMIT:
                return _api_error(400, "Invalid limit")
            if offset is None or offset < 0:
                return _api_error(400, "Invalid offset")
            page_params = [(k, v) for k, v in request.query if k not in ("offset", "limit")]
            body = paging_object(content, offset, limit, options, page_params)
        return Response(200, filter_fields(body, selection))

    @staticmethod
    def has_chart(playlist: PlaylistSource, day: date) -> bool:
        """Whether the data has the chart this playlist serves on ``day`` (shift included)."""
        return market_history(playlist.market).has_chart(day + timedelta(days=playlist.shift_days))

    def live_day(self, playlist: PlaylistSource) -> date:
        """The chart day the playlist serves now: today's once today's flip has passed."""
        return self.flips.live_day(playlist.id, self.clock.now())

    def content(self, playlist: PlaylistSource, day: date | None = None):
        day = self.live_day(playlist) if day is None else day
        return playlist_content(playlist, day, self._anomalies.get(playlist.id, NO_ANOMALIES))

    # -- control -------------------------------------------------------------

    def _control(self, request: Request) -> Response:
        route = request.path[len(CONTROL_PREFIX):].strip("/")
        handler = getattr(self, f"_control_{request.method.lower()}_{route.replace('/', '_')}", None)
        if handler is None:
            return Response(404, error_body(404, f"no control endpoint {request.method} {request.path}"))
        try:
            data = json.loads(request.body or b"{}")
            if not isinstance(data, dict):
                raise ControlError("the request body must be a JSON object")
            with self._lock:  # control changes are rare; keep them atomic
                return Response(200, handler(request, data))
        except json.JSONDecodeError as error:
            return Response(400, error_body(400, f"the request body is not JSON: {error}"))
        except (ControlError, ReplayError, FaultError, FlipScheduleError, ValueError, TypeError) as error:
            return Response(400, error_body(400, str(error)))

    def _control_get_health(self, request, data):
        return {"ok": True}

    def _control_get_state(self, request, data):
        """Everything but the playlists (listing those loads every market's charts)."""
        return {
            "date": self.clock.today().isoformat(),
            "config": self._config_json(),
            "faults": self.faults.pending(),
            "anomalies": {pid: a.to_json() for pid, a in self._anomalies.items()},
            "stats": self.stats.to_json(),
        }

    def _control_get_date(self, request, data):
        return {"date": self.clock.today().isoformat()}

    def _control_post_date(self, request, data):
        text = data.get("date")
        if not isinstance(text, str):
            raise ControlError('send {"date": "YYYY-MM-DD"}')
        self.clock.set_date(date.fromisoformat(text))
        return self._control_get_date(request, data)

    def _control_get_time(self, request, data):
        return {"date": self.clock.today().isoformat(), "now": self.clock.now().isoformat()}

    def _control_post_time(self, request, data):
        """Put the simulated clock at an instant (``{"at": "2023-06-01T13:59:00Z"}``)."""
        text = data.get("at")
        if not isinstance(text, str):
            raise ControlError('send {"at": "YYYY-MM-DDTHH:MM:SSZ"}')
        self.clock.set_instant(datetime.fromisoformat(text.replace("Z", "+00:00")))
        return self._control_get_time(request, data)

    def _control_get_flips(self, request, data):
        """Each playlist's flips from ``from`` to ``to`` (chart days, default today): when the
        day's chart goes live, off-hour or not, its snapshot, and whether that changes it."""
        first = date.fromisoformat(request.param("from") or self.clock.today().isoformat())
        last = date.fromisoformat(request.param("to") or first.isoformat())
        if not timedelta(0) <= last - first <= timedelta(days=400):
            raise ControlError("to must be from 0 to 400 days after from")
        wanted = request.param("playlist_id")
        playlists = [p for p in self.playlists.values() if wanted in (None, p.id)]
        return {"flips": {p.id: self._flips_of(p, first, last) for p in playlists}}

    def _flips_of(self, playlist: PlaylistSource, first: date, last: date) -> list[dict]:
        flips, day = [], first
        previous = self.content(playlist, first - timedelta(days=1)).snapshot_id
        while day <= last:
            snapshot = self.content(playlist, day).snapshot_id
            flips.append({"day": day.isoformat(), "at": self.flips.flip_at(playlist.id, day).isoformat(),
                          "off_hour": self.flips.is_off_hour(playlist.id, day),
                          "snapshot_id": snapshot, "changes": snapshot != previous})
            previous, day = snapshot, day + timedelta(days=1)
        return flips

    def _control_post_advance(self, request, data):
        days = data.get("days", 1)
        if not isinstance(days, int) or isinstance(days, bool):
            raise ControlError('send {"days": N} with an integer N')
        self.clock.advance(days)
        return self._control_get_date(request, data)

    def _control_get_config(self, request, data):
        return self._config_json()

    def _control_post_config(self, request, data):
        self._configure(data)
        return self._config_json()

    def _control_get_playlists(self, request, data):
        listed = []
        for playlist in self.playlists.values():
            content = self.content(playlist)
            listed.append(
                {
                    "id": playlist.id,
                    "name": playlist.name,
                    "market": playlist.market,
                    "shift_days": playlist.shift_days,
                    "snapshot_id": content.snapshot_id,
                    "chart_day": content.chart_day.isoformat(),
                    "missing_day": not self.has_chart(playlist, self.live_day(playlist)),
                    "flips_at": self.flips.flip_at(playlist.id, self.clock.today()).isoformat(),
                    "total": len(content.entries),
                }
            )
        return {"date": self.clock.today().isoformat(), "playlists": listed}

    def _control_get_faults(self, request, data):
        return {"faults": self.faults.pending()}

    def _control_post_faults(self, request, data):
        playlist_id = data.get("playlist_id")
        if playlist_id is not None and playlist_id not in self.playlists:
            raise ControlError(f"unknown playlist_id {playlist_id!r}")
        return {"fault": self.faults.add(data).to_json()}

    def _control_delete_faults(self, request, data):
        self.faults.clear()
        return {"faults": []}

    def _control_get_anomalies(self, request, data):
        return {"anomalies": {pid: a.to_json() for pid, a in self._anomalies.items()}}

    def _control_post_anomalies(self, request, data):
        playlist_id = data.get("playlist_id")
        if playlist_id not in self.playlists:
            raise ControlError(f"unknown playlist_id {playlist_id!r}")
        anomalies = Anomalies.from_json(data)
        if anomalies == NO_ANOMALIES:
            self._anomalies.pop(playlist_id, None)
        else:
            self._anomalies[playlist_id] = anomalies
        return {"playlist_id": playlist_id, "anomalies": anomalies.to_json(),
                "snapshot_id": self.content(self.playlists[playlist_id]).snapshot_id}

    def _control_delete_anomalies(self, request, data):
        playlist_id = request.param("playlist_id") or data.get("playlist_id")
        if playlist_id:
            self._anomalies.pop(playlist_id, None)
        else:
            self._anomalies.clear()
        return self._control_get_anomalies(request, data)

    def _control_get_stats(self, request, data):
        return self.stats.to_json()

    def _control_delete_stats(self, request, data):
        self.stats.reset()
        return self.stats.to_json()

    def _control_post_tokens_expire(self, request, data):
        return {"expired": self.tokens.expire_all()}

    def _control_post_consent(self, request, data):
        """The simulated user's answer on the consent page of ``GET /authorize`` from now on."""
        if not isinstance(data.get("approve"), bool):
            raise ControlError('send {"approve": true} or {"approve": false}')
        self.tokens.authorization.approve = data["approve"]
        return {"approve": self.tokens.authorization.approve}

    def _control_post_reset(self, request, data):
        """Back to the options the server started with; issued tokens stay valid."""
        self.faults.clear()
        self.stats.reset()
        self._anomalies.clear()
        self.tokens.authorization.approve = True
        self.clock.set_speed(0)
        self.clock.set_date(self.initial_config["start_date"])
        self.clock.set_speed(self.initial_config["speed"])
        self.flips = FlipSchedule()  # flip settings the server was not started with go back to their defaults
        self._configure({k: v for k, v in self.initial_config.items() if k not in ("start_date", "speed")})
        return self._control_get_state(request, data)

    # -- configuration -------------------------------------------------------

    def _config_json(self) -> dict:
        return {
            "latency_ms": self.latency_ms,
            "speed": self.clock.speed,
            "development_mode": self.development_mode,
            "entry_key": self.entry_key,
            "missing_days": self.missing_days,
            "playlists": len(self.playlists),
            **self.flips.to_json(),
        }

    def _configure(self, data: dict) -> None:
        unknown = set(data) - CONFIG_FIELDS
        if unknown:
            raise ControlError(f"unknown config fields: {', '.join(sorted(unknown))}")
        latency = data.get("latency_ms", self.latency_ms)
        if not isinstance(latency, (int, float)) or isinstance(latency, bool) or latency < 0:
            raise ControlError("latency_ms must be a number >= 0")
        development_mode = data.get("development_mode", self.development_mode)
        if not isinstance(development_mode, bool):
            raise ControlError("development_mode must be true or false")
        entry_key = data.get("entry_key", self.entry_key)
        if entry_key not in ENTRY_KEYS:
            raise ControlError(f"entry_key must be one of {', '.join(ENTRY_KEYS)}")
        missing_days = data.get("missing_days", self.missing_days)
        if missing_days not in MISSING_DAYS:
            raise ControlError(f"missing_days must be one of {', '.join(MISSING_DAYS)}")
        flips = schedule_from_json(data, self.playlist_names, self.flips)
        if "speed" in data:
            speed = data["speed"]
            if not isinstance(speed, (int, float)) or isinstance(speed, bool):
                raise ControlError("speed must be a number >= 0")
            self.clock.set_speed(speed)
        self.latency_ms, self.development_mode, self.entry_key = latency, development_mode, entry_key
        self.missing_days, self.flips = missing_days, flips


def _fault_headers(fault) -> dict[str, str]:
    headers = {"X-Local-Spotify-Fault": str(fault.id)}
    if fault.retry_after is not None:
        headers["Retry-After"] = str(fault.retry_after)
    return headers


def _int_param(request: Request, name: str, default: int) -> int | None:
    text = request.param(name)
    if text is None:
        return default
    try:
        return int(text)
    except ValueError:
        return None
