"""The chart-event truth itself (benchmarks/truth/chart_events.py), on hand-made export files:
a gap, a re-entry, the top 10, credited artists (climbs: tests/producer/test_chart_events.py)."""
from __future__ import annotations

from datetime import date

from benchmarks.truth.chart_events import Event, export_events

HEADER = "rank,uri,artist_names,track_name,source,peak_rank,previous_rank,days_on_chart,streams"
ALIAS = "regional-zz-daily"


def track(name: str) -> str:
    return (name * 22)[:22]


def write(folder, day: str, rows: list[tuple[str, str]]) -> None:
    """rows: (track letter, credited artists), by rank."""
    lines = [HEADER] + [f'{rank},spotify:track:{track(t)},"{artists}",Song {t},Label,1,-1,1,1000'
                        for rank, (t, artists) in enumerate(rows, start=1)]
    (folder / f"{ALIAS}-{day}.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_the_truth_s_events_on_hand_made_files(tmp_path):
    filler = [(f"{n}", "Others") for n in "abcdefghijkl"]  # 12 tracks below the top
    write(tmp_path, "2024-01-01", [("X", "Ann"), ("Y", "Bob, Cy")] + filler)
    write(tmp_path, "2024-01-02", [("Y", "Bob, Cy"), ("X", "Ann")] + filler[:11])  # l exits
    # 2024-01-03 missing: a gap. Then l comes back (a re-entry) above the rest, Z is new, X falls to 15.
    write(tmp_path, "2024-01-04", [("Y", "Bob, Cy"), ("l", "Others"), ("Z", "Dee")] + filler[:11] + [("X", "Ann")])
    day = date.fromisoformat
    events = [e for e in export_events(tmp_path, climb_places=5) if e.chart == ALIAS]
    assert Event(ALIAS, day("2024-01-02"), "NEW_NUMBER_ONE", track("Y"), 1, "Bob, Cy") in events
    assert Event(ALIAS, day("2024-01-02"), "EXIT", track("l"), 14, "Others") in events
    assert [e for e in events if e.chart_date == day("2024-01-01")] == []  # the first edition
    on_4th = {(e.event, e.track, e.position) for e in events if e.chart_date == day("2024-01-04")}
    assert ("RE_ENTRY", track("l"), 2) in on_4th and ("NEW_ENTRY", track("Z"), 3) in on_4th
    assert ("TOP_10_ENTRY", track("l"), 2) in on_4th and ("CLIMB", track("l"), 2) not in on_4th  # off, then on
    assert ("EXIT", track("X"), 2) not in on_4th  # still on the chart, at 15: a fall, no event
    assert ("TOP_10_ENTRY", track("j"), 12) not in on_4th
    assert not [e for e in events if e.event == "EXIT" and e.chart_date == day("2024-01-04")]
    assert {e.event for e in events} == {"NEW_NUMBER_ONE", "EXIT", "RE_ENTRY", "NEW_ENTRY", "TOP_10_ENTRY"}
