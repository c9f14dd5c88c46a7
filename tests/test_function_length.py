"""No function in product code over 60 lines (DEVELOPERS.md, "Style"): a newcomer reads
each one in a screen. A function's length runs from its ``def`` line to its last line,
docstring and comments included; nested functions and methods count on their own too."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
MAX_LINES = 60
# Product code, and the local tooling that stands in for the cloud.
CHECKED = ("producer", "firehose", "glue_streaming", "snowflake/charts", "infra", "spotify_charts", "localdev")


def long_functions(path: Path, limit: int = MAX_LINES) -> list[tuple[str, int, int]]:
    """(name, first line, length) of every function in ``path`` longer than ``limit`` lines."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    return [(node.name, node.lineno, node.end_lineno - node.lineno + 1) for node in ast.walk(tree)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and node.end_lineno - node.lineno + 1 > limit]


def test_the_measure_counts_from_def_to_last_line(tmp_path):
    body = "".join(f"    x{n} = {n}\n" for n in range(59))
    method_body = "".join(f"        x{n} = {n}\n" for n in range(59))
    source = tmp_path / "m.py"
    source.write_text(f"def fits():\n{body}\n\nclass C:\n    def method(self):\n{method_body}"
                      "        # a comment counts\n        return 1\n")
    assert long_functions(source) == [("method", 64, 62)]  # fits: 60 lines exactly


@pytest.mark.parametrize("package", CHECKED)
def test_no_function_in_product_code_is_over_60_lines(package):
    files = sorted((REPO / package).rglob("*.py"))
    assert files, f"no Python files under {package}/"
    found = [f"{path.relative_to(REPO)}:{line} {name} ({length} lines)"
             for path in files for name, line, length in long_functions(path)]
    assert found == [], f"functions over {MAX_LINES} lines: split them"
