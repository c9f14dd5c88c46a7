"""Charts that flip at a time of day per playlist: the schedule, the clock put at an instant,
and the server serving yesterday's chart until today's flip."""
from datetime import date, datetime, timedelta, timezone

import pytest

from local_spotify import catalog
from local_spotify.control import LocalSpotifyControlError
from local_spotify.flips import (
    SPREAD,
    FlipMove,
    FlipSchedule,
    FlipScheduleError,
    clock_text,
    parse_clock,
    schedule_from_json,
)
from local_spotify.replay import ReplayError, SimulatedClock
from tests.local_spotify.test_replay import FakeTime

GLOBAL, US = catalog.MARKETS[0].playlist_id, catalog.MARKETS[1].playlist_id
NAMES = {"global": GLOBAL, "us": US, GLOBAL: GLOBAL, US: US}
DAYS = [date(2023, 6, 1) + timedelta(days=i) for i in range(400)]


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


def test_by_default_every_chart_goes_live_at_midnight():
    flips = FlipSchedule()
    assert {flips.flip_at(GLOBAL, day) for day in DAYS[:3]} == {at(f"{d}T00:00:00") for d in DAYS[:3]}
    assert flips.live_day(GLOBAL, at("2023-06-01T00:00:00")) == date(2023, 6, 1)
    assert flips.live_day(US, at("2023-06-01T23:59:59")) == date(2023, 6, 1)


def test_a_chart_serves_yesterday_until_its_flip():
    flips = FlipSchedule({GLOBAL: parse_clock("14:30")})
    assert flips.live_day(GLOBAL, at("2023-06-02T14:29:59")) == date(2023, 6, 1)
    assert flips.live_day(GLOBAL, at("2023-06-02T14:30:00")) == date(2023, 6, 2)
    assert flips.live_day(US, at("2023-06-02T00:00:00")) == date(2023, 6, 2)  # not listed: midnight


def test_spread_times_are_whole_minutes_fixed_by_the_seed():
    spread = FlipSchedule(SPREAD, seed=7)
    times = {p.playlist_id: spread.usual_seconds(p.playlist_id, DAYS[0]) for p in catalog.MARKETS}
    assert times == {p: FlipSchedule(SPREAD, seed=7).usual_seconds(p, DAYS[5]) for p in times}
    assert all(seconds % 60 == 0 and 0 <= seconds < 86_400 for seconds in times.values())
    assert len(set(times.values())) > 5  # charts flip at different hours
    other = FlipSchedule(SPREAD, seed=8)
    assert times != {p: other.usual_seconds(p, DAYS[0]) for p in times}


def test_jitter_stays_within_its_bounds_and_off_hour_days_come_at_their_rate():
    flips = FlipSchedule({GLOBAL: parse_clock("12:00")}, jitter_seconds=300, off_hour_rate=0.1, seed=3)
    usual = [d for d in DAYS if not flips.is_off_hour(GLOBAL, d)]
    off = [d for d in DAYS if flips.is_off_hour(GLOBAL, d)]
    assert all(abs(flips.offset(GLOBAL, d) - 12 * 3600) <= 300 for d in usual)
    assert len({flips.offset(GLOBAL, d) for d in usual}) > 100  # the jitter differs day to day
    assert 0.05 < len(off) / len(DAYS) < 0.15
    assert sum(abs(flips.offset(GLOBAL, d) - 12 * 3600) > 3600 for d in off) > len(off) / 2
    assert all(flips.flip_at(GLOBAL, d).date() == d and flips.offset(GLOBAL, d) % 1 == 0 for d in DAYS)
    again = FlipSchedule({GLOBAL: parse_clock("12:00")}, jitter_seconds=300, off_hour_rate=0.1, seed=3)
    assert [again.flip_at(GLOBAL, d) for d in DAYS] == [flips.flip_at(GLOBAL, d) for d in DAYS]


def test_a_flip_near_midnight_stays_on_its_day():
    flips = FlipSchedule({GLOBAL: parse_clock("23:58")}, jitter_seconds=600, seed=1)
    assert all(flips.flip_at(GLOBAL, d).date() == d for d in DAYS)
    assert max(flips.offset(GLOBAL, d) for d in DAYS) == 86_399


def test_a_chart_moves_its_hour_from_a_day_on():
    flips = FlipSchedule({GLOBAL: parse_clock("06:00")}, moves=(FlipMove(GLOBAL, date(2023, 6, 10), parse_clock("18:15")),))
    assert flips.flip_at(GLOBAL, date(2023, 6, 9)) == at("2023-06-09T06:00:00")
    assert flips.flip_at(GLOBAL, date(2023, 6, 10)) == at("2023-06-10T18:15:00")
    assert flips.live_day(GLOBAL, at("2023-06-10T12:00:00")) == date(2023, 6, 9)


def test_flip_settings_from_json_name_playlists_by_market_and_refuse_bad_values():
    flips = schedule_from_json({"flip_times": {"us": "04:30"}, "flip_jitter_minutes": 2, "off_hour_rate": 0.05,
                                "flip_moves": [{"playlist": "us", "from": "2023-07-01", "at": "09:00:30"}]}, NAMES)
    assert flips.times == {US: 4 * 3600 + 1800} and flips.jitter_seconds == 120 and flips.off_hour_rate == 0.05
    assert flips.moves == (FlipMove(US, date(2023, 7, 1), 9 * 3600 + 30),)
    assert schedule_from_json({"flip_seed": 4}, NAMES, flips).times == flips.times  # the rest kept
    assert flips.to_json()["flip_times"] == {US: "04:30"} and clock_text(9 * 3600 + 30) == "09:00:30"
    for bad, message in (({"flip_times": {"nowhere": "04:00"}}, "unknown playlist"),
                         ({"flip_times": {"us": "25:00"}}, "HH:MM"), ({"flip_times": "hourly"}, "spread"),
                         ({"off_hour_rate": 2}, "off_hour_rate"), ({"flip_seed": "x"}, "flip_seed"),
                         ({"flip_moves": [{"playlist": "us"}]}, "flip move")):
        with pytest.raises(FlipScheduleError, match=message):
            schedule_from_json(bad, NAMES)


def test_the_clock_can_be_put_at_an_instant_and_runs_on_from_there():
    fake = FakeTime()
    clock = SimulatedClock(date(2023, 6, 1), 0, now=fake)
    assert clock.set_instant(at("2023-06-05T13:59:30")) == at("2023-06-05T13:59:30")
    fake.now += 45
    assert clock.now() == at("2023-06-05T14:00:15") and clock.today() == date(2023, 6, 5)
    fake.now += 86_400  # held on its day
    assert clock.now().date() == date(2023, 6, 5)
    clock.advance(1)
    assert clock.now() == at("2023-06-06T00:00:00")  # a day advanced to starts at midnight, as before
    with pytest.raises(ReplayError):
        clock.set_instant(datetime(2023, 6, 5, 12))  # no time zone
    with pytest.raises(ReplayError):
        clock.set_instant(at("2020-01-01T00:00:00"))


# --- over HTTP ----------------------------------------------------------------


def test_the_server_flips_each_chart_at_its_time(sp, control, server):
    control.configure(flip_times={"global": "14:30"}, flip_jitter_minutes=0)
    [flip] = control.flips("2023-06-02", "2023-06-02", playlist_id=GLOBAL)[GLOBAL]
    assert flip["at"] == "2023-06-02T14:30:00+00:00" and flip["changes"] and not flip["off_hour"]
    control.set_time("2023-06-02T14:29:59+00:00")
    yesterday = sp.playlist(GLOBAL, fields="snapshot_id")["snapshot_id"]
    us_today = sp.playlist(US, fields="snapshot_id")["snapshot_id"]  # other charts still flip at midnight
    [us_flip] = control.flips("2023-06-02", "2023-06-02", playlist_id=US)[US]
    assert us_today == us_flip["snapshot_id"]
    assert yesterday == control.flips("2023-06-01", "2023-06-01", playlist_id=GLOBAL)[GLOBAL][0]["snapshot_id"]
    assert control.now().date() == date(2023, 6, 2)
    control.set_time("2023-06-02T14:30:00+00:00")
    assert sp.playlist(GLOBAL, fields="snapshot_id")["snapshot_id"] == flip["snapshot_id"] != yesterday
    listed = {p["id"]: p for p in control.playlists()}[GLOBAL]
    assert listed["chart_day"] == "2023-06-02" and listed["flips_at"] == flip["at"]


def test_reset_brings_back_midnight_flips_and_bad_settings_are_refused(control):
    control.configure(flip_times=SPREAD, off_hour_rate=0.5)
    assert control.config()["flip_times"] == SPREAD
    control.reset()
    assert control.config()["flip_times"] == "midnight" and control.config()["off_hour_rate"] == 0
    with pytest.raises(LocalSpotifyControlError, match="unknown playlist"):
        control.configure(flip_times={"atlantis": "10:00"})
    with pytest.raises(LocalSpotifyControlError, match="time zone"):
        control.set_time("2023-06-02T14:30:00")


def test_the_command_line_takes_the_flip_settings():
    from local_spotify.__main__ import flip_settings, parse_args

    args = parse_args(["--flip-times", "global=06:00,us=14:30", "--flip-jitter-minutes", "3", "--off-hour-rate",
                       "0.02", "--flip-seed", "9"])
    assert flip_settings(args) == {"flip_times": {"global": "06:00", "us": "14:30"}, "flip_jitter_minutes": 3.0,
                                   "off_hour_rate": 0.02, "flip_seed": 9}
    assert flip_settings(parse_args([]))["flip_times"] == "midnight"
    assert parse_args(["--flip-times", SPREAD]).flip_times == SPREAD
    with pytest.raises(SystemExit):
        parse_args(["--flip-times", "global"])
