"""The LocalStack hook: ``gc.freeze()`` once the services and the gateway have stopped.

After SIGTERM, LocalStack 2026.3 stopped its services in about 1.5 s, then its interpreter
spent 3-5 s in exit's full garbage collections, over everything it had loaded (service
specs, providers, their stores: millions of objects that live until the end anyway; seen
with ``py-spy dump --native``: ``gc_collect_main`` and no Python frame). Frozen objects are
left out of every collection; reference counting still frees them, and a cycle among them
is simply not collected before the process ends. Persistence has saved its state by then:
this runs after LocalStack's own shutdown hooks (``shutdown_services`` -10, ``stop_server`` -30).
"""
from __future__ import annotations

import gc

from localstack.runtime import hooks

LAST = -1000  # after every LocalStack shutdown hook


@hooks.on_infra_shutdown(priority=LAST)
def freeze_objects_for_a_quick_exit() -> None:
    gc.freeze()
