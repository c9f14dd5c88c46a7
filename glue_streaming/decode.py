"""Raw object bytes to text bytes, in plain Python (runs inside a Spark UDF, once per file).

Real Firehose writes gzip objects with no ``.gz`` suffix, so Hadoop (which picks a
codec by file extension) would hand Spark the compressed bytes; local emulators
write plain objects. Here the gzip magic bytes decide, never the name. No Python
code runs per line: splitting, parsing and checking happen in the JVM (see
``transforms`` and ``validation``).
"""
from __future__ import annotations

import gzip
import zlib

GZIP_MAGIC = b"\x1f\x8b"


def decompress(content: bytes) -> bytes:
    """The object's bytes, gunzipped when they start with the gzip magic number."""
    if content[:2] == GZIP_MAGIC:
        return gzip.decompress(content)  # also handles concatenated gzip members
    return content


def decode_object(content: bytes | bytearray | None) -> tuple[bytes | None, list[int], str | None]:
    """(data, 1-based numbers of the lines that are not UTF-8, problem of the whole file).

    ``data`` is the decompressed object with CRLF line ends made LF, or None when
    it cannot be read at all (bad or truncated gzip). One blob crosses to the JVM
    faster than a list of lines; the JVM splits it."""
    try:
        data = decompress(bytes(content or b""))
    except (OSError, EOFError, zlib.error) as error:
        return None, [], f"unreadable file: {type(error).__name__}: {error}"
    bad_lines = []
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:  # rare: find the lines, so only they are quarantined
        bad_lines = [n for n, line in enumerate(data.split(b"\n"), start=1) if not _is_utf8(line)]
    return data.replace(b"\r\n", b"\n"), bad_lines, None


def _is_utf8(line: bytes) -> bool:
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
