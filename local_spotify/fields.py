"""Spotify's ``fields=`` response filter, over any JSON value.

Syntax, as Spotify documents it:

- comma-separated field names: ``snapshot_id,name``;
- a dot selects inside a non-repeating object: ``items(added_by.id)``;
- parentheses select inside objects (also inside every element of a list):
  ``items(added_at,item(id,name,artists(id,name))),next,total``;
- ``!`` excludes a field: ``item(album(!images))`` keeps all of ``album`` but ``images``.

A selection applies to a dict (keep the selected keys, in the value's own order),
to each element of a list, and leaves scalars and ``null`` unchanged. Selected
keys a value does not have are simply absent from the result.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class FieldsSyntaxError(ValueError):
    """A ``fields`` expression is malformed."""


@dataclass
class FieldSelection:
    """What to keep of one object: ``include`` maps a key to what to keep inside it
    (``None``: all of it); an empty ``include`` keeps every key not in ``exclude``."""

    include: dict[str, "FieldSelection | None"] = field(default_factory=dict)
    exclude: set[str] = field(default_factory=set)

    def add(self, name: str, inner: "FieldSelection | None") -> None:
        if name in self.include:
            self.include[name] = _merge(self.include[name], inner)
        else:
            self.include[name] = inner


def _merge(a: FieldSelection | None, b: FieldSelection | None) -> FieldSelection | None:
    if a is None or b is None:
        return None  # one of them keeps the whole value
    merged = FieldSelection(dict(a.include), a.exclude | b.exclude)
    for name, inner in b.include.items():
        merged.add(name, inner)
    return merged


def parse_fields(text: str) -> FieldSelection | None:
    """Parse a ``fields`` expression; ``None`` (keep everything) for an empty one."""
    if text is None or not text.strip():
        return None
    parser = _Parser(text)
    selection = parser.parse_list(closing=None)
    return selection


class _Parser:
    _SPECIAL = ",().!"

    def __init__(self, text: str):
        self.text = text
        self.pos = 0

    def _error(self, problem: str) -> FieldsSyntaxError:
        return FieldsSyntaxError(f"invalid fields {self.text!r}: {problem} at character {self.pos + 1}")

    def _peek(self) -> str | None:
        return self.text[self.pos] if self.pos < len(self.text) else None

    def parse_list(self, closing: str | None) -> FieldSelection:
        selection = FieldSelection()
        while True:
            self._parse_item(selection)
            char = self._peek()
            if char == ",":
                self.pos += 1
                continue
            if char == closing:
                if closing is not None:
                    self.pos += 1
                return selection
            raise self._error(f"unexpected {char!r}" if char else "missing ')'")

    def _parse_item(self, into: FieldSelection) -> None:
        excluded = self._peek() == "!"
        if excluded:
            self.pos += 1
        name = self._parse_name()
        char = self._peek()
        if excluded:
            if char in (".", "("):
                raise self._error("'!' excludes a whole field; it takes no sub-selection")
            into.exclude.add(name)
            return
        if char == ".":
            self.pos += 1
            inner = FieldSelection()
            self._parse_item(inner)
            into.add(name, inner)
        elif char == "(":
            self.pos += 1
            into.add(name, self.parse_list(closing=")"))
        else:
            into.add(name, None)

    def _parse_name(self) -> str:
        start = self.pos
        while self._peek() is not None and self._peek() not in self._SPECIAL:
            self.pos += 1
        name = self.text[start : self.pos].strip()
        if not name:
            raise self._error("expected a field name")
        return name


def filter_fields(value: Any, selection: FieldSelection | str | None) -> Any:
    """``value`` reduced to ``selection`` (a parsed selection or a ``fields`` expression)."""
    if isinstance(selection, str):
        selection = parse_fields(selection)
    if selection is None:
        return value
    if isinstance(value, list):
        return [filter_fields(element, selection) for element in value]
    if not isinstance(value, dict):
        return value
    kept = {}
    for key, inner_value in value.items():
        if key in selection.exclude:
            continue
        if selection.include:
            if key not in selection.include:
                continue
            kept[key] = filter_fields(inner_value, selection.include[key])
        else:
            kept[key] = inner_value
    return kept
