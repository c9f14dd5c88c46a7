"""The versioned SQL files under ``snowflake/migrations/`` and what is in them.

File names follow schemachange: ``V<version>__<description>.sql`` runs once, in
version order; ``R__<description>.sql`` (repeatable) runs after them whenever its
text changes. Files under ``snowflake_only/`` hold what only a real Snowflake can
run (storage integration, pipes, streams, tasks); the local engine skips them, and
the local Snowpipe runner reads its COPY and MERGE statements from them instead.

Placeholders ``{{ name }}`` are filled from variables at run time.
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
    """Fill ``{{ name }}`` placeholders; a missing variable is an error, never blank."""
    missing = sorted(placeholders(text) - set(variables))
    if missing:
        raise MigrationFileError(f"no value for {', '.join(missing)}: pass --var NAME=VALUE")
    return _PLACEHOLDER.sub(lambda m: str(variables[m[1]]), text)


def split_sql(text: str) -> list[str]:
    """The statements of a SQL script, as the Snowflake connector splits them
    (quotes and ``$$ ... $$`` blocks respected), without comment-only fragments."""
    statements = []
    for statement, _is_put_or_get in split_statements(io.StringIO(text), remove_comments=True):
        statement = statement.strip().rstrip(";").strip()
        if statement:
            statements.append(statement)
    return statements
