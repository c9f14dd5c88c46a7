"""The job killed after writing output and before its checkpoint commits, then rerun:
no duplicate rows downstream, the same files, byte for byte.

The job runs as the local pipeline runs it (localdev.local_spark.glue_runner: a child
process in its own process group) and is killed from outside, with SIGKILL to the whole
group, as soon as its first chart entries file is published: as if the machine running it died."""
import hashlib
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from localdev.local_spark.glue_runner import GlueJobError, GluePaths, run_glue_job
from tests.glue_streaming.raw_data import chart, encoded, write_object

pytestmark = pytest.mark.spark


def run_job(job_paths, tmp_path, **kwargs):
    """One run of ``python -m glue_streaming.job`` over the test's folders; returns its GlueRun."""
    paths = GluePaths(job_paths["raw"], job_paths["curated"], job_paths["quarantine"], job_paths["checkpoint"])
    return run_glue_job(paths, tmp_path / "glue.log", job_arguments={"shuffle_partitions": "4"}, **kwargs)


def is_complete_parquet(path: Path) -> bool:
    """A whole Parquet file starts and ends with PAR1; a write cut short has no footer."""
    data = path.read_bytes()
    return len(data) >= 8 and data[:4] == b"PAR1" and data[-4:] == b"PAR1"


def digests(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in root.rglob("*.parquet")}


DAYS = 40  # one chart entries file per day: publishing them takes long enough to be caught half way


def test_killed_mid_batch_then_rerun_writes_each_row_once(job_paths, tmp_path):
    raw, target, checkpoint = job_paths["raw"], job_paths["curated"], job_paths["checkpoint"]
    days = [f"2026-10-{d:02d}" if d <= 31 else f"2026-11-{d - 31:02d}" for d in range(1, DAYS + 1)]
    write_object(raw, "obj-1", [line for day in days for line in encoded(
        chart(3, snapshot_id=f"s-{day}", observed_at=f"{day}T10:00:00.000Z"))], gzipped=True)
    write_object(raw, "obj-2", [b"bad\n"])

    def chart_entries_published() -> bool:  # the first day's file, whole: the others are still to come
        return any(is_complete_parquet(p) for p in target.glob("chart_entries/*/*.parquet"))

    with pytest.raises(GlueJobError) as killed:
        run_job(job_paths, tmp_path, kill_when=chart_entries_published)
    assert killed.value.run.killed and killed.value.run.exit_code == -9
    first_attempt = digests(target)
    prefix = _query_prefix(checkpoint)
    assert first_attempt and all(k.startswith("chart_entries/") and k.endswith(f"chart_entries-000000-{prefix}.parquet")
                                 for k in first_attempt)
    assert (checkpoint / "stream/offsets/0").exists() and not (checkpoint / "stream/commits/0").exists()

    summary = run_job(job_paths, tmp_path).metrics
    assert [b["batch_id"][:6] for b in summary["batch_details"]] == ["000000"]  # the same batch, replayed
    assert (summary["records_read"], summary["curated"], summary["quarantined"]) == (3 * DAYS + 1, 3 * DAYS, 1)
    assert (checkpoint / "stream/commits/0").exists()

    after = digests(target)
    assert {k: after[k] for k in first_attempt} == first_attempt  # same names, same bytes: loaders see no change
    assert len(after) == DAYS and {Path(k).parts[0] for k in after} == {"chart_entries"}
    entries = [r for f in sorted(target.glob("chart_entries/*/*.parquet"))
               for r in pq.read_table(f, partitioning=None).to_pylist()]
    keys = [(r["playlist_id"], r["snapshot_id"], r["position"]) for r in entries]
    assert len(keys) == len(set(keys)) == 3 * DAYS  # the replay added the missing files, nothing twice
    quarantined = list(job_paths["quarantine"].rglob("*.parquet"))
    assert len(quarantined) == 1 and pq.read_table(quarantined[0], partitioning=None).num_rows == 1
    assert not list((checkpoint / "staging").rglob("*.parquet"))  # staging cleaned up

    assert run_job(job_paths, tmp_path).metrics["batches"] == 0  # nothing new: nothing written
    assert digests(target) == after


def _query_prefix(checkpoint: Path) -> str:
    return json.loads((checkpoint / "stream/metadata").read_text())["id"].replace("-", "")[:8]
