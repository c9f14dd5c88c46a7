"""Local Spark for the Glue job: the job run as a child process (``glue_runner``), local-only Spark settings (``session``) and the S3 connector's jars (``s3a``)."""
from __future__ import annotations

import os
from pathlib import Path


def user_cache_dir(name: str, override_env: str) -> Path:
    """``$<override_env>``, else ``<$XDG_CACHE_HOME or ~/.cache>/spotify-charts/<name>``: outside
    the checkout, so every checkout and virtualenv of the project shares it."""
    configured = os.environ.get(override_env)
    if configured:
        return Path(configured)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "spotify-charts" / name
