"""A user's authorization, like Spotify's Accounts service: the Authorization Code flow,
with or without PKCE (https://developer.spotify.com/documentation/web-api/tutorials/code-pkce-flow).

``GET /authorize?response_type=code&client_id=&redirect_uri=&scope=&state=``
``[&code_challenge_method=S256&code_challenge=]`` plays a user who is logged in and
answers the consent page (approve by default; ``POST /_control/consent`` changes the
answer): it redirects to ``redirect_uri?code=...&state=...``, or ``?error=access_denied``.
Like Spotify, an unknown client or a redirect URI the app did not register gets an
error page (400) instead of a redirect: the redirect URI is not trusted yet.

``POST /api/token`` then exchanges the code (:meth:`AuthorizationService.exchange_code`):
with its ``code_verifier`` and ``client_id`` (PKCE, no secret) or with the client's
credentials. Codes are single-use and last 10 minutes. The refresh tokens it issues are
remembered (:meth:`AuthorizationService.refresh`): a PKCE client refreshes with its
``client_id`` alone and gets a new refresh token each time, and the old one stops working
(Spotify's PKCE refresh tokens are single-use; a client must keep the newest).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Callable
from urllib.parse import urlencode, urlsplit

AUTHORIZE_PATH = "/authorize"
ENDPOINT_AUTHORIZE = "authorize"  # in the request statistics
CODE_LIFETIME_S = 600
# Spotify's scopes (https://developer.spotify.com/documentation/web-api/concepts/scopes).
SCOPES = frozenset({
    "ugc-image-upload", "user-read-playback-state", "user-modify-playback-state", "user-read-currently-playing",
    "app-remote-control", "streaming", "playlist-read-private", "playlist-read-collaborative",
    "playlist-modify-private", "playlist-modify-public", "user-follow-modify", "user-follow-read",
    "user-read-playback-position", "user-top-read", "user-read-recently-played", "user-library-modify",
    "user-library-read", "user-read-email", "user-read-private",
})
# RFC 7636: 43-128 characters of [A-Z a-z 0-9 - . _ ~]; an S256 challenge is 43.
_PKCE_VALUE = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")
_LOOPBACK = ("127.0.0.1", "::1")


class AuthorizationError(Exception):
    """A token request Spotify would refuse (``status``, OAuth ``error`` and description)."""

    def __init__(self, error: str, description: str, status: int = 400):
        super().__init__(f"{error}: {description}")
        self.status = status
        self.error = error
        self.description = description


@dataclass(frozen=True)
class AuthorizeAnswer:
    """A redirect (``location``) or, when the redirect URI cannot be trusted, an error page."""

    status: int
    location: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class _Code:
    client_id: str
    redirect_uri: str
    scope: str
    code_challenge: str | None
    expires_at: float


@dataclass(frozen=True)
class _RefreshToken:
    client_id: str
    scope: str
    public: bool  # issued to a PKCE client: refreshed without a secret, and rotated


@dataclass(frozen=True)
class Grant:
    """What a granted token request carries besides the access token."""

    scope: str
    refresh_token: str | None = None


def code_challenge(verifier: str) -> str:
    """The S256 challenge of a PKCE code verifier."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def allowed_redirect_uri(uri: str) -> bool:
    """What Spotify lets an app register: HTTPS, or HTTP on a loopback address (not ``localhost``)."""
    parts = urlsplit(uri)
    if parts.scheme == "https":
        return bool(parts.hostname)
    return parts.scheme == "http" and parts.hostname in _LOOPBACK


class AuthorizationService:
    """Codes and the refresh tokens issued for them. ``client_id`` / ``redirect_uris``:
    what the app registered (``None``: any client id; any redirect URI Spotify would accept)."""

    def __init__(self, client_id: str | None = None, redirect_uris: tuple[str, ...] | None = None,
                 now: Callable[[], float] = time.time):
        self.client_id = client_id
        self.redirect_uris = redirect_uris
        self.approve = True  # the user's answer on the consent page
        self._now = now
        self._lock = threading.Lock()
        self._codes: dict[str, _Code] = {}
        self._refresh_tokens: dict[str, _RefreshToken] = {}
        self._retired: set[str] = set()  # rotated-away refresh tokens

    # -- GET /authorize ------------------------------------------------------------

    def authorize(self, query: list[tuple[str, str]]) -> AuthorizeAnswer:
        params = dict(query)
        client_id, redirect_uri = params.get("client_id"), params.get("redirect_uri")
        if not client_id or (self.client_id is not None and not same_secret(client_id, self.client_id)):
            return AuthorizeAnswer(400, error="INVALID_CLIENT: Invalid client")
        if not redirect_uri or not self._registered(redirect_uri):
            return AuthorizeAnswer(400, error="INVALID_CLIENT: Invalid redirect URI")

        state = params.get("state")

        def redirect(**answer: str) -> AuthorizeAnswer:
            if state is not None:
                answer["state"] = state
            separator = "&" if urlsplit(redirect_uri).query else "?"
            return AuthorizeAnswer(302, location=f"{redirect_uri}{separator}{urlencode(answer)}")

        if params.get("response_type") != "code":
            return redirect(error="unsupported_response_type")
        challenge, method = params.get("code_challenge"), params.get("code_challenge_method")
        if (challenge or method) and (method != "S256" or not challenge or not _PKCE_VALUE.match(challenge)):
            return redirect(error="invalid_request")
        scope = " ".join(params.get("scope", "").replace(",", " ").split())
        if any(s not in SCOPES for s in scope.split()):
            return redirect(error="invalid_scope")
        if not self.approve:
            return redirect(error="access_denied")
        code = secrets.token_urlsafe(96)
        with self._lock:
            self._forget_expired()
            self._codes[code] = _Code(client_id, redirect_uri, scope, challenge,
                                      self._now() + CODE_LIFETIME_S)
        return redirect(code=code)

    def _registered(self, redirect_uri: str) -> bool:
        if self.redirect_uris is None:
            return allowed_redirect_uri(redirect_uri)
        return redirect_uri in self.redirect_uris

    # -- POST /api/token ---------------------------------------------------------------

    def handles_refresh(self, refresh_token: str) -> bool:
        """Whether this refresh token is one this service issued (current or retired)."""
        with self._lock:
            return refresh_token in self._refresh_tokens or refresh_token in self._retired

    def exchange_code(self, form: dict[str, str], client_id: str | None, client_authenticated: bool) -> Grant:
        """``grant_type=authorization_code``; ``client_id`` from Basic auth or the form;
        ``client_authenticated``: the request carried the client's secret (checked by the caller)."""
        code, redirect_uri, verifier = form.get("code"), form.get("redirect_uri"), form.get("code_verifier")
        if not code:
            raise AuthorizationError("invalid_request", "code must be supplied")
        if not redirect_uri:
            raise AuthorizationError("invalid_request", "redirect_uri must be supplied")
        with self._lock:
            issued = self._codes.pop(code, None)  # single-use, whatever happens next
        if issued is None:
            raise AuthorizationError("invalid_grant", "Invalid authorization code")
        if issued.expires_at <= self._now():
            raise AuthorizationError("invalid_grant", "Authorization code expired")
        if not client_id or not same_secret(client_id, issued.client_id):
            raise AuthorizationError("invalid_client", "Invalid client")
        if redirect_uri != issued.redirect_uri:
            raise AuthorizationError("invalid_grant", "Invalid redirect URI")
        public = issued.code_challenge is not None
        if public:
            if not verifier:
                raise AuthorizationError("invalid_request", "code_verifier required")
            if not _PKCE_VALUE.match(verifier) or not same_secret(code_challenge(verifier), issued.code_challenge):
                raise AuthorizationError("invalid_grant", "code_verifier was incorrect")
        elif not client_authenticated:
            raise AuthorizationError("invalid_client", "Invalid client secret")
        return Grant(issued.scope, self._issue_refresh_token(_RefreshToken(issued.client_id, issued.scope, public)))

    def refresh(self, refresh_token: str, client_id: str | None, client_authenticated: bool) -> Grant:
        """``grant_type=refresh_token`` for a refresh token this service issued."""
        with self._lock:
            issued = self._refresh_tokens.get(refresh_token)
        if issued is None:  # retired by a rotation
            raise AuthorizationError("invalid_grant", "Refresh token revoked")
        if not client_id or not same_secret(client_id, issued.client_id):
            raise AuthorizationError("invalid_client", "Invalid client")
        if not issued.public:
            if not client_authenticated:
                raise AuthorizationError("invalid_client", "Invalid client secret")
            return Grant(issued.scope)  # a confidential client keeps its refresh token
        with self._lock:
            if self._refresh_tokens.pop(refresh_token, None) is None:  # a concurrent refresh won
                raise AuthorizationError("invalid_grant", "Refresh token revoked")
            self._retired.add(refresh_token)
        return Grant(issued.scope, self._issue_refresh_token(issued))

    def _issue_refresh_token(self, token: _RefreshToken) -> str:
        value = secrets.token_urlsafe(96)
        with self._lock:
            self._refresh_tokens[value] = token
        return value

    def _forget_expired(self) -> None:
        now = self._now()
        self._codes = {c: issued for c, issued in self._codes.items() if issued.expires_at > now}


def same_secret(given: str, expected: str) -> bool:
    """Constant-time comparison of secrets (any characters)."""
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))
