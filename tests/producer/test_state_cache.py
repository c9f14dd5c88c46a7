"""A warm container skips reading the playlist states it wrote while the poll lease shows
that no other poll ran since its own (producer/state.py), against a moto server (real S3
conditional writes over HTTP) and, for two containers, the local Spotify server."""
from __future__ import annotations

import boto3
import pytest

from producer.state import ChartSlot, LeaseHeldError, PlaylistState, StateStore
from tests.conftest import unique_name
from tests.producer.conftest import WATCHED

pytestmark = pytest.mark.moto


class CountingS3:
    """A real S3 client that counts reads of playlist states and can fail chosen writes."""

    def __init__(self, fail_puts_of: str | None = None):
        self.client, self.state_reads, self.fail_puts_of = boto3.client("s3"), 0, fail_puts_of

    def get_object(self, **kwargs):
        self.state_reads += "/playlists/" in kwargs["Key"]
        return self.client.get_object(**kwargs)

    def put_object(self, **kwargs):
        if self.fail_puts_of and kwargs["Key"].endswith(f"/{self.fail_puts_of}.json"):
            raise ConnectionError("the write may or may not have landed")
        return self.client.put_object(**kwargs)


def state(playlist_id: str, snapshot: str) -> PlaylistState:
    return PlaylistState(playlist_id, snapshot, f"poll-{snapshot}", "2024-05-08T14:00:00+00:00",
                         [ChartSlot(1, "track1", "Song", ["Artist"], ["artist1"])], ["track1"])


@pytest.fixture
def bucket(aws_endpoint) -> str:
    name = unique_name("state")
    boto3.client("s3").create_bucket(Bucket=name)
    return name


def in_lease(store: StateStore, poll_id: str, work):
    lease = store.acquire_lease(poll_id, 60)
    try:
        return work()
    finally:
        assert store.release_lease(lease)


def test_the_next_poll_of_the_same_container_reads_no_state(bucket):
    s3 = CountingS3()
    store = StateStore(bucket, "p/", s3)
    in_lease(store, "a", lambda: (store.load("x"), store.save(state("x", "s1"))))
    assert s3.state_reads == 1
    assert in_lease(store, "b", lambda: store.load("x")) == state("x", "s1") and s3.state_reads == 1
    store.load("x")  # outside a lease nothing is trusted
    assert s3.state_reads == 2


def test_a_poll_by_another_container_in_between_makes_it_read_again(bucket):
    s3 = CountingS3()
    mine, other = StateStore(bucket, "p/", s3), StateStore(bucket, "p/")
    in_lease(mine, "a", lambda: mine.save(state("x", "s1")))
    in_lease(other, "b", lambda: other.save(state("x", "s2")))
    assert in_lease(mine, "c", lambda: mine.load("x")) == state("x", "s2") and s3.state_reads == 1


def test_a_state_write_that_failed_is_read_again(bucket):
    s3 = CountingS3(fail_puts_of="x")
    store = StateStore(bucket, "p/", s3)
    in_lease(store, "a", lambda: store.save(state("y", "s1")))

    def fail_x():
        with pytest.raises(ConnectionError):
            store.save(state("x", "s1"))
    in_lease(store, "b", fail_x)
    assert in_lease(store, "c", lambda: (store.load("x"), store.load("y"))) == (None, state("y", "s1"))
    assert s3.state_reads == 1  # x only


@pytest.mark.spotify_server
def test_two_containers_taking_turns_each_start_from_the_others_state(make_poller, env, spotify):
    first, second = make_poller(), make_poller()
    assert len(first.poll("day1", lambda: 60.0).by_status("changed")) == len(WATCHED)
    spotify.control.advance(1)
    assert len(second.poll("day2", lambda: 60.0).by_status("changed")) == len(WATCHED)
    # The first container's states are a day old: it must not trust them.
    again = first.poll("day2-again", lambda: 60.0)
    assert len(again.by_status("unchanged")) == len(WATCHED) and again.records_sent == 0
    spotify.control.advance(1)
    third = first.poll("day3", lambda: 60.0)
    assert {o.previous.poll_id for o in third.by_status("changed")} == {"day2"}


def test_taking_the_lease_back_after_our_own_poll_is_one_write(bucket):
    s3 = CountingS3()
    reads = []
    s3.get_object = lambda **kwargs: (reads.append(kwargs["Key"]), s3.client.get_object(**kwargs))[1]
    store, other = StateStore(bucket, "p/", s3), StateStore(bucket, "p/")
    in_lease(store, "a", lambda: None)
    assert reads == ["p/poll.lease"]  # the first poll reads it
    in_lease(store, "b", lambda: None)
    assert reads == ["p/poll.lease"]  # ours since: taken back without a read
    held = other.acquire_lease("c", 60)
    with pytest.raises(LeaseHeldError):
        store.acquire_lease("d", 60)  # the fast path's write loses; the read says who holds it
    assert other.release_lease(held) and reads == ["p/poll.lease"] * 2
