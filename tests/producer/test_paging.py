"""The checks on each page of a playlist read (producer.spotify._Pages): its shape, the
caps, and a ``next`` that must move forward and stay on the API's host. The same checks
run against the local server in tests/producer/test_isolation.py."""
import pytest

from producer.spotify import MalformedResponseError, PlaylistTooLargeError, _Pages

API = "https://api.spotify.com/v1/"
ITEMS = f"{API}playlists/pl/items"


def pages(max_pages=40, max_entries=1000):
    return _Pages("pl", API, max_pages, max_entries)


def page(n=50, next_url=None, total=None):
    return {"items": [{"added_at": None}] * n, "next": next_url, "total": total}


def test_pages_are_read_until_next_is_null():
    read = pages()
    assert read.add(page(next_url=f"{ITEMS}?offset=50&limit=50")) == f"{ITEMS}?offset=50&limit=50"
    assert read.add(page(n=20)) is None
    assert (len(read.entries), read.count) == (70, 2)


@pytest.mark.parametrize("urls", [
    [f"{ITEMS}?offset=0&limit=50"],  # straight back to the first page
    [f"{ITEMS}?offset=50&limit=50", f"{ITEMS}?limit=50&offset=50"],  # the same page, its query reordered
    [f"{ITEMS}?offset=50&limit=50", f"{ITEMS}?offset=100&limit=50", f"{ITEMS}?offset=50&limit=50"],
    [f"{ITEMS}?cursor=abc", f"{ITEMS}?cursor=abc"],  # no offset: the same URL twice
])
def test_a_next_that_loops_back_is_caught_on_the_page_that_loops(urls):
    read = pages()
    for url in urls[:-1]:
        read.add(page(next_url=url))
    with pytest.raises(MalformedResponseError, match=r"page \d+: 'next' loops back to an earlier page"):
        read.add(page(next_url=urls[-1]))
    assert read.count == len(urls)


@pytest.mark.parametrize("next_url, problem", [
    ("https://collector.example/v1/playlists/pl/items?offset=50", "'next' leaves the API (collector.example): not followed"),
    ("playlists/pl/items?offset=50", "'next' is 'playlists/pl/items?offset=50', not a URL"),
    (50, "'next' is 50, not a URL"),
])
def test_a_next_that_is_not_an_api_url_is_not_followed(next_url, problem):
    """spotipy sends the access token to whatever URL it is given: only the API's host gets it."""
    with pytest.raises(MalformedResponseError) as caught:
        pages().add(page(next_url=next_url))
    assert str(caught.value) == f"playlist pl: page 1: {problem}"


@pytest.mark.parametrize("body, problem", [
    (None, "page 1 answered 200 without a JSON body"),
    (["a", "b"], "page 1 answered an array, not a JSON object"),
    ({"items": {"0": {}}, "next": None}, "page 1: 'items' is an object, not an array"),
    ({"next": None}, "page 1: 'items' is null, not an array"),
])
def test_a_malformed_page_fails_the_read(body, problem):
    with pytest.raises(MalformedResponseError) as caught:
        pages().add(body)
    assert str(caught.value) == f"playlist pl: {problem}"


def test_a_playlist_over_the_entry_cap_fails_on_its_first_page_when_total_says_so():
    with pytest.raises(PlaylistTooLargeError, match="has 10000 entries, over MAX_ENTRIES_PER_CHART=1000: not read"):
        pages().add(page(next_url=f"{ITEMS}?offset=50", total=10_000))


def test_a_playlist_that_would_need_more_pages_than_the_cap_fails_on_its_first_page():
    with pytest.raises(PlaylistTooLargeError, match="has 2001 entries, 41 pages of 50, over MAX_PAGES_PER_CHART=40"):
        pages(max_entries=10_000).add(page(next_url=f"{ITEMS}?offset=50", total=2001))
    assert pages(max_entries=10_000).add(page(next_url=f"{ITEMS}?offset=50", total=2000))


def test_entries_and_pages_are_counted_even_when_total_lies():
    read = pages(max_entries=120)
    read.add(page(next_url=f"{ITEMS}?offset=50", total=50))
    read.add(page(next_url=f"{ITEMS}?offset=100", total=50))
    with pytest.raises(PlaylistTooLargeError, match="over MAX_ENTRIES_PER_CHART=120 entries after 3 pages"):
        read.add(page(next_url=f"{ITEMS}?offset=150", total=50))
    short_pages = pages(max_pages=3)
    for offset in (1, 2):
        short_pages.add(page(n=1, next_url=f"{ITEMS}?offset={offset}"))
    with pytest.raises(PlaylistTooLargeError, match="more than MAX_PAGES_PER_CHART=3 pages"):
        short_pages.add(page(n=1, next_url=f"{ITEMS}?offset=3"))
