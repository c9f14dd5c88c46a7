"""Adaptive polling's decisions, as pure functions of a chart's history and the clock:
no history, the learned window, the safety read, lost state, a chart that moves its hour."""
from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime, timezone

from producer.config import Playlist
from producer.schedule import (
    FIRST_READ,
    LAST_FLIP,
    NO_HISTORY,
    NOT_DUE,
    RETRY,
    SAFETY,
    WINDOW,
    ChartHistory,
    Flip,
    ReadResult,
    ScheduleSettings,
    decide,
    histories_from_json,
    histories_to_json,
    learned_flip,
    reads_of,
    record,
    settings_from_json,
)

SETTINGS = ScheduleSettings(interval_seconds=900, window_seconds=180, safety_seconds=7200, history_days=28)
MINUTE, HOUR, DAY = 60.0, 3600.0, 86_400.0
DAY0 = datetime(2024, 3, 1, tzinfo=timezone.utc).timestamp()  # a midnight UTC


def at(day: int, hours: float) -> float:
    return DAY0 + day * DAY + hours * HOUR


def usual_history(hours: float = 14.0, days: int = 5, last_read: float | None = None) -> ChartHistory:
    """A chart that flipped at ``hours`` on days 0..days-1, each caught within a minute."""
    flips = tuple(Flip(at(d, hours) - 40, at(d, hours) + 20) for d in range(days))
    return ChartHistory(last_read=last_read or flips[-1].seen, snapshot_id=f"s{days}", seen_at=flips[-1].seen,
                        flips=flips)


def simulate(flip_at, days: int, settings: ScheduleSettings = SETTINGS, history: ChartHistory | None = None,
             first_day: int = 0):
    """Invocations every minute over ``days`` from ``first_day``; the chart shows snapshot N
    after its N-th flip (``flip_at(day)`` gives day's flip instant). Returns (reads, delays
    of the flips of these days in s, missed flips, the history at the end)."""
    history = history or ChartHistory()
    flips = [flip_at(d) for d in range(first_day + days)]
    reads, delays, missed, shown = 0, [], 0, None
    for minute in range(first_day * 1440, (first_day + days) * 1440):
        now = DAY0 + minute * MINUTE + 7  # EventBridge fires a few seconds into the minute
        if not decide(history, now, settings).read:
            continue
        reads += 1
        snapshot = sum(1 for f in flips if f <= now)
        if shown is not None and snapshot > shown:
            missed += snapshot - shown - 1  # flips that came and went between two reads
            delays.append(now - flips[snapshot - 1])
        shown = snapshot
        history = record(history, ReadResult("chart", now, f"s{snapshot}", True), settings)
    return reads, delays, missed, history


# -- no history ---------------------------------------------------------------------------

def test_a_chart_with_no_history_is_read_at_once_then_on_the_plain_interval():
    assert decide(ChartHistory(), at(0, 9), SETTINGS) == (True, FIRST_READ)
    read = ChartHistory(last_read=at(0, 9), snapshot_id="a", seen_at=at(0, 9))
    assert decide(read, at(0, 9) + 14 * MINUTE, SETTINGS) == (False, NO_HISTORY)
    assert decide(read, at(0, 9) + 14 * MINUTE + 45, SETTINGS) == (True, NO_HISTORY)  # EventBridge's seconds
    assert decide(read, at(0, 9) + 15 * MINUTE, SETTINGS).read


def test_flips_caught_only_by_safety_reads_or_older_than_the_history_teach_nothing():
    wide = ChartHistory(last_read=at(3, 9), snapshot_id="b", seen_at=at(3, 9),
                        flips=(Flip(at(3, 7), at(3, 9)),))  # two hours wide: its hour is unknown
    assert learned_flip(wide, at(3, 10), SETTINGS) is None
    assert decide(wide, at(3, 9) + 15 * MINUTE, SETTINGS) == (True, NO_HISTORY)
    old = usual_history()
    assert learned_flip(old, at(4, 15), SETTINGS) is not None
    assert learned_flip(old, at(4 + 29, 15), SETTINGS) is None  # 28 days of history
    assert decide(old, at(4, 14) + 15 * MINUTE, SETTINGS).read is False  # learned: not the plain interval


# -- the learned window -------------------------------------------------------------------

def test_the_window_opens_before_the_learned_flip_and_reads_every_invocation_until_it_is_seen():
    history = usual_history(14.0, last_read=at(5, 13.5))
    learned = learned_flip(history, at(5, 13.5), SETTINGS)
    assert abs(learned.seconds_of_day - 14 * HOUR + 10) < 1 and learned.flips == 5
    assert 3 * MINUTE < learned.margin < 5 * MINUTE  # the setting, plus how far the flips strayed
    assert decide(history, at(5, 14) - 6 * MINUTE, SETTINGS) == (False, NOT_DUE)
    for minute in (-3, -2, -1, 0, 1, 2):
        last = at(5, 14) + (minute - 1) * MINUTE
        assert decide(ChartHistory(**{**history.__dict__, "last_read": last}), at(5, 14) + minute * MINUTE,
                      SETTINGS) == (True, WINDOW)
    seen = record(history, ReadResult("c", at(5, 14) + 30, "s6", True), SETTINGS)
    assert seen.flips[-1] == Flip(history.seen_at, at(5, 14) + 30)
    assert decide(seen, at(5, 14) + 90, SETTINGS) == (False, NOT_DUE)  # today's flip is in


def test_a_steady_chart_is_caught_within_a_minute_at_a_fraction_of_the_fixed_reads():
    def flip_at(day):  # 14:00 give or take three minutes
        return at(day, 14) + ((day * 37) % 7 - 3) * MINUTE

    cold_reads, delays, missed, history = simulate(flip_at, 10)
    assert missed == 0 and len(delays) == 10
    assert max(delays[2:]) <= 60  # from the third day on, each flip within the minute
    assert statistics.median(delays) <= 60
    assert abs(learned_flip(history, at(10, 0), SETTINGS).seconds_of_day - 14 * HOUR) < 4 * MINUTE
    reads, delays, missed, history = simulate(flip_at, 10, history=history, first_day=10)
    assert missed == 0 and len(delays) == 10 and max(delays) <= 60
    assert reads / 10 < 96 / 4  # a fixed 15-minute schedule reads 96 times a day
    assert cold_reads > reads  # the first day, with no history, reads on the plain interval


def test_the_learned_time_wraps_around_midnight():
    flips = (Flip(at(0, 23.98), at(0, 23.99)), Flip(at(2, 0.01), at(2, 0.02)), Flip(at(2, 23.99), at(3, 0)))
    history = ChartHistory(last_read=at(3, 0), snapshot_id="x", seen_at=at(3, 0), flips=flips)
    learned = learned_flip(history, at(3, 1), SETTINGS)
    assert min(learned.seconds_of_day, DAY - learned.seconds_of_day) < 2 * MINUTE  # near midnight, not noon
    assert decide(history, at(4, 0) - 2 * MINUTE, SETTINGS) == (True, WINDOW)


# -- the safety read ----------------------------------------------------------------------

def test_outside_the_window_a_safety_read_comes_every_safety_interval():
    history = usual_history(14.0, last_read=at(5, 3))
    assert decide(history, at(5, 3) + 119 * MINUTE, SETTINGS) == (False, NOT_DUE)
    assert decide(history, at(5, 3) + 120 * MINUTE, SETTINGS) == (True, SAFETY)


def test_an_off_hour_flip_is_caught_by_a_safety_read_and_does_not_move_the_learned_time():
    def flip_at(day):
        return at(day, 3.25) if day == 8 else at(day, 14)

    reads, delays, missed, history = simulate(flip_at, 12)
    assert missed == 0 and len(delays) == 12
    assert 60 < delays[8] <= SETTINGS.safety_seconds  # off its hour: the safety read found it
    assert all(d <= 60 for i, d in enumerate(delays) if i not in (0, 1, 8))
    assert abs(learned_flip(history, at(12, 0), SETTINGS).seconds_of_day - 14 * HOUR) < 2 * MINUTE


def test_an_off_hour_flip_late_the_day_before_does_not_close_todays_window():
    usual = usual_history(14.0)
    late = Flip(at(5, 22), at(5, 23.5))  # day 5's chart came at 23:xx, caught by a safety read
    history = ChartHistory(**{**usual.__dict__, "flips": usual.flips + (late,), "last_read": at(6, 13)})
    assert decide(history, at(6, 14) - 2 * MINUTE, SETTINGS) == (True, WINDOW)
    early = Flip(at(6, 13) - 40, at(6, 13) + 20)  # day 6's chart came an hour early: the window has it
    history = ChartHistory(**{**usual.__dict__, "flips": usual.flips + (early,), "last_read": at(6, 13.9)})
    assert decide(history, at(6, 14) - 2 * MINUTE, SETTINGS) == (False, NOT_DUE)


def test_a_failed_read_is_retried_on_the_plain_interval_and_nothing_else_until_one_succeeds():
    answered = usual_history(last_read=at(5, 3))
    history = record(answered, ReadResult("c", at(5, 3) + 5 * MINUTE, None, False), SETTINGS)
    assert history.last_failed and history.failures == 1
    assert history.last_read == at(5, 3) and history.snapshot_id == "s5"  # no Spotify time: the anchor stays
    assert decide(history, at(5, 3) + 10 * MINUTE, SETTINGS) == (False, RETRY)
    assert decide(history, at(5, 3) + 15 * MINUTE, SETTINGS) == (True, RETRY)
    again = record(history, ReadResult("c", at(5, 3) + 15 * MINUTE, None, False), SETTINGS)
    assert decide(again, at(5, 3) + 29 * MINUTE, SETTINGS) == (False, RETRY)  # not every minute
    assert decide(again, at(5, 3) + 30 * MINUTE, SETTINGS) == (True, RETRY)
    in_window = record(usual_history(last_read=at(5, 13.9)), ReadResult("c", at(5, 13.95), None, False), SETTINGS)
    assert decide(in_window, at(5, 14), SETTINGS) == (False, RETRY)  # a failing chart is not read every minute
    delivered = record(again, ReadResult("c", at(5, 3.5), "s5", True), SETTINGS)
    assert not delivered.last_failed and delivered.failures == 0 and delivered.flips == history.flips


def test_records_firehose_refused_are_read_again_on_the_plain_interval():
    refused = record(usual_history(last_read=at(5, 3)), ReadResult("c", at(5, 9), "s6", False), SETTINGS)
    assert refused.last_read == at(5, 9) and refused.flips[-1] == Flip(at(4, 14) + 20, at(5, 9))  # it was seen
    assert decide(refused, at(5, 9) + 14 * MINUTE, SETTINGS) == (False, RETRY)
    assert decide(refused, at(5, 9) + 15 * MINUTE, SETTINGS) == (True, RETRY)


def test_a_chart_spotify_never_answered_is_tried_on_the_plain_interval_by_this_machines_clock():
    history = record(ChartHistory(), ReadResult("c", at(0, 9), None, False), SETTINGS)
    assert history.last_read is None and history.failed_at == at(0, 9)
    assert decide(history, at(0, 9) + MINUTE, SETTINGS) == (False, RETRY)
    assert decide(history, at(0, 9) + 15 * MINUTE, SETTINGS) == (True, FIRST_READ)


def test_a_replay_dated_in_the_past_reads_every_chart_at_every_poll_even_after_a_gap_day():
    """A replay serves old charts dated by its own clock, and jumps days between polls."""
    history, poll_clock = ChartHistory(), at(800, 12)  # this machine's clock: years after the replay
    for day, answered in ((0, True), (1, True), (2, False), (3, True)):  # day 2: the server's outage
        assert decide(history, poll_clock, SETTINGS).read, day
        read = ReadResult("c", at(day, 0) + 3, f"s{day}", True) if answered \
            else ReadResult("c", poll_clock, None, False)
        history = record(history, read, SETTINGS)
        poll_clock += 5  # the next poll, seconds later
    assert learned_flip(history, poll_clock, SETTINGS) is None  # day-wide brackets tell no hour


# -- lost state ---------------------------------------------------------------------------

def test_lost_or_damaged_state_starts_every_chart_afresh_on_the_plain_interval():
    assert histories_from_json(None) == {} and histories_from_json(["not", "a", "dict"]) == {}
    kept = histories_to_json({"good": usual_history(), "new": ChartHistory()}, SETTINGS)
    kept["charts"]["bad"] = {"flips": "garbage"}
    kept["charts"]["worse"] = {"last_read": "yesterday"}
    histories = histories_from_json(kept)
    assert set(histories) == {"good", "new"} and histories["good"] == usual_history()
    # A chart without history is read at once, so a change made while the state was lost is not missed.
    assert decide(histories.get("bad", ChartHistory()), at(5, 9), SETTINGS) == (True, FIRST_READ)


def test_after_a_cold_start_every_flip_is_still_caught_and_the_schedule_relearns():
    def flip_at(day):
        return at(day, 9.5)

    warm = simulate(flip_at, 10)[3]
    reads, delays, missed, history = simulate(flip_at, 6, history=ChartHistory(), first_day=10)  # state lost
    assert missed == 0 and len(delays) == 6 and max(delays) <= SETTINGS.interval_seconds
    assert max(delays[2:]) <= 60
    assert reads > simulate(flip_at, 6, history=warm, first_day=10)[0]  # relearning costs reads, not changes
    assert abs(learned_flip(history, at(16, 0), SETTINGS).seconds_of_day
               - learned_flip(warm, at(10, 0), SETTINGS).seconds_of_day) < 2 * MINUTE


def test_a_last_read_dated_in_the_future_counts_as_none():
    assert decide(ChartHistory(last_read=at(9, 0)), at(5, 0), SETTINGS) == (True, FIRST_READ)


# -- a chart that moves its hour ------------------------------------------------------------

def test_a_chart_that_moves_its_hour_is_caught_by_safety_then_followed_to_its_new_hour():
    def flip_at(day):
        return at(day, 6) if day < 8 else at(day, 17.5)

    reads, delays, missed, history = simulate(flip_at, 16)
    assert missed == 0 and len(delays) == 16
    assert delays[8] <= SETTINGS.safety_seconds  # the first flip at the new hour: a safety read
    assert delays[9] <= SETTINGS.interval_seconds  # the day after: its last flip's window
    assert all(d <= 60 for d in delays[10:])  # then within the minute
    assert abs(learned_flip(history, at(16, 0), SETTINGS).seconds_of_day - 17.5 * HOUR) < 2 * MINUTE
    # The old hour is no longer watched.
    assert decide(replace_read(history, at(16, 5.5)), at(16, 6), SETTINGS) == (False, NOT_DUE)


def test_the_day_after_a_moved_flip_its_hour_is_read_on_the_plain_interval_then_densely():
    moved = usual_history(6.0, days=6)
    moved = ChartHistory(**{**moved.__dict__, "flips": moved.flips + (Flip(at(6, 16.25), at(6, 18.25)),)})
    before = replace_read(moved, at(7, 16.5))
    assert decide(before, at(7, 16.5) + 10 * MINUTE, SETTINGS) == (False, NOT_DUE)
    assert decide(before, at(7, 16.5) + 15 * MINUTE, SETTINGS) == (True, LAST_FLIP)
    narrowed = ChartHistory(**{**moved.__dict__, "flips": moved.flips + (Flip(at(7, 17.25), at(7, 17.5)),)})
    assert decide(replace_read(narrowed, at(8, 17.35) - MINUTE), at(8, 17.35), SETTINGS) == (True, LAST_FLIP)


def replace_read(history: ChartHistory, last_read: float) -> ChartHistory:
    return ChartHistory(**{**history.__dict__, "last_read": last_read})


# -- recording ----------------------------------------------------------------------------

def test_reads_are_counted_per_utc_day_and_flips_bracketed_by_two_reads():
    history = record(ChartHistory(), ReadResult("c", at(0, 23.9), "a", True), SETTINGS)
    assert history.flips == () and (history.reads_day, history.reads_today) == ("2024-03-01", 1)
    history = record(history, ReadResult("c", at(0, 23.95), "a", True), SETTINGS)
    assert history.reads_today == 2
    history = record(history, ReadResult("c", at(1, 0.1), "b", True), SETTINGS)
    assert (history.reads_day, history.reads_today) == ("2024-03-02", 1)
    assert history.flips == (Flip(at(0, 23.95), at(1, 0.1)),)
    kept = histories_to_json({"c": history}, SETTINGS)
    assert histories_from_json(kept) == {"c": history} and settings_from_json(kept) == SETTINGS
    assert settings_from_json({"charts": {}}) == ScheduleSettings() == settings_from_json(None)


@dataclass
class Outcome:  # the fields of producer.poll.PlaylistOutcome the schedule reads
    playlist: Playlist
    status: str
    snapshot_id: str | None = None
    observed_at: str | None = None


def test_a_polls_outcomes_become_reads():
    chart = Playlist("p", "p")
    outcomes = [Outcome(chart, "changed", "s2", "2024-03-01T14:00:05+00:00"),
                Outcome(chart, "deferred"),  # never reached Spotify
                Outcome(chart, "failed"),  # Spotify failed
                Outcome(chart, "failed", "s3", "2024-03-01T14:01:05+00:00")]  # Firehose refused its records
    assert reads_of(outcomes, now=at(0, 15)) == [
        ReadResult("p", at(0, 14) + 5, "s2", True),
        ReadResult("p", at(0, 15), None, False),
        ReadResult("p", at(0, 14) + 65, "s3", False),
    ]
