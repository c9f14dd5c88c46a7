"""The command line itself: help everywhere, exit codes, clear failures (no servers)."""
from __future__ import annotations

import io
import json

import botocore.session
import pytest
from botocore.stub import Stubber

from spotify_charts import cli, commands, stages

SUBCOMMANDS = ("deploy", "poll", "glue", "report", "live", "dashboard", "auth")
# Added by the local tooling through the spotify_charts.commands entry points (pyproject.toml).
LOCAL_SUBCOMMANDS = ("run", "local-glue", "load", "backfill")


@pytest.mark.parametrize("command", SUBCOMMANDS + LOCAL_SUBCOMMANDS)
def test_every_subcommand_has_help(command, capsys):
    assert cli.main([command, "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: ") and "--help" in out


def test_top_level_help_lists_every_subcommand(capsys):
    assert cli.main(["--help"]) == 0
    out = capsys.readouterr().out
    assert all(f"    {command}" in out for command in SUBCOMMANDS + LOCAL_SUBCOMMANDS)
    assert "exit codes: 0 done, 1 failed, 2 bad usage" in out


def test_run_hands_its_arguments_to_the_pipeline_module(capsys):
    assert cli.main(["run", "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: ") and "--days" in out and "--keep-running" in out and "--glue-every" in out
    assert cli.main(["run", "--days", "-1"]) == 2  # the pipeline module's own validation, before it starts anything
    assert "--days must be >= 0" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [[], ["nope"], ["report", "--date", "yesterday"], ["live", "--interval", "0"],
                                  ["backfill", "only-source"], ["report", "--movers", "-1"]])
def test_bad_usage_exits_2(argv, capsys):
    assert cli.main(argv) == 2
    assert "usage:" in capsys.readouterr().err


def test_missing_configuration_exits_2_with_what_to_set(monkeypatch, capsys):
    import producer.handler

    monkeypatch.setattr(producer.handler, "_poller", None)  # built from this (empty) environment
    for name in ("STATE_BUCKET", "SNOWPIPE_QUEUE_URL", "SNOWFLAKE_LOCAL_URL", "SNOWFLAKE_ACCOUNT",
                 "SNOWFLAKE_CONNECTION_NAME", "PLAYLISTS", "GLUE_SOURCE_PATH"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("GLUE_JOB_NAME", raising=False)
    expectations = {("live",): "STATE_BUCKET", ("report",): "SNOWFLAKE_LOCAL_URL", ("load",): "SNOWPIPE_QUEUE_URL",
                    ("local-glue",): "--source_path (or GLUE_SOURCE_PATH)", ("glue",): "--job-name (or GLUE_JOB_NAME)",
                    ("poll",): "PLAYLISTS"}
    for argv, hint in expectations.items():
        assert cli.main(list(argv)) == 2, argv
        assert hint in capsys.readouterr().err, argv


def test_commands_come_from_their_entry_points_and_may_not_replace_one_of_ours():
    """spotify_charts finds the local tooling's commands without importing it by name."""
    added = commands.added_commands()
    assert sorted(added) == sorted(LOCAL_SUBCOMMANDS)
    assert all(type(command).__module__ == "spotify_charts.commands" for command in added.values())
    with pytest.raises(TypeError, match="'report', which spotify-charts has already"):
        cli.build_parser({"report": added["load"]})


def _lambda_client(response: dict, payload: dict):
    client = botocore.session.get_session().create_client("lambda", region_name="us-east-1",
                                                          aws_access_key_id="x", aws_secret_access_key="x")
    stubber = Stubber(client)
    body = json.dumps(payload).encode()
    stubber.add_response("invoke", {"StatusCode": 200, "Payload": io.BytesIO(body), **response},
                         {"FunctionName": "producer", "InvocationType": "RequestResponse",
                          "Payload": json.dumps({"source": "spotify-charts"}).encode()})
    stubber.activate()
    return client


def test_invoking_the_deployed_producer_returns_the_summary_or_the_function_error():
    """The deployed-Lambda path decodes what lambda.invoke returns (stubbed client: moto cannot run
    the function without Docker; LocalStack runs it in tests/integration)."""
    summary = {"poll_id": "p", "changed": [], "failed": {}}
    assert stages.invoke_function("producer", {"source": "spotify-charts"}, _lambda_client({}, summary)) == summary
    client = _lambda_client({"FunctionError": "Unhandled"}, {"errorMessage": "PLAYLISTS is empty"})
    with pytest.raises(stages.StageFailedError, match="producer failed: PLAYLISTS is empty"):
        stages.invoke_function("producer", {"source": "spotify-charts"}, client)


@pytest.mark.parametrize("argv, says", [
    (["auth", "--print", "--client-id", "id", "--port", "0", "--timeout", "1"], "--port must be 1-65535"),
    (["auth", "--print", "--client-id", "id", "--timeout", "0"], "--timeout must be greater than 0"),
    (["auth", "--print", "--timeout", "1"], "pass --client-id"),
])
def test_auth_refuses_bad_settings_before_any_login(argv, says, monkeypatch, capsys):
    monkeypatch.delenv("SPOTIFY_CLIENT_ID", raising=False)
    monkeypatch.setenv("BROWSER", "/bin/false")  # a bug that reached the login opens no real browser
    assert cli.main(argv) == 2
    assert says in capsys.readouterr().err
