"""Connection settings from the environment: real Snowflake, connections.toml, local engine."""
from __future__ import annotations

import pytest

from snowflake.charts.connection import (
    ConnectionSettingsError,
    connect_arguments,
    describe,
    is_local,
)


def test_key_pair_settings_from_environment():
    arguments = connect_arguments({
        "SNOWFLAKE_ACCOUNT": "myorg-myaccount",
        "SNOWFLAKE_USER": "LOADER",
        "SNOWFLAKE_ROLE": "CHARTS_LOADER",
        "SNOWFLAKE_WAREHOUSE": "CHARTS_WH",
        "SNOWFLAKE_PRIVATE_KEY_FILE": "/secrets/rsa_key.p8",
        "SNOWFLAKE_PRIVATE_KEY_PASSPHRASE": "s3cret-passphrase",
    })
    assert arguments == {
        "account": "myorg-myaccount",
        "user": "LOADER",
        "role": "CHARTS_LOADER",
        "warehouse": "CHARTS_WH",
        "private_key_file": "/secrets/rsa_key.p8",
        "private_key_file_pwd": "s3cret-passphrase",
        "authenticator": "SNOWFLAKE_JWT",
        "database": "SPOTIFY_CHARTS",
        "schema": "CHARTS",
        "session_parameters": {"TIMEZONE": "UTC"},
    }
    assert "s3cret-passphrase" not in repr(describe(arguments))


def test_connections_toml_entry_with_overrides():
    arguments = connect_arguments({"SNOWFLAKE_CONNECTION_NAME": "charts", "SNOWFLAKE_ROLE": "READER",
                                   "SNOWFLAKE_DATABASE": "OTHER_DB"})
    assert arguments["connection_name"] == "charts"
    assert (arguments["role"], arguments["database"], arguments["schema"]) == ("READER", "OTHER_DB", "CHARTS")
    assert "account" not in arguments  # from the toml entry


def test_password_is_read_but_never_described():
    arguments = connect_arguments({"SNOWFLAKE_ACCOUNT": "a", "SNOWFLAKE_USER": "u", "SNOWFLAKE_PASSWORD": "hunter2"})
    assert arguments["password"] == "hunter2"
    assert "authenticator" not in arguments
    assert "hunter2" not in repr(describe(arguments))


def test_nothing_configured_is_a_clear_error():
    with pytest.raises(ConnectionSettingsError, match="SNOWFLAKE_CONNECTION_NAME"):
        connect_arguments({})


def test_local_engine_url():
    environ = {"SNOWFLAKE_LOCAL_URL": "http://127.0.0.1:8085", "SNOWFLAKE_ACCOUNT": "ignored"}
    arguments = connect_arguments(environ)
    assert is_local(environ) and not is_local({})
    assert (arguments["host"], arguments["port"], arguments["protocol"]) == ("127.0.0.1", 8085, "http")
    assert arguments["account"] == "fakesnow"
    with pytest.raises(ConnectionSettingsError):
        connect_arguments({"SNOWFLAKE_LOCAL_URL": "127.0.0.1"})
