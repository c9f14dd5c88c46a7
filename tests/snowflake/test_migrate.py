"""The migration runner on the local engine: applies once, skips snowflake_only files,
re-applies changed repeatables, refuses edited versioned files."""
from __future__ import annotations

import shutil

import pytest

from snowflake.charts import connection
from snowflake.charts.migrate import MigrationChangedError, default_variables, migrate
from snowflake.charts.migrations import MIGRATIONS_DIR, discover
from tests.snowflake.builders import query



def test_migrations_apply_once_and_record_history(engine_environ, tmp_path):
    root = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, root)
    variables = default_variables()
    with connection.connect() as db:
        first = migrate(db, local=True, variables=variables, migrations=discover(root))
        assert first.applied == ["V1__database_and_schema.sql", "V2__file_format_and_tables.sql",
                                 "V6__chart_observations.sql", "V9__drop_unread_tables.sql", "V10__chart_exports.sql",
                                 "V11__chart_store.sql", "R__chart_views.sql", "R__chart_views_intelligence.sql"]
        assert first.skipped == [m.script for m in discover(root) if m.snowflake_only]

        again = migrate(db, local=True, variables=variables, migrations=discover(root))
        assert (again.applied, again.unchanged) == ([], first.applied)

        # A changed repeatable file runs again; a new versioned file runs once.
        views = root / "R__chart_views.sql"
        views.write_text(views.read_text() + "\nCREATE OR REPLACE VIEW chart_count AS SELECT COUNT(*) AS n FROM chart_entries;\n")
        (root / "V99__playlists.sql").write_text("CREATE TABLE IF NOT EXISTS playlists (playlist_id VARCHAR);\n")
        third = migrate(db, local=True, variables=variables, migrations=discover(root))
        assert third.applied == ["V99__playlists.sql", "R__chart_views.sql"]
        assert query(db, "SELECT n FROM chart_count") == [(0,)]
        history = query(db, f"SELECT script, version FROM {variables['database']}.CHARTS.MIGRATION_HISTORY "
                            "ORDER BY applied_at, script")
        assert [h[0] for h in history].count("R__chart_views.sql") == 2
        assert ("V99__playlists.sql", "99") in history

        # Editing an applied versioned file is refused: write a new version instead.
        (root / "V99__playlists.sql").write_text("CREATE TABLE IF NOT EXISTS playlists (id VARCHAR);\n")
        with pytest.raises(MigrationChangedError, match="V99__playlists.sql"):
            migrate(db, local=True, variables=variables, migrations=discover(root))


def test_cli_runs_against_the_local_engine(engine_environ, capsys):
    from snowflake.charts.migrate import main

    assert main([]) == 0
    assert main([]) == 0
    out = capsys.readouterr().out
    assert "applied   V2__file_format_and_tables.sql" in out
    assert "unchanged V2__file_format_and_tables.sql" in out
    assert "skipped   snowflake_only/V4__pipes.sql" in out
