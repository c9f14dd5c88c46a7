"""benchmarks/cpu_by_process.py: a command's CPU seconds by process, its descendants only."""
from __future__ import annotations

import subprocess
import sys
import textwrap
import time

import pytest

from benchmarks.cpu_by_process import Process, cpu_by_kind, descendants, kind_of, tree_cpu_seconds

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")

BUSY = "# {name}\nimport time\nend = time.process_time() + {seconds}\nwhile time.process_time() < end: pass\n"


def test_a_grandchild_s_cpu_is_counted_and_an_unrelated_process_s_is_not():
    # The command starts a busy grandchild (as make starts the benchmark, which starts LocalStack).
    command = textwrap.dedent(f"""
        import subprocess, sys
        subprocess.run([sys.executable, "-c", {BUSY.format(name='grandchild', seconds=1.5)!r}], check=True)
        sys.exit(3)
    """)
    outsider = subprocess.Popen([sys.executable, "-c", BUSY.format(name='outsider', seconds=2.5)])
    try:
        code, wall, totals = cpu_by_kind([sys.executable, "-c", command], interval=0.2)
    finally:
        outsider.wait()
    assert code == 3
    grandchild = [cpu for kind, cpu in totals.items() if "grandchild" in kind]
    assert grandchild and 1.2 <= grandchild[0] <= wall + 0.5, totals
    assert not any("outsider" in kind for kind in totals), totals
    assert sum(totals.values()) < 2.5, totals  # the outsider's 2.5 s are not in it


def test_descendants_follow_parents_and_kinds_come_from_the_command_line():
    processes = {pid: Process(parent, 1.0, 0.0, command) for pid, parent, command in (
        (1, 0, "init"), (10, 1, "make"), (11, 10, "python bench"), (12, 11, "python -m localstack.runtime.main"),
        (13, 12, "python runtime_shim.py"), (20, 1, "someone else"))}
    assert descendants(10, processes) == {10, 11, 12, 13}
    assert kind_of("python -m localstack.runtime.main", root=False) == "LocalStack"
    assert kind_of("/usr/bin/java -cp spark", root=False) == "Spark JVM"
    assert kind_of("make bench-history", root=True) == "the command itself"
    assert kind_of("/usr/local/bin/python3 something.py --flag", root=False) == "other: python3 something.py --flag"


def test_the_tree_s_cpu_holds_children_already_waited_for_and_running_ones():
    before = tree_cpu_seconds()
    subprocess.run([sys.executable, "-c", BUSY.format(name="waited", seconds=1.0)], check=True)
    waited = tree_cpu_seconds() - before
    assert 0.9 <= waited < 1.5  # the child this process waited for (its own CPU is a few ms)
    running = subprocess.Popen([sys.executable, "-c", BUSY.format(name="running", seconds=30)])
    try:
        deadline = time.monotonic() + 20
        while tree_cpu_seconds() - before < waited + 1.0 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert tree_cpu_seconds() - before >= waited + 1.0, "a running child's CPU is not counted"
    finally:
        running.kill()
        running.wait()
