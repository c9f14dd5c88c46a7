"""The virtualenv's install of the project, seen from outside the checkout: our
snowflake.charts and the connector's snowflake.connector share the `snowflake` namespace,
the local tooling's commands are registered, and nothing puts the checkout itself on
sys.path (what setuptools' transitional "compat" editable mode would do)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PROBE = """
import json, sys
from importlib import metadata
import snowflake.charts.connection, snowflake.connector, spotify_charts.cli
print(json.dumps({
    "charts": snowflake.charts.connection.__file__, "connector": snowflake.connector.__file__,
    "sys_path": sys.path,
    "commands": sorted(e.name for e in metadata.entry_points(group="spotify_charts.commands")),
}))
"""


def test_both_snowflake_packages_import_from_the_virtualenv_outside_the_checkout(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run([sys.executable, "-c", PROBE], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert Path(found["charts"]) == REPO / "snowflake" / "charts" / "connection.py"  # in place: edits apply
    assert Path(found["connector"]).is_relative_to(Path(sys.prefix))  # the connector's own package
    assert str(REPO) not in found["sys_path"] and "" not in found["sys_path"][1:]
    assert found["commands"] == ["backfill", "load", "local-glue", "run"]
