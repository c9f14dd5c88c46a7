"""The LocalStack hooks: ``gc.freeze()`` after every full collection, and once more at exit.

Full collections: LocalStack holds everything it serves in one interpreter (stored S3
objects and their versions, queues, logs, besides ~860,000 objects of loaded service specs
and providers). CPython runs a full (generation 2) collection whenever the objects that
survived younger collections grow by a quarter, and each one walks every object: in the
full history's replay they took 0.5 s, then 0.6, 0.7, 0.8, 1.0 s and longer as the store
grew, and every request of every stage waited meanwhile (the GIL is held). After each full
collection, what survived it is frozen: later collections skip it, so each object is walked
by at most one full collection (the pauses measured 50-260 ms). Reference counting still
frees frozen objects; only a reference cycle formed among them later stays until exit.

Exit: after SIGTERM, LocalStack 2026.3 stopped its services in about 1.5 s, then its
interpreter spent 3-5 s in exit's full garbage collections (seen with
``py-spy dump --native``: ``gc_collect_main`` and no Python frame). The last shutdown hook
freezes what is left, after LocalStack's own (``shutdown_services`` -10, ``stop_server``
-30), so persistence has saved its state by then.
"""
from __future__ import annotations

import gc
import logging
import time

from localstack.runtime import hooks

LOG = logging.getLogger(__name__)

FIRST = 1000  # before every LocalStack start hook: the services load after it
LAST = -1000  # after every LocalStack shutdown hook
FULL_COLLECTION = 2  # CPython's oldest generation


class FullCollections:
    """A ``gc.callbacks`` entry: freezes the survivors of each full collection, and times them."""

    def __init__(self, clock=time.perf_counter):
        self.clock = clock
        self.count, self.seconds, self.longest = 0, 0.0, 0.0
        self._started: float | None = None

    def __call__(self, phase: str, info: dict) -> None:
        if info.get("generation") != FULL_COLLECTION:
            return
        if phase == "start":
            self._started = self.clock()
            return
        if self._started is not None:
            pause = self.clock() - self._started
            self.count, self.seconds, self.longest = self.count + 1, self.seconds + pause, max(self.longest, pause)
            self._started = None
        gc.freeze()

    def summary(self) -> str:
        return (f"{self.count} full garbage collections, {self.seconds:.2f} s in all, the longest "
                f"{self.longest:.2f} s; {gc.get_freeze_count():,} objects frozen")


full_collections = FullCollections()


@hooks.on_infra_start(priority=FIRST)
def freeze_what_survives_full_collections() -> None:
    if full_collections not in gc.callbacks:
        gc.callbacks.append(full_collections)


@hooks.on_infra_shutdown(priority=LAST)
def freeze_objects_for_a_quick_exit() -> None:
    LOG.info("LocalStack's %s", full_collections.summary())
    gc.freeze()
