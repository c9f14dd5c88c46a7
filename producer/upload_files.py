"""The chart files of one uploaded object: a CSV, a gzipped CSV, or a zip of CSVs.

No AWS here: the import Lambda gives the object's bytes. Limits keep a hostile object from
exhausting memory or time: a zip's entries are listed from its central directory before any
is decompressed (count and declared sizes checked), and an entry is decompressed only up to
the per-file limit (Python's zipfile stops at an entry's declared size and checks its CRC,
so a size that lies is an error, not a memory blow-up).

A problem with the whole object raises :class:`UploadError`: nothing of it is imported. A
problem with one file is that file's ``ChartFileError`` (one too large or corrupt from
:meth:`UploadFiles.read`, one inside a folder from :func:`check_entry_name`); the other files
are imported.
"""
from __future__ import annotations

import gzip
import io
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from producer.chart_export import TOO_LARGE, ChartFileError, ChartName, RejectionError, parse_chart_name

# Entries a user's zip holds besides the files: folders, macOS resource forks, OS metadata.
IGNORED_PREFIXES = ("__MACOSX/",)
IGNORED_NAMES = frozenset({".DS_Store", "Thumbs.db", "desktop.ini"})

# Why a whole object is rejected, or one entry of a zip (codes beside chart_export's).
UNSUPPORTED = "unsupported_object"
BAD_ARCHIVE = "bad_archive"
ZIP_TOO_MANY_ENTRIES = "zip_too_many_entries"
ZIP_TOO_LARGE = "zip_too_large"
OBJECT_TOO_LARGE = "object_too_large"
ENTRY_PATH = "entry_path"


class UploadError(RejectionError):
    """The whole uploaded object cannot be imported."""


@dataclass(frozen=True)
class UploadLimits:
    max_object_bytes: int = 128 * 1024 * 1024  # the object as uploaded (a zip: compressed)
    max_file_bytes: int = 1024 * 1024  # one chart file, uncompressed
    max_zip_entries: int = 20_000  # ten markets' daily charts for five years
    max_zip_bytes: int = 1024 * 1024 * 1024  # a zip's files together, uncompressed


@dataclass(frozen=True)
class UploadEntry:
    index: int  # its place among the upload's files: what results and continuations count
    name: str  # as the upload names it (a zip entry's full name)
    size: int  # uncompressed, as declared


@dataclass
class UploadFiles:
    """The files of one upload, read one at a time."""

    entries: list[UploadEntry]
    limits: UploadLimits
    _archive: zipfile.ZipFile | None = None
    _data: bytes | None = None  # a single file's bytes
    _infos: dict[int, zipfile.ZipInfo] = field(default_factory=dict)

    def read(self, entry: UploadEntry) -> bytes:
        """The entry's bytes, or ChartFileError if they cannot be read within the limits."""
        self._check_size(entry.size)
        if self._archive is None:
            return self._data
        try:
            with self._archive.open(self._infos[entry.index]) as stream:
                data = stream.read(self.limits.max_file_bytes + 1)
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as error:
            # RuntimeError: an encrypted entry; NotImplementedError: an unknown compression method.
            raise ChartFileError(BAD_ARCHIVE, f"the zip entry cannot be read: {error}") from None
        self._check_size(len(data))
        return data

    def chart_groups(self) -> dict[int, list[UploadEntry]]:
        """For each entry, the entries naming the same chart and date (itself included), in order."""
        by_chart: dict[tuple[str, str], list[UploadEntry]] = {}
        for entry in self.entries:
            chart = _chart_of(entry.name)
            if chart is not None:
                by_chart.setdefault((chart.alias, chart.chart_date.isoformat()), []).append(entry)
        return {entry.index: group for group in by_chart.values() for entry in group}

    def _check_size(self, size: int) -> None:
        if size > self.limits.max_file_bytes:
            raise ChartFileError(TOO_LARGE, f"{size:,} bytes uncompressed, over the "
                                            f"{self.limits.max_file_bytes:,}-byte limit of one chart file")


def check_entry_name(name: str) -> None:
    """A zip entry must be a file at the top of the zip: a name with a path is refused, whatever
    it holds (its bytes are only ever kept under a safe name, never written to a path)."""
    if "/" in name or "\\" in name:
        raise ChartFileError(ENTRY_PATH, f"{name!r} is inside a folder of the zip: zip the chart files "
                                         "themselves, not a folder holding them")


def _chart_of(name: str) -> ChartName | None:
    try:
        return parse_chart_name(name)
    except ChartFileError:
        return None


def file_name(object_key: str) -> str:
    """The file name an object key ends with."""
    return PurePosixPath(object_key).name


def open_upload(object_key: str, data: bytes, limits: UploadLimits = UploadLimits()) -> UploadFiles:
    """The files of an uploaded object, by its name: ``.zip``, ``.csv.gz`` or ``.csv``."""
    name = file_name(object_key)
    if len(data) > limits.max_object_bytes:
        raise UploadError(OBJECT_TOO_LARGE, f"{len(data):,} bytes, over the {limits.max_object_bytes:,}-byte "
                                            "limit of one upload")
    if name.endswith(".zip"):
        return _open_zip(data, limits)
    if name.endswith(".csv.gz"):
        return UploadFiles([UploadEntry(0, name[:-3], len(data))], limits, _data=_gunzip(data, limits))
    if name.endswith(".csv"):
        return UploadFiles([UploadEntry(0, name, len(data))], limits, _data=data)
    raise UploadError(UNSUPPORTED, f"{name!r}: upload chart exports as .csv, .csv.gz or .zip files")


def _gunzip(data: bytes, limits: UploadLimits) -> bytes:
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as stream:
            text = stream.read(limits.max_file_bytes + 1)
    except (OSError, EOFError, zlib.error) as error:
        raise UploadError(BAD_ARCHIVE, f"not a readable gzip file: {error}") from None
    if len(text) > limits.max_file_bytes:
        raise UploadError(TOO_LARGE, f"over {limits.max_file_bytes:,} bytes uncompressed, the limit of one "
                                     "chart file")
    return text


def _open_zip(data: bytes, limits: UploadLimits) -> UploadFiles:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError) as error:
        raise UploadError(BAD_ARCHIVE, f"not a readable zip file: {error}") from None
    infos = [info for info in archive.infolist() if not _ignored(info)]
    if len(infos) > limits.max_zip_entries:
        raise UploadError(ZIP_TOO_MANY_ENTRIES, f"the zip holds {len(infos):,} files, over the limit of "
                                                f"{limits.max_zip_entries:,}: split it into several zips")
    total = sum(info.file_size for info in infos)
    if total > limits.max_zip_bytes:
        raise UploadError(ZIP_TOO_LARGE, f"the zip's files hold {total:,} bytes uncompressed, over the limit of "
                                         f"{limits.max_zip_bytes:,}: split it into several zips")
    entries = [UploadEntry(index, info.filename, info.file_size) for index, info in enumerate(infos)]
    return UploadFiles(entries, limits, _archive=archive, _infos=dict(enumerate(infos)))


def _ignored(info: zipfile.ZipInfo) -> bool:
    name = info.filename
    return info.is_dir() or name.startswith(IGNORED_PREFIXES) or PurePosixPath(name).name in IGNORED_NAMES
