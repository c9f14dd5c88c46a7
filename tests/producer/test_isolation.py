"""One bad chart never stops the others (issue 21, item 1): poisoned entries, malformed 200
answers, a looping ``next`` and a 10,000-entry playlist sit beside good charts; every good
chart is delivered in the same poll, the poll ends within its time budget, and nothing
repeats. Real spotipy against the local Spotify server (its faults and anomalies), real
boto3 against Firehose and S3 on moto."""
from __future__ import annotations

import time
from collections import Counter

from firehose import contract
from local_spotify.catalog import MARKETS_BY_LABEL
from producer.poll import CHANGED, DEFERRED, FAILED, UNCHANGED
from producer.state import StateStore
from tests.producer.test_poll import landed, observations

MARKETS = ("global", "us", "gb", "es", "it", "fr", "mx", "ar", "jp", "kr")
ID = {label: MARKETS_BY_LABEL[label].playlist_id for label in MARKETS}
PLAYLISTS = ",".join(f"{ID[label]}:{label}" for label in MARKETS)
POISON = {3: "added_at_garbage", 7: "entry_not_object", 12: "artist_not_object", 20: "added_at_number",
          33: "item_not_object", 41: "album_not_object"}
GOOD = ("fr", "mx", "ar", "jp", "kr")  # nothing wrong with them
BUDGET_SECONDS = 60.0


def hostile(spotify) -> None:
    """global: poisoned entries; us: next loops back after 3 pages; gb: 10,000 entries;
    es: its snapshot read answers an HTML page; it: its items page has 'items' as an object."""
    control = spotify.control
    control.set_anomalies(ID["global"], poison=POISON)
    control.set_anomalies(ID["us"], length=120, loop_next=True)
    control.set_anomalies(ID["gb"], length=10_000)
    control.add_fault(malformed="not_json", endpoint="playlist", playlist_id=ID["es"])
    control.add_fault(malformed="items_not_list", endpoint="items", playlist_id=ID["it"])


def poll(poller, poll_id):
    deadline = time.monotonic() + BUDGET_SECONDS
    started = time.monotonic()
    result = poller.poll(poll_id, lambda: deadline - time.monotonic())
    return result, time.monotonic() - started


def status_of(result) -> dict[str, str]:
    labels = {playlist_id: label for label, playlist_id in ID.items()}
    return {labels[o.playlist.id]: o.status for o in result.outcomes}


def natural_keys(records) -> Counter:
    return Counter((r["playlist_id"], r["snapshot_id"], r["position"]) for r in records)


def test_bad_charts_fail_alone_and_every_good_chart_is_delivered_in_the_same_poll(make_poller, env, spotify):
    hostile(spotify)
    poller = make_poller(PLAYLISTS=PLAYLISTS)
    spotify.control.reset_stats()
    result, seconds = poll(poller, "poll-1")
    summary = result.summary()
    assert status_of(result) == {**{label: CHANGED for label in (*GOOD, "global")},
                                 **{label: FAILED for label in ("us", "gb", "es", "it")}}
    failed = {label: summary["failed"][ID[label]] for label in ("us", "gb", "es", "it")}
    assert "page 3: 'next' loops back to an earlier page" in failed["us"]
    assert "has 10000 entries, over MAX_ENTRIES_PER_CHART=1000: not read" in failed["gb"]
    assert "the snapshot read answered 200 without a JSON body" in failed["es"]
    assert "page 1: 'items' is an object, not an array" in failed["it"]
    # Every good chart whole, the poisoned one without its poisoned entries; nothing of the failed ones.
    positions = Counter(r["chart_label"] for r in landed(env))
    assert positions == {**{label: 50 for label in GOOD}, "global": 50 - len(POISON)}
    assert {r["position"] for r in landed(env) if r["chart_label"] == "global"} == set(range(1, 51)) - set(POISON)
    assert summary["entries_skipped"] == {f"malformed_entry: {problem}": 1 for problem in (
        "added_at 'garbage' is not a UTC timestamp", "entry is a string, not an object",
        "artist is a string, not an object", "added_at is a number, not a timestamp",
        "item is a string, not an object", "album is an array, not an object")}
    assert {r["chart_label"] for r in observations(env)} == {*GOOD, "global"}
    # Within its budget, with a bounded number of requests: the loop and the big playlist cost little.
    assert seconds < BUDGET_SECONDS and result.duration_ms / 1000 < BUDGET_SECONDS
    requests = spotify.control.stats()["by_endpoint"]
    assert requests["items"]["total"] == 5 + 1 + 3 + 1 + 1  # good and global, us (3 pages), gb (1), it (1)
    # State moved for the delivered charts only.
    state = StateStore(env["STATE_BUCKET"], env["STATE_PREFIX"])
    assert {label for label in MARKETS if state.load(ID[label]) is not None} == {*GOOD, "global"}
    assert set(natural_keys(landed(env)).values()) == {1}

    # The next poll: the same trouble, nothing delivered twice, the good charts observed again.
    hostile(spotify)
    again, seconds = poll(make_poller(PLAYLISTS=PLAYLISTS), "poll-2")
    assert status_of(again) == {**status_of(result), **{label: UNCHANGED for label in (*GOOD, "global")}}
    assert set(natural_keys(landed(env)).values()) == {1} and len(landed(env)) == 5 * 50 + 50 - len(POISON)
    assert Counter(r["poll_id"] for r in observations(env)) == {"poll-1": 6, "poll-2": 6}


def test_a_ten_thousand_entry_playlist_within_raised_caps_is_delivered_whole_beside_the_others(
        make_poller, env, spotify):
    hostile(spotify)
    poller = make_poller(PLAYLISTS=PLAYLISTS, MAX_ENTRIES_PER_CHART="10000", MAX_PAGES_PER_CHART="200")
    result, seconds = poll(poller, "big")
    print(f"\n10,000-entry playlist beside 9 others: poll of {seconds:.2f} s, {result.spotify_requests} Spotify "
          f"requests, {result.delivery.calls} Firehose calls, {result.delivery.records} records")
    assert status_of(result) == {**{label: CHANGED for label in (*GOOD, "global", "gb")},
                                 **{label: FAILED for label in ("us", "es", "it")}}
    big = [r for r in landed(env) if r["chart_label"] == "gb"]
    assert sorted(r["position"] for r in big) == list(range(1, 10_001))
    assert {r["entry_count"] for r in observations(env) if r["chart_label"] == "gb"} == {10_000}
    assert Counter(r["chart_label"] for r in landed(env) if r["chart_label"] in GOOD) == {label: 50 for label in GOOD}
    assert seconds < BUDGET_SECONDS
    assert set(natural_keys(landed(env)).values()) == {1}


def test_reading_stops_at_its_deadline_and_the_unfinished_chart_is_read_by_the_next_poll(make_poller, env, spotify):
    """No request starts that could end after reading's deadline: a slow 10,000-entry read is
    cut short, the other charts are delivered, and the poll ends within its budget."""
    spotify.control.set_anomalies(ID["gb"], length=10_000)
    spotify.control.playlists()  # the server builds (and keeps) every playlist's content now, not mid-poll
    spotify.control.set_latency(20)  # 200 pages: 4 s and more
    playlists = ",".join(f"{ID[label]}:{label}" for label in ("gb", *GOOD))
    settings = {"PLAYLISTS": playlists, "MAX_ENTRIES_PER_CHART": "10000", "MAX_PAGES_PER_CHART": "200",
                "DELIVERY_RESERVE_SECONDS": "13"}
    poller = make_poller(**settings)
    poller.reader.request_timeout = 1.0  # (10 s in production) reading may start requests for 2 s
    budget = 13 + 3.0
    deadline = time.monotonic() + budget
    started = time.monotonic()
    result = poller.poll("short", lambda: deadline - time.monotonic())
    seconds = time.monotonic() - started
    print(f"\nreading cut at its deadline: poll of {seconds:.2f} s (budget {budget} s, reading until 2 s), "
          f"{result.spotify_requests} Spotify requests")
    assert status_of(result) == {"gb": DEFERRED, **{label: CHANGED for label in GOOD}}
    reason = next(o.error for o in result.outcomes if o.status == DEFERRED)
    assert "no time left to read page" in reason and "the next poll reads it again" in reason
    assert Counter(r["chart_label"] for r in landed(env)) == {label: 50 for label in GOOD}
    assert seconds < budget and seconds < 3.0 + 2.0  # reading stopped on time; delivery is quick here
    spotify.control.set_latency(0)
    again = make_poller(**settings).poll("later", lambda: 60.0)
    assert status_of(again) == {"gb": CHANGED, **{label: UNCHANGED for label in GOOD}}
    assert sorted(r["position"] for r in landed(env) if r["chart_label"] == "gb") == list(range(1, 10_001))
    assert set(natural_keys(landed(env)).values()) == {1}


def test_an_unexpected_error_reading_one_chart_fails_that_chart_only(make_poller, env, spotify):
    """A chart's state object that is not JSON (a bad manual edit, a partial restore): that chart
    fails with the reason, every other chart is read and delivered."""
    playlists = ",".join(f"{ID[label]}:{label}" for label in ("global", *GOOD))
    state = StateStore(env["STATE_BUCKET"], env["STATE_PREFIX"])
    state.client.put_object(Bucket=env["STATE_BUCKET"], Key=state.key(ID["global"]), Body=b"{not json")
    result = make_poller(PLAYLISTS=playlists).poll("corrupt", lambda: 60.0)
    assert status_of(result) == {"global": FAILED, **{label: CHANGED for label in GOOD}}
    assert result.summary()["failed"][ID["global"]].startswith(
        f"unexpected JSONDecodeError reading playlist {ID['global']}: Expecting property name")
    assert Counter(r["chart_label"] for r in landed(env)) == {label: 50 for label in GOOD}
