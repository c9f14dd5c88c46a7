"""The unit tier starts nothing: a test without a resource marker that tries fails (tests/conftest.py)."""
from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from localdev.process import ManagedProcess, http_ready


def test_this_test_is_in_the_unit_tier(request):
    assert request.node.get_closest_marker("unit") is not None


def test_a_unit_test_may_not_listen_on_a_socket():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        with pytest.raises(AssertionError, match="may not listen on a socket"):
            sock.listen()


def test_a_unit_test_may_not_start_a_local_server():
    with pytest.raises(AssertionError, match="may not start a local server"):
        ManagedProcess([sys.executable, "-m", "http.server"], ready=http_ready("http://127.0.0.1:9/")).start()


@pytest.mark.parametrize("argv", [["java", "-version"], ["/opt/spark/bin/spark-submit", "pyspark-shell"],
                                  [sys.executable, "-m", "glue_streaming.job", "--help"], "chromium --headless"])
def test_a_unit_test_may_not_start_a_jvm_or_a_browser(argv):
    with pytest.raises(AssertionError, match="may not start a JVM or a browser"):
        subprocess.Popen(argv)


def test_a_unit_test_may_run_a_short_child_process():
    assert subprocess.run([sys.executable, "-c", "print(6 * 7)"], capture_output=True, text=True).stdout == "42\n"
