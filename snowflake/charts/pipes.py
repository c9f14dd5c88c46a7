"""The pipes, streams and merge task of ``migrations/snowflake_only/``, for local use.

A real Snowflake runs those files as they are. The local engine cannot create pipes,
streams or tasks, so the local Snowpipe runner reads their SQL from the same files and
runs the parts it can:

* a pipe's ``COPY INTO`` statement, with its stage location pointed at the local
  copy of the notified file (``FILES = (...)``: Snowpipe also loads exactly the
  notified file). Its ``PATTERN`` is applied by the runner to the key, because the
  local engine does not support ``PATTERN``;
* the task's statements (the chart store's refresh requests and the ``MERGE``
  statements), with every stream replaced by the landing table it is on, then the
  statements of each procedure the task CALLs (the chart store's refresh). Transaction
  control is left out: the local engine cannot MERGE inside a transaction. The loader
  then empties those landing tables, which is what consuming a stream does (its
  offset moves past the merged rows).

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
# The task that merges landed rows (other tasks, e.g. the load reconciliation, are Snowflake's alone).
MERGE_TASK = "merge_curated_task"

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


_PROCEDURE = re.compile(
    r"^CREATE\s+(?:OR\s+REPLACE\s+)?PROCEDURE\s+(?P<name>[\w$.]+)\s*\(\s*\)"
    r".*?\bAS\s+\$\$\s*BEGIN\b(?P<body>.*)\bEND\s*;?\s*\$\$\s*$",
    re.IGNORECASE | re.DOTALL,
)
_CALL = re.compile(r"^CALL\s+(?P<name>[\w$.]+)\s*\(\s*\)$", re.IGNORECASE)
# What a task or procedure body may run, locally as on Snowflake (the rest is refused).
_BODY_STATEMENT = re.compile(r"^(MERGE\s+INTO|INSERT\s+INTO|DELETE\s+FROM)\b", re.IGNORECASE)
# Transaction control and the procedure's result: Snowflake's, skipped locally.
_SNOWFLAKE_ONLY_STATEMENT = re.compile(r"^(BEGIN\s+TRANSACTION|COMMIT|RETURN)\b", re.IGNORECASE)


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
    statements: tuple[str, ...]  # what the task's body runs locally, in order, CALLs expanded
    streams: dict[str, str]  # stream name -> table it is on

    @property
    def merges(self) -> tuple[str, ...]:
        """The MERGE statements of the task's body, in order."""
        return tuple(s for s in self.statements if re.match(r"MERGE\s+INTO\b", s, re.IGNORECASE))

    def local_merges(self) -> list[str]:
        """The MERGE statements with every stream replaced by its table."""
        return [_replace_names(sql, self.streams) for sql in self.merges]

    def local_statements(self) -> list[str]:
        """Every statement the task runs, with every stream replaced by its table."""
        return [_replace_names(sql, self.streams) for sql in self.statements]

    @property
    def consumed_tables(self) -> list[str]:
        """The landing tables whose streams the task reads."""
        used = "\n".join(self.statements).lower()
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


def parse_procedure(statement: str) -> tuple[str, tuple[str, ...]]:
    """(name, the statements its body runs locally) of ``CREATE PROCEDURE name() ... AS $$ BEGIN ... END; $$``."""
    match = _PROCEDURE.match(statement)
    if not match:
        raise PipeDefinitionError(f"not a CREATE PROCEDURE name() ... AS $$ BEGIN ... END; $$: {statement[:80]!r}")
    return match["name"], _body_statements(match["name"], match["body"], {})


def parse_task(statement: str, streams: dict[str, str],
               procedures: dict[str, tuple[str, ...]] | None = None) -> MergeTask:
    """The task's body as the local runner runs it: each CALL of a procedure (in
    ``procedures``, by lower-case name) replaced by that procedure's statements."""
    match = _TASK.match(statement)
    if not match:
        raise PipeDefinitionError(
            f"not a CREATE TASK ... AS EXECUTE IMMEDIATE $$ BEGIN ... END; $$ statement: {statement[:80]!r}"
        )
    body = _body_statements(match["name"], match["body"], procedures or {})
    if not any(re.match(r"MERGE\s+INTO\b", s, re.IGNORECASE) for s in body):
        raise PipeDefinitionError(f"task {match['name']} runs no MERGE")
    return MergeTask(name=match["name"], statements=body, streams=streams)


def _body_statements(owner: str, body: str, procedures: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    """A scripting block's statements, what only Snowflake runs left out, CALLs expanded."""
    statements = []
    for statement in split_sql(body):
        if _SNOWFLAKE_ONLY_STATEMENT.match(statement):
            continue
        if call := _CALL.match(statement):
            if call["name"].lower() not in procedures:
                raise PipeDefinitionError(f"{owner} calls {call['name']}, which no snowflake_only file creates")
            statements.extend(procedures[call["name"].lower()])
        elif _BODY_STATEMENT.match(statement):
            statements.append(statement)
        else:
            raise PipeDefinitionError(f"{owner} runs a statement the local runner cannot: {statement[:60]!r}")
    return tuple(statements)


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
    procedures: dict[str, tuple[str, ...]] = {}
    tasks = []
    for statement in _statements(discover()):
        kind = _created_kind(statement)
        if kind == "PIPE":
            pipe = parse_pipe(statement)
            pipes[pipe.name.lower()] = pipe
        elif kind == "STREAM":
            name, table = parse_stream(statement)
            streams[name.lower()] = table
        elif kind == "PROCEDURE":
            name, body = parse_procedure(statement)
            procedures[name.lower()] = body
        elif kind == "TASK" and re.match(r"CREATE\s+(?:OR\s+REPLACE\s+)?TASK\s+" + MERGE_TASK + r"\b", statement,
                                         re.IGNORECASE):
            tasks.append(statement)
        elif dropped := _dropped(statement):
            (pipes if dropped[0] == "PIPE" else streams).pop(dropped[1], None)
    if len(tasks) != 1:
        raise PipeDefinitionError(f"expected one {MERGE_TASK} in snowflake_only/, found {len(tasks)}")
    if not pipes:
        raise PipeDefinitionError("no pipes in snowflake_only/")
    return IngestDefinitions(pipes=tuple(pipes.values()), task=parse_task(tasks[0], streams, procedures))
