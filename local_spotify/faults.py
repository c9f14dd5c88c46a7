"""Injected HTTP faults and request statistics of the local Spotify server."""
from __future__ import annotations

import itertools
import threading
from collections import defaultdict
from dataclasses import dataclass

# Endpoints a fault can target and statistics count.
ENDPOINT_TOKEN = "token"
ENDPOINT_PLAYLIST = "playlist"
ENDPOINT_ITEMS = "items"
ENDPOINT_ANY = "any"  # a fault on any of token, playlist, items
FAULT_ENDPOINTS = (ENDPOINT_TOKEN, ENDPOINT_PLAYLIST, ENDPOINT_ITEMS, ENDPOINT_ANY)

# The statuses a fault can answer with, and Spotify's message for each.
FAULT_MESSAGES = {
    403: "Forbidden",
    404: "Resource not found",
    429: "API rate limit exceeded",
    500: "Server error.",
    502: "Bad gateway.",
    503: "Service unavailable",
    504: "Gateway timeout",
}


class FaultError(ValueError):
    """A fault request the server cannot queue."""


@dataclass
class Fault:
    id: int
    status: int
    count: int  # requests it still hits
    endpoint: str = ENDPOINT_ANY
    playlist_id: str | None = None  # None: every playlist (ignored for the token endpoint)
    retry_after: int | None = None  # seconds, sent as Retry-After (429 defaults to 1)

    @property
    def message(self) -> str:
        return FAULT_MESSAGES[self.status]

    def matches(self, endpoint: str, playlist_id: str | None) -> bool:
        if self.count <= 0 or self.endpoint not in (endpoint, ENDPOINT_ANY):
            return False
        return self.playlist_id is None or endpoint == ENDPOINT_TOKEN or self.playlist_id == playlist_id

    def to_json(self) -> dict:
        return {
            "id": self.id,
            "status": self.status,
            "count": self.count,
            "endpoint": self.endpoint,
            "playlist_id": self.playlist_id,
            "retry_after": self.retry_after,
        }


class FaultQueue:
    """Faults in the order they were queued; a request takes the first that matches."""

    def __init__(self):
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._ids = itertools.count(1)

    def add(self, spec: dict) -> Fault:
        unknown = set(spec) - {"status", "count", "endpoint", "playlist_id", "retry_after"}
        if unknown:
            raise FaultError(f"unknown fault fields: {', '.join(sorted(unknown))}")
        status = spec.get("status")
        if status not in FAULT_MESSAGES:
            raise FaultError(f"status must be one of {sorted(FAULT_MESSAGES)}, got {status!r}")
        count = spec.get("count", 1)
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            raise FaultError("count must be an integer >= 1")
        endpoint = spec.get("endpoint", ENDPOINT_ANY)
        if endpoint not in FAULT_ENDPOINTS:
            raise FaultError(f"endpoint must be one of {', '.join(FAULT_ENDPOINTS)}, got {endpoint!r}")
        retry_after = spec.get("retry_after", 1 if status == 429 else None)
        if retry_after is not None and (not isinstance(retry_after, int) or isinstance(retry_after, bool) or retry_after < 0):
            raise FaultError("retry_after must be an integer number of seconds >= 0")
        with self._lock:
            fault = Fault(next(self._ids), status, count, endpoint, spec.get("playlist_id"), retry_after)
            self._faults.append(fault)
        return fault

    def take(self, endpoint: str, playlist_id: str | None = None) -> Fault | None:
        """The fault this request hits (its count goes down by one), if any."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(endpoint, playlist_id):
                    fault.count -= 1
                    hit = Fault(**{**fault.__dict__})
                    self._faults = [f for f in self._faults if f.count > 0]
                    return hit
        return None

    def pending(self) -> list[dict]:
        with self._lock:
            return [f.to_json() for f in self._faults]

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()


class RequestStats:
    """Requests served, by endpoint and HTTP status (control requests are not counted)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._counts: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))

    def count(self, endpoint: str, status: int) -> None:
        with self._lock:
            self._counts[endpoint][status] += 1

    def to_json(self) -> dict:
        with self._lock:
            by_endpoint = {e: {str(s): n for s, n in sorted(c.items())} for e, c in sorted(self._counts.items())}
        return {
            "total": sum(sum(c.values()) for c in by_endpoint.values()),
            "by_endpoint": {e: {**c, "total": sum(c.values())} for e, c in by_endpoint.items()},
        }

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()
