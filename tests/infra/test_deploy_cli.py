"""The deploy and teardown commands' argument handling and exit codes (no AWS needed)."""
from __future__ import annotations

import pytest

from infra import deploy, teardown
from localdev.process import free_port


def run(capsys, *argv: str) -> tuple[int, str]:
    code = deploy.main(list(argv))
    return code, capsys.readouterr().err


def test_help_exits_zero_and_lists_exit_codes(capsys):
    with pytest.raises(SystemExit) as exit_info:
        deploy.main(["--help"])
    out = capsys.readouterr().out
    assert exit_info.value.code == 0
    assert "exit codes" in out and "AWS_ENDPOINT_URL" in out


@pytest.mark.parametrize("argv, message", [
    (["--stack-name", "Spotify_Charts"], "--stack-name"),
    (["--stack-name", "a-very-long-stack-name-indeed-yes"], "--stack-name"),
    (["--parameter", "NoSuchParameter=1"], "unknown template parameters: NoSuchParameter"),
    (["--parameter", "ProducerCodeKey=lambda/x.zip"], "set by this command"),
    (["--parameter", "Playlists"], "expected KEY=VALUE"),
])
def test_bad_arguments_exit_2_with_a_message(capsys, argv, message):
    code, err = run(capsys, *argv)
    assert code == deploy.EXIT_USAGE
    assert message in err


def test_unreachable_endpoint_exits_4_without_building(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")  # nothing listens
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    for name, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"),
                        ("AWS_DEFAULT_REGION", "us-east-1")):
        monkeypatch.setenv(name, value)
    code, err = run(capsys, "--playlists", "p1", "--build-dir", str(tmp_path))
    assert code == deploy.EXIT_NO_AWS
    assert "no AWS access" in err and "testing" not in err  # no credentials echoed
    assert not any(tmp_path.iterdir())  # it stopped before building anything


def test_teardown_refuses_without_yes(capsys):
    assert teardown.main(["--stack-name", "spotify-charts"]) == deploy.EXIT_USAGE
    assert "--yes" in capsys.readouterr().err
