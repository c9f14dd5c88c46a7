"""Where a command's CPU time goes, by process: ``python -m benchmarks.cpu_by_process -- make bench-history``.

Runs the command and, every second until it ends, reads the CPU time (user + system) of
every process it started, its children's children included (LocalStack, the Lambda runtime
LocalStack starts, the Spark JVM, fakesnow, the local Spotify server...). At the end it
prints each kind of process's CPU seconds and the command's wall time: on a 2-core machine,
CPU seconds over wall seconds says how much of the machine the run used, and which process
to make cheaper first. Linux only (``/proc``). A process that lives less than a second may
be missed; its CPU is small by then.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import NamedTuple

# The first pattern found in a process's command line names its kind.
KINDS = (
    ("localstack.runtime.main", "LocalStack"),
    ("runtime_shim", "Lambda runtime (local-process executor)"),
    ("local_spotify", "local Spotify server"),
    ("fakesnow", "fakesnow"),
    ("pyspark.daemon", "Spark's Python workers"),
    ("glue_worker", "Glue worker (Python side)"),
    ("java", "Spark JVM"),
)
TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def kind_of(command_line: str, root: bool) -> str:
    if root:
        return "the command itself"
    program, _, arguments = " ".join(command_line.split()).partition(" ")  # one line in the table
    return next((kind for pattern, kind in KINDS if pattern in command_line),
                f"other: {Path(program).name} {arguments}"[:60])


class Process(NamedTuple):
    parent: int
    cpu: float  # its own CPU seconds so far (user + system)
    waited_cpu: float  # the CPU seconds of its children it has waited for
    command_line: str


def read_processes(proc: Path = Path("/proc")) -> dict[int, Process]:
    """Every process readable now, by pid."""
    found = {}
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command_line = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:  # ended meanwhile
            continue
        fields = stat.rsplit(")", 1)[1].split()  # the name in parentheses may hold spaces
        utime, stime, cutime, cstime = (int(value) / TICKS for value in fields[11:15])
        found[int(entry.name)] = Process(int(fields[1]), utime + stime, cutime + cstime, command_line)
    return found


def tree_cpu_seconds(root: int | None = None, proc: Path = Path("/proc")) -> float | None:
    """The CPU seconds so far of ``root`` (default: this process) and every process below it,
    including the children each has already waited for; None where there is no ``/proc``."""
    if not proc.is_dir():
        return None
    processes = read_processes(proc)
    tree = descendants(os.getpid() if root is None else root, processes) & processes.keys()
    return sum(processes[pid].cpu + processes[pid].waited_cpu for pid in tree)


def descendants(root: int, processes: dict[int, Process]) -> set[int]:
    children: dict[int, list[int]] = {}
    for pid, process in processes.items():
        children.setdefault(process.parent, []).append(pid)
    found, todo = set(), [root]
    while todo:
        pid = todo.pop()
        found.add(pid)
        todo.extend(children.get(pid, []))
    return found


def cpu_by_kind(command: list[str], interval: float = 1.0) -> tuple[int, float, dict[str, float]]:
    """Run ``command``; its exit code, wall seconds and CPU seconds per kind of process."""
    started = time.monotonic()
    child = subprocess.Popen(command)
    seen: dict[int, tuple[str, float]] = {}  # pid -> (kind, the most CPU seen)
    while True:
        done = child.poll() is not None
        processes = read_processes()
        for pid in descendants(child.pid, processes) & processes.keys():
            process = processes[pid]
            kind = seen[pid][0] if pid in seen else kind_of(process.command_line, pid == child.pid)
            seen[pid] = (kind, max(process.cpu, seen.get(pid, (kind, 0.0))[1]))
        if done:
            break
        time.sleep(interval)
    totals: dict[str, float] = {}
    for kind, cpu in seen.values():
        totals[kind] = totals.get(kind, 0.0) + cpu
    return child.returncode, time.monotonic() - started, totals


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", nargs="+", help="the command to run and measure (after --)")
    args = parser.parse_args(argv)
    code, wall, totals = cpu_by_kind(args.command)
    total = sum(totals.values())
    print(f"\ncpu by process: {total:.0f} CPU seconds in {wall:.0f} s of wall time "
          f"({total / wall:.2f} cores busy on average of {os.cpu_count()})")
    for kind, cpu in sorted(totals.items(), key=lambda item: -item[1]):
        if cpu >= 0.5:
            print(f"  {kind:48s} {cpu:7.1f} s  {cpu / total:6.1%}")
    return code


if __name__ == "__main__":
    sys.exit(main())
