"""Plain-text output: aligned columns that stay aligned with Japanese and Korean titles
(wide characters take two terminal cells), and the chart's change markers."""
from __future__ import annotations

import unicodedata
from typing import Sequence

UP, DOWN, SAME = "▲", "▼", "="


def cell_width(text: str) -> int:
    """Terminal cells ``text`` takes (wide East Asian characters take two; combining marks none)."""
    width = 0
    for char in text:
        if unicodedata.combining(char):
            continue
        width += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return width


def fit(text: str, width: int, align: str = "<") -> str:
    """``text`` cut (with an ellipsis) or padded to exactly ``width`` cells."""
    text = " ".join(str(text).split())  # no tabs or newlines inside a cell
    if cell_width(text) > width:
        cut, used = [], 0
        for char in text:
            w = cell_width(char)
            if used + w > width - 1:
                break
            cut.append(char)
            used += w
        text = "".join(cut) + "…"
    pad = " " * (width - cell_width(text))
    return pad + text if align == ">" else text + pad


def table(headers: Sequence[str], rows: Sequence[Sequence[object]], widths: Sequence[int],
          align: Sequence[str], indent: str = "  ") -> list[str]:
    """Lines of an aligned table; ``None`` cells print empty."""
    def line(cells: Sequence[object]) -> str:
        return indent + "  ".join(fit("" if c is None else str(c), w, a)
                                  for c, w, a in zip(cells, widths, align)).rstrip()

    return [line(headers), *(line(row) for row in rows)]


def change_marker(status: str | None, change: int | None) -> str:
    """▲3 / ▼2 / = for tracks on the previous chart, NEW / RE-ENTRY otherwise."""
    if status in ("NEW", "RE-ENTRY"):
        return status
    if change is None:
        return ""
    if change > 0:
        return f"{UP}{change}"
    if change < 0:
        return f"{DOWN}{-change}"
    return SAME


def artists_text(artists: Sequence[str] | None) -> str:
    return ", ".join(artists or [])


# The producer's movement counts (PollResult.summary()["movements"]) in plain words.
_MOVEMENT_WORDS = (("new_entries", "new entry", "new entries"), ("exits", "exit", "exits"),
                   ("climbs", "climb", "climbs"), ("falls", "fall", "falls"))


def movements_text(counts: dict[str, int] | None) -> str:
    """``{'new_entries': 4, 'exits': 4, 'climbs': 2, 'falls': 0, 'new_number_one': 1}`` ->
    ``4 new entries, 4 exits, 2 climbs, a new number one``; ``no movements`` when nothing moved."""
    counts = counts or {}
    words = [f"{counts[key]} {one if counts[key] == 1 else many}"
             for key, one, many in _MOVEMENT_WORDS if counts.get(key)]
    if counts.get("new_number_one"):
        words.append("a new number one" if counts["new_number_one"] == 1
                     else f"{counts['new_number_one']} new number ones")
    return ", ".join(words) if words else "no movements"
