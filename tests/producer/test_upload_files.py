"""Reading an uploaded object's files: zips as users make them, and hostile ones."""
from __future__ import annotations

import gzip
import io
import struct
import tracemalloc
import zipfile

import pytest

from producer.chart_export import ChartFileError, RejectionError
from producer.upload_files import UploadError, UploadLimits, check_entry_name, open_upload
from tests.producer.chart_files import AR_DAY, MiB, bundle_files, bundle_zip, make_zip, real, zeros_zip



def refusal_and_peak_memory(action) -> tuple[RejectionError, int]:
    """The error ``action`` raised, and the most memory Python held meanwhile."""
    tracemalloc.start()
    try:
        with pytest.raises(RejectionError) as raised:
            action()
        return raised.value, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_the_bundle_zip_lists_every_file_in_order():
    files = open_upload("incoming/me/chart-exports-2024-05.zip", bundle_zip())
    assert [e.name for e in files.entries] == list(bundle_files())
    assert [e.index for e in files.entries] == list(range(65))
    assert files.read(files.entries[0]) == bundle_files()[files.entries[0].name]


def test_folders_macos_forks_and_os_metadata_are_ignored():
    data = make_zip([("__MACOSX/._" + AR_DAY, b"\x00\x05\x16\x07"), (".DS_Store", b"\x00\x00\x00\x01Bud1"),
                     (AR_DAY, real(AR_DAY)), ("Thumbs.db", b"\xd0\xcf")])
    with zipfile.ZipFile(io.BytesIO(data), "a") as archive:
        archive.writestr(zipfile.ZipInfo("empty folder/"), b"")
    assert [e.name for e in open_upload("incoming/a.zip", data).entries] == [AR_DAY]


@pytest.mark.parametrize("name", ["charts/" + AR_DAY, "../" + AR_DAY, "/tmp/" + AR_DAY, "charts\\" + AR_DAY])
def test_an_entry_with_a_path_is_refused_by_its_name(name):
    files = open_upload("incoming/a.zip", make_zip([(name, real(AR_DAY)), (AR_DAY, real(AR_DAY))]))
    assert [e.name for e in files.entries] == [name, AR_DAY]
    with pytest.raises(ChartFileError) as raised:
        check_entry_name(files.entries[0].name)
    assert raised.value.code == "entry_path" and "inside a folder" in raised.value.reason
    check_entry_name(files.entries[1].name)
    assert files.read(files.entries[0]) == files.read(files.entries[1]) == real(AR_DAY)  # kept as is when rejected


def test_a_zip_over_the_entry_count_is_rejected_whole():
    with pytest.raises(UploadError) as raised:
        open_upload("incoming/a.zip", bundle_zip(), UploadLimits(max_zip_entries=64))
    assert raised.value.code == "zip_too_many_entries" and "65 files, over the limit of 64" in raised.value.reason


def test_a_zip_over_the_total_size_is_rejected_before_anything_is_decompressed():
    total = sum(len(data) for data in bundle_files().values())
    with pytest.raises(UploadError) as raised:
        open_upload("incoming/a.zip", bundle_zip(), UploadLimits(max_zip_bytes=total - 1))
    assert raised.value.code == "zip_too_large" and f"{total:,} bytes" in raised.value.reason


def test_a_zip_bomb_entry_is_rejected_by_its_size_without_filling_memory():
    bomb = zeros_zip(AR_DAY, 256 * MiB)
    assert len(bomb) < 2 * MiB
    files = open_upload("incoming/bomb.zip", bomb)
    error, peak = refusal_and_peak_memory(lambda: files.read(files.entries[0]))
    assert peak < 4 * MiB
    assert error.code == "too_large" and "268,435,456 bytes uncompressed" in error.reason


def test_an_entry_lying_about_its_size_is_read_no_further_than_its_limit():
    bomb = bytearray(zeros_zip(AR_DAY, 64 * MiB))
    directory = bomb.rindex(b"PK\x01\x02")  # the central directory entry, which zipfile trusts
    struct.pack_into("<I", bomb, directory + 24, 1000)  # its uncompressed size: 1,000 bytes
    files = open_upload("incoming/liar.zip", bytes(bomb))
    assert files.entries[0].size == 1000
    error, peak = refusal_and_peak_memory(lambda: files.read(files.entries[0]))
    assert peak < 4 * MiB
    assert error.code == "bad_archive" and "cannot be read" in error.reason


def test_a_gzipped_csv_is_one_file_and_a_gzip_bomb_is_stopped_at_the_limit():
    files = open_upload(f"incoming/x/{AR_DAY}.gz", gzip.compress(real(AR_DAY)))
    assert [e.name for e in files.entries] == [AR_DAY] and files.read(files.entries[0]) == real(AR_DAY)
    bomb = gzip.compress(bytes(64 * MiB), compresslevel=9)
    error, peak = refusal_and_peak_memory(lambda: open_upload(f"incoming/x/{AR_DAY}.gz", bomb))
    assert peak < 6 * MiB
    assert isinstance(error, UploadError) and error.code == "too_large"


@pytest.mark.parametrize("key, data, code, says", [
    ("incoming/a.zip", b"PK\x03\x04 not really a zip", "bad_archive", "not a readable zip file"),
    ("incoming/a.zip", bundle_zip()[:400_000], "bad_archive", "not a readable zip file"),
    (f"incoming/{AR_DAY}.gz", b"\x1f\x8b\x08\x00 broken", "bad_archive", "not a readable gzip file"),
    ("incoming/charts.xlsx", b"PK\x03\x04", "unsupported_object", ".csv, .csv.gz or .zip"),
])
def test_an_unreadable_or_unsupported_object_is_rejected_whole(key, data, code, says):
    with pytest.raises(UploadError) as raised:
        open_upload(key, data)
    assert raised.value.code == code and says in raised.value.reason


def test_an_object_over_the_upload_limit_is_rejected_whole():
    with pytest.raises(UploadError, match="over the 100,000-byte limit of one upload") as raised:
        open_upload("incoming/a.zip", bundle_zip(), UploadLimits(max_object_bytes=100_000))
    assert raised.value.code == "object_too_large"


def test_files_naming_the_same_chart_and_date_are_grouped():
    data = make_zip([(AR_DAY, real(AR_DAY)), ("notes.txt", b"hi"), ("regional-ar-daily-2024-05-02.csv", b""),
                     (AR_DAY.replace(".csv", " (1).csv"), real(AR_DAY))])
    groups = open_upload("incoming/a.zip", data).chart_groups()
    assert [e.index for e in groups[0]] == [0, 3] and groups[3] is groups[0]
    assert [e.index for e in groups[2]] == [2] and 1 not in groups
