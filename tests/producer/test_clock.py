"""Dating a chart read by the Date header of Spotify's answer (producer.spotify.ResponseClock)."""
from __future__ import annotations

import threading
from datetime import datetime, timezone

import requests

from producer.spotify import ResponseClock, parse_http_date


def response_with(date_header: str | None) -> requests.Response:
    response = requests.Response()
    if date_header is not None:
        response.headers["Date"] = date_header
    return response


def test_http_dates_parse_to_utc_and_bad_ones_to_none():
    assert parse_http_date("Tue, 12 Mar 2024 00:00:04 GMT") == datetime(2024, 3, 12, 0, 0, 4,
                                                                       tzinfo=timezone.utc).timestamp()
    for bad in (None, "", "yesterday", "Tue, 32 Mar 2024 00:00:04 GMT", "Tue, 12 Mar 2024 00:00:04"):
        assert parse_http_date(bad) is None, bad


def test_the_clock_gives_the_last_answer_of_this_thread_else_the_local_clock():
    clock = ResponseClock(fallback=lambda: 42.0)
    clock.reset()
    assert clock.now() == 42.0  # nothing answered yet
    clock._record(response_with("Tue, 12 Mar 2024 00:00:04 GMT"))
    assert datetime.fromtimestamp(clock.now(), timezone.utc) == datetime(2024, 3, 12, 0, 0, 4, tzinfo=timezone.utc)
    clock._record(response_with("not a date"))
    assert clock.now() == 42.0  # unparseable: the local clock
    clock._record(response_with(None))
    assert clock.now() == 42.0
    clock._record(response_with("Wed, 13 Mar 2024 10:00:00 GMT"))
    clock.reset()
    assert clock.now() == 42.0  # reset forgets: an earlier answer never dates a later read


def test_threads_sharing_one_session_each_see_their_own_answers():
    clock = ResponseClock(fallback=lambda: 0.0)
    days = {n: f"{['Mon', 'Tue', 'Wed', 'Thu'][n]}, {11 + n:02d} Mar 2024 00:00:00 GMT" for n in range(4)}
    ready, seen = threading.Barrier(4), {}

    def work(n: int) -> None:
        clock.reset()
        clock._record(response_with(days[n]))
        ready.wait()  # every thread has recorded before any reads
        seen[n] = datetime.fromtimestamp(clock.now(), timezone.utc).day

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == {0: 11, 1: 12, 2: 13, 3: 14}


def test_the_clock_hooks_into_the_session_it_is_installed_on():
    session = requests.Session()
    clock = ResponseClock()
    clock.install(session)
    assert clock._record in session.hooks["response"]
