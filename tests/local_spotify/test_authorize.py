"""The Authorization Code flow (with and without PKCE) of the local Accounts service, as
Spotify answers it: the authorize redirect and its errors, the code exchange, and the
refresh tokens it issues (PKCE ones rotate). Without HTTP, then once over HTTP."""
from __future__ import annotations

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests

from local_spotify.auth import Credentials, TokenRequestError, TokenService
from local_spotify.authorize import CODE_LIFETIME_S, allowed_redirect_uri, code_challenge

CLIENT_ID, SECRET = "app-id", "app-secret"
CALLBACK = "http://127.0.0.1:8888/callback"
SCOPE = "playlist-read-private playlist-read-collaborative"


class Clock:
    now = 1_000_000.0

    def __call__(self):
        return self.now


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(64)
    return verifier, base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def service(clock):
    return TokenService(Credentials(CLIENT_ID, SECRET, redirect_uris=(CALLBACK,)), now=clock)


def authorize(service, **params) -> tuple[int, dict, str | None]:
    """(status, the redirect's query parameters, the error page's message)."""
    query = {"client_id": CLIENT_ID, "response_type": "code", "redirect_uri": CALLBACK, "scope": SCOPE,
             "state": "st4te", **params}
    answer = service.authorization.authorize([(k, v) for k, v in query.items() if v is not None])
    redirected = parse_qs(urlsplit(answer.location).query) if answer.location else {}
    return answer.status, {k: v[0] for k, v in redirected.items()}, answer.error


def token_request(service, authorization=None, **form) -> dict:
    return service.grant(authorization, urlencode(form).encode())


def refused(call) -> tuple[int, str, str]:
    with pytest.raises(TokenRequestError) as caught:
        call()
    return caught.value.status, caught.value.body["error"], caught.value.body["error_description"]


def test_the_challenge_is_rfc_7636_s256():
    # The example of RFC 7636, appendix B.
    assert code_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_a_pkce_code_is_exchanged_once_without_a_secret_and_its_refresh_token_rotates(service):
    verifier, challenge = pkce_pair()
    status, query, _ = authorize(service, code_challenge_method="S256", code_challenge=challenge)
    assert status == 302 and query["state"] == "st4te" and set(query) == {"code", "state"}
    tokens = token_request(service, grant_type="authorization_code", code=query["code"], redirect_uri=CALLBACK,
                           client_id=CLIENT_ID, code_verifier=verifier)
    assert tokens["scope"] == SCOPE and tokens["token_type"] == "Bearer" and tokens["expires_in"] == 3600
    assert service.check_bearer(f"Bearer {tokens['access_token']}") is None
    again = refused(lambda: token_request(service, grant_type="authorization_code", code=query["code"],
                                          redirect_uri=CALLBACK, client_id=CLIENT_ID, code_verifier=verifier))
    assert again == (400, "invalid_grant", "Invalid authorization code")  # single-use

    refreshed = token_request(service, grant_type="refresh_token", refresh_token=tokens["refresh_token"],
                              client_id=CLIENT_ID)
    assert refreshed["refresh_token"] != tokens["refresh_token"] and refreshed["scope"] == SCOPE
    assert refused(lambda: token_request(service, grant_type="refresh_token", refresh_token=tokens["refresh_token"],
                                         client_id=CLIENT_ID)) == (400, "invalid_grant", "Refresh token revoked")
    assert refused(lambda: token_request(service, grant_type="refresh_token", refresh_token=refreshed["refresh_token"],
                                         client_id="someone-else"))[1] == "invalid_client"


@pytest.mark.parametrize("change, expected", [
    ({"code_verifier": "x" * 43}, (400, "invalid_grant", "code_verifier was incorrect")),
    ({"code_verifier": None}, (400, "invalid_request", "code_verifier required")),
    ({"redirect_uri": "http://127.0.0.1:9999/callback"}, (400, "invalid_grant", "Invalid redirect URI")),
    ({"client_id": "someone-else"}, (400, "invalid_client", "Invalid client")),
    ({"code": "forged"}, (400, "invalid_grant", "Invalid authorization code")),
])
def test_a_code_exchange_spotify_would_refuse(service, change, expected):
    verifier, challenge = pkce_pair()
    code = authorize(service, code_challenge_method="S256", code_challenge=challenge)[1]["code"]
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK, "client_id": CLIENT_ID,
            "code_verifier": verifier, **change}
    assert refused(lambda: token_request(service, **{k: v for k, v in form.items() if v is not None})) == expected


def test_a_code_lasts_ten_minutes(service, clock):
    verifier, challenge = pkce_pair()
    code = authorize(service, code_challenge_method="S256", code_challenge=challenge)[1]["code"]
    clock.now += CODE_LIFETIME_S
    assert refused(lambda: token_request(service, grant_type="authorization_code", code=code, redirect_uri=CALLBACK,
                                         client_id=CLIENT_ID, code_verifier=verifier)) == \
        (400, "invalid_grant", "Authorization code expired")


def test_without_pkce_the_client_secret_is_required_and_the_refresh_token_stays(service):
    code = authorize(service)[1]["code"]
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK}
    assert refused(lambda: token_request(service, client_id=CLIENT_ID, **form))[1:] == \
        ("invalid_client", "Invalid client secret")
    code = authorize(service)[1]["code"]
    assert refused(lambda: token_request(service, basic(CLIENT_ID, "wrong"), **{**form, "code": code}))[1] == \
        "invalid_client"
    code = authorize(service)[1]["code"]
    tokens = token_request(service, basic(CLIENT_ID, SECRET), **{**form, "code": code})
    refreshed = token_request(service, basic(CLIENT_ID, SECRET), grant_type="refresh_token",
                              refresh_token=tokens["refresh_token"])
    assert "refresh_token" not in refreshed  # a confidential client keeps using its refresh token
    assert token_request(service, basic(CLIENT_ID, SECRET), grant_type="refresh_token",
                         refresh_token=tokens["refresh_token"])["access_token"]
    assert refused(lambda: token_request(service, grant_type="refresh_token", refresh_token=tokens["refresh_token"],
                                         client_id=CLIENT_ID))[1] == "invalid_client"


@pytest.mark.parametrize("params, status, error", [
    ({"client_id": "unknown"}, 400, "INVALID_CLIENT: Invalid client"),
    ({"client_id": None}, 400, "INVALID_CLIENT: Invalid client"),
    ({"redirect_uri": "http://127.0.0.1:9999/callback"}, 400, "INVALID_CLIENT: Invalid redirect URI"),
    ({"redirect_uri": None}, 400, "INVALID_CLIENT: Invalid redirect URI"),
    ({"response_type": "token"}, 302, "unsupported_response_type"),
    ({"code_challenge_method": "plain", "code_challenge": "a" * 43}, 302, "invalid_request"),
    ({"code_challenge_method": "S256", "code_challenge": "short"}, 302, "invalid_request"),
    ({"code_challenge_method": "S256"}, 302, "invalid_request"),
    ({"scope": "playlist-read-private all-your-data"}, 302, "invalid_scope"),
])
def test_an_authorize_request_spotify_would_refuse(service, params, status, error):
    answer_status, query, page = authorize(service, **params)
    assert answer_status == status
    if status == 302:  # the redirect URI is trusted: the error goes back to the app, with its state
        assert query == {"error": error, "state": "st4te"}
    else:  # not trusted: an error page, no redirect
        assert page == error and query == {}


def test_a_user_who_refuses_sends_access_denied(service):
    service.authorization.approve = False
    assert authorize(service)[:2] == (302, {"error": "access_denied", "state": "st4te"})


@pytest.mark.parametrize("uri, allowed", [
    ("http://127.0.0.1:8888/callback", True), ("http://[::1]:8888/callback", True), ("https://example.com/cb", True),
    ("http://localhost:8888/callback", False), ("http://example.com/callback", False), ("ftp://127.0.0.1/x", False),
])
def test_redirect_uris_an_app_may_register(uri, allowed):
    assert allowed_redirect_uri(uri) is allowed


def test_over_http_spotipy_s_pkce_flow_reads_a_playlist(server, control):
    import spotipy
    from spotipy.cache_handler import MemoryCacheHandler
    from spotipy.oauth2 import SpotifyPKCE

    from tests.local_spotify.conftest import CLIENT_ID as SERVER_CLIENT_ID

    auth = SpotifyPKCE(client_id=SERVER_CLIENT_ID, redirect_uri="http://127.0.0.1:8899/callback", scope=SCOPE,
                       state="xyz", open_browser=False, cache_handler=MemoryCacheHandler())
    auth.OAUTH_AUTHORIZE_URL, auth.OAUTH_TOKEN_URL = server.authorize_url, server.token_url
    redirect = requests.get(auth.get_authorize_url(), allow_redirects=False, timeout=10)
    assert redirect.status_code == 302
    state, code = auth.parse_auth_response_url(redirect.headers["Location"])
    assert state == "xyz"
    sp = spotipy.Spotify(auth_manager=auth)
    sp.prefix = server.api_url
    auth.get_access_token(code=code, check_cache=False)
    assert sp.playlist("37i9dQZEVXbMDoHDwVN2tF", fields="name")["name"] == "Top 50 - Global"
    control.set_consent(False)
    denied = requests.get(auth.get_authorize_url(), allow_redirects=False, timeout=10)
    assert parse_qs(urlsplit(denied.headers["Location"]).query)["error"] == ["access_denied"]
    assert control.stats()["by_endpoint"]["authorize"] == {"302": 2, "total": 2}
    control.reset()
    assert requests.get(auth.get_authorize_url(), allow_redirects=False, timeout=10).headers["Location"] \
        .startswith("http://127.0.0.1:8899/callback?code=")  # reset: the user approves again
