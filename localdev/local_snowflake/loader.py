"""Load curated Parquet files into the local engine the way Snowflake would.

A file below the local stage folder is copied by the pipe whose path it is under,
with that pipe's own COPY statement; :meth:`CuratedLoader.merge` then runs the merge
task's statements: its MERGEs and the chart store's refresh (see
:mod:`snowflake.charts.pipes`). The Snowpipe runner, the tests and the benchmark all
load through here.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

from snowflake.charts.pipes import IngestDefinitions, Pipe, load_definitions

log = logging.getLogger("localdev.local_snowflake.loader")

LOCAL_STAGE = "curated_local_stage"
# What the Glue job writes; a path with other characters is refused rather than quoted.
_SAFE_PATH = re.compile(r"^[\w\-=.,/+]+$")


class LoadError(RuntimeError):
    """A file could not be loaded."""


@dataclass(frozen=True)
class CopyOutcome:
    path: str  # below the stage folder
    table: str
    loaded: bool  # False: the engine had loaded this file before and skipped it
    rows: int


class CuratedLoader:
    """COPY files from a local stage folder, then MERGE, over one connection."""

    def __init__(self, conn, stage_dir: Path | str, definitions: IngestDefinitions | None = None):
        self.conn = conn
        self.stage_dir = Path(stage_dir).resolve()
        self.definitions = definitions or load_definitions()
        self._stage_created = False

    def _ensure_stage(self) -> None:
        if not self._stage_created:
            self.stage_dir.mkdir(parents=True, exist_ok=True)
            self.conn.cursor().execute(f"CREATE OR REPLACE STAGE {LOCAL_STAGE} URL = '{self.stage_dir.as_uri()}/'")
            self._stage_created = True

    def pipe_for(self, path: str) -> Pipe | None:
        match = self.definitions.match(path)
        return match[0] if match else None

    def copy(self, path: str) -> CopyOutcome:
        """Run the matching pipe's COPY on ``stage_dir/path`` (a path like ``<bucket>/<key>``)."""
        pipe = self.pipe_for(path)
        if pipe is None:
            raise LoadError(f"{path}: no pipe loads this path")
        if not _SAFE_PATH.match(path):
            raise LoadError(f"{path}: unexpected characters in the path")
        if not (self.stage_dir / path).is_file():
            raise LoadError(f"{path}: not in the stage folder {self.stage_dir}")
        self._ensure_stage()
        directory, _, file_name = path.rpartition("/")
        cursor = self.conn.cursor()
        cursor.execute(pipe.local_copy_sql(LOCAL_STAGE, directory, file_name))
        results = cursor.fetchall()  # file, status, rows_parsed, rows_loaded, ...
        statuses = {row[1] for row in results}
        if len(results) != 1 or not statuses <= {"LOADED", "LOAD_SKIPPED"}:
            raise LoadError(f"{path}: COPY into {pipe.table} returned {results}")
        outcome = CopyOutcome(path, pipe.table, loaded="LOADED" in statuses, rows=int(results[0][3] or 0))
        log.info("%s %s into %s: %d rows", "loaded" if outcome.loaded else "already loaded, skipped",
                 path, pipe.table, outcome.rows)
        return outcome

    def loaded_paths(self) -> set[str]:
        """The paths below the stage folder (``<bucket>/<key>``) the engine's load history
        holds as loaded, what Snowflake's COPY_HISTORY says of a pipe's files."""
        cursor = self.conn.cursor()
        cursor.execute("SELECT file_name FROM information_schema.load_history WHERE status = 'LOADED'")
        root = self.stage_dir.as_uri() + "/"
        return {name[len(root):] for (name,) in cursor.fetchall() if name.startswith(root)}

    def merge(self) -> None:
        """The task's statements (its refresh requests, its merges, the chart store's
        refresh), then empty the landing tables they read (what consuming a stream does).
        Run by one loader at a time: the local engine cannot MERGE inside an explicit
        transaction, so a COPY from elsewhere between the MERGE and the DELETE would be
        emptied unmerged. A crash between them is harmless: the rows are merged again
        next time, merging is idempotent, and a refresh request left over only makes the
        next refresh start earlier."""
        cursor = self.conn.cursor()
        for sql in self.definitions.task.local_statements():
            cursor.execute(sql)
        for table in self.definitions.task.consumed_tables:
            cursor.execute(f"DELETE FROM {table}")
