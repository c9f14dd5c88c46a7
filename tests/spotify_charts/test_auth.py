"""``spotify-charts auth`` end to end, without a browser: the command runs in a child process
as a user runs it; its ``webbrowser.open`` starts ``spotify_user.py`` (through ``BROWSER``),
which plays the user: it loads the local Spotify server's authorize page (real spotipy
PKCE parameters), follows the redirect to the command's own callback server (spotipy's),
and the command exchanges the code. The token lands in a Secrets Manager secret on moto,
shaped like the stack's, and the producer's real handler then polls with it, twice, across
a refresh-token rotation."""
from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pytest
import requests

import producer.handler
from local_spotify.server import LocalSpotifyServer
from localdev.process import free_port
from tests.conftest import unique_name
from tests.spotify_charts.conftest import CLI, CLIENT_ID, CLIENT_SECRET, child_environ

pytestmark = pytest.mark.spotify_server  # the local Spotify server, moto through aws_endpoint

USER = Path(__file__).with_name("spotify_user.py")


class Browser:
    """What ``BROWSER`` points the command's webbrowser.open at: a launcher that starts
    spotify_user.py in the background and returns (its pid is kept, to end it by pid)."""

    def __init__(self, folder: Path):
        self.report_path, self.pid_path = folder / "user.json", folder / "user.pid"
        self.launcher = folder / "browser.sh"
        self.launcher.write_text(
            "#!/bin/sh\n"
            f"'{sys.executable}' '{USER}' \"$1\" '{self.report_path}' >'{folder / 'user.log'}' 2>&1 &\n"
            f"echo $! > '{self.pid_path}'\n")
        self.launcher.chmod(self.launcher.stat().st_mode | stat.S_IXUSR)

    def report(self) -> dict:
        """What the user saw (after the user's process ended)."""
        self.finish()
        return json.loads(self.report_path.read_text()) if self.report_path.exists() else {}

    def finish(self, timeout: float = 15) -> None:
        if not self.pid_path.exists():
            return
        pid = int(self.pid_path.read_text())
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and Path(f"/proc/{pid}").exists() and \
                "zombie" not in Path(f"/proc/{pid}/status").read_text(errors="replace").lower():
            time.sleep(0.05)
        if Path(f"/proc/{pid}").exists():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


@pytest.fixture
def browser(tmp_path):
    user = Browser(tmp_path)
    yield user
    user.finish()


@pytest.fixture
def stack_secret(aws_endpoint):
    """A secret as the stack creates it: no value until someone sets one."""
    secrets = boto3.client("secretsmanager")
    return secrets.create_secret(Name=unique_name("spotify"), Description="Spotify app credentials")["ARN"]


def secret_value(arn: str) -> dict:
    return json.loads(boto3.client("secretsmanager").get_secret_value(SecretId=arn)["SecretString"])


def run_auth(spotify: LocalSpotifyServer, browser: Browser, *args: str, timeout: float = 60,
             drop: tuple[str, ...] = (), **env: str) -> subprocess.CompletedProcess:
    environ = child_environ(BROWSER=str(browser.launcher), SPOTIFY_AUTHORIZE_URL=spotify.authorize_url,
                            SPOTIFY_TOKEN_URL=spotify.token_url, **env)
    for name in drop:
        environ.pop(name, None)
    return subprocess.run([*CLI, "auth", *args], env=environ, capture_output=True, text=True, timeout=timeout)


def refresh(spotify: LocalSpotifyServer, refresh_token: str) -> requests.Response:
    """A PKCE client's refresh request, as Spotify documents it: client_id, no secret."""
    return requests.post(spotify.token_url, timeout=10, data={
        "grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": CLIENT_ID})


def test_auth_stores_a_token_the_producer_polls_with_across_rotations(spotify, producer_env, stack_secret, browser,
                                                                      monkeypatch):
    port = free_port()
    done = run_auth(spotify, browser, "--client-id", CLIENT_ID, "--port", str(port), "--secret-arn", stack_secret)
    assert done.returncode == 0, done.stderr
    stored = secret_value(stack_secret)
    assert set(stored) == {"client_id", "refresh_token"} and stored["client_id"] == CLIENT_ID
    first = stored["refresh_token"]
    assert done.stdout == "" and first not in done.stderr  # no token printed
    assert f"Stored the refresh token and client id {CLIENT_ID} in {stack_secret}" in done.stderr

    seen = browser.report()  # the user's side: Spotify's redirect to the command's callback, and its page
    assert seen["authorize_status"] == 302 and seen["redirect"].startswith(f"http://127.0.0.1:{port}/callback?code=")
    assert "&state=" in seen["redirect"] and "code_challenge_method=S256" in seen["authorize_url"]
    assert seen["callback_status"] == 200 and "Authentication status: successful" in seen["callback_page"]
    assert "code_verifier" not in seen["authorize_url"]  # the verifier never leaves the command

    # The producer reads the secret as the stack configures it: its ARN, no id or secret in the environment.
    monkeypatch.setenv("SPOTIFY_SECRET_ARN", stack_secret)
    monkeypatch.setenv("SPOTIFY_CLIENT_ID", "")
    monkeypatch.setenv("SPOTIFY_CLIENT_SECRET", "")
    monkeypatch.setattr(producer.handler, "_poller", None)  # a cold start
    spotify.control.reset_stats()
    summary = producer_env.poll()
    assert not summary["failed"] and len(summary["changed"]) == 2
    # Spotify rotated the refresh token on that refresh: the producer kept the new one in the secret.
    second = secret_value(stack_secret)["refresh_token"]
    assert second != first and secret_value(stack_secret)["client_id"] == CLIENT_ID
    assert spotify.control.stats()["by_endpoint"]["token"] == {"200": 1, "total": 1}  # one refresh
    assert refresh(spotify, first).json() == {"error": "invalid_grant", "error_description": "Refresh token revoked"}

    # Another cold start (a new container) starts from the stored token and rotates it again.
    spotify.control.advance(1)
    monkeypatch.setattr(producer.handler, "_poller", None)
    summary = producer_env.poll()
    assert not summary["failed"] and len(summary["changed"]) == 2
    assert secret_value(stack_secret)["refresh_token"] not in (first, second)


def test_print_shows_only_the_token_and_stores_nothing(spotify, browser, aws_endpoint):
    done = run_auth(spotify, browser, "--client-id", CLIENT_ID, "--port", str(free_port()), "--print")
    assert done.returncode == 0, done.stderr
    [token] = done.stdout.splitlines()
    assert token not in done.stderr and "Authorized (scope: playlist-read-private playlist-read-collaborative)" \
        in done.stderr
    answer = refresh(spotify, token)  # a PKCE refresh token: refreshed with the client id alone
    assert answer.status_code == 200 and answer.json()["refresh_token"] != token


def test_an_existing_secret_keeps_its_client_id_and_loses_its_client_secret(spotify, stack_secret, browser):
    boto3.client("secretsmanager").put_secret_value(SecretId=stack_secret, SecretString=json.dumps(
        {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "note": "kept"}))
    done = run_auth(spotify, browser, "--port", str(free_port()), "--secret-arn", stack_secret,
                    drop=("SPOTIFY_CLIENT_ID",))  # the client id comes from the secret
    assert done.returncode == 0, done.stderr
    stored = secret_value(stack_secret)
    assert set(stored) == {"client_id", "refresh_token", "note"} and stored["client_id"] == CLIENT_ID
    assert "client_secret, no longer needed, was removed" in done.stderr and CLIENT_SECRET not in done.stderr
    previous = boto3.client("secretsmanager").get_secret_value(SecretId=stack_secret, VersionStage="AWSPREVIOUS")
    assert json.loads(previous["SecretString"])["client_secret"] == CLIENT_SECRET  # recoverable


def test_a_refusal_on_spotify_s_page_fails_clearly_and_stores_nothing(spotify, stack_secret, browser):
    spotify.control.set_consent(False)
    try:
        done = run_auth(spotify, browser, "--client-id", CLIENT_ID, "--port", str(free_port()),
                        "--secret-arn", stack_secret)
    finally:
        spotify.control.set_consent(True)
    assert done.returncode == 1
    assert "the app was not authorized on Spotify's page (access_denied)" in done.stderr
    assert "error=access_denied" in browser.report()["redirect"]
    with pytest.raises(boto3.client("secretsmanager").exceptions.ResourceNotFoundException):
        secret_value(stack_secret)  # still no value


def test_an_unregistered_redirect_uri_gets_spotify_s_error_page_and_the_command_says_what_to_check(
        browser, aws_endpoint):
    registered = f"http://127.0.0.1:{free_port()}/callback"
    with LocalSpotifyServer(client_id=CLIENT_ID, redirect_uris=(registered,)) as spotify:
        port = free_port()
        done = run_auth(spotify, browser, "--client-id", CLIENT_ID, "--port", str(port), "--print", "--timeout", "3")
    assert done.returncode == 1 and done.stdout == ""
    assert f"no redirect reached http://127.0.0.1:{port}/callback within 3 s: is that URI registered" in done.stderr
    seen = browser.report()
    assert seen["authorize_status"] == 400 and "INVALID_CLIENT: Invalid redirect URI" in seen["authorize_body"]


def test_a_busy_port_is_named(spotify, browser, aws_endpoint):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = run_auth(spotify, browser, "--client-id", CLIENT_ID, "--port", str(port), "--print")
    assert done.returncode == 1 and f"cannot listen on 127.0.0.1:{port}" in done.stderr and "--port" in done.stderr


def test_no_secret_and_no_stack_is_a_usage_error(spotify, browser, aws_endpoint):
    done = run_auth(spotify, browser, "--client-id", CLIENT_ID, "--stack-name", "no-such-stack",
                    drop=("SPOTIFY_SECRET_ARN",))
    assert done.returncode == 2 and "stack 'no-such-stack' not found" in done.stderr
    done = run_auth(spotify, browser, "--client-id", CLIENT_ID, "--secret-arn",
                    "arn:aws:secretsmanager:us-east-1:123456789012:secret:nope-AbCdEf")
    assert done.returncode == 2 and "no secret arn:aws:secretsmanager" in done.stderr
    assert not browser.pid_path.exists()  # checked before anyone is sent to log in
