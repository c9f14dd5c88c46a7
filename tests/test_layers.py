"""Imports point one way, over the whole tree: every .py file's imports (an AST walk), and
no mention of the local tooling's modules in the code that must not import them.

Layers, lowest first. A package may import packages of lower layers only: never one of
its own layer (the deployed parts stay apart) nor of a higher one, so no two packages
can import each other.
"""
from __future__ import annotations

import ast
import os
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LAYERS: list[tuple[str, frozenset[str]]] = [
    ("the record contract", frozenset({"firehose"})),
    ("what deploys", frozenset({"producer", "glue_streaming", "snowflake", "infra"})),
    ("the monitoring command", frozenset({"spotify_charts"})),
    ("local stand-ins", frozenset({"local_spotify"})),
    ("dev tooling", frozenset({"localdev"})),
    ("benchmarks", frozenset({"benchmarks"})),
    ("tests", frozenset({"tests"})),
]
LAYER_OF = {package: number for number, (_, packages) in enumerate(LAYERS) for package in packages}
# Names distinctive enough to look for in any text of a file (comments and strings included):
# code below them must not even name them (no import by string, no `python -m` of them).
NAMED_ONLY_FROM_ABOVE = ("spotify_charts", "local_spotify", "localdev")
# Third-party packages whose names we share: snowflake.connector is the connector's, not ours.
NOT_OURS = ("snowflake.connector",)
SKIPPED_FOLDERS = {".venv", ".local", ".git", "build", "__pycache__", ".pytest_cache"}


def python_files(root: Path) -> list[Path]:
    found = []
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = [name for name in subfolders if name not in SKIPPED_FOLDERS]  # not into virtualenvs
        found += [Path(folder) / name for name in files if name.endswith(".py")]
    return sorted(found)


def imported_modules(path: Path, root: Path) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in the file, relative ones resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = list(path.relative_to(root).parent.parts)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                if node.module:
                    found.append((node.lineno, ".".join(base + [node.module])))
                else:  # from .. import name: name is a module of that package
                    found += [(node.lineno, ".".join(base + [alias.name])) for alias in node.names]
            else:
                found.append((node.lineno, node.module))
    return found


def violations(root: Path) -> list[str]:
    """Every import (or mention) that points the wrong way, as ``path:line: why``."""
    problems = []
    for path in python_files(root):
        relative = path.relative_to(root)
        importer = relative.parts[0] if len(relative.parts) > 1 else None
        if importer not in LAYER_OF:
            problems.append(f"{relative}: not in a package of a layer (tests/test_layers.py LAYERS)")
            continue
        for line, module in imported_modules(path, root):
            target = module.split(".")[0]
            if target == importer or target not in LAYER_OF or module.startswith(NOT_OURS):
                continue
            if LAYER_OF[target] >= LAYER_OF[importer]:
                problems.append(f"{relative}:{line}: {importer} ({LAYERS[LAYER_OF[importer]][0]}) imports {module} "
                                f"({LAYERS[LAYER_OF[target]][0]})")
        text = path.read_text(encoding="utf-8")
        for name in NAMED_ONLY_FROM_ABOVE:
            if LAYER_OF[name] <= LAYER_OF[importer]:
                continue
            for match in re.finditer(rf"\b{name}\b", text):
                line = text.count("\n", 0, match.start()) + 1
                problems.append(f"{relative}:{line}: {importer} names {name}, which it may not import")
    return problems


def test_imports_point_one_way_over_the_whole_tree():
    assert len(python_files(REPO)) > 150  # the walk really covers the tree
    assert violations(REPO) == []


def test_every_package_with_python_files_is_in_a_layer():
    tops = {p.relative_to(REPO).parts[0] for p in python_files(REPO) if len(p.relative_to(REPO).parts) > 1}
    assert tops == set(LAYER_OF)


@pytest.mark.parametrize("importer, source, why", [
    ("snowflake/charts/bad.py", "from localdev.local_snowflake import engine\n", "imports localdev"),
    ("glue_streaming/bad.py", "import firehose.contract\nimport producer.state\n", "imports producer.state"),
    ("spotify_charts/bad.py", "import importlib\nimportlib.import_module('localdev.pipeline.cli')\n",
     "names localdev"),
    ("producer/bad.py", "# the local server: see local_spotify/README.md\n", "names local_spotify"),
    ("localdev/sub/bad.py", "from ..commands import RUN\nfrom ... import tests\n", "imports tests"),
    ("stray/bad.py", "x = 1\n", "not in a package of a layer"),
])
def test_the_check_finds_each_kind_of_wrong_way(tmp_path, importer, source, why):
    (tmp_path / importer).parent.mkdir(parents=True)
    (tmp_path / importer).write_text(source)
    assert [p for p in violations(tmp_path) if why in p], violations(tmp_path)


def test_allowed_imports_pass_the_check(tmp_path):
    for importer, source in {"localdev/ok.py": "from spotify_charts import cli\nimport local_spotify\n",
                             "spotify_charts/ok.py": "import snowflake.charts\nfrom producer import handler\n",
                             "snowflake/charts/ok.py": "import snowflake.connector\nfrom .pipes import x\n"}.items():
        (tmp_path / importer).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / importer).write_text(source)
    assert violations(tmp_path) == []
