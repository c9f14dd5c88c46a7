"""The chart-export parser and record builder against real files: the bundled month of
charts.spotify.com exports, files built from their real rows, and a real spotifycharts.com
file (tests/producer/chart_exports/README.md says where it comes from)."""
from __future__ import annotations

import csv
import io
from datetime import date, datetime, timezone

import pytest

from firehose import contract
from producer.chart_export import (CHARTS_LAYOUT, LEGACY_LAYOUT, MAX_MISSING_RANKS, ChartFileError, chart_records,
                                   parse_chart_file)
from tests.producer.chart_files import (AR_DAY, GLOBAL_DAY, GLOBAL_WEEK, LEGACY, CsvFile, bad_files,
                                        bundle_files, first_rows, real, viral_from, with_field, without_ranks)

IMPORTED_AT = datetime(2026, 11, 20, 22, 4, 1, 123000, tzinfo=timezone.utc)


def stdlib_rows(data: bytes) -> list[dict[str, str]]:
    """The file's rows as Python's csv module reads them: the oracle the parser is checked against."""
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_every_bundled_file_parses_with_every_row_as_the_csv_module_reads_it():
    files = bundle_files()
    assert len(files) == 65
    totals: dict[str, int] = {}
    for name, data in files.items():
        chart = parse_chart_file(name, data)
        alias, day = name[:-len("-YYYY-MM-DD.csv")], name[-len("YYYY-MM-DD.csv"):-len(".csv")]
        assert (chart.alias, chart.chart_date, chart.layout) == (alias, date.fromisoformat(day), CHARTS_LAYOUT)
        expected = stdlib_rows(data)
        assert len(chart.rows) == len(expected) == data.count(b"\n") - 1
        on_chart = "weeks_on_chart" if "weekly" in name else "days_on_chart"
        for row, oracle in zip(chart.rows, expected):
            assert row.rank == int(oracle["rank"]) and row.track_id == oracle["uri"].split(":")[2]
            assert (row.artist_names, row.track_name, row.label) == (oracle["artist_names"], oracle["track_name"],
                                                                     oracle["source"])
            assert row.peak_rank == int(oracle["peak_rank"]) and row.streams == int(oracle["streams"])
            assert row.previous_rank == (None if oracle["previous_rank"] == "-1" else int(oracle["previous_rank"]))
            assert getattr(row, on_chart) == int(oracle[on_chart])
        totals[alias] = totals.get(alias, 0) + len(chart.rows)
        assert chart.missing_ranks == []
    assert totals == {"regional-ar-daily": 31 * 200, "regional-global-daily": 31 * 200,
                      "regional-global-weekly": 3 * 200}


def test_weekly_files_have_weeks_on_chart_and_are_dated_by_a_thursday():
    for name in ("regional-global-weekly-2024-03-28.csv", "regional-global-weekly-2024-04-25.csv", GLOBAL_WEEK):
        chart = parse_chart_file(name, real(name))
        assert chart.chart_date.weekday() == 3 and chart.chart.period == "weekly"
        assert all(r.weeks_on_chart >= 1 and r.days_on_chart is None for r in chart.rows)
        assert chart.chart.title == "Top 200 Global, weekly (chart export)"
    first = parse_chart_file(GLOBAL_WEEK, real(GLOBAL_WEEK)).rows[0]
    assert first.weeks_on_chart == int(stdlib_rows(real(GLOBAL_WEEK))[0]["weeks_on_chart"])


def test_bom_crlf_and_doubled_quotes_of_a_real_file():
    data = real(GLOBAL_DAY)
    assert data.startswith(b"\xef\xbb\xbf") and data.count(b"\r\n") == 201  # as Spotify serves it
    chart = parse_chart_file(GLOBAL_DAY, data)
    barbie = next(r for r in chart.rows if r.rank == 75)
    assert barbie.track_name == 'What Was I Made For? [From The Motion Picture "Barbie"]'
    # An artist credit with commas stays one string.
    assert parse_chart_file(AR_DAY, real(AR_DAY)).rows[0].artist_names == \
        "Bhavi, Seven Kayne, Milo j, Tiago PZK, KHEA, Neo Pistea"


def test_the_snapshot_id_follows_the_content_not_the_bytes():
    data = real(GLOBAL_DAY)
    chart = parse_chart_file(GLOBAL_DAY, data)
    resaved = data[3:].replace(b"\r\n", b"\n")  # no BOM, LF: the same chart
    assert parse_chart_file(GLOBAL_DAY, resaved).snapshot_id == chart.snapshot_id
    assert parse_chart_file(GLOBAL_DAY, CsvFile.of(data).to_bytes()).snapshot_id == chart.snapshot_id  # requoted
    corrected = with_field(data, 120, "streams", "1")
    assert parse_chart_file(GLOBAL_DAY, corrected).snapshot_id != chart.snapshot_id
    other_day = parse_chart_file(GLOBAL_DAY.replace("05-01", "05-02"), data)
    assert other_day.snapshot_id != chart.snapshot_id  # the date is part of it


def test_a_viral_chart_has_no_streams_and_50_rows():
    """Built from a real file's rows (the bundle holds no viral chart): the streams column dropped."""
    chart = parse_chart_file("viral-ar-daily-2024-05-01.csv", viral_from(real(AR_DAY)))
    assert len(chart.rows) == 50 and all(r.streams is None for r in chart.rows)
    assert chart.alias == "viral-ar-daily" and chart.chart.title == "Viral 50 Argentina, daily (chart export)"
    records = chart_records(chart, IMPORTED_AT)
    assert [r["streams"] for r in records[:-1]] == [None] * 50 and records[-1]["entry_count"] == 50
    weekly = viral_from(real(GLOBAL_WEEK))
    assert parse_chart_file("viral-global-weekly-2024-05-30.csv", weekly).rows[0].weeks_on_chart >= 1


def test_a_small_market_has_fewer_rows():
    """A market with 37 entries (built from the first rows of a real file)."""
    chart = parse_chart_file("regional-is-daily-2024-05-01.csv", first_rows(real(AR_DAY), 37))
    assert [r.rank for r in chart.rows] == list(range(1, 38))
    assert chart.chart.title == "Top 200 Iceland, daily (chart export)"
    assert chart_records(chart, IMPORTED_AT)[-1]["entry_count"] == 37


def test_a_rank_spotify_skipped_is_accepted_and_reported():
    """Spotify's own files skip a rank now and then (Argentina 2024-03-09 has no rank 4, the weekly
    Global 2023-02-23 none at 110 and 167); none of the bundled month does, so rows are deleted here
    the same way."""
    chart = parse_chart_file(AR_DAY, without_ranks(real(AR_DAY), 4))
    assert chart.missing_ranks == [4] and len(chart.rows) == 199 and chart.rows[3].rank == 5
    assert [r["position"] for r in chart_records(chart, IMPORTED_AT)[:5]] == [1, 2, 3, 5, 6]
    most = range(10, 10 + MAX_MISSING_RANKS)
    assert parse_chart_file(AR_DAY, without_ranks(real(AR_DAY), *most)).missing_ranks == list(most)
    with pytest.raises(ChartFileError, match="ranks missing"):
        parse_chart_file(AR_DAY, without_ranks(real(AR_DAY), *range(10, 11 + MAX_MISSING_RANKS)))


def test_a_legacy_spotifycharts_file_parses():
    data = LEGACY.read_bytes()
    assert data.startswith(b',,,"Note that these figures') and b'\nPosition,"Track Name",Artist,Streams,URL\n' in data
    chart = parse_chart_file(LEGACY.name, data)
    assert chart.layout == LEGACY_LAYOUT and chart.alias == "regional-global-daily" and len(chart.rows) == 200
    first = chart.rows[0]
    assert (first.rank, first.track_name, first.artist_names, first.streams, first.track_id) == \
        (1, "Dance Monkey", "Tones And I", 6155025, "1rgnBhdG2JDFTbYkYRZAku")
    assert (first.label, first.peak_rank, first.previous_rank, first.days_on_chart) == (None, None, None, None)
    records = chart_records(chart, IMPORTED_AT)
    assert all(contract.validate(r) == [] for r in records) and records[46]["track_name"] == \
        "10,000 Hours (with Justin Bieber)"
    with pytest.raises(ChartFileError, match="spotifycharts.com file must be a regional daily chart"):
        parse_chart_file("regional-global-weekly-2020-01-02.csv", data)


def test_a_browser_duplicate_download_name_is_the_same_chart():
    chart = parse_chart_file("regional-ar-daily-2024-05-01 (1).csv", real(AR_DAY))
    assert chart.alias == "regional-ar-daily" and chart.snapshot_id == parse_chart_file(AR_DAY, real(AR_DAY)).snapshot_id


@pytest.mark.parametrize("bad", bad_files(), ids=lambda bad: bad.id)
def test_a_bad_file_is_rejected_with_its_reason(bad):
    with pytest.raises(ChartFileError) as raised:
        parse_chart_file(bad.name, bad.data)
    assert raised.value.code == bad.code and bad.says in raised.value.reason, raised.value.reason


def test_records_of_a_real_file():
    data = real(AR_DAY)
    chart = parse_chart_file(AR_DAY, data)
    records = chart_records(chart, IMPORTED_AT)
    assert len(records) == 201 and all(contract.validate(r) == [] for r in records)
    entries, observation = records[:-1], records[-1]
    assert {r["record_type"] for r in entries} == {contract.CHART_ENTRY}
    assert observation["record_type"] == contract.CHART_OBSERVATION and observation["entry_count"] == 200
    shared = {"origin": "chart_export", "playlist_id": "regional-ar-daily", "chart_label": "regional-ar-daily",
              "playlist_name": "Top 200 Argentina, daily (chart export)", "chart_date": "2024-05-01",
              "observed_at": "2026-11-20T22:04:01.123Z", "snapshot_id": chart.snapshot_id,
              "poll_id": chart.poll_id(1)}
    assert all({k: r[k] for k in shared} == shared for r in records)
    for record, oracle in zip(entries, stdlib_rows(data)):
        assert record["position"] == int(oracle["rank"]) and record["entry_type"] == "track"
        assert record["track_id"] == oracle["uri"].removeprefix("spotify:track:")
        assert record["artist_names"] == [oracle["artist_names"]] and record["artist_ids"] == [None]
        assert record["streams"] == int(oracle["streams"]) and record["label"] == oracle["source"]
        assert record["previous_rank"] == (None if oracle["previous_rank"] == "-1" else int(oracle["previous_rank"]))
        assert record["days_on_chart"] == int(oracle["days_on_chart"]) and record["weeks_on_chart"] is None
        assert all(record[k] is None for k in ("album_id", "duration_ms", "isrc", "popularity", "added_at"))
    assert any(r["previous_rank"] is None for r in entries)  # the file's -1s


def test_the_observation_key_follows_the_content_and_the_revision():
    chart = parse_chart_file(AR_DAY, real(AR_DAY))
    again = parse_chart_file(AR_DAY, real(AR_DAY))
    assert chart_records(again, IMPORTED_AT)[-1]["poll_id"] == chart_records(chart, IMPORTED_AT)[-1]["poll_id"]
    ids = {chart.poll_id(revision) for revision in (1, 2, 3)}
    corrected = parse_chart_file(AR_DAY, with_field(real(AR_DAY), 10, "streams", "1"))
    assert len(ids | {corrected.poll_id(1), corrected.poll_id(2)}) == 5
