"""A local Snowflake engine (fakesnow server in a child process) for the session, and
a fresh migrated database per test, reached by the real connector."""
from __future__ import annotations

import uuid

import pytest

from snowflake.charts import connection
from localdev.local_snowflake.engine import fakesnow_server, local_environ
from snowflake.charts.migrate import default_variables, migrate


@pytest.fixture(scope="session")
def engine_url(tmp_path_factory):
    """URL of a fakesnow server, stopped by pid at the end of the session."""
    log = tmp_path_factory.mktemp("fakesnow") / "fakesnow.log"
    with fakesnow_server(log_path=str(log)) as url:
        yield url


@pytest.fixture
def engine_environ(engine_url, monkeypatch):
    """Environment of a fresh database on the local engine (its own name per test)."""
    values = {**local_environ(engine_url), "SNOWFLAKE_DATABASE": f"TEST_{uuid.uuid4().hex[:10].upper()}"}
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


@pytest.fixture
def conn(engine_environ):
    """An open connection to a fresh, migrated database."""
    with connection.connect() as db:
        migrate(db, local=True, variables=default_variables())
        yield db
