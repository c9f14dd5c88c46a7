"""How much of a Lambda invocation's time is left: the producer and the import Lambda stop
their work cleanly before Lambda would cut them off."""
from __future__ import annotations

import time
from typing import Any, Callable

# Without a Lambda context (local runs), the time budget of one invocation.
DEFAULT_BUDGET_SECONDS = 120.0


def time_left_from(context: Any, margin_seconds: float = 0.0,
                   default_budget_seconds: float = DEFAULT_BUDGET_SECONDS) -> Callable[[], float]:
    """Seconds left in the invocation, less ``margin_seconds``; without a context (a local
    run), a fixed budget from now."""
    if context is not None and hasattr(context, "get_remaining_time_in_millis"):
        return lambda: context.get_remaining_time_in_millis() / 1000 - margin_seconds
    deadline = time.monotonic() + default_budget_seconds
    return lambda: deadline - time.monotonic()
