"""The job killed after writing output and before its checkpoint commits, then rerun:
no duplicate rows downstream, the same files, byte for byte.

The job runs as the local pipeline runs it (localdev.local_spark.glue_runner: a child
process in its own process group) and is killed from outside, with SIGKILL to the whole
group, as soon as its chart entries are published: as if the machine running it died."""
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


def test_killed_mid_batch_then_rerun_writes_each_row_once(job_paths, tmp_path):
    raw, target, checkpoint = job_paths["raw"], job_paths["curated"], job_paths["checkpoint"]
    write_object(raw, "obj-1", encoded(chart(3, snapshot_id="s1", observed_at="2026-11-20T10:00:00.000Z")), gzipped=True)
    write_object(raw, "obj-2", encoded(chart(3, snapshot_id="s2", observed_at="2026-11-21T10:00:00.000Z")) + [b"bad\n"])

    def chart_entries_published() -> bool:  # both days' files, whole (chart_daily comes after them)
        return sum(is_complete_parquet(p) for p in target.glob("chart_entries/*/*.parquet")) == 2

    with pytest.raises(GlueJobError) as killed:
        run_job(job_paths, tmp_path, kill_when=chart_entries_published)
    assert killed.value.run.killed and killed.value.run.exit_code == -9
    first_attempt = digests(target)
    assert sorted(k for k in first_attempt if k.startswith("chart_entries/")) == [
        f"chart_entries/chart_date=2026-11-2{d}/chart_entries-000000-{_query_prefix(checkpoint)}.parquet"
        for d in (0, 1)]
    # Day aggregates come after their entries: not yet. Tracks are written beside the
    # entries and may or may not be out.
    assert not [k for k in first_attempt if k.startswith("chart_daily/")]
    assert (checkpoint / "stream/offsets/0").exists() and not (checkpoint / "stream/commits/0").exists()

    summary = run_job(job_paths, tmp_path).metrics
    assert [b["batch_id"][:6] for b in summary["batch_details"]] == ["000000"]  # the same batch, replayed
    assert (summary["records_read"], summary["curated"], summary["quarantined"], summary["duplicates"]) == (7, 6, 1, 0)
    assert (checkpoint / "stream/commits/0").exists()

    after = digests(target)
    assert {k: after[k] for k in first_attempt} == first_attempt  # same names, same bytes: loaders see no change
    assert {Path(k).parts[0] for k in after} == {"chart_entries", "tracks", "chart_daily"}
    entries = [r for f in sorted(target.glob("chart_entries/*/*.parquet"))
               for r in pq.read_table(f, partitioning=None).to_pylist()]
    keys = [(r["playlist_id"], r["snapshot_id"], r["position"]) for r in entries]
    assert len(keys) == len(set(keys)) == 6
    quarantined = list(job_paths["quarantine"].rglob("*.parquet"))
    assert len(quarantined) == 1 and pq.read_table(quarantined[0], partitioning=None).num_rows == 1
    assert not list((checkpoint / "staging").rglob("*.parquet"))  # staging cleaned up

    assert run_job(job_paths, tmp_path).metrics["batches"] == 0  # nothing new: nothing written
    assert digests(target) == after


def _query_prefix(checkpoint: Path) -> str:
    return json.loads((checkpoint / "stream/metadata").read_text())["id"].replace("-", "")[:8]
