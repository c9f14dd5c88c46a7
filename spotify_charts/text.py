"""Plain-text output: aligned columns that stay aligned with Japanese and Korean titles
(wide characters take two terminal cells), the chart's change markers, and names made
safe to print: track and artist names come from Spotify, so from anyone who can name a
track, and a terminal acts on some characters instead of showing them."""
from __future__ import annotations

import json
import re
import unicodedata
from typing import Any, Sequence

UP, DOWN, SAME = "▲", "▼", "="

# ANSI escape sequences (colours, cursor moves, window titles, hyperlinks, ...), whole, so
# no "[31m" is left behind (ECMA-48): CSI (ESC [ or C1 CSI), OSC (ESC ] ... BEL or ESC \),
# other ESC sequences (ESC, intermediate bytes, a final byte).
_ESCAPE_SEQUENCE = re.compile(r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[ -/]*[0-~]")
# Characters a terminal acts on: C0 and C1 controls and DEL; and the Unicode bidi controls
# that reorder the text after them (embeddings, overrides, isolates: "Trojan Source").
_TERMINAL_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
# Of those, the ones that separate words: they become a space.
_SPACING_CONTROL = frozenset("\t\n\v\f\r\x1c\x1d\x1e\x1f\x85\u2028\u2029")
# What json.dumps(ensure_ascii=False) leaves raw (it escapes C0 itself).
_JSON_RAW_CONTROL = re.compile("[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def terminal_text(text: str) -> str:
    """``text`` without what a terminal would act on: escape sequences and control
    characters are dropped (line breaks and tabs become spaces)."""
    text = _ESCAPE_SEQUENCE.sub("", text)
    return _TERMINAL_CONTROL.sub(lambda m: " " if m.group() in _SPACING_CONTROL else "", text)


def terminal_json(value: Any, **options: Any) -> str:
    """JSON of ``value`` safe to print: the same data, with every control character
    escaped (``\\u202e``), not only the ones json escapes itself."""
    text = json.dumps(value, ensure_ascii=False, **options)
    return _JSON_RAW_CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


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
    text = " ".join(terminal_text(str(text)).split())  # no tabs or newlines inside a cell
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


def streams_text(streams: int | None) -> str:
    """1234567 -> '1,234,567' (exact, with thousands separators); '' when not known."""
    return "" if streams is None else f"{streams:,}"
