"""``spotify-charts auth``: a Spotify user's refresh token for the producer, in one step.

Since 2026 a development-mode app reads only the playlists its user owns or collaborates
on, and only with that user's authorization. This command runs spotipy's own
Authorization Code flow with PKCE (``spotipy.oauth2.SpotifyPKCE``, no client secret
involved): the browser opens Spotify's consent page, spotipy's one-request server on
``http://127.0.0.1:PORT/callback`` takes the redirect, and the code is exchanged for
tokens. The refresh token then goes into the stack's Secrets Manager secret as
``{"client_id", "refresh_token"}`` (producer/credentials.py reads that shape), or to
stdout with ``--print``. No token appears anywhere else.
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import threading
from typing import Any, Callable

import boto3
from botocore.exceptions import ClientError
from spotipy.cache_handler import MemoryCacheHandler
from spotipy.exceptions import SpotifyOauthError, SpotifyStateError
from spotipy.oauth2 import SpotifyOAuth, SpotifyPKCE

from producer.config import DEFAULT_TOKEN_URL
from producer.spotify import READ_SCOPE
from spotify_charts.settings import SettingsError

DEFAULT_PORT = 8888  # the port Spotify's own examples register: http://127.0.0.1:8888/callback
CALLBACK_PATH = "/callback"
DEFAULT_TIMEOUT_S = 300.0
EXIT_OK, EXIT_FAILED = 0, 1


class AuthorizationFailedError(RuntimeError):
    """No refresh token: the user refused, the redirect never came, or Spotify said no."""


class _SpotifyPKCE(SpotifyPKCE):
    """spotipy's PKCE flow, with SpotifyOAuth's handling of the redirect: spotipy 2.26's PKCE
    version checks the redirect's state before its error, and a redirect that carries an
    error (the user refused: ``access_denied``) set no state, so it fails with AttributeError."""

    _get_auth_response_local_server = SpotifyOAuth._get_auth_response_local_server


def redirect_uri(port: int) -> str:
    """The redirect URI to register for the app (Spotify accepts HTTP only on a loopback address)."""
    return f"http://127.0.0.1:{port}{CALLBACK_PATH}"


def authorize(client_id: str, port: int, authorize_url: str, token_url: str, timeout: float,
              say: Callable[[str], None]) -> dict[str, Any]:
    """Run the flow; returns spotipy's token info (``refresh_token``, ``scope``, ...)."""
    auth = _SpotifyPKCE(client_id=client_id, redirect_uri=redirect_uri(port), scope=READ_SCOPE,
                       state=secrets.token_urlsafe(16),  # spotipy checks the redirect carries it back
                       open_browser=True,  # with a loopback redirect URI and a port: spotipy's own server
                       cache_handler=MemoryCacheHandler(), requests_timeout=30)
    auth.OAUTH_AUTHORIZE_URL = authorize_url  # class attributes name Spotify's; local servers stand in
    auth.OAUTH_TOKEN_URL = token_url
    say(f"Opening Spotify's authorization page in your browser. If none opens, open this address "
        f"in a browser on this machine:\n  {auth.get_authorize_url()}\n"
        f"Waiting up to {timeout:g} s for Spotify to redirect to {redirect_uri(port)} ...")

    outcome: dict[str, Any] = {}

    def flow() -> None:
        try:
            auth.get_access_token(check_cache=False)
            outcome["token"] = auth.cache_handler.get_cached_token()
        except BaseException as error:  # noqa: BLE001 - handed to the waiting thread
            outcome["error"] = error

    # spotipy's server waits for its one request without a time limit: wait here instead.
    worker = threading.Thread(target=flow, name="spotify-authorization", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise AuthorizationFailedError(
            f"no redirect reached {redirect_uri(port)} within {timeout:g} s: is that URI registered for the app "
            "(Spotify dashboard, Redirect URIs), and was the browser on this machine? Run the command again")
    error = outcome.get("error")
    if isinstance(error, OSError):
        raise AuthorizationFailedError(f"cannot listen on 127.0.0.1:{port} ({error.strerror}): pass --port with a "
                                       f"free port, and register http://127.0.0.1:PORT{CALLBACK_PATH} for it")
    if isinstance(error, SpotifyStateError):
        raise AuthorizationFailedError("the redirect did not carry this run's state (a stale or forged "
                                       "redirect): ignored; run the command again")
    if isinstance(error, SpotifyOauthError):
        if error.error == "access_denied":
            raise AuthorizationFailedError("the app was not authorized on Spotify's page (access_denied)")
        raise AuthorizationFailedError(f"Spotify refused the authorization: {error}")
    if error is not None:
        raise error
    token = outcome["token"]
    if not token or not token.get("refresh_token"):
        raise AuthorizationFailedError("Spotify's token answer carried no refresh token")
    return token


# -- the stack's secret ---------------------------------------------------------------------

def stack_secret_arn(stack_name: str, cloudformation=None) -> str:
    """The ``SpotifySecretArn`` output of the deployed stack."""
    from infra.stacks import StackDeployer

    outputs = StackDeployer(cloudformation or boto3.client("cloudformation")).outputs(stack_name)
    if "SpotifySecretArn" not in outputs:
        raise SettingsError(f"stack {stack_name!r} not found or has no SpotifySecretArn output: deploy it first "
                            "(spotify-charts deploy), or pass --secret-arn / --stack-name")
    return outputs["SpotifySecretArn"]


def read_secret(client, secret_arn: str) -> dict[str, Any]:
    """The secret's current JSON object ({} while the stack's secret has no value yet)."""
    try:
        client.describe_secret(SecretId=secret_arn)
    except ClientError as error:
        if error.response["Error"]["Code"] == "ResourceNotFoundException":
            raise SettingsError(f"no secret {secret_arn} in this account and region") from None
        raise
    try:
        text = client.get_secret_value(SecretId=secret_arn)["SecretString"]
    except ClientError as error:
        if error.response["Error"]["Code"] == "ResourceNotFoundException":
            return {}  # created empty by the stack: no value yet
        raise
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        value = None
    if not isinstance(value, dict):
        raise AuthorizationFailedError(f"secret {secret_arn} holds something other than a JSON object; "
                                       "it is left as it is: fix or clear it, then run the command again")
    return value


def with_refresh_token(current: dict[str, Any], client_id: str, refresh_token: str) -> dict[str, Any]:
    """The secret's new value: this client id and refresh token; any client secret goes, so
    the producer refreshes the token as the PKCE client it was issued to (producer/credentials.py)."""
    kept = {k: v for k, v in current.items() if k not in ("client_id", "client_secret", "refresh_token")}
    return {**kept, "client_id": client_id, "refresh_token": refresh_token}


# -- the command ------------------------------------------------------------------------------

def add_parser(commands) -> None:
    """``spotify-charts auth`` in the command line's subcommands."""
    parser = commands.add_parser("auth", help="get a Spotify user's refresh token for the producer", description=(
        "Authorize the Spotify app for your Spotify user (Authorization Code flow with PKCE, spotipy's own): "
        "your browser opens Spotify's consent page, which redirects to http://127.0.0.1:PORT/callback, where "
        "this command listens once. Register that redirect URI for the app first (Spotify dashboard). The "
        "refresh token goes into the stack's secret as {client_id, refresh_token} (its client_secret, no longer "
        "needed, is removed), or to stdout with --print. See spotify_charts/README.md, 'auth'."))
    parser.add_argument("--client-id", default=os.environ.get("SPOTIFY_CLIENT_ID"),
                        help="the app's Client ID (default $SPOTIFY_CLIENT_ID, else the secret's client_id)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT,
                        help=f"port of the redirect URI http://127.0.0.1:PORT/callback (default {DEFAULT_PORT})")
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--print", dest="print_token", action="store_true",
                        help="print the refresh token on stdout instead of storing it")
    target.add_argument("--secret-arn", default=os.environ.get("SPOTIFY_SECRET_ARN"),
                        help="the secret to store it in (default $SPOTIFY_SECRET_ARN, else the stack's)")
    parser.add_argument("--stack-name", help="the deployed stack whose SpotifySecretArn output names the secret "
                                             "(default: the deploy command's, spotify-charts)")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_S,
                        help=f"seconds to wait for the redirect (default {DEFAULT_TIMEOUT_S:g})")
    parser.add_argument("--authorize-url", default=os.environ.get("SPOTIFY_AUTHORIZE_URL") or
                        SpotifyPKCE.OAUTH_AUTHORIZE_URL, help="Spotify's authorize endpoint "
                        "(default $SPOTIFY_AUTHORIZE_URL or %(default)s; a local stand-in for tests)")
    parser.add_argument("--token-url", default=os.environ.get("SPOTIFY_TOKEN_URL") or DEFAULT_TOKEN_URL,
                        help="Spotify's token endpoint (default $SPOTIFY_TOKEN_URL or %(default)s)")
    parser.set_defaults(handler=cmd_auth)


def cmd_auth(args: argparse.Namespace) -> int:
    def say(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    if not 0 < args.port < 65536:
        raise SettingsError(f"--port must be 1-65535, got {args.port}")
    if args.timeout <= 0:
        raise SettingsError(f"--timeout must be greater than 0, got {args.timeout:g}")
    secrets_client = secret_arn = None
    current: dict[str, Any] = {}
    try:
        if not args.print_token:  # find and read the secret before the user logs in, not after
            from infra.deploy import DEFAULT_STACK_NAME

            secret_arn = args.secret_arn or stack_secret_arn(args.stack_name or DEFAULT_STACK_NAME)
            secrets_client = boto3.client("secretsmanager")
            current = read_secret(secrets_client, secret_arn)
        client_id = args.client_id or current.get("client_id")
        if not client_id:
            raise SettingsError("pass --client-id (the app's Client ID, Spotify dashboard) or set SPOTIFY_CLIENT_ID")
        token = authorize(client_id, args.port, args.authorize_url, args.token_url, args.timeout, say)
    except AuthorizationFailedError as error:
        say(f"spotify-charts auth: {error}")
        return EXIT_FAILED
    say(f"Authorized (scope: {token.get('scope') or 'none'}).")
    if args.print_token:
        print(token["refresh_token"], flush=True)
        return EXIT_OK
    secrets_client.put_secret_value(SecretId=secret_arn,
                                    SecretString=json.dumps(with_refresh_token(current, client_id,
                                                                               token["refresh_token"])))
    removed = " Its client_secret, no longer needed, was removed (the previous value stays as version " \
              "AWSPREVIOUS)." if current.get("client_secret") else ""
    say(f"Stored the refresh token and client id {client_id} in {secret_arn}.{removed} The producer uses it "
        "from its next cold start; Spotify's refresh tokens last 6 months: run this again before then.")
    return EXIT_OK
