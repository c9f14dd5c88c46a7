"""The token endpoint (``POST /api/token``) and bearer-token checks, like Spotify's
Accounts service: client-credentials and refresh-token grants, one-hour tokens; a user's
authorization codes and the refresh tokens issued for them are ``authorize.py``'s."""
from __future__ import annotations

import base64
import binascii
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Callable
from urllib.parse import parse_qsl

from local_spotify.authorize import AuthorizationError, AuthorizationService, same_secret

TOKEN_LIFETIME_S = 3600
DEFAULT_SCOPE = "playlist-read-private playlist-read-collaborative"


class TokenRequestError(Exception):
    """A token request Spotify would refuse: ``status`` and an OAuth error body."""

    def __init__(self, error: str, description: str, status: int = 400):
        super().__init__(f"{error}: {description}")
        self.status = status
        self.body = {"error": error, "error_description": description}


@dataclass(frozen=True)
class Credentials:
    """What the server accepts. ``None`` accepts any value (but one must be sent)."""

    client_id: str | None = None
    client_secret: str | None = None
    refresh_token: str | None = None
    redirect_uris: tuple[str, ...] | None = None  # None: any that Spotify would let an app register


class TokenService:
    def __init__(self, credentials: Credentials = Credentials(), now: Callable[[], float] = time.time):
        self.credentials = credentials
        self.authorization = AuthorizationService(credentials.client_id, credentials.redirect_uris, now)
        self._now = now
        self._lock = threading.Lock()
        self._expiry: dict[str, float] = {}

    def grant(self, authorization: str | None, body: bytes) -> dict:
        """Answer a token request (form body) or raise :class:`TokenRequestError`."""
        form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        client_id, client_secret = _client_credentials(authorization, form)
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code" or (
                grant_type == "refresh_token" and self.authorization.handles_refresh(form.get("refresh_token") or "")):
            return self._user_grant(grant_type, form, client_id, client_secret)
        self._check_client(client_id, client_secret)
        if not grant_type:
            raise TokenRequestError("unsupported_grant_type", "grant_type parameter is missing")
        scope = None
        if grant_type == "refresh_token":
            refresh_token = form.get("refresh_token")
            if not refresh_token:
                raise TokenRequestError("invalid_request", "refresh_token must be supplied")
            expected = self.credentials.refresh_token
            if expected is not None and not same_secret(refresh_token, expected):
                raise TokenRequestError("invalid_grant", "Invalid refresh token")
            scope = DEFAULT_SCOPE
        elif grant_type != "client_credentials":
            raise TokenRequestError(
                "unsupported_grant_type", "grant_type must be client_credentials, authorization_code or refresh_token"
            )
        return self._issue(scope)

    def _user_grant(self, grant_type: str, form: dict, client_id: str | None, client_secret: str | None) -> dict:
        """A user's authorization: a PKCE client sends no secret; one that sends a secret must send the right one."""
        authenticated = bool(client_secret)
        if authenticated:
            self._check_client(client_id, client_secret)
        try:
            if grant_type == "authorization_code":
                granted = self.authorization.exchange_code(form, client_id, authenticated)
            else:
                granted = self.authorization.refresh(form["refresh_token"], client_id, authenticated)
        except AuthorizationError as error:
            raise TokenRequestError(error.error, error.description, error.status) from None
        return self._issue(granted.scope, granted.refresh_token)

    def _issue(self, scope: str | None, refresh_token: str | None = None) -> dict:
        token = secrets.token_urlsafe(48)
        with self._lock:
            now = self._now()
            # Forget tokens that expired long ago, so a long-running server stays small.
            self._expiry = {t: e for t, e in self._expiry.items() if e > now - TOKEN_LIFETIME_S}
            self._expiry[token] = now + TOKEN_LIFETIME_S
        answer = {"access_token": token, "token_type": "Bearer", "expires_in": TOKEN_LIFETIME_S}
        if scope is not None:
            answer["scope"] = scope
        if refresh_token:
            answer["refresh_token"] = refresh_token
        return answer

    def _check_client(self, client_id: str | None, client_secret: str | None) -> None:
        if not client_id:
            raise TokenRequestError("invalid_client", "Invalid client")
        expected = self.credentials
        if expected.client_id is not None and not same_secret(client_id, expected.client_id):
            raise TokenRequestError("invalid_client", "Invalid client")
        if not client_secret or (
            expected.client_secret is not None and not same_secret(client_secret, expected.client_secret)
        ):
            raise TokenRequestError("invalid_client", "Invalid client secret")

    def check_bearer(self, authorization: str | None) -> str | None:
        """``None`` if the header holds a valid token, else Spotify's 401 message."""
        if not authorization:
            return "No token provided"
        scheme, _, token = authorization.partition(" ")
        if scheme != "Bearer" or not token.strip():
            return "Only valid bearer authentication supported"
        with self._lock:
            expiry = self._expiry.get(token.strip())
        if expiry is None:
            return "Invalid access token"
        if expiry <= self._now():
            return "The access token expired"
        return None

    def expire_all(self) -> int:
        """Expire every token issued so far (clients must fetch a new one); how many."""
        with self._lock:
            now = self._now()
            for token in self._expiry:
                self._expiry[token] = now
            return len(self._expiry)


def _client_credentials(authorization: str | None, form: dict) -> tuple[str | None, str | None]:
    """(client id, secret) from HTTP Basic auth, else from the form (either may be missing)."""
    if authorization and authorization.startswith("Basic "):
        try:
            decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise TokenRequestError("invalid_client", "Invalid client") from None
        client_id, _, client_secret = decoded.partition(":")
        return client_id, client_secret
    return form.get("client_id"), form.get("client_secret")
