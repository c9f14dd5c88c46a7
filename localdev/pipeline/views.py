"""What a user reads of a run: the views (a query, the charts report), and the
environment file with which another terminal reads them while the run lasts."""
from __future__ import annotations

import os
import shlex
import time
from pathlib import Path
from typing import Any, Mapping

from spotify_charts.report import all_charts_text


def query(db, sql: str, params: tuple = ()) -> list[dict[str, Any]]:
    """Rows as dicts, with lower-case column names."""
    cursor = db.cursor()
    cursor.execute(sql, params or None)
    names = [d[0].lower() for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def report_text(db, rows: int = 10) -> str:
    """Each chart's report (``spotify_charts.report.all_charts_text``)."""
    return all_charts_text(db, rows)


def write_environment(path: Path, environ: Mapping[str, str]) -> Path:
    """``export`` lines of ``environ`` (LocalStack's dummy credentials, no secret) in ``path``."""
    lines = [f"# The local pipeline of {time.strftime('%Y-%m-%d %H:%M')} (pid {os.getpid()}); valid while it runs."]
    lines += [f"export {name}={shlex.quote(value)}" for name, value in environ.items()]
    path.write_text("\n".join(lines) + "\n")
    return path
