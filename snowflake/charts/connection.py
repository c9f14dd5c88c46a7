"""Connection settings for Snowflake, or for the local engine, from the environment.

Real Snowflake, either:
  * ``SNOWFLAKE_CONNECTION_NAME``: a connection of the connector's ``connections.toml``
    (``~/.snowflake/connections.toml``, or ``$SNOWFLAKE_HOME/connections.toml``);
    the variables below, when set, override its values;
  * or the variables themselves: ``SNOWFLAKE_ACCOUNT``, ``SNOWFLAKE_USER``,
    ``SNOWFLAKE_ROLE``, ``SNOWFLAKE_WAREHOUSE``, and for key-pair authentication
    ``SNOWFLAKE_PRIVATE_KEY_FILE`` (+ ``SNOWFLAKE_PRIVATE_KEY_PASSPHRASE`` if the key is
    encrypted). ``SNOWFLAKE_AUTHENTICATOR`` selects another method (e.g.
    ``externalbrowser``); ``SNOWFLAKE_PASSWORD`` is read if set, but key pairs are the
    recommended way. No secret is ever logged: :func:`describe` redacts them.

Always: ``SNOWFLAKE_DATABASE`` (default SPOTIFY_CHARTS) and ``SNOWFLAKE_SCHEMA``
(default CHARTS).

Local engine: ``SNOWFLAKE_LOCAL_URL=http://127.0.0.1:<port>`` points the real connector
at a fakesnow server (the local stand-in for Snowflake). Nothing else is needed.
"""
from __future__ import annotations

import os
from typing import Any, Mapping
from urllib.parse import urlparse

import snowflake.connector

DEFAULT_DATABASE = "SPOTIFY_CHARTS"
DEFAULT_SCHEMA = "CHARTS"
LOCAL_URL_VAR = "SNOWFLAKE_LOCAL_URL"

# Environment variable -> connector argument.
_ENV_ARGUMENTS = {
    "SNOWFLAKE_ACCOUNT": "account",
    "SNOWFLAKE_USER": "user",
    "SNOWFLAKE_ROLE": "role",
    "SNOWFLAKE_WAREHOUSE": "warehouse",
    "SNOWFLAKE_AUTHENTICATOR": "authenticator",
    "SNOWFLAKE_HOST": "host",
    "SNOWFLAKE_PRIVATE_KEY_FILE": "private_key_file",
    "SNOWFLAKE_PRIVATE_KEY_PASSPHRASE": "private_key_file_pwd",
    "SNOWFLAKE_PASSWORD": "password",
}
_SECRET_ARGUMENTS = frozenset({"password", "private_key_file_pwd", "token", "private_key"})

# Chart dates are UTC dates: sessions work in UTC whatever the account default.
_SESSION_PARAMETERS = {"TIMEZONE": "UTC"}

# fakesnow accepts any credentials; these are its documented dummies, not secrets.
_LOCAL_ARGUMENTS = {"account": "fakesnow", "user": "fake", "password": "snow"}


class ConnectionSettingsError(ValueError):
    """The environment does not say how to reach Snowflake."""


def is_local(environ: Mapping[str, str] | None = None) -> bool:
    environ = os.environ if environ is None else environ
    return bool(environ.get(LOCAL_URL_VAR))


def database_and_schema(environ: Mapping[str, str] | None = None) -> tuple[str, str]:
    environ = os.environ if environ is None else environ
    return (environ.get("SNOWFLAKE_DATABASE") or DEFAULT_DATABASE,
            environ.get("SNOWFLAKE_SCHEMA") or DEFAULT_SCHEMA)


def connect_arguments(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Keyword arguments for ``snowflake.connector.connect``."""
    environ = os.environ if environ is None else environ
    database, schema = database_and_schema(environ)
    if is_local(environ):
        url = urlparse(environ[LOCAL_URL_VAR])
        if not (url.scheme and url.hostname and url.port):
            raise ConnectionSettingsError(f"{LOCAL_URL_VAR} must look like http://127.0.0.1:8085")
        return {
            **_LOCAL_ARGUMENTS,
            "host": url.hostname,
            "port": url.port,
            "protocol": url.scheme,
            "database": database,
            "schema": schema,
            "session_parameters": {**_SESSION_PARAMETERS, "CLIENT_OUT_OF_BAND_TELEMETRY_ENABLED": False},
            "network_timeout": 3,  # retry budget only (long queries are fine): the engine's errors are not transient
        }
    arguments: dict[str, Any] = {name: environ[var] for var, name in _ENV_ARGUMENTS.items() if environ.get(var)}
    if environ.get("SNOWFLAKE_CONNECTION_NAME"):
        arguments["connection_name"] = environ["SNOWFLAKE_CONNECTION_NAME"]
    elif "account" not in arguments:
        raise ConnectionSettingsError(
            "set SNOWFLAKE_CONNECTION_NAME (a connections.toml entry) or SNOWFLAKE_ACCOUNT and "
            f"SNOWFLAKE_USER (+ SNOWFLAKE_PRIVATE_KEY_FILE), or {LOCAL_URL_VAR} for the local engine"
        )
    if "private_key_file" in arguments and "authenticator" not in arguments:
        arguments["authenticator"] = "SNOWFLAKE_JWT"
    arguments.update(database=database, schema=schema, session_parameters=dict(_SESSION_PARAMETERS))
    return arguments


def describe(arguments: Mapping[str, Any]) -> dict[str, Any]:
    """The arguments with secrets redacted: safe to log."""
    return {k: ("***" if k in _SECRET_ARGUMENTS else v) for k, v in arguments.items()}


def connect(environ: Mapping[str, str] | None = None):
    """An open connection (the real connector, to Snowflake or to the local engine)."""
    return snowflake.connector.connect(**connect_arguments(environ))
