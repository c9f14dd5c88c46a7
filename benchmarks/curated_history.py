"""Curated chart history as the producer, Glue and Snowpipe leave it, for benchmarks: the
real daily Top 50 of the bundled markets, repeated in ``eras`` to make a longer history.

One era is the real history: every market's 556 charted days of 2023-05-18..2024-11-27
(4 gap days without a chart). Each day with a chart has one observation (the producer's
read); a day whose chart differs from the previous chart also has that snapshot's 50
entries (an unchanged day costs one observation, as the producer sends it). Era ``k``
is the same history ``k * ERA_DAYS`` days later, under snapshot and poll ids of its own,
so ten eras are ten times today's history of the same charts (tracks re-enter the
charts in each later era, as songs do).

Built with Arrow: one era from Python rows, the others by shifting its columns, so that
ten eras (2.5 million entries) take seconds, not minutes.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache

import pyarrow as pa
import pyarrow.compute as pc

from benchmarks.bench_snowflake import track_columns
from glue_streaming.curated import CHART_ENTRIES_DATASET, CHART_OBSERVATIONS_DATASET
from local_spotify.catalog import FIRST_DATE, LAST_DATE, MARKETS_BY_LABEL, load_market
from localdev.local_snowflake.curated_files import to_table

ERA_DAYS = (LAST_DATE - FIRST_DATE).days + 1  # 560 calendar days
READ_AT = time(6, 0)  # the producer's daily read (UTC)


def _common(label: str, day: date, snapshot_id: str) -> dict:
    market = MARKETS_BY_LABEL[label]
    observed = datetime.combine(day, READ_AT, tzinfo=timezone.utc)
    return {"chart_date": day, "playlist_id": market.playlist_id, "chart_label": label,
            "playlist_name": market.name, "snapshot_id": snapshot_id, "poll_id": f"poll-{label}-{day}",
            "observed_at": observed, "source_file": f"raw/{day}", "batch_id": f"{day}-bench",
            "batch_at": observed + timedelta(hours=1), "origin": "playlist"}


def _market_rows(label: str) -> tuple[list[dict], list[dict]]:
    """(entries, observations) of one market over the real history (era 0)."""
    entries, observations, previous, snapshot_id = [], [], None, None
    for day, tracks in load_market(label).items():
        content = tuple(t.track_id for t in tracks)
        if content != previous:
            snapshot_id, previous = f"snap-{label}-{day}", content
            common = _common(label, day, snapshot_id)
            entries += [{**common, **track_columns(t), "added_at": None, "streams": None, "previous_rank": None,
                         "peak_rank": None, "days_on_chart": None, "weeks_on_chart": None, "label": None}
                        for t in tracks]
        observations.append({**_common(label, day, snapshot_id), "entry_count": len(tracks)})
    return entries, observations


@lru_cache(maxsize=4)
def first_era(markets: tuple[str, ...]) -> tuple[pa.Table, pa.Table]:
    """(entries, observations) of the real history of ``markets`` as curated Arrow tables."""
    entries, observations = [], []
    for label in markets:
        market_entries, market_observations = _market_rows(label)
        entries += market_entries
        observations += market_observations
    return to_table(CHART_ENTRIES_DATASET, entries), to_table(CHART_OBSERVATIONS_DATASET, observations)


def _add_days(dates: pa.ChunkedArray, days: int) -> pa.Array:
    """date32 values ``days`` later (a date32 is a day number: add to the numbers)."""
    numbers = pc.add(dates.combine_chunks().view(pa.int32()), pa.scalar(days, pa.int32()))
    return numbers.view(pa.date32())


def _shifted(table: pa.Table, era: int) -> pa.Table:
    """``table`` moved ``era * ERA_DAYS`` days later, its snapshot and poll ids made the era's own."""
    if era == 0:
        return table
    days = era * ERA_DAYS
    columns = {
        "chart_date": _add_days(table["chart_date"], days),
        "observed_at": pc.add(table["observed_at"], pa.scalar(timedelta(days=days), pa.duration("us"))),
        "batch_at": pc.add(table["batch_at"], pa.scalar(timedelta(days=days), pa.duration("us"))),
        "snapshot_id": pc.binary_join_element_wise(table["snapshot_id"], f"e{era}", "-"),
        "poll_id": pc.binary_join_element_wise(table["poll_id"], f"e{era}", "-"),
    }
    for name, values in columns.items():
        index = table.schema.get_field_index(name)
        table = table.set_column(index, table.schema.field(index), values.cast(table.schema.field(index).type))
    return table


def era_tables(markets: tuple[str, ...], era: int) -> tuple[pa.Table, pa.Table]:
    """(entries, observations) of one era."""
    entries, observations = first_era(markets)
    return _shifted(entries, era), _shifted(observations, era)


def last_chart_date(eras: int) -> date:
    """The last charted day of ``eras`` eras of history."""
    return LAST_DATE + timedelta(days=(eras - 1) * ERA_DAYS)
