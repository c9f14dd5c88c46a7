"""Chart movements between two versions of a playlist, computed at poll time.

These feed metrics, one structured log event per poll and the live view, so
people and alarms see a chart move minutes after it does, long before the
daily batch.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Sequence

from producer.state import ChartSlot


@dataclass(frozen=True)
class Move:
    key: str
    name: str | None
    artists: list[str]
    position: int | None  # now; None for exits
    previous_position: int | None  # before; None for new entries

    @property
    def change(self) -> int | None:
        """Places gained (positive = climbed)."""
        if self.position is None or self.previous_position is None:
            return None
        return self.previous_position - self.position


@dataclass
class ChartMovements:
    new_entries: list[Move] = field(default_factory=list)
    exits: list[Move] = field(default_factory=list)
    climbs: list[Move] = field(default_factory=list)
    falls: list[Move] = field(default_factory=list)
    new_number_one: Move | None = None

    @property
    def any(self) -> bool:
        return bool(self.new_entries or self.exits or self.climbs or self.falls or self.new_number_one)

    def counts(self) -> dict[str, int]:
        return {
            "new_entries": len(self.new_entries),
            "exits": len(self.exits),
            "climbs": len(self.climbs),
            "falls": len(self.falls),
            "new_number_one": int(self.new_number_one is not None),
        }

    def to_dict(self) -> dict[str, Any]:
        def moves(items: list[Move]) -> list[dict[str, Any]]:
            return [{**asdict(m), "change": m.change} for m in items]

        return {
            "new_entries": moves(self.new_entries),
            "exits": moves(self.exits),
            "climbs": moves(self.climbs),
            "falls": moves(self.falls),
            "new_number_one": moves([self.new_number_one])[0] if self.new_number_one else None,
        }


def _first_positions(slots: Sequence[ChartSlot]) -> dict[str, ChartSlot]:
    """Each key's highest position (a track listed twice counts where it ranks best)."""
    best: dict[str, ChartSlot] = {}
    for slot in sorted(slots, key=lambda s: s.position):
        best.setdefault(slot.key, slot)
    return best


def compute_movements(previous: Sequence[ChartSlot], current: Sequence[ChartSlot], threshold: int) -> ChartMovements:
    """Movements from ``previous`` to ``current``; climbs/falls of at least ``threshold`` places."""
    before, now = _first_positions(previous), _first_positions(current)
    result = ChartMovements()
    for key, slot in now.items():
        old = before.get(key)
        move = Move(key, slot.name, slot.artists, slot.position, old.position if old else None)
        if old is None:
            result.new_entries.append(move)
        elif move.change >= threshold:
            result.climbs.append(move)
        elif -move.change >= threshold:
            result.falls.append(move)
    for key, slot in before.items():
        if key not in now:
            result.exits.append(Move(key, slot.name, slot.artists, None, slot.position))
    top_now = min(current, key=lambda s: s.position, default=None)
    top_before = min(previous, key=lambda s: s.position, default=None)
    if top_now and top_now.position == 1 and (top_before is None or top_before.key != top_now.key):
        old = before.get(top_now.key)
        result.new_number_one = Move(top_now.key, top_now.name, top_now.artists, 1, old.position if old else None)
    result.climbs.sort(key=lambda m: -m.change)
    result.falls.sort(key=lambda m: m.change)
    result.exits.sort(key=lambda m: m.previous_position)
    return result
