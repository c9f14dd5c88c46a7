"""Reading chart playlists from the Spotify Web API with spotipy.

spotipy is built with its own requests session and no urllib3 status retries:
urllib3 would otherwise sleep through a 429's whole ``Retry-After`` (which can be
an hour) inside the Lambda, and report exhausted 5xx retries as a 429. Instead
:class:`ChartReader` sees every status and applies the producer's policy:

- 429: wait ``Retry-After`` only if it fits the time left (minus a margin), all
  threads together (the limit is per app); otherwise raise :class:`RateLimitedError`.
- 5xx and connection errors: a few retries with exponential backoff, then
  :class:`PlaylistFetchError`.
- 403/404: :class:`PlaylistUnavailableError`, with the likely cause.

A response that is not what the API promises (a 200 without a JSON object, a playlist
without ``snapshot_id``, a page whose ``items`` is not a list or whose ``next`` loops back
or leaves the API) is :class:`MalformedResponseError`; a playlist over the entry or page
caps is :class:`PlaylistTooLargeError`: either fails that playlist alone. Before each
page the reader checks the time left (:class:`OutOfTimeError`: the playlist waits for
the next poll).

Observation time: a chart is dated by when it was read, taken from the ``Date`` header
of Spotify's response to the snapshot read (:class:`ResponseClock`). Spotify's servers
send true UTC, so this is right in production; a server that replays old charts (the
local one) sends the date it is serving, so a replay of days D1..Dn gives charts
dated D1..Dn with no test-only code here. A response without a usable ``Date`` falls
back to this machine's clock.
"""
from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, Callable, Protocol
from urllib.parse import parse_qsl, urlsplit

import requests
import spotipy
from spotipy.cache_handler import CacheHandler, MemoryCacheHandler
from spotipy.oauth2 import SpotifyAuthBase, SpotifyClientCredentials, SpotifyOAuth, SpotifyPKCE

from producer.observability import logger
from producer.records import json_kind

PAGE_LIMIT = 50  # Spotify's maximum for playlist items
# A 5xx or a connection error is retried after about this long, then twice and four times
# as long (with jitter): three retries in at most 3.5 s.
DEFAULT_RETRY_DELAY_SECONDS = 0.5
SNAPSHOT_FIELDS = "snapshot_id,name"
_TRACK_FIELDS = (
    "id,name,type,uri,duration_ms,explicit,popularity,is_local,is_playable,restrictions,"
    "external_ids(isrc),artists(id,name),album(id,name,release_date,release_date_precision),"
    "show(id,name),release_date,release_date_precision"
)
# Entries arrive under "item" since 2026 and under "track" from older payloads.
ITEM_FIELDS = f"items(added_at,is_local,item({_TRACK_FIELDS}),track({_TRACK_FIELDS})),next,total"
READ_SCOPE = "playlist-read-private playlist-read-collaborative"

EDITORIAL_HINT = (
    "Spotify answers 403/404 for Spotify-owned editorial and algorithmic playlists (ids 37i9dQZEVXb...) "
    "to development-mode apps; read a user-owned mirror of the chart with SPOTIFY_REFRESH_TOKEN, "
    "or use an app with extended quota"
)


class SpotifyError(RuntimeError):
    """Base of the reader's errors."""


class RateLimitedError(SpotifyError):
    """Spotify asked to wait longer than the time left."""

    def __init__(self, retry_after: float, time_left: float):
        self.retry_after = retry_after
        super().__init__(
            f"Spotify rate limit: Retry-After {retry_after:.0f} s does not fit the {time_left:.0f} s left"
        )


class PlaylistUnavailableError(SpotifyError):
    """403/404 for one playlist."""

    def __init__(self, playlist_id: str, status: int):
        self.status = status
        cause = EDITORIAL_HINT if playlist_id.startswith("37i9dQZ") else "the playlist does not exist or is private"
        super().__init__(f"playlist {playlist_id} answered HTTP {status}: likely cause: {cause}")


class SpotifyAuthError(SpotifyError):
    """No access token: every playlist of the poll fails."""


REAUTHORIZE_HINT = ("the user's refresh token was revoked or has expired (Spotify's last 6 months): "
                    "run `spotify-charts auth` again")


class PlaylistFetchError(SpotifyError):
    """A playlist could not be read after retries (5xx, timeouts, other statuses)."""


class MalformedResponseError(SpotifyError):
    """Spotify answered, but not with what the API promises; the playlist fails alone."""


class PlaylistTooLargeError(SpotifyError):
    """The playlist has more entries or pages than the producer's caps allow."""


class OutOfTimeError(SpotifyError):
    """No time left to read the next page: the playlist is read again by the next poll."""


@dataclass(frozen=True)
class PlaylistVersion:
    playlist_id: str
    name: str
    snapshot_id: str
    observed_at: float  # epoch seconds: when Spotify answered the snapshot read (see ResponseClock)


@dataclass(frozen=True)
class PlaylistItems:
    version: PlaylistVersion
    entries: list[Any]  # raw entries as Spotify returned them, in playlist order
    requests: int


class RefreshTokenStore(Protocol):
    """Where a user's refresh token is kept between containers (the stack's secret)."""

    def load(self) -> str | None: ...

    def save(self, refresh_token: str) -> None: ...


class RefreshTokenCache(CacheHandler):
    """spotipy's token cache for a user's authorization, starting from a refresh token.

    The first token is expired, so spotipy refreshes at once. When a refresh answers with a
    new refresh token (Spotify rotates them for PKCE clients and retires the old one), it is
    saved to ``store`` at once; before any later refresh, the stored one is read first, since
    another container may have rotated it meanwhile.
    """

    def __init__(self, refresh_token: str, store: RefreshTokenStore | None = None):
        self._lock = threading.Lock()
        self._store = store
        self._token: dict[str, Any] = {"access_token": "", "refresh_token": refresh_token, "expires_at": 0,
                                       "scope": READ_SCOPE}
        self._stored_is_current = True  # just read; true until a refresh has been tried with it

    def get_cached_token(self) -> dict[str, Any]:
        with self._lock:
            if SpotifyAuthBase.is_token_expired(self._token):
                if self._store is not None and not self._stored_is_current:
                    stored = self._store.load()
                    if stored:
                        self._token["refresh_token"] = stored
                self._stored_is_current = False
            return dict(self._token)

    def save_token_to_cache(self, token_info: dict[str, Any]) -> None:
        with self._lock:
            previous = self._token
            # The scope check of spotipy's validate_token must never fail (that would start an interactive login).
            self._token = {"scope": previous.get("scope", READ_SCOPE), **token_info}
        rotated = self._token.get("refresh_token")
        if rotated and rotated != previous.get("refresh_token"):
            self._keep(rotated)

    def _keep(self, refresh_token: str) -> None:
        if self._store is None:
            logger.warning("Spotify sent a new refresh token and retired the configured one, which the next cold "
                           "start will find expired: keep a user's token in the secret (SPOTIFY_SECRET_ARN)")
            return
        try:
            self._store.save(refresh_token)
        except Exception as error:  # noqa: BLE001 - this container still has the token: the poll goes on
            logger.error(f"could not store Spotify's new refresh token ({type(error).__name__}: {error}): this "
                         "container goes on with it, the next one will find the stored token retired: "
                         "run `spotify-charts auth` again")
        else:
            logger.info("stored Spotify's new refresh token")
class ResponseClock:
    """When Spotify answered: the ``Date`` header of the last response each thread got.

    Installed as a response hook on the requests session spotipy uses. Threads share the
    session, and requests runs a hook in the thread that made the request, so each thread
    keeps its own last value. ``Date`` has whole seconds (RFC 9110); a missing or
    unparseable header gives ``fallback()`` (this machine's clock).
    """

    def __init__(self, fallback: Callable[[], float] = time.time):
        self.fallback = fallback
        self._local = threading.local()

    def install(self, session: requests.Session) -> None:
        session.hooks["response"].append(self._record)

    def _record(self, response: requests.Response, *args, **kwargs) -> None:
        self._local.date = response.headers.get("Date")

    def reset(self) -> None:
        """Forget this thread's last response (call before the request to date)."""
        self._local.date = None

    def now(self) -> float:
        """Epoch seconds of this thread's last response since ``reset``, else the fallback."""
        return parse_http_date(getattr(self._local, "date", None)) or self.fallback()


def parse_http_date(value: str | None) -> float | None:
    """Epoch seconds of an HTTP date (``Tue, 12 Mar 2024 00:00:04 GMT``); None if unusable."""
    if not value:
        return None
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment is None or moment.tzinfo is None:  # HTTP dates are GMT; no zone means a malformed one
        return None
    return moment.timestamp()


def build_spotify(
    *,
    client_id: str,
    api_url: str,
    token_url: str,
    client_secret: str | None = None,
    refresh_token: str | None = None,
    refresh_token_store: RefreshTokenStore | None = None,
    pool_size: int = 8,
    timeout: float = 10.0,
    clock: ResponseClock | None = None,
) -> spotipy.Spotify:
    """A spotipy client with in-memory token cache, configurable URLs and no status retries.

    With a ``refresh_token``, a user's authorization: refreshed with the client secret
    (Authorization Code flow), or with the client id alone when there is no secret (PKCE,
    as ``spotify-charts auth`` gets it). Without, the app's own (Client Credentials flow).
    ``clock``, if given, learns the time of every response.
    """
    session = requests.Session()
    adapter = requests.adapters.HTTPAdapter(pool_connections=pool_size, pool_maxsize=pool_size, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    if clock is not None:
        clock.install(session)
    if refresh_token:
        cache = RefreshTokenCache(refresh_token, refresh_token_store)
        # Refresh only: the redirect URI is never used, and with no scope to compare (the
        # user granted what they granted) spotipy never falls back to an interactive login.
        login = {"redirect_uri": "http://127.0.0.1:8888/callback", "scope": None, "open_browser": False,
                 "requests_timeout": timeout, "cache_handler": cache}
        if client_secret:
            auth = SpotifyOAuth(client_id=client_id, client_secret=client_secret, **login)
        else:
            auth = SpotifyPKCE(client_id=client_id, **login)
    elif not client_secret:
        raise ValueError("a client secret, or a user's refresh token, is needed")
    else:
        auth = SpotifyClientCredentials(
            client_id=client_id,
            client_secret=client_secret,
            cache_handler=MemoryCacheHandler(),
            requests_timeout=timeout,
        )
    auth.OAUTH_TOKEN_URL = token_url  # the class attribute names Spotify's; local servers stand in
    client = spotipy.Spotify(auth_manager=auth, requests_session=session, requests_timeout=timeout)
    client.prefix = api_url
    return client


class RateGate:
    """Shared across threads: after a 429, nobody calls Spotify until ``resume_at``
    (epoch seconds, so the producer can keep it in its state across containers)."""

    def __init__(self, clock: Callable[[], float] = time.time):
        self._lock = threading.Lock()
        self._resume_at = 0.0
        self.clock = clock

    def delay(self) -> float:
        with self._lock:
            return max(0.0, self._resume_at - self.clock())

    def hold(self, seconds: float) -> None:
        self.hold_until(self.clock() + seconds)

    def hold_until(self, resume_at: float) -> None:
        with self._lock:
            self._resume_at = max(self._resume_at, resume_at)

    @property
    def resume_at(self) -> float:
        with self._lock:
            return self._resume_at


class ChartReader:
    """Reads playlist versions and items, applying the retry and rate-limit policy.

    ``time_left`` returns the seconds the caller may still spend (the Lambda's
    remaining time minus a safety margin): no request starts that could end after it
    (a request lasts at most ``request_timeout``, by default the client's
    ``requests_timeout``). ``clock`` dates each snapshot read: give the
    :class:`ResponseClock` installed on the client's session (without one, the snapshot
    is dated by this machine's clock). ``max_pages`` and ``max_entries`` cap one
    playlist's read (producer.config has the defaults and why).
    """

    def __init__(
        self,
        client: spotipy.Spotify,
        *,
        market: str | None = None,
        max_retries: int = 3,
        base_delay: float = DEFAULT_RETRY_DELAY_SECONDS,
        sleep: Callable[[float], None] = time.sleep,
        gate: RateGate | None = None,
        clock: ResponseClock | None = None,
        max_pages: int = 40,
        max_entries: int = 1000,
        request_timeout: float | None = None,
    ):
        self.client = client
        self.max_pages = max_pages
        self.max_entries = max_entries
        self.request_timeout = _timeout_of(client) if request_timeout is None else request_timeout
        self.clock = clock or ResponseClock()
        self.market = market
        self.max_retries = max_retries
        self.base_delay = base_delay
        self.sleep = sleep
        self.gate = gate or RateGate()
        self._count_lock = threading.Lock()
        self.requests = 0
        self.rate_limited = 0

    def authenticate(self) -> None:
        """Get (or refresh) the access token once, before threads share the client."""
        manager = self.client.auth_manager
        try:
            try:
                manager.get_access_token(as_dict=False)
            except TypeError:  # auth managers without as_dict (SpotifyPKCE)
                manager.get_access_token()
        except spotipy.SpotifyOauthError as error:
            hint = f" ({REAUTHORIZE_HINT})" if error.error == "invalid_grant" else ""
            raise SpotifyAuthError(f"Spotify token request failed: {error}{hint}") from None
        except requests.RequestException as error:
            raise SpotifyAuthError(f"Spotify token request failed: {error}") from None

    def version(self, playlist_id: str, time_left: Callable[[], float]) -> PlaylistVersion:
        """The playlist's current snapshot id and name, dated by Spotify's answer."""
        self.clock.reset()
        data = self._call(playlist_id, time_left, self.client.playlist, playlist_id, fields=SNAPSHOT_FIELDS)
        data = _json_object(data, f"playlist {playlist_id}: the snapshot read")
        snapshot_id, name = data.get("snapshot_id"), data.get("name")
        if not isinstance(snapshot_id, str) or not snapshot_id:
            raise MalformedResponseError(f"playlist {playlist_id}: the snapshot read has no snapshot_id "
                                         f"(got {_shown(snapshot_id)})")
        if name is not None and not isinstance(name, str):
            raise MalformedResponseError(f"playlist {playlist_id}: its name is {json_kind(name)}, not a string")
        return PlaylistVersion(playlist_id, name or "", snapshot_id, self.clock.now())

    def items(self, version: PlaylistVersion, time_left: Callable[[], float]) -> PlaylistItems:
        """Every entry of the playlist, following ``next`` until the last page, within the
        caps and the time left; ``next`` must move forward and stay on the API's host."""
        playlist_id = version.playlist_id
        page = self._call(
            playlist_id, time_left, self.client.playlist_items, playlist_id,
            fields=ITEM_FIELDS, limit=PAGE_LIMIT, market=self.market, additional_types=("track", "episode"),
        )
        pages = _Pages(playlist_id, self.client.prefix, self.max_pages, self.max_entries)
        while True:
            next_url = pages.add(page)
            if next_url is None:
                return PlaylistItems(version, pages.entries, pages.count)
            self._check_time(playlist_id, time_left, f"page {pages.count + 1} ({len(pages.entries)} entries read)")
            page = self._call(playlist_id, time_left, self.client.next, {"next": next_url})

    def _check_time(self, playlist_id: str, time_left: Callable[[], float], what: str) -> None:
        """OutOfTimeError unless a request started now surely ends within the time left."""
        left = time_left()
        if left < self.request_timeout:
            raise OutOfTimeError(f"playlist {playlist_id}: no time left to read {what}: {max(left, 0):.1f} s left, "
                                 f"a request may take {self.request_timeout:g} s; the next poll reads it again")

    def _call(self, playlist_id: str, time_left: Callable[[], float], method, *args, **kwargs):
        failures = rate_limits = 0
        while True:
            self._wait_for_gate(time_left)
            self._check_time(playlist_id, time_left, "its next request")
            with self._count_lock:
                self.requests += 1
            try:
                return method(*args, **kwargs)
            except spotipy.SpotifyException as error:
                status = error.http_status
                if status == 429:
                    with self._count_lock:
                        self.rate_limited += 1
                    rate_limits += 1
                    retry_after = _retry_after(error)
                    if rate_limits > self.max_retries:
                        raise RateLimitedError(retry_after, time_left()) from None
                    self.gate.hold(retry_after)
                    continue  # _wait_for_gate decides whether the wait fits
                if status in (403, 404):
                    raise PlaylistUnavailableError(playlist_id, status) from None
                if status is None or status < 500:
                    raise PlaylistFetchError(f"playlist {playlist_id}: HTTP {status}: {error.msg}") from None
                reason = f"HTTP {status}"
            except requests.RequestException as error:  # connection, timeout, a body cut short
                reason = type(error).__name__
            failures += 1
            if failures > self.max_retries:
                raise PlaylistFetchError(f"playlist {playlist_id}: {reason} after {failures} attempts")
            delay = random.uniform(0.5, 1.0) * self.base_delay * 2 ** (failures - 1)
            if delay + self.request_timeout > time_left():
                raise PlaylistFetchError(f"playlist {playlist_id}: {reason}; no time left to retry")
            self.sleep(delay)

    def _wait_for_gate(self, time_left: Callable[[], float]) -> None:
        delay = self.gate.delay()
        if delay <= 0:
            return
        left = time_left()
        if delay >= left:
            raise RateLimitedError(delay, left)
        self.sleep(delay)


def _timeout_of(client: Any) -> float:
    """The longest a request of this spotipy client can take: its timeout, (connect, read) summed."""
    timeout = getattr(client, "requests_timeout", None)
    if isinstance(timeout, (tuple, list)):
        return float(sum(timeout))
    return float(timeout) if isinstance(timeout, (int, float)) else 0.0


def _retry_after(error: spotipy.SpotifyException) -> float:
    """Seconds from the Retry-After header (Spotify sends seconds); 1 s if absent or odd."""
    headers = error.headers or {}
    value = headers.get("Retry-After") or headers.get("retry-after")
    try:
        return max(0.0, float(value))
    except (TypeError, ValueError):
        return 1.0


def _shown(value: Any) -> str:
    """A short, safe description of an unexpected value for an error message."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _json_object(data: Any, what: str) -> dict[str, Any]:
    """``data`` if it is a JSON object; spotipy gives None for a 200 whose body is not JSON."""
    if isinstance(data, dict):
        return data
    if data is None:
        raise MalformedResponseError(f"{what} answered 200 without a JSON body")
    raise MalformedResponseError(f"{what} answered {json_kind(data)}, not a JSON object")


def _page_key(url: str) -> tuple[str, str, tuple[tuple[str, str], ...]]:
    """What identifies a page whatever the order of its URL's query parameters."""
    parts = urlsplit(url)
    return parts.netloc, parts.path.rstrip("/"), tuple(sorted(parse_qsl(parts.query, keep_blank_values=True)))


def _offset(url: str) -> int | None:
    value = dict(parse_qsl(urlsplit(url).query)).get("offset")
    return int(value) if value is not None and value.isdigit() else None


class _Pages:
    """The pages of one playlist read so far: their entries, and the checks on each page
    (its shape, the caps, a ``next`` that must move forward and stay on the API's host)."""

    def __init__(self, playlist_id: str, api_url: str, max_pages: int, max_entries: int):
        self.playlist_id = playlist_id
        self.api_host = urlsplit(api_url).netloc
        self.max_pages = max_pages
        self.max_entries = max_entries
        self.entries: list[Any] = []
        self.count = 0
        self._seen: set[tuple] = set()
        self._last_offset = 0  # the first page is asked for at offset 0

    def add(self, page: Any) -> str | None:
        """Take one page; the URL of the next one, or None after the last."""
        self.count += 1
        what = f"playlist {self.playlist_id}: page {self.count}"
        page = _json_object(page, what)
        items, next_url, total = page.get("items"), page.get("next"), page.get("total")
        if not isinstance(items, list):
            raise MalformedResponseError(f"{what}: 'items' is {json_kind(items)}, not an array")
        if self.count == 1 and isinstance(total, int):
            self._check_total(total)
        self.entries.extend(items)
        if len(self.entries) > self.max_entries:
            raise PlaylistTooLargeError(f"playlist {self.playlist_id}: over MAX_ENTRIES_PER_CHART="
                                        f"{self.max_entries} entries after {self.count} pages: not recorded")
        if next_url is None:
            return None
        self._check_next(what, next_url)
        return next_url

    def _check_total(self, total: int) -> None:
        """Refuse on the first page a playlist the caps would stop part-way (``total`` may lie:
        the entries and pages are counted anyway)."""
        if total > self.max_entries:
            raise PlaylistTooLargeError(f"playlist {self.playlist_id} has {total} entries, over "
                                        f"MAX_ENTRIES_PER_CHART={self.max_entries}: not read")
        pages = -(-total // PAGE_LIMIT)
        if pages > self.max_pages:
            raise PlaylistTooLargeError(f"playlist {self.playlist_id} has {total} entries, {pages} pages of "
                                        f"{PAGE_LIMIT}, over MAX_PAGES_PER_CHART={self.max_pages}: not read")

    def _check_next(self, what: str, next_url: Any) -> None:
        if not isinstance(next_url, str) or urlsplit(next_url).scheme not in ("http", "https"):
            raise MalformedResponseError(f"{what}: 'next' is {_shown(next_url)}, not a URL")
        if urlsplit(next_url).netloc != self.api_host:
            # spotipy would send the access token along to any host a response names.
            raise MalformedResponseError(f"{what}: 'next' leaves the API ({urlsplit(next_url).netloc}): not followed")
        key, offset = _page_key(next_url), _offset(next_url)
        if key in self._seen or (offset is not None and offset <= self._last_offset):
            raise MalformedResponseError(f"{what}: 'next' loops back to an earlier page ({_shown(next_url)})")
        if self.count >= self.max_pages:
            raise PlaylistTooLargeError(f"playlist {self.playlist_id}: more than MAX_PAGES_PER_CHART="
                                        f"{self.max_pages} pages: not recorded")
        self._seen.add(key)
        self._last_offset = offset if offset is not None else self._last_offset
