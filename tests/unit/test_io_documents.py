from __future__ import annotations

import codecs
import io
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opencomprehend.io.documents import (
    DOCUMENT_SIZE_EXCEEDED,
    LINE_END,
    ONE_DOC_PER_FILE,
    ONE_DOC_PER_LINE,
    Document,
    InputNotFound,
    file_name,
    list_input,
    read_documents,
)
from opencomprehend.io.documents import _document as document_of
from opencomprehend.io.objects import LocalFolderStore, NoSuchBucket

LIMIT = 1_000_000
BAD_UTF8 = "Document is not in UTF-8 format and all subsequent lines are ignored."


def lines(data: bytes, limit: int = LIMIT) -> list[Document]:
    return list(read_documents(data, "f.txt", ONE_DOC_PER_LINE, limit))


def texts(data: bytes) -> list[str | None]:
    return [d.text for d in lines(data)]


# -- line mode: line ends -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [b"one\ntwo\nthree", b"one\rtwo\rthree", b"one\r\ntwo\r\nthree", b"one\r\ntwo\rthree\n"],
    ids=["LF", "CR", "CRLF", "mixed"],
)
def test_lf_cr_and_crlf_each_end_a_line(data: bytes) -> None:
    docs = lines(data)
    assert [(d.line, d.text) for d in docs] == [(0, "one"), (1, "two"), (2, "three")]
    assert all(d.file == "f.txt" and d.error_code is None for d in docs)


def test_crlf_is_one_line_end_but_lf_cr_is_two() -> None:
    assert texts(b"a\r\nb") == ["a", "b"]
    assert texts(b"a\n\rb") == ["a", "", "b"]


def test_unicode_line_separators_stay_inside_the_line() -> None:
    text = "before\u2028after\u2029end\x0bvt\x0cff\x85nel"
    assert texts(text.encode()) == [text]


def test_a_final_line_end_adds_no_document() -> None:
    assert texts(b"a\nb\n") == ["a", "b"]
    assert texts(b"a\nb\r\n") == ["a", "b"]
    assert texts(b"a\nb\r") == ["a", "b"]


def test_empty_lines_are_documents_and_are_counted() -> None:
    docs = lines(b"a\n\n\nb\n\n")
    assert [(d.line, d.text) for d in docs] == [(0, "a"), (1, ""), (2, ""), (3, "b"), (4, "")]


def test_a_lone_line_end_is_one_empty_document() -> None:
    assert texts(b"\n") == [""]
    assert texts(b"\r\n") == [""]


def test_an_empty_object_has_no_documents() -> None:
    assert lines(b"") == []


def test_text_is_kept_exactly_as_written() -> None:
    # No stripping, no NFC: a decomposed é (e + U+0301) must keep its two code points.
    line = "  tabs\tand spaces  e\u0301 \u00e9 "
    assert texts(line.encode() + b"\n") == [line]


def test_emoji_and_cjk_text_is_preserved() -> None:
    text = "Jeff Bezos 🚀 visited 東京 and 서울 👩‍👩‍👧"
    assert texts(text.encode("utf-8")) == [text]


# -- BOM --------------------------------------------------------------------------------------------------


def test_a_leading_bom_is_dropped_in_line_mode() -> None:
    docs = lines(b"\xef\xbb\xbfhello\nworld")
    assert [d.text for d in docs] == ["hello", "world"]


def test_a_leading_bom_is_dropped_in_file_mode() -> None:
    docs = list(read_documents(b"\xef\xbb\xbfhello", "f.txt", ONE_DOC_PER_FILE, LIMIT))
    assert [d.text for d in docs] == ["hello"]


def test_a_bom_only_object_has_no_lines() -> None:
    assert lines(b"\xef\xbb\xbf") == []


def test_a_bom_after_the_start_is_text() -> None:
    assert texts(b"a\n\xef\xbb\xbfb") == ["a", "\ufeffb"]


def test_the_bom_does_not_count_toward_the_size_limit() -> None:
    docs = lines(b"\xef\xbb\xbf" + b"x" * 10, limit=10)
    assert [d.text for d in docs] == ["x" * 10]


# -- line mode: per-document errors ----------------------------------------------------------------------


def test_invalid_utf8_gives_an_error_record_and_skips_the_rest_of_the_file() -> None:
    docs = lines(b"good\nalso good\nbad \xff byte\nnever read\n\xe9t\xe9\n")
    assert docs[:2] == [Document("f.txt", 0, "good"), Document("f.txt", 1, "also good")]
    assert docs[2] == Document("f.txt", 2, None, "UNSUPPORTED_ENCODING", BAD_UTF8)
    assert len(docs) == 3


def test_latin1_file_fails_at_its_first_non_ascii_line() -> None:
    data = "plain ascii\ncaf\u00e9\nmore".encode("latin-1")
    docs = lines(data)
    assert [(d.line, d.error_code) for d in docs] == [(0, None), (1, "UNSUPPORTED_ENCODING")]


@pytest.mark.parametrize(
    "bad",
    [b"\xed\xa0\x80", b"\xc0\xaf", b"\xe2\x82", b"\xf4\x90\x80\x80"],
    ids=["surrogate", "overlong", "truncated", "beyond-U+10FFFF"],
)
def test_strict_utf8_rejects_malformed_sequences(bad: bytes) -> None:
    docs = lines(b"ok\nx" + bad + b"y\nnot read")
    assert [d.error_code for d in docs] == [None, "UNSUPPORTED_ENCODING"]


def test_an_oversize_line_gives_an_error_record_and_reading_continues() -> None:
    docs = lines(b"short\n" + b"x" * 11 + b"\nnext\n", limit=10)
    assert docs == [
        Document("f.txt", 0, "short"),
        Document(
            "f.txt", 1, None, "DOCUMENT_SIZE_EXCEEDED", "Document size exceeds maximum size limit 10 bytes."
        ),
        Document("f.txt", 2, "next"),
    ]


def test_the_size_limit_counts_utf8_bytes_not_characters() -> None:
    # Four 3-byte characters: 4 code points but 12 bytes.
    docs = lines("東京東京\n東京東\n".encode(), limit=10)
    assert [(d.text, d.error_code) for d in docs] == [(None, "DOCUMENT_SIZE_EXCEEDED"), ("東京東", None)]


def test_a_line_exactly_at_the_limit_is_accepted_and_the_line_end_is_not_counted() -> None:
    docs = lines(b"x" * 10 + b"\r\n", limit=10)
    assert [d.text for d in docs] == ["x" * 10]


def test_an_oversize_line_that_is_also_not_utf8_is_an_encoding_error() -> None:
    docs = lines(b"\xff" * 20 + b"\nrest", limit=10)
    assert [d.error_code for d in docs] == ["UNSUPPORTED_ENCODING"]


def test_reading_is_lazy() -> None:
    docs = read_documents(b"a\nb\n", "f.txt", ONE_DOC_PER_LINE, LIMIT)
    assert next(iter(docs)) == Document("f.txt", 0, "a")


def test_an_unknown_input_format_is_rejected() -> None:
    with pytest.raises(ValueError, match="InputFormat"):
        read_documents(b"a", "f.txt", "ONE_DOC_PER_PAGE", LIMIT)


# -- file mode --------------------------------------------------------------------------------------------


def files(data: bytes, limit: int = LIMIT) -> list[Document]:
    return list(read_documents(data, "doc.txt", ONE_DOC_PER_FILE, limit))


def test_file_mode_makes_one_document_with_every_line_end_kept() -> None:
    text = "line one\r\nline two\rline three\n\n"
    assert files(text.encode()) == [Document("doc.txt", None, text)]


def test_file_mode_an_empty_object_is_one_empty_document() -> None:
    assert files(b"") == [Document("doc.txt", None, "")]


def test_file_mode_invalid_utf8_is_an_encoding_error() -> None:
    assert files(b"fine\nthen \xfe") == [Document("doc.txt", None, None, "UNSUPPORTED_ENCODING", BAD_UTF8)]


def test_file_mode_oversize_is_a_size_error() -> None:
    assert files(b"x" * 101, limit=100) == [
        Document(
            "doc.txt",
            None,
            None,
            "DOCUMENT_SIZE_EXCEEDED",
            "Document size exceeds maximum size limit 100 bytes.",
        )
    ]
    assert files(b"x" * 100, limit=100) == [Document("doc.txt", None, "x" * 100)]


def test_file_mode_preserves_emoji_and_cjk() -> None:
    text = "東京タワー 🗼\u2028 Zürich"
    assert files(text.encode()) == [Document("doc.txt", None, text)]


# -- File names and input listing ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("uri", "key", "expected"),
    [
        ("s3://b/in/", "in/sub/a.txt", "sub/a.txt"),
        ("s3://b/in/", "in/a.txt", "a.txt"),
        ("s3://b/in/doc.txt", "in/doc.txt", "doc.txt"),
        ("s3://b", "a.txt", "a.txt"),
        ("s3://b/", "x/y.txt", "x/y.txt"),
        ("s3://b/in/do", "in/doc.txt", "doc.txt"),
        ("s3://b/in", "in/sub/a.txt", "in/sub/a.txt"),
        ("s3://b/a/b/c", "a/b/cd/e.txt", "cd/e.txt"),
    ],
)
def test_file_name_is_the_key_relative_to_the_prefix_last_slash(uri: str, key: str, expected: str) -> None:
    assert file_name(uri, key) == expected


def test_file_name_rejects_a_key_outside_the_prefix() -> None:
    with pytest.raises(ValueError):
        file_name("s3://b/in/", "out/a.txt")


def test_list_input_returns_objects_in_key_order(tmp_path: Path) -> None:
    store = LocalFolderStore(tmp_path)
    store.create_bucket("bkt")
    for key in ["in/b.txt", "in/a/z.txt", "in/a-1.txt", "other/x.txt"]:
        store.put_bytes("bkt", key, b"x")
    assert [o.key for o in list_input(store, "s3://bkt/in/")] == ["in/a-1.txt", "in/a/z.txt", "in/b.txt"]


def test_list_input_with_nothing_under_the_prefix_names_the_uri(tmp_path: Path) -> None:
    store = LocalFolderStore(tmp_path)
    store.create_bucket("bkt")
    store.put_bytes("bkt", "other/x.txt", b"x")
    with pytest.raises(InputNotFound, match="s3://bkt/in/"):
        list_input(store, "s3://bkt/in/")


def test_list_input_lets_no_such_bucket_through(tmp_path: Path) -> None:
    with pytest.raises(NoSuchBucket):
        list_input(LocalFolderStore(tmp_path), "s3://missing/in/")


# --- streaming: the same documents whatever the chunks, and memory bounded by the size limit ----------

_pieces = st.lists(
    st.sampled_from([b"a", b"\xc3\xa9", b"\xe4\xb8\xad", b"\r", b"\n", b"\r\n", b"\xff", b" ", b"\xef\xbb\xbf"]),
    max_size=60,
)


def _oracle(data: bytes, input_format: str, limit: int) -> list[Document]:
    """The rules read off the whole object at once: the reference the streaming reader must match."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[3:]
    if input_format == ONE_DOC_PER_FILE:
        return [document_of(data, "f.txt", None, limit)]
    out, start = [], 0
    for end in LINE_END.finditer(data):
        out.append(document_of(data[start : end.start()], "f.txt", len(out), limit))
        if out[-1].text is None and out[-1].error_code != DOCUMENT_SIZE_EXCEEDED:
            return out
        start = end.end()
    if start < len(data):
        out.append(document_of(data[start:], "f.txt", len(out), limit))
    return out


@settings(max_examples=300, deadline=None)
@given(_pieces, st.integers(1, 7), st.integers(1, 12), st.sampled_from([ONE_DOC_PER_LINE, ONE_DOC_PER_FILE]))
def test_streamed_reading_matches_reading_the_whole_object(pieces, chunk, limit, input_format):
    data = b"".join(pieces)
    streamed = list(read_documents(io.BytesIO(data), "f.txt", input_format, limit, chunk_size=chunk))
    assert streamed == _oracle(data, input_format, limit)


class _CountingStream(io.RawIOBase):
    """A large input generated as it is read: lines of 1 KB, one of them 3 MB long."""

    def __init__(self, lines: int) -> None:
        self.lines = lines
        self.served = 0
        self.largest_read = 0
        self._buffer = b""

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        self.largest_read = max(self.largest_read, size)
        while len(self._buffer) < size and self.served < self.lines:
            width = 3_000_000 if self.served == 5 else 1023
            self._buffer += b"x" * width + b"\n"
            self.served += 1
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data


def test_a_stream_is_read_in_chunks_and_a_huge_line_is_not_held():
    stream = _CountingStream(20_000)
    docs = read_documents(stream, "big.txt", ONE_DOC_PER_LINE, 100_000, chunk_size=65_536)
    count = 0
    for doc in docs:
        if doc.line == 5:
            assert doc.error_code == DOCUMENT_SIZE_EXCEEDED
        else:
            assert doc.text is not None and len(doc.text) == 1023
        count += 1
    assert count == 20_000
    assert stream.largest_read == 65_536
