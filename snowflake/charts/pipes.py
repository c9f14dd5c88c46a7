"""The pipes, streams and merge task of ``migrations/snowflake_only/``, for local use.

A real Snowflake runs those files as they are. The local engine cannot create pipes,
streams or tasks, so the local Snowpipe runner reads their SQL from the same files and
runs the parts it can:

* a pipe's ``COPY INTO`` statement, with its stage location pointed at the local
  copy of the notified file (``FILES = (...)``: Snowpipe also loads exactly the
  notified file). Its ``PATTERN`` is applied by the runner to the key, because the
  local engine does not support ``PATTERN``;
* the task's ``MERGE`` statements, with every stream replaced by the landing table it
  is on. The loader then empties those landing tables, which is what consuming a
  stream does (its offset moves past the merged rows).

The statement text stays single-sourced: the runner only swaps names.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from snowflake.charts.migrations import Migration, discover, placeholders, split_sql

# Placeholders of the snowflake_only files that do not change the statements used
# locally (warehouse, schedule, ...): filled with inert values when reading them.
_INERT = "LOCAL"

_PIPE = re.compile(
    r"^CREATE\s+(?:OR\s+REPLACE\s+)?PIPE\s+(?:IF\s+NOT\s+EXISTS\s+)?(?P<name>[\w$.]+)"
    r"(?P<options>.*?)\bAS\s+(?P<copy>COPY\s+INTO\b.*)$",
    re.IGNORECASE | re.DOTALL,
)
_COPY_SOURCE = re.compile(
    r"COPY\s+INTO\s+(?P<table>[\w$.]+)\s+FROM\s+(?P<location>@(?P<stage>[\w$.]+)/(?P<path>[^\s']*))",
    re.IGNORECASE,
)
_PATTERN = re.compile(r"\s+PATTERN\s*=\s*'(?P<pattern>(?:[^']|'')*)'", re.IGNORECASE)
_STREAM = re.compile(
    r"^CREATE\s+(?:OR\s+REPLACE\s+)?STREAM\s+(?:IF\s+NOT\s+EXISTS\s+)?(?P<name>[\w$.]+)"
    r"\s+ON\s+TABLE\s+(?P<table>[\w$.]+)",
    re.IGNORECASE,
)
_DROP = re.compile(r"^DROP\s+(?P<kind>PIPE|STREAM)\s+(?:IF\s+EXISTS\s+)?(?P<name>[\w$.]+)\s*$", re.IGNORECASE)
_TASK = re.compile(
    r"^CREATE\s+(?:OR\s+REPLACE\s+)?TASK\s+(?:IF\s+NOT\s+EXISTS\s+)?(?P<name>[\w$.]+)"
    r".*?\bAS\s+EXECUTE\s+IMMEDIATE\s+\$\$\s*BEGIN\b(?P<body>.*)\bEND\s*;?\s*\$\$\s*$",
    re.IGNORECASE | re.DOTALL,
)


class PipeDefinitionError(ValueError):
    """A snowflake_only file does not have the shape the local runner relies on."""


@dataclass(frozen=True)
class Pipe:
    name: str
    table: str  # the landing table it copies into
    stage: str  # the stage it reads, e.g. curated_stage
    path: str  # the sub-path of the stage it loads, e.g. "chart_entries/"
    pattern: str | None  # PATTERN regex, matched against the file's path
    copy_sql: str  # the COPY statement exactly as the pipe runs it

    @property
    def dataset(self) -> str:
        return self.path.strip("/").split("/")[-1]

    def accepts(self, file_path: str) -> bool:
        """Whether the pipe would load this file (its path below the stage)."""
        return file_path.startswith(self.path) and (
            self.pattern is None or re.fullmatch(self.pattern, file_path) is not None
        )

    def local_copy_sql(self, local_stage: str, directory: str, file_name: str) -> str:
        """The pipe's COPY statement loading one file from ``@local_stage/directory/``."""
        if "'" in file_name or "'" in directory:
            raise PipeDefinitionError(f"refusing a file name with a quote: {directory}/{file_name}")
        source = _COPY_SOURCE.search(self.copy_sql)
        location = f"@{local_stage}/{directory.strip('/')}/ FILES = ('{file_name}')"
        sql = self.copy_sql[: source.start("location")] + location + self.copy_sql[source.end("location"):]
        return _PATTERN.sub("", sql)


@dataclass(frozen=True)
class MergeTask:
    name: str
    merges: tuple[str, ...]  # the MERGE statements of the task's body, in order
    streams: dict[str, str]  # stream name -> table it is on

    def local_merges(self) -> list[str]:
        """The MERGE statements with every stream replaced by its table."""
        return [_replace_names(sql, self.streams) for sql in self.merges]

    @property
    def consumed_tables(self) -> list[str]:
        """The landing tables whose streams the merges read."""
        used = "\n".join(self.merges).lower()
        return [table for stream, table in self.streams.items() if re.search(rf"\b{re.escape(stream.lower())}\b", used)]


def _replace_names(sql: str, names: dict[str, str]) -> str:
    for old, new in names.items():
        sql = re.sub(rf"\b{re.escape(old)}\b", new, sql, flags=re.IGNORECASE)
    return sql


def _statements(migrations: list[Migration]) -> list[str]:
    statements = []
    for migration in migrations:
        if migration.snowflake_only:
            variables = {name: _INERT for name in placeholders(migration.text)}
            statements.extend(migration.statements(variables))
    return statements


def _created_kind(statement: str) -> str | None:
    """PIPE for ``CREATE [OR REPLACE] PIPE ...`` and so on; None for other statements."""
    match = re.match(r"CREATE\s+(?:OR\s+REPLACE\s+)?(\w+)", statement, re.IGNORECASE)
    return match[1].upper() if match else None


def parse_pipe(statement: str) -> Pipe:
    match = _PIPE.match(statement)
    if not match:
        raise PipeDefinitionError(f"not a CREATE PIPE ... AS COPY INTO statement: {statement[:80]!r}")
    if not re.search(r"AUTO_INGEST\s*=\s*TRUE", match["options"], re.IGNORECASE):
        raise PipeDefinitionError(f"pipe {match['name']} is not AUTO_INGEST = TRUE")
    copy_sql = match["copy"].strip()
    source = _COPY_SOURCE.search(copy_sql)
    if not source:
        raise PipeDefinitionError(f"pipe {match['name']}: COPY does not read FROM @stage/path/")
    pattern = _PATTERN.search(copy_sql)
    return Pipe(
        name=match["name"],
        table=source["table"],
        stage=source["stage"],
        path=source["path"] if source["path"].endswith("/") else source["path"] + "/",
        pattern=pattern["pattern"].replace("''", "'") if pattern else None,
        copy_sql=copy_sql,
    )


def parse_stream(statement: str) -> tuple[str, str]:
    match = _STREAM.match(statement)
    if not match:
        raise PipeDefinitionError(f"not a CREATE STREAM ... ON TABLE statement: {statement[:80]!r}")
    return match["name"], match["table"]


def parse_task(statement: str, streams: dict[str, str]) -> MergeTask:
    match = _TASK.match(statement)
    if not match:
        raise PipeDefinitionError(
            f"not a CREATE TASK ... AS EXECUTE IMMEDIATE $$ BEGIN ... END; $$ statement: {statement[:80]!r}"
        )
    merges = tuple(split_sql(match["body"]))
    others = [m for m in merges if not re.match(r"MERGE\s+INTO\b", m, re.IGNORECASE)]
    if others:
        raise PipeDefinitionError(f"task {match['name']} runs statements other than MERGE: {others[0][:60]!r}")
    return MergeTask(name=match["name"], merges=merges, streams=streams)


@dataclass(frozen=True)
class IngestDefinitions:
    pipes: tuple[Pipe, ...]
    task: MergeTask

    def match(self, key: str) -> tuple[Pipe, str] | None:
        """The pipe that loads the object ``key`` and the file's path below the stage.

        The stage's S3 prefix is configured on Snowflake only, so here a key belongs to a
        pipe when the pipe's path (``chart_entries/``) starts the key or follows a ``/``
        in it (the rightmost such place), and the rest passes the pipe's PATTERN.
        """
        for pipe in sorted(self.pipes, key=lambda p: -len(p.path)):
            if key.startswith(pipe.path):
                file_path = key
            elif (at := key.rfind("/" + pipe.path)) >= 0:
                file_path = key[at + 1:]
            else:
                continue
            if pipe.accepts(file_path):
                return pipe, file_path
        return None


def _dropped(statement: str) -> tuple[str, str] | None:
    """(kind, name) for ``DROP PIPE|STREAM [IF EXISTS] name``; None for other statements."""
    match = _DROP.match(statement)
    return (match["kind"].upper(), match["name"].lower()) if match else None


@lru_cache(maxsize=1)
def load_definitions() -> IngestDefinitions:
    """Pipes and the merge task as the snowflake_only migration files leave them, in
    history order: a later CREATE OR REPLACE replaces, a DROP removes."""
    pipes: dict[str, Pipe] = {}
    streams: dict[str, str] = {}
    tasks = []
    for statement in _statements(discover()):
        kind = _created_kind(statement)
        if kind == "PIPE":
            pipe = parse_pipe(statement)
            pipes[pipe.name.lower()] = pipe
        elif kind == "STREAM":
            name, table = parse_stream(statement)
            streams[name.lower()] = table
        elif kind == "TASK":
            tasks.append(statement)
        elif dropped := _dropped(statement):
            (pipes if dropped[0] == "PIPE" else streams).pop(dropped[1], None)
    if len(tasks) != 1:
        raise PipeDefinitionError(f"expected one merge task in snowflake_only/, found {len(tasks)}")
    if not pipes:
        raise PipeDefinitionError("no pipes in snowflake_only/")
    return IngestDefinitions(pipes=tuple(pipes.values()), task=parse_task(tasks[0], streams))
