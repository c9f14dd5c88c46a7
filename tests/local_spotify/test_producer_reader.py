"""The producer's own Spotify reader (producer/spotify.py) against the local server:
the two must agree on URLs, auth, fields, paging and both entry keys."""
from datetime import date, datetime, timezone

import pytest

from local_spotify import catalog
from producer.spotify import ChartReader, ResponseClock, build_spotify


GLOBAL = catalog.MARKETS_BY_LABEL["global"].playlist_id


@pytest.mark.parametrize("entry_key", ["item", "track"])
def test_the_producer_reader_pages_through_every_entry_shape(server, control, credentials, entry_key):
    control.configure(entry_key=entry_key)
    answer = control.set_anomalies(GLOBAL, null_positions=[1], episode_positions=[2], local_positions=[3],
                          unavailable_positions=[4], length=120)
    client = build_spotify(client_id=credentials["client_id"], client_secret=credentials["client_secret"],
                           api_url=server.api_url, token_url=server.token_url)
    reader = ChartReader(client, market="US")
    version = reader.version(GLOBAL, lambda: 60)
    items = reader.items(version, lambda: 60)
    assert version.name == "Top 50 - Global"
    assert version.snapshot_id == answer["snapshot_id"]
    assert (len(items.entries), items.requests) == (120, 3)
    shown = [e[entry_key] for e in items.entries]
    assert shown[0] is None and shown[1]["type"] == "episode"
    assert items.entries[2]["is_local"] is True and shown[3]["is_playable"] is False
    assert [s["id"] for s in shown[4:50]] == [t.track_id for t in catalog.chart_on("global", catalog.FIRST_DATE)[4:]]


def test_the_producer_dates_a_read_by_the_day_the_server_serves(server, control, credentials):
    """The producer's observation time is the server's Date header: replayed days get their own dates."""
    clock = ResponseClock(fallback=lambda: 0.0)  # 1970 if the header were not used
    client = build_spotify(client_id=credentials["client_id"], client_secret=credentials["client_secret"],
                           api_url=server.api_url, token_url=server.token_url, clock=clock)
    reader = ChartReader(client, clock=clock)
    seen = []
    for day in ("2024-03-12", "2024-03-13", "2024-03-15"):
        control.set_date(day)
        version = reader.version(GLOBAL, lambda: 60)
        seen.append(datetime.fromtimestamp(version.observed_at, timezone.utc).date())
    assert seen == [date(2024, 3, 12), date(2024, 3, 13), date(2024, 3, 15)]
