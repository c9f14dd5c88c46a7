"""The dashboard pages' parameter checks and periods (spotify_charts/pages.py), without a server.
What the pages answer over real data: test_dashboard_pages.py."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from spotify_charts.errors import BadRequestError, NotFoundError
from spotify_charts.pages import MAX_PERIOD_DAYS, ChartPages, chart_param, check_period, period, track_param

EARLIEST, LATEST = date(2023, 6, 1), date(2024, 5, 31)


@pytest.mark.parametrize("value", ["2QM5gBm9Q8VZ7UamMIMLb1", "0" * 22])
def test_a_spotify_track_id_is_a_track(value):
    assert track_param(value) == value


@pytest.mark.parametrize("value", [None, "", "nope", "2QM5gBm9Q8VZ7UamMIMLb", "2QM5gBm9Q8VZ7UamMIMLb12",
                                   "2QM5gBm9Q8VZ7UamMIML-1", "2QM5gBm9Q8VZ7UamMIMLb1\n", "<script>alert(1)</script>",
                                   "track:Song|Artist"])
def test_anything_else_is_refused(value):
    with pytest.raises(BadRequestError):
        track_param(value)


def test_a_chart_is_a_name_of_bounded_length_without_control_characters():
    assert chart_param(None) is None and chart_param("regional-ar-daily") == "regional-ar-daily"
    assert chart_param("Top 50 – España") == "Top 50 – España"  # a user's label may be any text
    for bad in ("x" * 201, "global\x1b[2J", "global\n", "a\x9bb"):
        with pytest.raises(BadRequestError):
            chart_param(bad)


def test_without_dates_a_page_shows_the_last_year_of_the_data():
    assert period(None, None, EARLIEST, LATEST) == (LATEST - timedelta(days=MAX_PERIOD_DAYS - 1), LATEST)
    assert period(None, None, date(2024, 5, 1), LATEST) == (date(2024, 5, 1), LATEST)  # less data: all of it
    assert period(None, None, LATEST, LATEST) == (LATEST, LATEST)


def test_one_date_given_the_other_end_is_the_data_s_or_a_year_away():
    assert period(date(2024, 5, 10), None, EARLIEST, LATEST) == (date(2024, 5, 10), LATEST)
    assert period(date(2022, 1, 1), None, EARLIEST, LATEST) == (date(2022, 1, 1), date(2023, 1, 1))
    assert period(None, date(2023, 6, 10), EARLIEST, LATEST) == (EARLIEST, date(2023, 6, 10))
    assert period(None, date(2026, 1, 1), EARLIEST, LATEST) == (date(2025, 1, 1), date(2026, 1, 1))
    assert period(date(2025, 1, 1), None, EARLIEST, LATEST) == (date(2025, 1, 1), date(2025, 1, 1))  # after the data


def test_a_period_given_wrongly_is_refused():
    assert check_period(date(2023, 5, 2), date(2024, 5, 1)) == (date(2023, 5, 2), date(2024, 5, 1))  # 366 days
    for first, last in ((date(2023, 5, 1), date(2024, 5, 1)), (date(2024, 5, 2), date(2024, 5, 1))):
        with pytest.raises(BadRequestError):
            check_period(first, last)
        with pytest.raises(BadRequestError):
            period(first, last, EARLIEST, LATEST)


class NoSnowflake:
    enabled = False

    def run(self, read):  # pragma: no cover - must not be reached
        raise AssertionError("read without Snowflake")


def test_without_snowflake_the_pages_say_so_after_checking_their_parameters():
    pages = ChartPages(NoSnowflake())
    with pytest.raises(BadRequestError):
        pages.track_grid("nope", None, None)  # a bad parameter is a 400 whatever the source
    for call in (lambda: pages.track_grid("0" * 22, None, None), lambda: pages.records(None),
                 lambda: pages.number_ones("global", None, None)):
        with pytest.raises(NotFoundError, match="configure Snowflake"):
            call()
