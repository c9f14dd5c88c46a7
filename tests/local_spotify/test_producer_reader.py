"""The producer's own Spotify reader (producer/spotify.py) against the local server:
the two must agree on URLs, auth, fields, paging and both entry keys."""
import pytest

from local_spotify import catalog
from producer.spotify import ChartReader, build_spotify


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
