"""PII job output written as it is read: line splitting across chunk boundaries, long lines, byte order
marks, and the redacted file byte for byte against the whole-file reference."""

from __future__ import annotations

import codecs
import io

from hypothesis import given, settings
from hypothesis import strategies as st

from opencomprehend.io import pii_output
from opencomprehend.io.documents import LINE_END
from opencomprehend.io.pii_output import Redaction, write_redacted

MASK_ALL = Redaction.from_config({"PiiEntityTypes": ["ALL"], "MaskMode": "MASK", "MaskCharacter": "#"})


def reference_lines(body: bytes) -> list[tuple[bytes, bytes]]:
    """The whole-file split: what reading the file at once gives."""
    out, start = [], 0
    ends = list(LINE_END.finditer(body))
    for match in ends:
        out.append((body[start : match.start()], match.group()))
        start = match.end()
    if not ends or start < len(body):
        out.append((body[start:], b""))
    return out


def in_chunks(body: bytes, size: int) -> list[bytes]:
    """`body` as a stream of `size`-byte reads gives it."""
    return [body[i : i + size] for i in range(0, len(body), size)]


pieces = st.lists(st.sampled_from([b"a", b"bc", b"\r", b"\n", b"\r\n", "é".encode(), b" "]), max_size=40)


@settings(max_examples=300, deadline=None)
@given(parts=pieces, chunk=st.integers(min_value=1, max_value=7))
def test_lines_split_as_the_whole_file_would_be_whatever_the_chunks(parts: list[bytes], chunk: int) -> None:
    body = b"".join(parts)
    assert list(pii_output._stream_lines(in_chunks(body, chunk))) == reference_lines(body)


def test_a_line_too_long_to_hold_is_not_held(monkeypatch) -> None:
    monkeypatch.setattr(pii_output, "HOLD_BYTES", 10)
    body = b"short\n" + b"x" * 50 + b"\nlast"
    assert list(pii_output._stream_lines(in_chunks(body, 8))) == [
        (b"short", b"\n"),
        (None, b"\n"),
        (b"last", b""),
    ]


def records_for(body: bytes) -> list[dict]:
    """A record per line: the first two characters of each line are PII."""
    return [
        {"File": "f", "Line": n, "Entities": [{"Type": "NAME", "BeginOffset": 0, "EndOffset": min(2, len(text))}]}
        for n, (text, _) in enumerate(reference_lines(body))
    ]


@settings(max_examples=200, deadline=None)
@given(parts=pieces, bom=st.booleans())
def test_redaction_streams_to_the_same_bytes_as_the_whole_file(parts: list[bytes], bom: bool) -> None:
    body = b"".join(parts)
    data = (codecs.BOM_UTF8 if bom else b"") + body
    records = records_for(body)
    expected = (codecs.BOM_UTF8 if bom else b"") + b"".join(
        MASK_ALL.apply(text.decode(), r["Entities"]).encode() + end
        for (text, end), r in zip(reference_lines(body), records, strict=True)
    )
    out = io.BytesIO()
    assert write_redacted(io.BytesIO(data), records, "ONE_DOC_PER_LINE", MASK_ALL, out)
    assert out.getvalue() == expected


def test_redaction_stops_where_the_records_stop() -> None:
    body = b"Ann\nBob\nCid\n"
    records = records_for(body)[:2]  # a stopped job finished two documents
    out = io.BytesIO()
    write_redacted(io.BytesIO(body), records, "ONE_DOC_PER_LINE", MASK_ALL, out)
    assert out.getvalue() == b"##n\n##b\n"


def test_an_over_limit_line_is_an_empty_line_and_an_unreadable_one_ends_the_file() -> None:
    body = b"Ann\nxxxx\nBob\n\xff\nCid\n"
    records = [
        {"File": "f", "Line": 0, "Entities": [{"Type": "NAME", "BeginOffset": 0, "EndOffset": 3}]},
        {"File": "f", "Line": 1, "ErrorCode": "DOCUMENT_SIZE_EXCEEDED", "ErrorMessage": "too long"},
        {"File": "f", "Line": 2, "Entities": []},
        {"File": "f", "Line": 3, "ErrorCode": "UNSUPPORTED_ENCODING", "ErrorMessage": "not UTF-8"},
        {"File": "f", "Line": 4, "Entities": []},
    ]
    out = io.BytesIO()
    write_redacted(io.BytesIO(body), records, "ONE_DOC_PER_LINE", MASK_ALL, out)
    assert out.getvalue() == b"###\n\nBob\n"


def test_a_file_document_without_entities_writes_nothing() -> None:
    out = io.BytesIO()
    record = {"File": "f", "ErrorCode": "DOCUMENT_SIZE_EXCEEDED", "ErrorMessage": "too long"}
    assert not write_redacted(io.BytesIO(b"x" * 10), [record], "ONE_DOC_PER_FILE", MASK_ALL, out)
    assert out.getvalue() == b""
    record = {"File": "f", "Entities": [{"Type": "NAME", "BeginOffset": 1, "EndOffset": 3}]}
    assert write_redacted(io.BytesIO(codecs.BOM_UTF8 + b"Ann Lee"), [record], "ONE_DOC_PER_FILE", MASK_ALL, out)
    assert out.getvalue() == codecs.BOM_UTF8 + b"A## Lee"
