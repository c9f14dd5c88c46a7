"""The producer's Spotify credentials: from the environment, or from the stack's Secrets
Manager secret (``SPOTIFY_SECRET_ARN``), a JSON object in one of three shapes:

==================================================  ==========================================
``{"client_id", "client_secret"}``                  the app alone (Client Credentials flow)
``{"client_id", "client_secret", "refresh_token"}``  a user's authorization (Authorization Code flow)
``{"client_id", "refresh_token"}``                  a user's authorization with PKCE, as
                                                    ``spotify-charts auth`` stores it: refreshed
                                                    with the client id alone, no secret
==================================================  ==========================================

Spotify may answer a refresh with a new refresh token, and retires the old one for PKCE
clients: :class:`SecretRefreshTokens` writes each new one back to the secret, so the
next container starts from it.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools.utilities import parameters

from producer.config import ConfigError, ProducerConfig

SECRET_SHAPES = ('JSON with client_id and client_secret, or client_id and refresh_token '
                 '(spotify-charts auth stores that)')


@dataclass(frozen=True)
class SpotifyCredentials:
    client_id: str
    client_secret: str | None = field(default=None, repr=False)
    refresh_token: str | None = field(default=None, repr=False)


def read_secret(secret_arn: str) -> Any:
    """The secret's current JSON value, fresh from Secrets Manager."""
    return parameters.get_secret(secret_arn, transform="json", force_fetch=True)


def spotify_credentials(config: ProducerConfig) -> SpotifyCredentials:
    """The credentials the configuration names."""
    if not config.secret_arn:
        return SpotifyCredentials(config.client_id, config.client_secret, config.refresh_token)
    secret = read_secret(config.secret_arn)
    if not isinstance(secret, dict) or not secret.get("client_id") or not (
            secret.get("client_secret") or secret.get("refresh_token") or config.refresh_token):
        raise ConfigError(f"secret {config.secret_arn} must be {SECRET_SHAPES}")
    return SpotifyCredentials(secret["client_id"], secret.get("client_secret") or None,
                              secret.get("refresh_token") or config.refresh_token)


class SecretRefreshTokens:
    """The refresh token kept in the secret: read before a refresh (another container may
    have rotated it), written when Spotify answers with a new one. Needs
    ``secretsmanager:GetSecretValue`` and ``PutSecretValue`` on that secret only."""

    def __init__(self, secret_arn: str, client: Any):
        self.secret_arn = secret_arn
        self.client = client  # a boto3 Secrets Manager client

    def load(self) -> str | None:
        return read_secret(self.secret_arn).get("refresh_token")

    def save(self, refresh_token: str) -> None:
        value = {**read_secret(self.secret_arn), "refresh_token": refresh_token}  # client_id etc. stay
        self.client.put_secret_value(SecretId=self.secret_arn, SecretString=json.dumps(value))
