"""Headless Chromium for the dashboard's tests and pictures: render a page (its scripts run,
its fetches answer) and return the DOM and the console's messages (Content-Security-Policy
violations show there), or save a screenshot. Debian's ``chromium`` package (``apt-get
install chromium``). Each run gets a fresh profile and is stopped by pid. (Dev tooling, so
that the dashboard benchmark can take pictures too: benchmarks may not import tests.)"""
from __future__ import annotations

import os
import re
import shutil
import signal
import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path

# Flags for a closed network (no background connections, no updates) and a root user;
# the page's console messages go to stderr.
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--force-device-scale-factor=1", "--enable-logging=stderr", "--v=0"]
# A console message in Chromium's log: [pid:tid:time:INFO:CONSOLE:line] "message", source: url (line)
CONSOLE_LINE = re.compile(r':CONSOLE[^\]]*\] "(?P<message>.*)", source: ')


class BrowserError(RuntimeError):
    """Chromium is missing or did not render the page."""


def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        raise BrowserError("chromium is not installed (Debian: apt-get install chromium)")
    return path


@dataclass
class RenderedPage:
    dom: str
    console: list[str]  # the page's console messages, in order


def _run(args: list[str], profile: Path, timeout: float) -> RenderedPage:
    # Its own session, so its helper processes (zygote, renderer) go with it.
    process = subprocess.Popen([chromium(), *FLAGS, f"--user-data-dir={profile}", *args], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise BrowserError(f"chromium did not finish in {timeout:.0f} s") from None
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    if process.returncode != 0:
        raise BrowserError(f"chromium exited with {process.returncode}")
    return RenderedPage(out, [m.group("message") for m in CONSOLE_LINE.finditer(err)])


def render(url: str, workdir: Path, budget_ms: int = 20000, window: tuple[int, int] = (1440, 1800),
           timeout: float = 90) -> RenderedPage:
    """The DOM after the page's scripts ran (virtual time lets its fetches finish first)."""
    return _run([f"--virtual-time-budget={budget_ms}", f"--window-size={window[0]},{window[1]}", "--dump-dom", url],
                workdir / "profile-dom", timeout)


def screenshot(url: str, path: Path, workdir: Path, budget_ms: int = 20000,
               window: tuple[int, int] = (1440, 1800), timeout: float = 90) -> tuple[int, int]:
    """Save a PNG of the rendered page; returns its (width, height)."""
    _run([f"--virtual-time-budget={budget_ms}", f"--window-size={window[0]},{window[1]}",
          f"--screenshot={path}", url], workdir / "profile-shot", timeout)
    data = path.read_bytes()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise BrowserError(f"{path} is not a PNG")
    return struct.unpack(">II", data[16:24])
