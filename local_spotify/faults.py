"""Injected HTTP faults and request statistics of the local Spotify server.

A fault answers a request with an error status (``status``), or with a 200 whose body is
not what the API promises (``malformed``, one of :data:`MALFORMED_BODIES`)."""
from __future__ import annotations

import itertools
import json
import threading
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

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


# Malformed 200 answers of the playlist endpoints: what each does to the real body.
MALFORMED_NOT_JSON = "not_json"  # an HTML error page, as a proxy in front of an API may send
MALFORMED_TRUNCATED = "truncated_json"  # the real JSON cut in the middle
MALFORMED_NOT_OBJECT = "not_object"  # a JSON array instead of an object
MALFORMED_NO_SNAPSHOT = "no_snapshot_id"  # the real object without its snapshot_id
MALFORMED_ITEMS_NOT_LIST = "items_not_list"  # the real page with 'items' an object
MALFORMED_BODIES = (MALFORMED_NOT_JSON, MALFORMED_TRUNCATED, MALFORMED_NOT_OBJECT, MALFORMED_NO_SNAPSHOT,
                    MALFORMED_ITEMS_NOT_LIST)
NOT_JSON_PAGE = b"<html><body><h1>502 Bad Gateway</h1></body></html>"


class FaultError(ValueError):
    """A fault request the server cannot queue."""


@dataclass
class Fault:
    id: int
    status: int | None  # None: a malformed 200
    count: int  # requests it still hits
    endpoint: str = ENDPOINT_ANY
    playlist_id: str | None = None  # None: every playlist (ignored for the token endpoint)
    retry_after: int | None = None  # seconds, sent as Retry-After (429 defaults to 1)
    malformed: str | None = None  # one of MALFORMED_BODIES (playlist endpoints only)

    @property
    def message(self) -> str:
        return FAULT_MESSAGES[self.status]

    def matches(self, endpoint: str, playlist_id: str | None) -> bool:
        if self.count <= 0 or self.endpoint not in (endpoint, ENDPOINT_ANY):
            return False
        if self.malformed and endpoint == ENDPOINT_TOKEN:
            return False
        return self.playlist_id is None or endpoint == ENDPOINT_TOKEN or self.playlist_id == playlist_id

    def to_json(self) -> dict:
        return {
            "id": self.id,
            "status": self.status,
            "malformed": self.malformed,
            "count": self.count,
            "endpoint": self.endpoint,
            "playlist_id": self.playlist_id,
            "retry_after": self.retry_after,
        }


def malformed_body(kind: str, body: Any) -> tuple[bytes, str]:
    """(bytes, content type) of a malformed 200 made from the real JSON ``body``."""
    if kind == MALFORMED_NOT_JSON:
        return NOT_JSON_PAGE, "text/html; charset=utf-8"
    if kind == MALFORMED_NOT_OBJECT:
        body = ["not", "an", "object"]
    elif kind == MALFORMED_NO_SNAPSHOT and isinstance(body, dict):
        body = {k: v for k, v in body.items() if k != "snapshot_id"}
    elif kind == MALFORMED_ITEMS_NOT_LIST and isinstance(body, dict):
        body = {**body, "items": {"unexpected": "an object where a list belongs"}}
    data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    if kind == MALFORMED_TRUNCATED:
        data = data[: len(data) // 2]
    return data, "application/json; charset=utf-8"


class FaultQueue:
    """Faults in the order they were queued; a request takes the first that matches."""

    def __init__(self):
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._ids = itertools.count(1)

    def add(self, spec: dict) -> Fault:
        unknown = set(spec) - {"status", "malformed", "count", "endpoint", "playlist_id", "retry_after"}
        if unknown:
            raise FaultError(f"unknown fault fields: {', '.join(sorted(unknown))}")
        status, malformed = spec.get("status"), spec.get("malformed")
        if malformed is not None:
            if status is not None:
                raise FaultError("a fault has a status or a malformed body, not both")
            if malformed not in MALFORMED_BODIES:
                raise FaultError(f"malformed must be one of {', '.join(MALFORMED_BODIES)}, got {malformed!r}")
            if spec.get("endpoint") == ENDPOINT_TOKEN:
                raise FaultError("malformed bodies are for the playlist endpoints, not the token endpoint")
        elif status not in FAULT_MESSAGES:
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
            fault = Fault(next(self._ids), status, count, endpoint, spec.get("playlist_id"), retry_after, malformed)
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
