import gzip

from glue_streaming.decode import decode_object, decompress


def test_gzip_is_recognised_by_its_magic_bytes_not_a_name():
    text = b'{"a":1}\n{"a":2}\n'
    assert decompress(gzip.compress(text)) == text
    assert decompress(text) == text
    # Firehose may deliver concatenated gzip members; all of them are read.
    assert decompress(gzip.compress(b"x\n") + gzip.compress(b"y\n")) == b"x\ny\n"


def test_decode_object_normalises_line_ends():
    data, bad_lines, problem = decode_object(gzip.compress(b"a\r\nb\n"))
    assert (data, bad_lines, problem) == (b"a\nb\n", [], None)


def test_truncated_gzip_is_a_file_problem_not_a_crash():
    data, bad_lines, problem = decode_object(gzip.compress(b'{"a":1}\n' * 100)[:30])
    assert data is None and bad_lines == []
    assert problem.startswith("unreadable file:")


def test_lines_that_are_not_utf8_are_numbered():
    data, bad_lines, problem = decode_object(b'{"a":1}\n\xff\xfe\n{"a":2}\nok \xc3\n')
    assert bad_lines == [2, 4] and problem is None
    assert data.split(b"\n")[0] == b'{"a":1}'


def test_empty_object_has_no_lines():
    assert decode_object(b"") == (b"", [], None)
    assert decode_object(None) == (b"", [], None)
