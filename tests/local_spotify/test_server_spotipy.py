"""The local server over HTTP, through the real spotipy client (and raw requests
where the exact wire format matters)."""
import concurrent.futures
import importlib.metadata
import time
import urllib.request
from datetime import date, timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import spotipy
from spotipy.cache_handler import MemoryCacheHandler
from spotipy.exceptions import SpotifyException
from spotipy.oauth2 import SpotifyOAuth, SpotifyOauthError

from local_spotify import catalog
from local_spotify.control import LocalSpotifyControlError
from local_spotify.example import spotipy_client


GLOBAL = catalog.MARKETS_BY_LABEL["global"].playlist_id
USA = catalog.MARKETS_BY_LABEL["us"].playlist_id
# The producer's field selection (producer/spotify.py), item and track keys both asked for.
TRACK_FIELDS = (
    "id,name,type,uri,duration_ms,explicit,popularity,is_local,is_playable,restrictions,"
    "external_ids(isrc),artists(id,name),album(id,name,release_date,release_date_precision),"
    "show(id,name),release_date,release_date_precision"
)
ITEM_FIELDS = f"items(added_at,is_local,item({TRACK_FIELDS}),track({TRACK_FIELDS})),next,total"


def bearer(server, credentials):
    answer = requests.post(
        server.token_url, data={"grant_type": "client_credentials"},
        auth=(credentials["client_id"], credentials["client_secret"]), timeout=5,
    )
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def all_entries(sp, playlist_id, **kwargs):
    page = sp.playlist_items(playlist_id, limit=50, **kwargs)
    entries = list(page["items"])
    while page["next"]:
        page = sp.next(page)
        entries.extend(page["items"])
    return entries


# --- reading playlists ------------------------------------------------------


def test_spotipy_226_reads_items_from_the_items_endpoint_and_pages_past_50(server, control, sp):
    assert importlib.metadata.version("spotipy") == "2.26.0"
    control.set_anomalies(GLOBAL, length=120)
    first = sp.playlist_items(GLOBAL, limit=50, fields=ITEM_FIELDS, market="ES")
    assert first["total"] == 120 and len(first["items"]) == 50
    next_url = urlsplit(first["next"])
    assert next_url.path == f"/v1/playlists/{GLOBAL}/items"
    query = parse_qs(next_url.query)
    assert (query["offset"], query["limit"], query["market"]) == (["50"], ["50"], ["ES"])
    assert query["fields"] == [ITEM_FIELDS] and query["additional_types"] == ["track,episode"]

    second = sp.next(first)
    third = sp.next(second)
    assert len(second["items"]) == 50 and len(third["items"]) == 20
    assert third["next"] is None and sp.next(third) is None
    ids = [e["item"]["id"] for page in (first, second, third) for e in page["items"]]
    assert len(set(ids)) == 120
    # The first 50 are the day's chart, in chart order.
    assert ids[:50] == [t.track_id for t in catalog.chart_on("global", catalog.FIRST_DATE)]

    stats = control.stats()["by_endpoint"]
    assert stats["items"] == {"200": 3, "total": 3}
    assert "tracks" not in stats


def test_items_paging_object_has_spotifys_fields(server, control, credentials):
    headers = bearer(server, credentials)
    url = f"{server.api_url}playlists/{GLOBAL}/items"
    page = requests.get(url, params={"offset": 40, "limit": 5}, headers=headers, timeout=5).json()
    assert set(page) == {"href", "items", "limit", "next", "offset", "previous", "total"}
    assert (page["offset"], page["limit"], page["total"], len(page["items"])) == (40, 5, 50, 5)
    assert "offset=45" in page["next"] and "offset=35" in page["previous"]
    default = requests.get(url, headers=headers, timeout=5).json()
    assert default["limit"] == 20 and default["previous"] is None
    beyond = requests.get(url, params={"offset": 60, "limit": 50}, headers=headers, timeout=5).json()
    assert beyond["items"] == [] and beyond["next"] is None


def test_entries_and_track_objects_look_like_spotifys(sp, control):
    control.set_date("2024-01-10")
    entry = sp.playlist_items(USA, limit=1)["items"][0]
    assert set(entry) >= {"added_at", "added_by", "is_local", "item"} and "track" not in entry
    assert entry["is_local"] is False
    added = date.fromisoformat(entry["added_at"][:10])
    assert entry["added_at"].endswith("T00:00:00Z") and added <= date(2024, 1, 10)
    track = entry["item"]
    expected = catalog.chart_on("us", date(2024, 1, 10))[0]
    assert track["id"] == expected.track_id and track["name"] == expected.song
    assert track["type"] == "track" and track["uri"] == f"spotify:track:{expected.track_id}"
    assert track["duration_ms"] == expected.duration_ms and track["explicit"] is expected.explicit
    assert track["external_ids"] == {"isrc": expected.isrc}
    assert [(a["id"], a["name"], a["type"], a["uri"]) for a in track["artists"]] == [
        (i, n, "artist", f"spotify:artist:{i}") for i, n in zip(expected.artist_ids, expected.artists)
    ]
    album = track["album"]
    assert album["id"] == expected.album_id and album["name"] == expected.album_name
    assert (album["album_type"], album["release_date"], album["total_tracks"]) == (
        expected.album_type, expected.release_date, expected.total_tracks
    )
    assert album["release_date_precision"] == expected.release_date_precision
    assert album["images"][0]["url"] == expected.cover_url
    # Development mode (default): no popularity; no market: no is_playable.
    assert "popularity" not in track and "is_playable" not in track
    with_market = sp.playlist_items(USA, limit=1, market="US")["items"][0]["item"]
    assert with_market["is_playable"] is True

    control.configure(development_mode=False)
    assert sp.playlist_items(USA, limit=1)["items"][0]["item"]["popularity"] == expected.popularity


def test_old_track_key_or_both_can_be_served(sp, control):
    control.configure(entry_key="track")
    entry = sp.playlist_items(GLOBAL, limit=1)["items"][0]
    assert "item" not in entry and entry["track"]["type"] == "track"
    control.configure(entry_key="both")
    entry = sp.playlist_items(GLOBAL, limit=1)["items"][0]
    assert entry["item"] == entry["track"]


def test_playlist_object_and_its_fields(sp, control):
    head = sp.playlist(GLOBAL, fields="snapshot_id,name")
    assert set(head) == {"snapshot_id", "name"} and head["name"] == "Top 50 - Global"
    full = sp.playlist(GLOBAL)
    assert full["id"] == GLOBAL and full["snapshot_id"] == head["snapshot_id"] and full["public"] is True
    assert full["owner"]["id"] == "spotify" and full["type"] == "playlist"
    assert full["items"]["total"] == 50 and len(full["items"]["items"]) == 50
    assert full["tracks"] == full["items"]
    nested = sp.playlist(GLOBAL, fields="items(total,items(item(id)))")
    assert set(nested) == {"items"} and set(nested["items"]) == {"total", "items"}
    assert set(nested["items"]["items"][0]["item"]) == {"id"}
    # The playlist endpoint's own paging also stops at 50 and links to /items.
    control.set_anomalies(GLOBAL, length=60)
    page = sp.playlist(GLOBAL)["items"]
    assert page["total"] == 60 and len(page["items"]) == 50 and "/items?offset=50&limit=50" in page["next"]
    assert len(sp.next(page)["items"]) == 10


def test_every_market_and_extra_playlist_is_served(sp, control):
    listed = control.playlists()
    assert len(listed) == 12  # 10 markets + 2 extra (the fixture's server)
    for playlist in listed:
        head = sp.playlist(playlist["id"], fields="snapshot_id,name")
        assert head == {"snapshot_id": playlist["snapshot_id"], "name": playlist["name"]}


# --- simulated time ---------------------------------------------------------


def test_snapshot_changes_when_the_date_advances_and_only_then(sp, control):
    first = sp.playlist(GLOBAL, fields="snapshot_id")["snapshot_id"]
    assert sp.playlist(GLOBAL, fields="snapshot_id")["snapshot_id"] == first
    assert control.date() == catalog.FIRST_DATE
    assert control.advance(1) == catalog.FIRST_DATE + timedelta(days=1)
    second = sp.playlist(GLOBAL, fields="snapshot_id")["snapshot_id"]
    assert second != first
    # Through a day missing from the data, configured to hold, the playlist holds, snapshot included.
    control.configure(missing_days="hold")
    control.set_date("2024-03-13")
    before_gap = sp.playlist(GLOBAL, fields="snapshot_id")["snapshot_id"]
    control.advance(1)  # 2024-03-14 is missing
    assert sp.playlist(GLOBAL, fields="snapshot_id")["snapshot_id"] == before_gap
    control.advance(1)
    assert sp.playlist(GLOBAL, fields="snapshot_id")["snapshot_id"] != before_gap
    # Back to an earlier date: the same content, so the same snapshot as before.
    control.set_date(catalog.FIRST_DATE)
    assert sp.playlist(GLOBAL, fields="snapshot_id")["snapshot_id"] == first


def test_a_day_missing_from_the_data_is_an_outage_by_default(sp, control):
    assert control.config()["missing_days"] == "outage"
    control.set_date("2024-03-13")
    assert sp.playlist(GLOBAL, fields="snapshot_id")["snapshot_id"]
    for day in ("2024-03-14", (catalog.LAST_DATE + timedelta(days=1)).isoformat()):  # a gap, after the end
        control.set_date(day)
        for read in (lambda: sp.playlist(GLOBAL, fields="snapshot_id"), lambda: sp.playlist_items(GLOBAL)):
            with pytest.raises(SpotifyException) as failed:
                read()
            assert failed.value.http_status == 503 and day in failed.value.msg
        listed = next(p for p in control.playlists() if p["id"] == GLOBAL)
        assert listed["missing_day"] is True
    control.set_date("2024-03-15")
    assert sp.playlist(GLOBAL, fields="snapshot_id")["snapshot_id"]  # the day after the gap serves again
    with pytest.raises(LocalSpotifyControlError, match="missing_days must be one of"):
        control.configure(missing_days="skip")


def test_every_answer_is_dated_by_the_simulated_clock(server, control):
    control.set_date("2024-03-12")
    with urllib.request.urlopen(server.control_url + "date") as response:
        sent = parsedate_to_datetime(response.headers["Date"])
    assert sent.date() == date(2024, 3, 12) and sent.tzinfo is not None
    control.advance(2)
    with urllib.request.urlopen(server.control_url + "date") as response:
        assert parsedate_to_datetime(response.headers["Date"]).date() == date(2024, 3, 14)


def test_added_at_keeps_the_start_of_a_tracks_run(sp, control):
    control.set_date("2023-06-01")
    before = {e["item"]["id"]: e["added_at"] for e in sp.playlist_items(GLOBAL, limit=50)["items"]}
    control.advance(1)
    after = {e["item"]["id"]: e["added_at"] for e in sp.playlist_items(GLOBAL, limit=50)["items"]}
    stayed = set(before) & set(after)
    entered = set(after) - set(before)
    assert stayed and all(after[t] == before[t] for t in stayed)
    assert all(after[t] == "2023-06-02T00:00:00Z" for t in entered)


# --- anomalies --------------------------------------------------------------


def test_every_anomaly_replaces_its_entry_and_keeps_other_positions(sp, control):
    plain = all_entries(sp, GLOBAL, fields=ITEM_FIELDS)
    plain_snapshot = sp.playlist(GLOBAL, fields="snapshot_id")["snapshot_id"]
    answer = control.set_anomalies(
        GLOBAL, null_positions=[1], episode_positions=[2], local_positions=[3], unavailable_positions=[4]
    )
    odd = all_entries(sp, GLOBAL, fields=ITEM_FIELDS, market="US")
    assert len(odd) == 50
    assert odd[0]["item"] is None and "added_at" in odd[0]
    episode = odd[1]["item"]
    assert episode["type"] == "episode" and episode["id"] and episode["show"]["name"]
    assert "artists" not in episode and "album" not in episode
    local = odd[2]
    assert local["is_local"] is True and local["item"]["is_local"] is True and local["item"]["id"] is None
    assert local["item"]["uri"].startswith("spotify:local:") and local["item"]["name"] == plain[2]["item"]["name"]
    unavailable = odd[3]["item"]
    assert unavailable["id"] == plain[3]["item"]["id"]
    assert unavailable["is_playable"] is False and unavailable["restrictions"] == {"reason": "market"}
    assert [e["item"]["id"] for e in odd[4:]] == [e["item"]["id"] for e in plain[4:]]
    # Anomalies are content: the snapshot changes, and returns when they are cleared.
    snapshot = sp.playlist(GLOBAL, fields="snapshot_id")["snapshot_id"]
    assert snapshot == answer["snapshot_id"] != plain_snapshot
    control.set_anomalies(USA, null_positions=[7])
    control.clear_anomalies(GLOBAL)
    assert sp.playlist(GLOBAL, fields="snapshot_id")["snapshot_id"] == plain_snapshot
    assert list(control.state()["anomalies"]) == [USA]
    control.clear_anomalies()
    assert control.state()["anomalies"] == {}
    # Other playlists are untouched.
    assert all(e["item"] is not None for e in all_entries(sp, USA))


def test_unavailable_tracks_carry_restrictions_without_a_market(sp, control):
    control.set_anomalies(USA, unavailable_positions=[10])
    item = sp.playlist_items(USA, limit=50)["items"][9]["item"]
    assert item["restrictions"] == {"reason": "market"} and "is_playable" not in item


def test_bad_anomalies_are_refused(control):
    with pytest.raises(LocalSpotifyControlError, match="outside"):
        control.set_anomalies(GLOBAL, null_positions=[51])
    with pytest.raises(LocalSpotifyControlError, match="unknown playlist"):
        control.set_anomalies("nope", null_positions=[1])


def test_poisoned_entries_are_served_broken_through_the_producer_s_fields(sp, control):
    plain = all_entries(sp, GLOBAL, fields=ITEM_FIELDS)
    control.set_anomalies(GLOBAL, poison={1: "added_at_garbage", 2: "added_at_number", 3: "entry_not_object",
                                          4: "item_not_object", 5: "artist_not_object", 6: "album_not_object"})
    odd = all_entries(sp, GLOBAL, fields=ITEM_FIELDS)
    assert odd[0] == {**plain[0], "added_at": "garbage"} and odd[1] == {**plain[1], "added_at": 1_700_000_000}
    assert isinstance(odd[2], str)
    assert odd[3]["item"] == plain[3]["item"]["uri"]
    assert odd[4]["item"]["artists"][0] == plain[4]["item"]["artists"][0]["name"]
    assert odd[5]["item"]["album"] == [plain[5]["item"]["album"]]
    assert odd[6:] == plain[6:]
    control.clear_anomalies()
    assert all_entries(sp, GLOBAL, fields=ITEM_FIELDS) == plain  # the cached track objects were not changed


def test_a_looping_next_points_back_to_the_first_page(sp, control):
    control.set_anomalies(GLOBAL, length=120, loop_next=True)
    first = sp.playlist_items(GLOBAL, limit=50, fields="items(added_at),next,offset")
    third = sp.next(sp.next(first))
    assert third["offset"] == 100 and len(third["items"]) == 20
    back = sp.next(third)
    assert back == first and parse_qs(urlsplit(third["next"]).query)["offset"] == ["0"]


# --- faults -----------------------------------------------------------------


@pytest.mark.parametrize("malformed, endpoint, seen", [
    ("not_json", "playlist", None),  # spotipy gives None for a 200 it cannot decode
    ("truncated_json", "playlist", None),
    ("not_object", "items", ["not", "an", "object"]),
    ("no_snapshot_id", "playlist", {"name": "Top 50 - Global"}),
    ("items_not_list", "items", {"items": {"unexpected": "an object where a list belongs"}, "total": 50}),
])
def test_malformed_bodies_reach_spotipy_as_a_200(sp, control, malformed, endpoint, seen):
    fault = control.add_fault(malformed=malformed, endpoint=endpoint, playlist_id=GLOBAL)
    assert fault["malformed"] == malformed and fault["status"] is None
    read = {"playlist": lambda: sp.playlist(GLOBAL, fields="snapshot_id,name"),
            "items": lambda: sp.playlist_items(GLOBAL, limit=50, fields="items(added_at),total")}[endpoint]
    assert read() == seen
    assert read() != seen  # one request only (count 1)
    assert control.stats()["by_endpoint"][endpoint]["200"] == 2


def test_a_not_json_fault_is_an_html_page_with_its_fault_id(server, control, credentials):
    fault = control.add_fault(malformed="not_json")  # any endpoint but the token's: bearer() gets its token
    answer = requests.get(f"{server.api_url}playlists/{GLOBAL}/items", headers=bearer(server, credentials), timeout=5)
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("text/html")
    assert answer.text.startswith("<html>") and answer.headers["X-Local-Spotify-Fault"] == str(fault["id"])


def test_429_carries_retry_after_and_hits_only_its_playlist_and_count(sp, control):
    control.add_fault(429, count=2, endpoint="items", playlist_id=GLOBAL, retry_after=7)
    assert sp.playlist_items(USA, limit=1)["items"]  # another playlist: unaffected
    assert sp.playlist(GLOBAL, fields="name")  # another endpoint: unaffected
    for _ in range(2):
        with pytest.raises(spotipy.SpotifyException) as caught:
            sp.playlist_items(GLOBAL, limit=1)
        assert caught.value.http_status == 429 and caught.value.headers["Retry-After"] == "7"
    assert sp.playlist_items(GLOBAL, limit=1)["items"]
    assert control.faults() == []
    stats = control.stats()["by_endpoint"]["items"]
    assert (stats["429"], stats["200"]) == (2, 2)


@pytest.mark.parametrize("status", [403, 404, 500, 502, 503])
def test_error_faults_reach_spotipy_with_their_status(sp, control, status):
    control.add_fault(status, endpoint="playlist")
    with pytest.raises(spotipy.SpotifyException) as caught:
        sp.playlist(GLOBAL, fields="snapshot_id")
    assert caught.value.http_status == status
    assert sp.playlist(GLOBAL, fields="snapshot_id")["snapshot_id"]


def test_a_fault_on_any_endpoint_hits_the_next_request_whatever_it_is(sp, control):
    control.add_fault(503)
    with pytest.raises(SpotifyOauthError) as caught:
        sp.playlist_items(USA, limit=1)  # a new client asks for a token first: that takes it
    assert caught.value.error == "temporarily_unavailable"
    assert sp.playlist_items(USA, limit=1)["items"]  # now it holds a token
    control.add_fault(503)
    with pytest.raises(spotipy.SpotifyException) as caught:
        sp.playlist_items(USA, limit=1)
    assert caught.value.http_status == 503
    stats = control.stats()["by_endpoint"]
    assert (stats["token"]["503"], stats["items"]["503"]) == (1, 1)


def test_token_endpoint_fault_fails_the_token_request(server, control, credentials):
    control.add_fault(500, endpoint="token")
    client = spotipy_client(server.api_url, server.token_url, credentials["client_id"], credentials["client_secret"], retries=0)
    with pytest.raises(SpotifyOauthError) as caught:
        client.playlist(GLOBAL, fields="name")
    assert caught.value.error == "server_error"
    assert client.playlist(GLOBAL, fields="name") == {"name": "Top 50 - Global"}


def test_spotipy_retries_a_5xx_fault_and_the_server_counts_both(server, control, credentials):
    retrying = spotipy_client(
        server.api_url, server.token_url, credentials["client_id"], credentials["client_secret"], retries=2
    )
    control.add_fault(502, endpoint="items")
    assert retrying.playlist_items(GLOBAL, limit=5)["total"] == 50
    stats = control.stats()["by_endpoint"]["items"]
    assert (stats["502"], stats["200"]) == (1, 1)


def test_spotipy_reports_exhausted_5xx_retries_as_429_without_headers(server, control, credentials):
    """Why the producer gives spotipy a plain session: urllib3's retries hide the real status."""
    retrying = spotipy_client(
        server.api_url, server.token_url, credentials["client_id"], credentials["client_secret"], retries=1
    )
    retrying.playlist(GLOBAL, fields="name")  # token first
    control.add_fault(500, count=5, endpoint="playlist")
    with pytest.raises(spotipy.SpotifyException) as caught:
        retrying.playlist(GLOBAL, fields="name")
    assert caught.value.http_status == 429 and not caught.value.headers
    assert control.stats()["by_endpoint"]["playlist"]["500"] == 2  # the try and its one retry


def test_bad_fault_requests_are_refused(control):
    with pytest.raises(LocalSpotifyControlError, match="status"):
        control.add_fault(418)
    with pytest.raises(LocalSpotifyControlError, match="endpoint"):
        control.add_fault(500, endpoint="albums")
    with pytest.raises(LocalSpotifyControlError, match="malformed must be one of"):
        control.add_fault(malformed="sideways")
    with pytest.raises(LocalSpotifyControlError, match="not the token endpoint"):
        control.add_fault(malformed="not_json", endpoint="token")
    with pytest.raises(LocalSpotifyControlError, match="not both"):
        control._call("POST", "faults", {"status": 500, "malformed": "not_json"})


def test_latency_applies_to_each_request_without_serializing_them(server, control, credentials):
    headers = bearer(server, credentials)
    control.set_latency(300)
    url = f"{server.api_url}playlists/{GLOBAL}?fields=name"
    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda _: requests.get(url, headers=headers, timeout=10).status_code, range(8)))
    elapsed = time.monotonic() - started
    assert statuses == [200] * 8
    assert 0.3 <= elapsed < 1.2  # serialized, 8 requests would take 2.4 s


# --- authentication ---------------------------------------------------------


def test_wrong_client_credentials_get_invalid_client(server, credentials):
    wrong = spotipy_client(server.api_url, server.token_url, credentials["client_id"], "not-the-secret", retries=0)
    with pytest.raises(SpotifyOauthError) as caught:
        wrong.playlist(GLOBAL, fields="name")
    assert caught.value.error == "invalid_client"
    answer = requests.post(server.token_url, data={"grant_type": "client_credentials"}, auth=("someone", "x"), timeout=5)
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_client"
    answer = requests.post(server.token_url, data={"grant_type": "password"},
                           auth=(credentials["client_id"], credentials["client_secret"]), timeout=5)
    assert answer.status_code == 400 and answer.json()["error"] == "unsupported_grant_type"


def test_token_answer_looks_like_spotifys(server, credentials):
    answer = requests.post(server.token_url, data={"grant_type": "client_credentials"},
                           auth=(credentials["client_id"], credentials["client_secret"]), timeout=5).json()
    assert set(answer) == {"access_token", "token_type", "expires_in"}
    assert (answer["token_type"], answer["expires_in"]) == ("Bearer", 3600)


def test_refresh_token_grant_through_spotify_oauth(server, control, credentials):
    def oauth_client(refresh_token):
        auth = SpotifyOAuth(
            client_id=credentials["client_id"], client_secret=credentials["client_secret"],
            redirect_uri="http://127.0.0.1:8888/callback", scope="playlist-read-private", open_browser=False,
            cache_handler=MemoryCacheHandler({"access_token": "", "refresh_token": refresh_token, "expires_at": 0,
                                              "scope": "playlist-read-private"}),
        )
        auth.OAUTH_TOKEN_URL = server.token_url
        client = spotipy.Spotify(auth_manager=auth, requests_session=requests.Session())
        client.prefix = server.api_url
        return client

    assert oauth_client(credentials["refresh_token"]).playlist(GLOBAL, fields="name")["name"] == "Top 50 - Global"
    with pytest.raises(SpotifyOauthError) as caught:
        oauth_client("a-wrong-refresh-token").playlist(GLOBAL, fields="name")
    assert caught.value.error == "invalid_grant"


def test_requests_without_a_valid_token_get_401(server, control, credentials):
    url = f"{server.api_url}playlists/{GLOBAL}"
    for headers, message in [
        ({}, "No token provided"),
        ({"Authorization": "Bearer not-a-token"}, "Invalid access token"),
    ]:
        answer = requests.get(url, headers=headers, timeout=5)
        assert answer.status_code == 401
        assert answer.json() == {"error": {"status": 401, "message": message}}
    headers = bearer(server, credentials)
    assert requests.get(url, headers=headers, timeout=5).status_code == 200
    assert control.expire_tokens() >= 1
    answer = requests.get(url, headers=headers, timeout=5)
    assert answer.status_code == 401 and answer.json()["error"]["message"] == "The access token expired"


# --- errors like Spotify's --------------------------------------------------


def test_removed_tracks_endpoint_fails_loudly(sp, control):
    with pytest.raises(spotipy.SpotifyException) as caught:
        sp._get(f"playlists/{GLOBAL}/tracks", limit=50)  # what spotipy < 2.26 calls
    assert caught.value.http_status == 404 and "Service not found" in caught.value.msg
    assert control.stats()["by_endpoint"]["tracks"] == {"404": 1, "total": 1}


def test_client_errors_have_spotifys_shape(server, credentials):
    headers = bearer(server, credentials)
    cases = [
        (f"playlists/{GLOBAL}/items?limit=51", 400, "Invalid limit"),
        (f"playlists/{GLOBAL}/items?offset=-1", 400, "Invalid offset"),
        (f"playlists/{GLOBAL}/items?fields=items(", 400, "invalid fields"),
        (f"playlists/{GLOBAL}?market=usa", 400, "Invalid market code"),
        ("playlists/0000000000000000000000", 404, "Resource not found"),
        ("playlists/not-base62!", 400, "Invalid base62 id"),
        ("me/player", 404, "Service not found"),
    ]
    for path, status, message in cases:
        answer = requests.get(server.api_url + path, headers=headers, timeout=5)
        assert answer.status_code == status, path
        assert answer.json()["error"]["status"] == status and message in answer.json()["error"]["message"], path


# --- control API ------------------------------------------------------------


def test_stats_count_requests_by_endpoint_and_status(sp, control):
    sp.playlist(GLOBAL, fields="snapshot_id")
    sp.playlist_items(GLOBAL, limit=50)
    control.add_fault(500, endpoint="items")
    with pytest.raises(spotipy.SpotifyException):
        sp.playlist_items(GLOBAL, limit=50)
    stats = control.stats()
    assert stats["by_endpoint"]["token"] == {"200": 1, "total": 1}
    assert stats["by_endpoint"]["playlist"] == {"200": 1, "total": 1}
    assert stats["by_endpoint"]["items"] == {"200": 1, "500": 1, "total": 2}
    assert stats["total"] == 4
    control.reset_stats()
    assert control.stats() == {"total": 0, "by_endpoint": {}}


def test_control_refuses_bad_dates_and_reset_restores_the_start(control):
    with pytest.raises(LocalSpotifyControlError, match="before"):
        control.set_date("2020-01-01")
    control.set_date("2024-02-01")
    control.configure(latency_ms=5, development_mode=False, entry_key="track")
    control.add_fault(500)
    state = control.reset()
    assert state["date"] == catalog.FIRST_DATE.isoformat() and state["faults"] == []
    assert state["config"]["latency_ms"] == 0 and state["config"]["development_mode"] is True
    assert state["config"]["entry_key"] == "item"
    with pytest.raises(LocalSpotifyControlError, match="entry_key"):
        control.configure(entry_key="song")
