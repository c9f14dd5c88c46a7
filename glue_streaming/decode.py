"""Raw object bytes to lines, in plain Python (runs inside a Spark UDF, once per file).

Real Firehose writes gzip objects with no ``.gz`` suffix, so Hadoop (which picks a
codec by file extension) would hand Spark the compressed bytes; local emulators
write plain objects. Here the gzip magic bytes decide, never the name. Only
C-speed bytes operations run per line; parsing and checking the records happen
in the JVM (see ``transforms`` and ``validation``).
"""
from __future__ import annotations

import gzip
import zlib
from itertools import accumulate

GZIP_MAGIC = b"\x1f\x8b"


def decompress(content: bytes) -> bytes:
    """The object's bytes, gunzipped when they start with the gzip magic number."""
    if content[:2] == GZIP_MAGIC:
        return gzip.decompress(content)  # also handles concatenated gzip members
    return content


def decode_object(content: bytes | bytearray | None) -> tuple[bytes | None, list[int], list[int], list[int], str | None]:
    """(data, line starts, line lengths, numbers of the lines that are not UTF-8, problem).

    ``data`` is the decompressed object (None when it cannot be read at all: bad or
    truncated gzip). Line i (1-based) is ``data[starts[i-1]:][:lengths[i-1]]``;
    a blank line has length 0. One blob plus offsets crosses to the JVM much faster
    than a list of lines; the JVM slices it without converting the bytes to text."""
    try:
        data = decompress(bytes(content or b""))
    except (OSError, EOFError, zlib.error) as error:
        return None, [], [], [], f"unreadable file: {type(error).__name__}: {error}"
    bad_lines = []
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        bad_lines = [n for n, line in enumerate(data.split(b"\n"), start=1) if not _is_utf8(line)]
    lines = data.split(b"\n")
    starts = [0, *accumulate(len(line) + 1 for line in lines[:-1])]
    # A trailing \r (CRLF line ends) is not part of the record; blank lines carry none.
    lengths = [len(line.rstrip(b"\r")) if line.strip() else 0 for line in lines]
    return data, starts, lengths, bad_lines, None


def _is_utf8(line: bytes) -> bool:
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
