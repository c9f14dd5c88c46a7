"""Token service and fault queue, without HTTP."""
import base64

import pytest

from local_spotify.auth import TOKEN_LIFETIME_S, Credentials, TokenRequestError, TokenService
from local_spotify.faults import FaultError, FaultQueue, RequestStats


def basic(client_id, secret):
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


class FakeTime:
    now = 1_000_000.0

    def __call__(self):
        return self.now


def test_tokens_expire_after_an_hour():
    clock = FakeTime()
    service = TokenService(Credentials("id", "secret"), now=clock)
    token = service.grant(basic("id", "secret"), b"grant_type=client_credentials")["access_token"]
    assert service.check_bearer(f"Bearer {token}") is None
    clock.now += TOKEN_LIFETIME_S - 1
    assert service.check_bearer(f"Bearer {token}") is None
    clock.now += 1
    assert service.check_bearer(f"Bearer {token}") == "The access token expired"
    assert service.check_bearer(f"Basic {token}") == "Only valid bearer authentication supported"


def test_any_credentials_are_accepted_when_none_are_configured_but_some_must_be_sent():
    service = TokenService()
    assert service.grant(basic("anyone", "anything"), b"grant_type=client_credentials")["token_type"] == "Bearer"
    # Credentials in the form body are accepted too, as by Spotify.
    assert service.grant(None, b"grant_type=client_credentials&client_id=a&client_secret=b")["access_token"]
    with pytest.raises(TokenRequestError) as caught:
        service.grant(None, b"grant_type=client_credentials")
    assert caught.value.body["error"] == "invalid_client"


@pytest.mark.parametrize(
    "authorization, body, error",
    [
        (basic("other", "secret"), b"grant_type=client_credentials", "invalid_client"),
        (basic("id", "wrong"), b"grant_type=client_credentials", "invalid_client"),
        ("Basic %%%", b"grant_type=client_credentials", "invalid_client"),
        (basic("id", "secret"), b"", "unsupported_grant_type"),
        (basic("id", "secret"), b"grant_type=refresh_token", "invalid_request"),
        (basic("id", "secret"), b"grant_type=refresh_token&refresh_token=other", "invalid_grant"),
    ],
)
def test_token_requests_spotify_would_refuse(authorization, body, error):
    service = TokenService(Credentials("id", "secret", "refresh"))
    with pytest.raises(TokenRequestError) as caught:
        service.grant(authorization, body)
    assert (caught.value.status, caught.value.body["error"]) == (400, error)


def test_refresh_grant_returns_a_scope():
    service = TokenService(Credentials("id", "secret", "refresh"))
    answer = service.grant(basic("id", "secret"), b"grant_type=refresh_token&refresh_token=refresh")
    assert answer["scope"] and answer["expires_in"] == TOKEN_LIFETIME_S


def test_faults_match_endpoint_and_playlist_and_count_down_in_order():
    queue = FaultQueue()
    queue.add({"status": 500, "count": 1, "endpoint": "items", "playlist_id": "A"})
    queue.add({"status": 503, "count": 2, "endpoint": "any"})
    assert queue.take("items", "A").status == 500
    assert queue.take("items", "A").status == 503
    assert queue.take("token").status == 503  # "any" includes the token endpoint
    assert queue.take("items", "A") is None and queue.pending() == []
    fault = queue.add({"status": 429})
    assert (fault.retry_after, fault.endpoint, fault.count) == (1, "any", 1)


@pytest.mark.parametrize(
    "spec",
    [{"status": 200}, {"status": 500, "count": 0}, {"status": 500, "endpoint": "x"},
     {"status": 429, "retry_after": -1}, {"status": 500, "colour": "red"}],
)
def test_bad_faults_are_refused(spec):
    with pytest.raises(FaultError):
        FaultQueue().add(spec)


def test_stats_count_by_endpoint_and_status():
    stats = RequestStats()
    for endpoint, status in [("items", 200), ("items", 429), ("items", 200), ("token", 200)]:
        stats.count(endpoint, status)
    assert stats.to_json() == {
        "total": 4,
        "by_endpoint": {"items": {"200": 2, "429": 1, "total": 3}, "token": {"200": 1, "total": 1}},
    }
