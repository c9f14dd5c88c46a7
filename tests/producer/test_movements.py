from producer.movements import compute_movements
from producer.state import ChartSlot


def chart(*keys):
    return [ChartSlot(i, k, f"name {k}", ["artist"]) for i, k in enumerate(keys, start=1) if k]


def test_new_entries_exits_climbs_falls_and_new_number_one():
    before = chart("a", "b", "c", "d", "e", "f", "g", "h")
    after = chart("h", "a", "b", "c", "x", "e", "f", "d")
    moves = compute_movements(before, after, threshold=3)
    assert [m.key for m in moves.new_entries] == ["x"]
    assert [(m.key, m.previous_position) for m in moves.exits] == [("g", 7)]
    assert [(m.key, m.previous_position, m.position, m.change) for m in moves.climbs] == [("h", 8, 1, 7)]
    assert [(m.key, m.change) for m in moves.falls] == [("d", -4)]
    assert moves.new_number_one.key == "h" and moves.new_number_one.previous_position == 8
    assert moves.counts() == {"new_entries": 1, "exits": 1, "climbs": 1, "falls": 1, "new_number_one": 1}


def test_small_moves_below_threshold_and_same_top_are_not_movements():
    before = chart("a", "b", "c", "d")
    after = chart("a", "c", "b", "d")
    moves = compute_movements(before, after, threshold=2)
    assert not moves.any


def test_a_track_listed_twice_counts_at_its_best_position():
    before = chart("a", "b", "c")
    after = chart("b", "a", "c", "b")
    moves = compute_movements(before, after, threshold=1)
    assert [(m.key, m.position) for m in moves.climbs] == [("b", 1)]
    assert not moves.new_entries and not moves.exits


def test_gaps_from_skipped_entries_keep_real_positions():
    before = chart("a", None, "b")  # position 2 was a null entry
    after = chart("b", None, "a")
    moves = compute_movements(before, after, threshold=2)
    assert [(m.key, m.previous_position, m.position) for m in moves.climbs] == [("b", 3, 1)]
    assert [(m.key, m.previous_position, m.position) for m in moves.falls] == [("a", 1, 3)]
