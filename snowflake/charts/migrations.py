"""The versioned SQL files under ``snowflake/migrations/`` and what is in them.

File names follow schemachange: ``V<version>__<description>.sql`` runs once, in
version order; ``R__<description>.sql`` (repeatable) runs after them whenever its
text changes. Files under ``snowflake_only/`` hold what only a real Snowflake can
run (storage integration, pipes, streams, tasks); the local engine skips them, and
the local Snowpipe runner reads its COPY and MERGE statements from them instead.

Placeholders ``{{ name }}`` are filled from variables at run time, by where they stand:
in SQL code a value must be a Snowflake identifier (``CHARTS_WH``, or ``"a quoted name"``);
inside a string literal (``'{{ name }}'``) it is escaped; in a comment it may not end
the comment. A value that does not fit is refused (:class:`MigrationVariableError`), so
no ``--var`` or environment value can change what a statement does.
"""
from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from snowflake.connector.util_text import split_statements

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
SNOWFLAKE_ONLY_DIR = "snowflake_only"

_NAME = re.compile(r"^(?:V(?P<version>\d+(?:[._]\d+)*)|(?P<repeatable>R))__(?P<description>\w+)\.sql$")
_PLACEHOLDER = re.compile(r"\{\{\s*(\w+)\s*\}\}")


class MigrationFileError(ValueError):
    """A migration file is misnamed, duplicated or uses an unknown placeholder."""


class MigrationVariableError(ValueError):
    """A variable's value cannot stand where its placeholder does."""


# Snowflake's unquoted identifiers, and double-quoted ones ("" for a quote inside); 255 characters.
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_$]{0,254}")
_QUOTED_IDENTIFIER = re.compile(r'"(?:[^"]|""){1,255}"')
CODE, STRING, COMMENT = "code", "string literal", "comment"


@dataclass(frozen=True)
class Migration:
    path: Path
    script: str  # path relative to the migrations folder: the file's identity in the history
    version: tuple[int, ...] | None  # None for a repeatable (R__) file
    description: str
    snowflake_only: bool

    @property
    def version_text(self) -> str | None:
        return None if self.version is None else ".".join(map(str, self.version))

    @property
    def text(self) -> str:
        return self.path.read_text(encoding="utf-8")

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    def statements(self, variables: Mapping[str, str]) -> list[str]:
        return split_sql(render(self.text, variables))


def discover(root: Path = MIGRATIONS_DIR) -> list[Migration]:
    """Every migration file, versioned ones in version order, then repeatable ones by name."""
    found = []
    for path in sorted(root.rglob("*.sql")):
        match = _NAME.match(path.name)
        if not match:
            raise MigrationFileError(f"{path}: not a V<version>__<name>.sql or R__<name>.sql file name")
        version = match["version"]
        found.append(Migration(
            path=path,
            script=path.relative_to(root).as_posix(),
            version=tuple(int(p) for p in re.split(r"[._]", version)) if version else None,
            description=match["description"].replace("_", " "),
            snowflake_only=SNOWFLAKE_ONLY_DIR in path.relative_to(root).parts[:-1],
        ))
    versions = [m.version for m in found if m.version is not None]
    duplicates = {v for v in versions if versions.count(v) > 1}
    if duplicates:
        raise MigrationFileError(f"duplicate migration versions: {sorted(duplicates)}")
    versioned = sorted((m for m in found if m.version is not None), key=lambda m: m.version)
    repeatable = sorted((m for m in found if m.version is None), key=lambda m: m.path.name)
    return versioned + repeatable


def placeholders(text: str) -> set[str]:
    return set(_PLACEHOLDER.findall(text))


def render(text: str, variables: Mapping[str, str]) -> str:
    """Fill ``{{ name }}`` placeholders; a missing variable is an error, never blank, and a
    value that does not fit where its placeholder stands is refused (see the module)."""
    missing = sorted(placeholders(text) - set(variables))
    if missing:
        raise MigrationFileError(f"no value for {', '.join(missing)}: pass --var NAME=VALUE")
    regions = sql_regions(text)

    def fill(match: re.Match) -> str:
        region = next((r for r in regions if r.start <= match.start() < r.end), None)
        if region is None:
            where, in_dollar_block = CODE, _in_dollar_block(text, regions, match.start())
        else:
            where, in_dollar_block = region.kind, region.in_dollar_block
        return placed_value(match[1], str(variables[match[1]]), where, in_dollar_block)

    return _PLACEHOLDER.sub(fill, text)


def check_identifier(name: str, value: str) -> str:
    """``value`` if it is a Snowflake identifier, else MigrationVariableError."""
    if _IDENTIFIER.fullmatch(value) or _QUOTED_IDENTIFIER.fullmatch(value):
        return value
    raise MigrationVariableError(
        f"{name}={value!r} is not a Snowflake identifier: letters, digits, _ and $, starting with a letter "
        f"or _ (or a double-quoted name); check --var {name}=... or the environment variable that sets it")


def placed_value(name: str, value: str, where: str, in_dollar_block: bool = False) -> str:
    """The text that stands for ``{{ name }}`` at a place of kind ``where``."""
    if in_dollar_block and "$$" in value:
        raise MigrationVariableError(f"{name}={value!r} would end the $$ block it stands in")
    if where == CODE:
        return check_identifier(name, value)
    if where == STRING:  # Snowflake's escapes in '...': a backslash escapes, '' is a quote
        return value.replace("\\", "\\\\").replace("'", "''")
    if any(end in value for end in ("\n", "\r", "*/")):
        raise MigrationVariableError(f"{name}={value!r} would end the comment it stands in")
    return value


@dataclass(frozen=True)
class Region:
    """A string literal or a comment of a script (what lies between is code)."""

    start: int
    end: int
    kind: str  # STRING or COMMENT
    in_dollar_block: bool


def sql_regions(text: str) -> list[Region]:
    """Every string literal and comment of a script, in order. A ``$$`` block's body is read
    as SQL (it is, for EXECUTE IMMEDIATE); its regions say they are inside one."""
    regions, index, in_dollar = [], 0, False
    while index < len(text):
        if text.startswith("$$", index):
            in_dollar, index = not in_dollar, index + 2
            continue
        end, kind = _region_end(text, index)
        if kind is None:
            index += 1
            continue
        regions.append(Region(index, end, kind, in_dollar))
        index = end
    return regions


def _region_end(text: str, index: int) -> tuple[int, str | None]:
    """Where the string literal or comment starting at ``index`` ends (kind None: neither)."""
    if text.startswith("--", index) or text.startswith("//", index):
        end = text.find("\n", index)
        return (len(text) if end < 0 else end), COMMENT
    if text.startswith("/*", index):
        end = text.find("*/", index + 2)
        return (len(text) if end < 0 else end + 2), COMMENT
    if text[index] != "'":
        return index, None
    position = index + 1
    while position < len(text):
        if text[position] == "\\" or text.startswith("''", position):
            position += 2
        elif text[position] == "'":
            return position + 1, STRING
        else:
            position += 1
    return len(text), STRING


def _in_dollar_block(text: str, regions: list[Region], position: int) -> bool:
    """Whether code at ``position`` is inside a $$ block: an odd number of $$ before it in code."""
    marks = [m.start() for m in re.finditer(r"\$\$", text[:position])]
    return sum(1 for mark in marks if not any(r.start <= mark < r.end for r in regions)) % 2 == 1


def split_sql(text: str) -> list[str]:
    """The statements of a SQL script, as the Snowflake connector splits them
    (quotes and ``$$ ... $$`` blocks respected), without comment-only fragments."""
    statements = []
    for statement, _is_put_or_get in split_statements(io.StringIO(text), remove_comments=True):
        statement = statement.strip().rstrip(";").strip()
        if statement:
            statements.append(statement)
    return statements
