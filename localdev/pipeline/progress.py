"""The pipeline's progress lines: ``<stage>  <what happened, with counts>``, one per step."""
from __future__ import annotations

from typing import Any, Callable, TextIO

from spotify_charts.text import movements_text

Say = Callable[[str, str], None]  # say(stage, message): one progress line


def print_line(out: TextIO) -> Say:
    def say(stage: str, message: str) -> None:
        print(f"{stage:<10} {message}", file=out, flush=True)
    return say


def poll_text(summary: dict[str, Any]) -> str:
    """One poll's summary in words: what the charts did, what went to Firehose, what moved."""
    return (f"changed {len(summary['changed'])}, unchanged {len(summary['unchanged'])}, failed "
            f"{len(summary['failed'])}, deferred {len(summary['deferred'])}; {summary['records_sent']} records and "
            f"{summary.get('observations_sent', 0)} observations to Firehose; movements: "
            f"{movements_text(summary['movements'])}")


def minutes(seconds: float) -> str:
    """``7m12s`` (``42.0s`` under a minute)."""
    return f"{seconds:.1f}s" if seconds < 60 else f"{int(seconds // 60)}m{int(seconds % 60):02d}s"
