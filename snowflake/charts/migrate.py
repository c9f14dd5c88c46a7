"""Apply the migrations in ``snowflake/migrations/`` (a small schemachange).

    python -m snowflake.charts.migrate                       # local engine or Snowflake, per environment
    python -m snowflake.charts.migrate --var curated_s3_url=s3://bucket/curated/

Versioned files (``V<n>__*.sql``) run once each, in order; a versioned file that
changed after it was applied is an error (write a new version instead). Repeatable
files (``R__*.sql``) run again whenever their text changes. The history lives in
``<database>.<schema>.MIGRATION_HISTORY``. On the local engine the ``snowflake_only/``
files are skipped: that engine cannot create pipes, streams, tasks or integrations.
Running it twice changes nothing the second time.
"""
from __future__ import annotations

import argparse
import logging
import os
import re
import sys
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Mapping

from snowflake.connector.errors import ProgrammingError

from snowflake.charts import connection
from snowflake.charts.migrations import Migration, MigrationVariableError, check_identifier, discover

log = logging.getLogger("snowflake.charts.migrate")

HISTORY_TABLE = "MIGRATION_HISTORY"

# Placeholder defaults; curated_s3_url has none. The integrations' names are those
# snowflake/admin/account_setup.sql creates (snowflake.charts.admin uses the same defaults).
DEFAULT_MERGE_SCHEDULE = "5 MINUTE"
DEFAULT_STORAGE_INTEGRATION = "SPOTIFY_CHARTS_CURATED_S3"
DEFAULT_NOTIFICATION_INTEGRATION = "SPOTIFY_CHARTS_ERRORS"


class MigrationChangedError(RuntimeError):
    """A versioned migration was edited after it was applied."""


@dataclass
class MigrationReport:
    applied: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # snowflake_only files on the local engine


def default_variables(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    environ = os.environ if environ is None else environ
    database, schema = connection.database_and_schema(environ)
    variables = {
        "database": database,
        "schema": schema,
        "merge_schedule": DEFAULT_MERGE_SCHEDULE,
        "storage_integration": DEFAULT_STORAGE_INTEGRATION,
        "notification_integration": DEFAULT_NOTIFICATION_INTEGRATION,
    }
    if environ.get("SNOWFLAKE_WAREHOUSE"):
        variables["warehouse"] = environ["SNOWFLAKE_WAREHOUSE"]
    return variables


def _history_name(variables: Mapping[str, str]) -> str:
    return f"{_schema_name(variables)}.{HISTORY_TABLE}"


def _schema_name(variables: Mapping[str, str]) -> str:
    """``database.schema``, each checked: the runner's own statements name them too."""
    return f"{check_identifier('database', variables['database'])}.{check_identifier('schema', variables['schema'])}"


def read_history(cursor, variables: Mapping[str, str]) -> dict[str, str] | None:
    """script -> checksum of its latest application; None if there is no history table yet."""
    try:
        cursor.execute(
            f"SELECT script, checksum FROM {_history_name(variables)} "
            "QUALIFY ROW_NUMBER() OVER (PARTITION BY script ORDER BY applied_at DESC) = 1"
        )
    except ProgrammingError as error:
        if error.errno == 2003:  # object does not exist (database, schema or table)
            return None
        raise
    return {script: checksum for script, checksum in cursor.fetchall()}


def _record(cursor, variables: Mapping[str, str], migration: Migration) -> None:
    cursor.execute(
        f"CREATE TABLE IF NOT EXISTS {_history_name(variables)} ("
        "script VARCHAR NOT NULL, version VARCHAR, description VARCHAR, checksum VARCHAR NOT NULL, "
        "applied_at TIMESTAMP_NTZ NOT NULL)"
    )
    cursor.execute(
        f"INSERT INTO {_history_name(variables)} (script, version, description, checksum, applied_at) "
        "VALUES (%s, %s, %s, %s, %s)",
        (migration.script, migration.version_text, migration.description, migration.checksum,
         datetime.now(timezone.utc).replace(tzinfo=None)),
    )


def migrate(conn, *, local: bool, variables: Mapping[str, str],
            migrations: list[Migration] | None = None) -> MigrationReport:
    """Apply what is pending; returns what was applied, unchanged and skipped. Every file to
    run is rendered first: a variable that does not fit stops the run before it changes anything."""
    migrations = discover() if migrations is None else migrations
    rendered = {m.script: m.statements(variables) for m in migrations if not (m.snowflake_only and local)}
    report = MigrationReport()
    cursor = conn.cursor()
    history = read_history(cursor, variables)
    if history is not None:
        cursor.execute(f"USE SCHEMA {_schema_name(variables)}")
    history = history or {}
    for migration in migrations:
        if migration.snowflake_only and local:
            report.skipped.append(migration.script)
            continue
        applied = history.get(migration.script)
        if migration.version is not None and applied is not None and applied != migration.checksum:
            raise MigrationChangedError(
                f"{migration.script} changed after it was applied; add a new V<n>__ file instead"
            )
        if applied == migration.checksum:
            report.unchanged.append(migration.script)
            continue
        for statement in rendered[migration.script]:
            cursor.execute(statement)
        _record(cursor, variables, migration)
        log.info("applied %s", migration.script)
        report.applied.append(migration.script)
    return report


def _parse_vars(pairs: list[str]) -> dict[str, str]:
    """``--var NAME=VALUE`` pairs; the values are checked where they are used (migrations.render)."""
    variables = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not re.fullmatch(r"\w+", name.strip()):
            raise argparse.ArgumentTypeError(f"--var takes NAME=VALUE (NAME: letters, digits, _), got {pair!r}")
        variables[name.strip()] = value
    return variables


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--var", action="append", default=[], metavar="NAME=VALUE",
                        help="value of a {{ NAME }} placeholder (repeatable)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    local = connection.is_local()
    try:
        variables = {**default_variables(), **_parse_vars(args.var)}
        _schema_name(variables)  # before connecting: a bad name is the caller's to fix
        log.info("connecting to %s", connection.describe(connection.connect_arguments()))
        with connection.connect() as conn:
            report = migrate(conn, local=local, variables=variables)
    except (argparse.ArgumentTypeError, MigrationVariableError) as error:
        parser.error(str(error))
    for script in report.skipped:
        print(f"skipped   {script} (snowflake only; the local engine cannot run it)")
    for script in report.unchanged:
        print(f"unchanged {script}")
    for script in report.applied:
        print(f"applied   {script}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
