"""The migration files: names, order, placeholders, and a parse of every statement,
including the snowflake_only ones the local engine cannot run."""
from __future__ import annotations

import re

import pytest
import sqlglot
from sqlglot import exp

from snowflake.charts.migrate import default_variables, migrate
from snowflake.charts.migrations import (
    MigrationFileError,
    MigrationVariableError,
    discover,
    placeholders,
    render,
    split_sql,
)
from snowflake.charts.pipes import load_definitions, parse_pipe

SAMPLE_VARIABLES = {
    **default_variables({}),
    "warehouse": "CHARTS_WH",
    "curated_s3_url": "s3://charts-curated-123456789012-us-east-1/curated/",
}


def parse(statement: str) -> exp.Expr:
    """Parse strictly: sqlglot falls back to an opaque Command for syntax it does not know."""
    tree = sqlglot.parse_one(statement, read="snowflake", error_level=sqlglot.ErrorLevel.RAISE)
    assert not isinstance(tree, exp.Command), f"not really parsed: {statement[:80]}"
    return tree


def test_files_run_in_version_order_then_repeatables():
    scripts = [m.script for m in discover()]
    assert scripts == [
        "V1__database_and_schema.sql",
        "V2__file_format_and_tables.sql",
        "snowflake_only/V3__curated_stage.sql",
        "snowflake_only/V4__pipes.sql",
        "snowflake_only/V5__streams.sql",
        "V6__chart_observations.sql",
        "snowflake_only/V7__observations_pipe_and_stream.sql",
        "snowflake_only/V8__drop_unread_pipes_and_streams.sql",
        "V9__drop_unread_tables.sql",
        "V10__chart_exports.sql",
        "V11__chart_store.sql",
        "snowflake_only/V12__landing_stream_retention.sql",
        "snowflake_only/R__chart_store_refresh.sql",
        "R__chart_views.sql",
        "R__chart_views_intelligence.sql",  # after R__chart_views.sql: it reads those views
        "snowflake_only/R__ingest_watchdog.sql",
        "snowflake_only/R__load_reconciliation.sql",
        "snowflake_only/R__merge_task.sql",
        "snowflake_only/R__stale_streams_alert.sql",
    ]
    assert [m.snowflake_only for m in discover()] == [False, False, True, True, True, False, True, True, False, False,
                                                        False, True, True, False, False, True, True, True, True]


def test_every_placeholder_has_a_value_in_a_real_deployment():
    used = set().union(*(placeholders(m.text) for m in discover()))
    assert used == set(SAMPLE_VARIABLES)
    with pytest.raises(MigrationFileError, match="curated_s3_url"):
        render("URL = '{{ curated_s3_url }}'", {})


def test_a_misnamed_file_is_refused(tmp_path):
    (tmp_path / "V1__ok.sql").write_text("SELECT 1;")
    (tmp_path / "create_things.sql").write_text("SELECT 1;")
    with pytest.raises(MigrationFileError, match="create_things.sql"):
        discover(tmp_path)


def test_split_keeps_dollar_quoted_blocks_whole():
    statements = split_sql("SELECT 1; -- note; here\nCREATE TASK t AS EXECUTE IMMEDIATE $$ BEGIN SELECT 1; SELECT 2; END; $$;")
    assert statements == ["SELECT 1", "CREATE TASK t AS EXECUTE IMMEDIATE $$ BEGIN SELECT 1; SELECT 2; END; $$"]


@pytest.mark.parametrize("migration", [m for m in discover() if not m.snowflake_only], ids=lambda m: m.script)
def test_local_engine_statements_parse_as_snowflake_sql(migration):
    for statement in migration.statements(SAMPLE_VARIABLES):
        parse(statement)


def test_stage_parses_and_uses_the_admins_storage_integration():
    migration = next(m for m in discover() if m.script.endswith("V3__curated_stage.sql"))
    (stage,) = (parse(s) for s in migration.statements(SAMPLE_VARIABLES))
    assert stage.args["kind"] == "STAGE"
    properties = {p.name.upper(): p.args["value"].sql() for p in stage.find(exp.Properties).expressions
                  if type(p) is exp.Property}
    assert properties["URL"] == f"'{SAMPLE_VARIABLES['curated_s3_url']}'"
    assert properties["STORAGE_INTEGRATION"] == SAMPLE_VARIABLES["storage_integration"]


def test_pipes_copy_statements_parse_and_target_landing_tables():
    definitions = load_definitions()
    for pipe in definitions.pipes:
        copy = parse(pipe.copy_sql)
        assert isinstance(copy, exp.Copy)
        assert copy.this.name.lower() == pipe.table
        assert pipe.stage == "curated_stage"
        params = {p.this.name.upper(): p for p in copy.args["params"]}
        assert {"FILE_FORMAT", "MATCH_BY_COLUMN_NAME", "PATTERN"} <= set(params)
        assert params["MATCH_BY_COLUMN_NAME"].expression.name.upper() == "CASE_INSENSITIVE"
        # What the local runner runs is the same statement, stage and files swapped.
        local = parse(pipe.local_copy_sql("curated_local_stage", "bucket/curated/x/chart_date=2024-01-01", "f.parquet"))
        assert local.this.name.lower() == pipe.table
        assert "FILES" in {p.this.name.upper() for p in local.args["params"]}


def test_merge_task_statements_parse_and_read_the_streams():
    task = load_definitions().task
    targets = []
    for sql in task.merges:
        merge = parse(sql)
        assert isinstance(merge, exp.Merge)
        targets.append(merge.this.name.lower())
        sources = {t.name.lower() for t in merge.args["using"].find_all(exp.Table)}
        assert sources & set(task.streams), f"MERGE INTO {targets[-1]} reads no stream"
    assert targets == ["chart_entries", "chart_observations"]
    assert sorted(task.consumed_tables) == ["landing_chart_entries", "landing_chart_observations"]
    for sql in task.local_merges():
        merge = parse(sql)
        assert not {t.name.lower() for t in merge.find_all(exp.Table)} & set(task.streams)


def test_the_task_header_names_every_stream_and_is_resumed():
    migration = next(m for m in discover() if m.script.endswith("R__merge_task.sql"))
    create, resume = migration.statements(SAMPLE_VARIABLES)
    header = create.split("$$")[0]
    assert re.search(r"WAREHOUSE = CHARTS_WH\s", header)
    assert re.search(r"SCHEDULE = '5 MINUTE'", header)
    for stream in load_definitions().task.streams:
        assert f"SYSTEM$STREAM_HAS_DATA('{stream}')" in header
    assert resume == "ALTER TASK merge_curated_task RESUME"


# --- failures notify someone ---------------------------------------------------------------
def snowflake_only_statements(kind: str) -> list[str]:
    return [s for m in discover() if m.snowflake_only for s in m.statements(SAMPLE_VARIABLES)
            if re.match(rf"CREATE\s+(OR\s+REPLACE\s+)?{kind}\b", s, re.IGNORECASE)]


def header(statement: str) -> str:
    """A CREATE PIPE/TASK/ALERT statement up to its body (AS ... / IF ...)."""
    return re.split(r"\bAS\s+(?=COPY|EXECUTE)|\bIF\s*\(", statement, maxsplit=1)[0]


def test_every_pipe_and_the_task_report_their_errors_to_the_notification_integration():
    """Snowpipe skips a file it cannot load; a task run fails: both say so through the integration."""
    integration = SAMPLE_VARIABLES["notification_integration"]
    pipes = snowflake_only_statements("PIPE")  # every pipe the history creates, dropped ones too
    assert {p.name for p in load_definitions().pipes} < {parse_pipe(p).name for p in pipes}
    assert len(load_definitions().pipes) == 2
    tasks = snowflake_only_statements("TASK")
    assert len(tasks) == 2  # the merge task, the load reconciliation
    for statement in pipes + tasks:
        assert re.search(rf"\bERROR_INTEGRATION\s*=\s*{integration}\b", header(statement)), statement[:80]
    assert re.search(r"SUSPEND_TASK_AFTER_NUM_FAILURES\s*=\s*\d+", header(created("TASK", "merge_curated_task")))
    for alert in snowflake_only_statements("ALERT"):  # what raises no error notifies too
        assert f"SNOWFLAKE.NOTIFICATION.INTEGRATION('{integration}')" in alert, alert[:60]


def created(kind: str, name: str) -> str:
    """The (last) CREATE statement of a snowflake_only object."""
    return [s for s in snowflake_only_statements(kind) if re.search(rf"\b{kind}\s+{name}\b", s, re.IGNORECASE)][-1]


def alert_condition(alert: str) -> exp.Expr:
    return parse(re.search(r"\bIF\s*\(\s*EXISTS\s*\((?P<query>.*)\)\s*\)\s*THEN\b", alert, re.DOTALL)["query"])


def test_watchdog_alert_watches_every_pipe_and_the_task():
    alert = created("ALERT", "ingest_watchdog_alert")
    definitions = load_definitions()
    for pipe in definitions.pipes:  # a pipe whose notifications stopped raises no error
        assert f"TABLE_NAME => '{pipe.table.upper()}'" in alert, pipe.name
    assert f"TASK_NAME => '{definitions.task.name.upper()}'" in alert
    assert f"SNOWFLAKE.NOTIFICATION.INTEGRATION('{SAMPLE_VARIABLES['notification_integration']}')" in alert
    assert isinstance(alert_condition(alert), exp.Union)  # a check per pipe and the merge, each parsed
    migration = next(m for m in discover() if m.script.endswith("R__ingest_watchdog.sql"))
    assert migration.statements(SAMPLE_VARIABLES)[-1] == "ALTER ALERT ingest_watchdog_alert RESUME"


def test_landing_streams_outlive_a_long_suspension_of_the_merge_task():
    migration = next(m for m in discover() if m.script.endswith("V12__landing_stream_retention.sql"))
    settings = {}
    for statement in migration.statements(SAMPLE_VARIABLES):
        match = re.fullmatch(r"ALTER TABLE (\w+) SET DATA_RETENTION_TIME_IN_DAYS = (\d+) "
                             r"MAX_DATA_EXTENSION_TIME_IN_DAYS = (\d+)", statement)
        assert match, statement
        settings[match[1]] = (int(match[2]), int(match[3]))
    # Every table a stream of the merge task is on; 35 days: weeks beyond the watchdog's and the
    # stale-streams alert's notices, within Snowflake's 90-day maximum.
    assert set(settings) == set(load_definitions().task.streams.values())
    assert all(retention == 1 and 30 <= extension <= 90 for retention, extension in settings.values())


def test_the_stale_streams_alert_reads_every_stream_the_merge_task_consumes():
    alert = created("ALERT", "stale_streams_alert")
    condition = alert_condition(alert)
    read = {t.name.lower() for t in condition.find_all(exp.Table)}
    assert read == set(load_definitions().task.streams)
    assert "SYSDATE()" in alert and "DATEADD(day, -2, SYSDATE())" in alert  # batch_at is UTC, like SYSDATE
    migration = next(m for m in discover() if m.script.endswith("R__stale_streams_alert.sql"))
    assert migration.statements(SAMPLE_VARIABLES)[-1] == "ALTER ALERT stale_streams_alert RESUME"


def test_the_load_reconciliation_refreshes_every_pipe_and_reports_every_table():
    task = created("TASK", "reconcile_curated_loads_task")
    body = task.split("$$")[1]
    refreshed = set(re.findall(r"ALTER PIPE (\w+) REFRESH;", body))
    definitions = load_definitions()
    assert refreshed == {p.name for p in definitions.pipes}
    alert = created("ALERT", "unloaded_curated_files_alert")
    assert isinstance(alert_condition(alert), exp.Union)
    for pipe in definitions.pipes:
        assert f"TABLE_NAME => '{pipe.table.upper()}'" in alert, pipe.name
    migration = next(m for m in discover() if m.script.endswith("R__load_reconciliation.sql"))
    assert [s.split()[:3] for s in migration.statements(SAMPLE_VARIABLES) if s.startswith("ALTER")] == [
        ["ALTER", "TASK", "reconcile_curated_loads_task"], ["ALTER", "ALERT", "unloaded_curated_files_alert"]]


def test_migrations_create_no_integration_and_grant_nothing():
    """Integrations and grants are the administrator's (snowflake/admin/account_setup.sql)."""
    for migration in discover():
        for statement in migration.statements(SAMPLE_VARIABLES):
            assert not re.match(r"(CREATE\s+(OR\s+REPLACE\s+)?\w*\s*INTEGRATION|GRANT|REVOKE)\b", statement,
                                re.IGNORECASE), f"{migration.script}: {statement[:60]}"


# --- variables cannot change what a statement does --------------------------------------------
@pytest.mark.parametrize("value", ["CHARTS_DB", "_x$1", '"My Charts"', '"say ""hi"""'])
def test_identifiers_are_plain_or_double_quoted_names(value):
    assert render("CREATE DATABASE IF NOT EXISTS {{ database }}", {"database": value}) == \
        f"CREATE DATABASE IF NOT EXISTS {value}"


@pytest.mark.parametrize("value", ["CHARTS; DROP DATABASE PROD", "1ST", "a b", "x--", '"unclosed', '"a"b"', "",
                                   "a" * 256])
def test_a_value_that_is_not_an_identifier_is_refused_where_an_identifier_stands(value):
    with pytest.raises(MigrationVariableError, match=r"database=.* is not a Snowflake identifier"):
        render("CREATE DATABASE IF NOT EXISTS {{ database }};", {"database": value})


@pytest.mark.parametrize("url", ["s3://bucket/it's/", "s3://bucket/back\\slash/", "s3://b/'); DROP STAGE x; --"])
def test_string_values_are_escaped_and_read_back_as_given(url):
    migration = next(m for m in discover() if m.script.endswith("V3__curated_stage.sql"))
    (stage,) = (parse(s) for s in migration.statements({**SAMPLE_VARIABLES, "curated_s3_url": url}))
    properties = {p.name.upper(): p.args["value"] for p in stage.find(exp.Properties).expressions
                  if type(p) is exp.Property}
    assert properties["URL"].this == url  # one string literal, holding exactly the value


def test_a_value_cannot_end_the_comment_or_the_dollar_block_it_stands_in():
    with pytest.raises(MigrationVariableError, match="would end the comment"):
        render("-- for {{ note }}\nSELECT 1", {"note": "x\nDROP TABLE t"})
    with pytest.raises(MigrationVariableError, match="would end the comment"):
        render("/* {{ note }} */ SELECT 1", {"note": "*/ DROP TABLE t /*"})
    with pytest.raises(MigrationVariableError, match=r"would end the \$\$ block"):
        render("EXECUTE IMMEDIATE $$ SELECT '{{ word }}' $$", {"word": "$$; DROP TABLE t; $$"})
    assert render("-- it's {{ note }}\nSELECT '{{ note }}'", {"note": "ok's"}) == "-- it's ok's\nSELECT 'ok''s'"


def test_a_bad_variable_stops_the_run_before_anything_is_changed():
    """Every file is rendered before the first statement runs (no connection is touched here)."""
    bad = {**SAMPLE_VARIABLES, "warehouse": "CHARTS_WH SCHEDULE = '1 MINUTE'"}
    with pytest.raises(MigrationVariableError, match="warehouse="):
        migrate(None, local=False, variables=bad)


@pytest.mark.parametrize("argv, environ, problem", [
    (["--var", "database=CHARTS; DROP DATABASE PROD"], {}, "database='CHARTS; DROP DATABASE PROD' is not"),
    ([], {"SNOWFLAKE_SCHEMA": "CHARTS.PUBLIC"}, "schema='CHARTS.PUBLIC' is not a Snowflake identifier"),
    (["--var", "bad name=x"], {}, "--var takes NAME=VALUE"),
])
def test_the_cli_refuses_bad_values_with_a_clear_error_before_connecting(monkeypatch, capsys, argv, environ, problem):
    from snowflake.charts import migrate as runner

    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(runner.connection, "connect", lambda *a, **k: pytest.fail("connected"))
    with pytest.raises(SystemExit) as caught:
        runner.main(argv)
    assert caught.value.code == 2 and problem in capsys.readouterr().err
