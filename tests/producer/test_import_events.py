"""Chart events of the import Lambda, through its handler with real boto3 against moto (S3,
Firehose, SNS, and an SQS subscriber), against the events computed from the CSV files alone
(benchmarks/truth/chart_events.py)."""
from __future__ import annotations

import json
from collections import Counter
from datetime import date
from pathlib import Path

import boto3
import pytest

import producer.imports
from benchmarks.truth.chart_events import export_events
from producer.import_events import HISTORY_FAILED
from tests.conftest import unique_name
from tests.producer.chart_files import bundle_files, make_zip, top_two_swapped
from tests.producer.test_event_publisher import received, subscribe
from tests.producer.test_imports import ImportSite, site  # noqa: F401 - the fixture

AR = "regional-ar-daily"


def files(chart: str, *days: int) -> list[tuple[str, bytes]]:
    return [(f"{chart}-2024-05-{day:02d}.csv", bundle_files()[f"{chart}-2024-05-{day:02d}.csv"]) for day in days]


def truth(tmp_path: Path, held: list[tuple[str, bytes]], since: str = "") -> Counter:
    """The truth's events of the files ``held`` (dated ``since`` or later)."""
    folder = tmp_path / f"truth-{len(list(tmp_path.iterdir()))}"
    folder.mkdir()
    for name, data in held:
        (folder / name).write_bytes(data)
    return Counter((e.chart, e.chart_date.isoformat(), e.event, e.track, e.position, e.artist)
                   for e in export_events(folder) if e.chart_date.isoformat() >= since)


def published(queue: str) -> Counter:
    bodies = [json.loads(n["Message"]) for n in received(queue)]
    return Counter((b["chart"], b["chart_date"], b["event"], b["track_id"], b["position"], b["artist_ids"][0])
                   for b in bodies)


@pytest.fixture
def events_site(site, monkeypatch):  # noqa: F811 - the imported fixture
    """The import site with a chart-events topic and a subscriber to every event; no age window."""
    topic = boto3.client("sns").create_topic(Name=unique_name("chart-events"))["TopicArn"]
    monkeypatch.setenv("CHART_EVENTS_TOPIC_ARN", topic)
    monkeypatch.setenv("CHART_EVENTS_MAX_AGE_DAYS", "0")
    site.queue = subscribe(topic, None)
    return site


def upload(site: ImportSite, key: str, held: list[tuple[str, bytes]]) -> dict:
    summary = site.invoke(site.upload(f"incoming/{key}/charts.zip", make_zip(held)))
    return summary["uploads"][0]


def test_an_archive_in_date_order_publishes_the_truths_events_after_each_chart_s_first_file(events_site, tmp_path):
    held = files(AR, 1, 2, 3, 4, 5, 6) + files("regional-global-daily", 1, 2, 3)
    run = upload(events_site, "u1", held)
    expected = truth(tmp_path, held)
    assert published(events_site.queue) == expected
    assert run["events"] == {"published": sum(expected.values()), "failed": 0} and len(expected) > 100
    history = json.loads(events_site.get(f"results/history/{AR}.json"))
    assert sorted(history["dates"]) == [f"2024-05-{d:02d}" for d in range(1, 7)]
    assert sorted(history["editions"]) == ["2024-05-05", "2024-05-06"]
    # The same files again, in another upload: all unchanged, nothing published twice, no history written.
    producer.imports._importer = None  # another container: it reads the histories afresh
    written = []
    producer.imports.get_importer().store.client.meta.events.register(
        "provide-client-params.s3.PutObject", lambda params, **_: written.append(params["Key"]))
    again = upload(events_site, "u2", held)
    assert again["files"] == {"unchanged": 9} and again["events"]["published"] == 0
    assert received(events_site.queue) == []
    assert written and not [key for key in written if key.startswith("results/history/")]


def test_only_editions_within_the_window_publish(events_site, tmp_path, monkeypatch):
    monkeypatch.setenv("CHART_EVENTS_MAX_AGE_DAYS", "2")
    importer = producer.imports.get_importer()
    importer.events.today = lambda: date(2024, 5, 6)  # the import's day, as its clock would say
    held = files(AR, 1, 2, 3, 4, 5, 6)
    run = upload(events_site, "u1", held)
    assert published(events_site.queue) == truth(tmp_path, held, since="2024-05-04")
    assert run["events"]["published"] == sum(truth(tmp_path, held, since="2024-05-04").values()) > 0


def test_a_backfill_publishes_nothing_and_the_next_newest_file_counts_it(events_site, tmp_path):
    upload(events_site, "u1", files(AR, 5, 6))
    assert published(events_site.queue) == truth(tmp_path, files(AR, 5, 6))
    backfill = upload(events_site, "u2", files(AR, 1, 2, 3, 4))
    assert backfill["files"] == {"loaded": 4} and backfill["events"]["published"] == 0
    assert received(events_site.queue) == []
    upload(events_site, "u3", files(AR, 7))
    # Compared with the 6th; re-entries know the backfilled days: the truth of all seven files.
    expected = truth(tmp_path, files(AR, *range(1, 8)), since="2024-05-07")
    assert published(events_site.queue) == expected
    assert any(event == "RE_ENTRY" for _, _, event, *_ in expected)


def test_a_corrected_newest_file_publishes_what_the_one_it_replaces_did_not(events_site, tmp_path):
    upload(events_site, "u1", files(AR, 1, 2, 3))
    received(events_site.queue)
    name, original = files(AR, 3)[0]
    corrected = top_two_swapped(original)
    run = upload(events_site, "u2", [(name, corrected)])
    assert run["files"] == {"replaced": 1}
    before = truth(tmp_path, files(AR, 1, 2, 3), since="2024-05-03")
    after = truth(tmp_path, files(AR, 1, 2) + [(name, corrected)], since="2024-05-03")
    added = {key for key in after if not any(key[2:4] == old[2:4] for old in before)}
    assert published(events_site.queue) == Counter(added)
    assert {key[2] for key in added} == {"NEW_NUMBER_ONE"}  # the second track is now at 1
    # The original again: it replaces the correction; its number one was announced already.
    assert upload(events_site, "u3", [(name, original)])["events"]["published"] == 0
    assert received(events_site.queue) == []


def test_publishing_that_fails_never_fails_the_import(site, tmp_path, monkeypatch, capsys):  # noqa: F811
    monkeypatch.setenv("CHART_EVENTS_TOPIC_ARN", "arn:aws:sns:us-east-1:123456789012:no-such-topic")
    monkeypatch.setenv("CHART_EVENTS_MAX_AGE_DAYS", "0")
    held = files(AR, 1, 2, 3)
    run = upload(site, "u1", held)
    assert run["status"] == "done" and run["files"] == {"loaded": 3}
    assert run["events"] == {"published": 0, "failed": sum(truth(tmp_path, held).values())}
    metrics = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    failed = run["events"]["failed"]
    assert any(m.get("ChartEventsFailed") in (failed, [float(failed)]) for m in metrics)
    assert len(site.held()) == 3  # the charts are held: only their alerts were lost


def test_a_chart_history_that_cannot_be_written_counts_its_files_as_failed(events_site, monkeypatch):
    importer = producer.imports.get_importer()

    def refuse(*args, **kwargs):
        raise RuntimeError("the history cannot be written")

    monkeypatch.setattr(importer.store, "save_history", refuse)
    run = upload(events_site, "u1", files(AR, 1, 2))
    assert run["status"] == "done" and run["files"] == {"loaded": 2}
    assert run["events"] == {"published": 0, "failed": 2}
    assert received(events_site.queue) == []
    assert HISTORY_FAILED == "HistoryNotSaved"
