"""The job end to end, in process: counts, output layout and types, incremental runs."""
import gzip
import json
import re
import shutil
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from glue_streaming import curated, job
from tests.glue_streaming.raw_data import chart, encoded, job_arguments, json_line, observation, record, write_object



def run_job(spark, paths, **extra):
    return job.run(spark, job.JobSettings.from_arguments(job_arguments(paths, **extra)))


def parquet_files(root: Path) -> dict[str, tuple[int, int]]:
    """Every Parquet file under root: relative path -> (size, mtime in ns)."""
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns) for p in root.rglob("*.parquet")}


def read_file(path: Path, columns: list[str] | None = None):
    """One Parquet file as written (no partition inferred from its folder: the column is in the file)."""
    return pq.read_table(path, columns=columns, partitioning=None)


def rows(root: Path, dataset: str) -> list[dict]:
    files = sorted(root.glob(f"{dataset}/*/*.parquet"))
    return [r for f in files for r in read_file(f).to_pylist()]


def test_conservation_with_a_known_mix_of_lines(spark, job_paths):
    """curated + observations + quarantined = lines read, exactly: the job drops nothing
    (duplicates included: Snowflake's MERGE is the one that dedupes)."""
    raw = job_paths["raw"]
    first_poll = chart(3, poll_id="poll-1", snapshot_id="s1", observed_at="2026-11-20T10:00:00.000Z")
    first_seen = observation(poll_id="poll-1", snapshot_id="s1", observed_at="2026-11-20T10:00:00.000Z")
    without_position = {k: v for k, v in record().items() if k != "position"}
    write_object(raw, "f1", [
        *encoded(first_poll), *encoded([first_seen]),  # 3 curated, 1 observation
        b"\n",  # blank: not a record
        b"not json\n", json_line({**record(), "schema_version": 4}), json_line(without_position),
        json_line({**record(), "position": 0}),  # 4 quarantined
    ])
    write_object(raw, "f2", [
        *encoded(chart(3, poll_id="poll-2", snapshot_id="s1", observed_at="2026-11-20T11:00:00.000Z")),  # 3 again
        *encoded(chart(3, poll_id="poll-2", snapshot_id="s2", observed_at="2026-11-20T11:00:00.000Z")),  # 3 curated
        *encoded([observation(poll_id="poll-2", snapshot_id="s2", observed_at="2026-11-20T11:00:00.000Z")]),  # 1
        b'{"schema_version":1,"poll_id":"\xff"}\n',  # 1 quarantined: not UTF-8
    ], gzipped=True)
    write_object(raw, "f3", encoded([*first_poll[:1], first_seen]), gzipped=True)  # 2 redelivered lines
    (raw / "f4").write_bytes(gzip.compress(b"".join(encoded(first_poll)))[:40])  # 1 quarantined: truncated
    (raw / "f5").write_bytes(b"")  # empty object: no records (Spark does not even list it as read)

    metrics = run_job(spark, job_paths)

    names = ("files_read", "records_read", "curated", "observations", "quarantined")
    totals = {k: metrics.total(k) for k in names}
    assert totals == {"files_read": 4, "records_read": 19, "curated": 10, "observations": 3, "quarantined": 6}
    assert totals["curated"] + totals["observations"] + totals["quarantined"] == totals["records_read"]
    seen = rows(job_paths["curated"], "chart_observations")
    assert sorted((r["poll_id"], r["snapshot_id"], r["source_file"].rsplit("/", 1)[-1]) for r in seen) == [
        ("poll-1", "s1", "f1"), ("poll-1", "s1", "f3"), ("poll-2", "s2", "f2")]
    entries = rows(job_paths["curated"], "chart_entries")
    assert len(entries) == 10
    assert len({(r["playlist_id"], r["snapshot_id"], r["position"]) for r in entries}) == 6
    assert {r["poll_id"] for r in entries if r["snapshot_id"] == "s1"} == {"poll-1", "poll-2"}
    quarantined = [r for f in job_paths["quarantine"].rglob("*.parquet") for r in read_file(f).to_pylist()]
    assert len(quarantined) == 6
    reasons = sorted(r["reason"].split(":")[0] for r in quarantined)
    assert reasons == ["invalid record", "invalid record", "malformed JSON", "not UTF-8", "unreadable file",
                       "unsupported schema_version"]
    assert {r["source_file"].rsplit("/", 1)[-1] for r in quarantined} == {"f1", "f2", "f4"}
    assert "not json" in {r["raw_line"] for r in quarantined}

    # Counts are also written next to the checkpoint.
    [metrics_file] = (job_paths["checkpoint"] / "run_metrics").glob("run-*.json")
    assert json.loads(metrics_file.read_text())["records_read"] == 19


def test_output_layout_and_parquet_types(spark, job_paths):
    write_object(job_paths["raw"], "a", encoded(
        chart(2, observed_at="2026-11-20T23:59:59.999Z") + chart(2, snapshot_id="s9", observed_at="2026-11-21T00:00:01Z")
        + [observation(observed_at="2026-11-20T23:59:59.999Z"),
           observation(poll_id="poll-2", snapshot_id="s9", observed_at="2026-11-21T00:00:01Z"),
           # A source that states its chart's date (a daily export read the day after): that date wins.
           observation(poll_id="export", snapshot_id="csv-2026-11-19", chart_date="2026-11-19",
                       observed_at="2026-11-21T08:00:00Z")]
    ), gzipped=True)
    write_object(job_paths["raw"], "b", [b"broken\n"])
    run_job(spark, job_paths)

    target = job_paths["curated"]
    for dataset in curated.DATASETS.values():
        files = sorted(target.glob(f"{dataset.name}/*/*.parquet"))
        assert files, dataset.name
        for path in files:
            assert re.fullmatch(rf"chart_date=\d{{4}}-\d\d-\d\d/{dataset.name}-\d{{6}}-[0-9a-f]{{8}}\.parquet",
                                str(path.relative_to(target / dataset.name)))
            schema = pq.read_schema(path)
            assert schema.names == list(dataset.column_names)  # chart_date is inside the file too
            folder_date = path.parent.name.split("=")[1]
            assert {str(d) for d in read_file(path, ["chart_date"]).column(0).to_pylist()} == {folder_date}
    schema = pq.read_schema(next(target.glob("chart_entries/*/*.parquet")))
    assert schema.field("chart_date").type == pa.date32()
    assert schema.field("observed_at").type == pa.timestamp("us", tz="UTC")
    assert schema.field("position").type == pa.int64() and schema.field("explicit").type == pa.bool_()
    assert schema.field("artist_ids").type == pa.list_(pa.string())
    dates = sorted(p.name for p in (target / "chart_entries").iterdir())
    assert dates == ["chart_date=2026-11-20", "chart_date=2026-11-21"]  # UTC dates of observed_at
    observed = sorted((str(r["chart_date"]), r["poll_id"]) for r in rows(target, "chart_observations"))
    assert observed == [("2026-11-19", "export"), ("2026-11-20", "poll-1"), ("2026-11-21", "poll-2")]

    [quarantine_file] = job_paths["quarantine"].rglob("*.parquet")
    assert re.fullmatch(r"run_date=\d{4}-\d\d-\d\d", quarantine_file.parent.name)
    assert pq.read_schema(quarantine_file).names == list(curated.QUARANTINE_DATASET.column_names)

    # DuckDB (and so Snowflake's Parquet reader) sees the same rows and types.
    [(count, observed)] = duckdb.sql(
        f"select count(*), max(observed_at) from read_parquet('{target}/chart_entries/*/*.parquet')").fetchall()
    assert count == 4 and observed.isoformat().startswith("2026-11-21T00:00:01")


def test_each_run_reads_only_new_files_and_a_run_without_new_files_writes_nothing(spark, job_paths):
    raw, target = job_paths["raw"], job_paths["curated"]
    first = chart(3, poll_id="p10", snapshot_id="s1", observed_at="2026-11-20T10:00:00.000Z")
    write_object(raw, "dt=2026-11-20/hour=10/obj-1", encoded(first), gzipped=True)
    run1 = run_job(spark, job_paths)

    write_object(raw, "dt=2026-11-20/hour=11/obj-2", encoded(
        chart(3, poll_id="p11", snapshot_id="s1", observed_at="2026-11-20T11:00:00.000Z")
        + chart(2, poll_id="p11", snapshot_id="s2", observed_at="2026-11-20T11:00:00.000Z")), gzipped=True)
    run2 = run_job(spark, job_paths)

    shutil.copy(raw / "dt=2026-11-20/hour=10/obj-1", raw / "obj-1-redelivered")  # the same input again
    run3 = run_job(spark, job_paths)

    before = {**parquet_files(target), **parquet_files(job_paths["quarantine"])}
    run4 = run_job(spark, job_paths)

    assert [r.total("batches") for r in (run1, run2, run3, run4)] == [1, 1, 1, 0]
    assert [r.total("files_read") for r in (run1, run2, run3)] == [1, 1, 1]
    assert [r.total("curated") for r in (run1, run2, run3)] == [3, 5, 3]  # run 3: the redelivery, for the MERGE
    assert {**parquet_files(target), **parquet_files(job_paths["quarantine"])} == before  # run 4 wrote nothing

    entries = rows(target, "chart_entries")
    assert len(entries) == 11
    by_batch = {}
    for r in entries:
        by_batch.setdefault(r["batch_id"], set()).add(r["source_file"].rsplit("/", 1)[-1])
    # each run read only its new file
    assert sorted(by_batch.values(), key=sorted) == [{"obj-1"}, {"obj-1-redelivered"}, {"obj-2"}]


def test_a_source_folder_that_does_not_exist_yet_is_an_empty_run(spark, tmp_path):
    paths = {name: tmp_path / name for name in ("raw", "curated", "quarantine", "checkpoint")}
    metrics = run_job(spark, paths)
    assert metrics.total("batches") == 0 and not paths["curated"].exists()


def test_a_backlog_split_into_batches_is_curated_once(spark, job_paths):
    for hour in (10, 11, 12):
        write_object(job_paths["raw"], f"obj-{hour}", encoded(
            chart(2, poll_id=f"p{hour}", snapshot_id="s1" if hour < 12 else "s2",
                  observed_at=f"2026-11-20T{hour}:00:00.000Z")), gzipped=True)
    metrics = run_job(spark, job_paths, max_files_per_trigger="1")
    assert [b.files_read for b in metrics.batches] == [1, 1, 1]
    assert metrics.total("curated") == 6
    assert sorted({r["batch_id"][:6] for r in rows(job_paths["curated"], "chart_entries")}) == [
        "000000", "000001", "000002"]


def test_each_batch_writes_a_manifest_of_the_files_and_keys_it_curated(spark, job_paths):
    """Reconciliation's curated ledger (firehose/ledger.py): every published file, with the
    contract keys it holds, exactly those of its rows; rejected lines are in none."""
    from firehose import ledger

    write_object(job_paths["raw"], "a", encoded(
        chart(3, snapshot_id="s1", observed_at="2026-11-20T10:00:00Z")
        + chart(2, snapshot_id="s2", observed_at="2026-11-21T10:00:00Z", poll_id="poll-2")
        + [observation(snapshot_id="s1", observed_at="2026-11-20T10:00:00Z"),
           observation(poll_id="poll-2", snapshot_id="s2", observed_at="2026-11-21T10:00:00Z")]
    ) + [json_line({**record(), "position": 0})])
    run_job(spark, job_paths)

    [manifest] = (job_paths["checkpoint"] / "manifests").glob("*.json")
    files = ledger.read_manifest(manifest.read_text())
    written = sorted(p.relative_to(job_paths["curated"]).as_posix() for p in job_paths["curated"].rglob("*.parquet"))
    assert sorted(Path(f.key.removeprefix("file:")).relative_to(job_paths["curated"]).as_posix()
                  for f in files) == written
    keys = ledger.CuratedKeys()
    keys.add(files)
    entries = rows(job_paths["curated"], "chart_entries")
    assert set(keys.entries) == {(r["playlist_id"], r["snapshot_id"], r["position"]) for r in entries}
    assert set(keys.observations) == {(r["playlist_id"], r["poll_id"]) for r in rows(job_paths["curated"],
                                                                                     "chart_observations")}
    for key, file in keys.entries.items():  # each key names the file that holds it
        held = read_file(Path(file.removeprefix("file:")), ["playlist_id", "snapshot_id", "position"]).to_pylist()
        assert dict(zip(("playlist_id", "snapshot_id", "position"), key)) in held
    assert manifest.name == f"{entries[0]['batch_id']}.json"
