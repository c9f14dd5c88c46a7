"""Where the monitoring commands find the pipeline's data, from the environment.

The names are the ones the stages already use, so one environment serves them all:

=========================  ===================================================  ==================
Variable                   What                                                 Read by
=========================  ===================================================  ==================
``STATE_BUCKET``           bucket of the producer's state and movement events   producer
``STATE_PREFIX``           their prefix (default ``producer-state/``)           producer
``PLAYLISTS``              ``id:label,...``: names charts by label              producer
``GLUE_CHECKPOINT_PATH``   the Glue job's ``--checkpoint_path`` (run metrics)   this package
``SNOWPIPE_QUEUE_URL``     the queue the curated bucket notifies                local Snowpipe
``SNOWFLAKE_*``            Snowflake, or ``SNOWFLAKE_LOCAL_URL`` for fakesnow   snowflake.charts
=========================  ===================================================  ==================

Every one is optional here: a view whose source is not configured says so.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Mapping

DEFAULT_STATE_PREFIX = "producer-state/"


class SettingsError(ValueError):
    """A command needs a setting that is not configured."""


@dataclass(frozen=True)
class MonitorSettings:
    state_bucket: str | None = None
    state_prefix: str = DEFAULT_STATE_PREFIX
    glue_checkpoint: str | None = None
    snowpipe_queue_url: str | None = None
    labels: dict[str, str] = field(default_factory=dict)  # playlist id -> chart label

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: str | None) -> "MonitorSettings":
        """Settings from the environment; ``overrides`` (command-line values) win when not None."""
        env = os.environ if environ is None else environ
        values = {
            "state_bucket": env.get("STATE_BUCKET") or None,
            "state_prefix": env.get("STATE_PREFIX") or DEFAULT_STATE_PREFIX,
            "glue_checkpoint": env.get("GLUE_CHECKPOINT_PATH") or None,
            "snowpipe_queue_url": env.get("SNOWPIPE_QUEUE_URL") or None,
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        prefix = values["state_prefix"]
        values["state_prefix"] = prefix if prefix.endswith("/") or not prefix else prefix + "/"
        return cls(**values, labels=playlist_labels(env.get("PLAYLISTS", "")))

    def require_state_bucket(self) -> str:
        if not self.state_bucket:
            raise SettingsError("set STATE_BUCKET (or pass --bucket): the producer's state bucket")
        return self.state_bucket


def playlist_labels(text: str) -> dict[str, str]:
    """``PLAYLISTS`` as playlist id -> label; malformed text gives what it can (labels are cosmetic here)."""
    from producer.config import ConfigError, parse_playlists

    try:
        return {p.id: p.label for p in parse_playlists(text)} if text.strip() else {}
    except ConfigError:
        return {}
