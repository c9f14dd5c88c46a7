import pytest

from producer.state import StateStore
from tests.producer.test_poll import poll



def test_every_poll_leaves_a_heartbeat_even_when_nothing_changed(make_poller, env):
    poller = make_poller()
    state = StateStore(env["STATE_BUCKET"], env["STATE_PREFIX"])
    assert state.load_last_poll() is None
    poll(poller, "first")
    poll(poller, "second")  # every chart unchanged: no chart state written, but a heartbeat
    heartbeat = state.load_last_poll()
    assert heartbeat["poll_id"] == "second" and heartbeat["changed"] == [] and len(heartbeat["unchanged"]) == 3
    assert heartbeat["finished_at"].endswith("+00:00")
