from __future__ import annotations

import gzip
import json
import tarfile
import time
from pathlib import Path

import pytest

from opencomprehend.io.documents import Document
from opencomprehend.io.objects import LocalFolderStore
from opencomprehend.io.output import output_uri, publish_archive, record_line, write_archive

JOB = "0123456789abcdef0123456789abcdef"


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [
        ("s3://bkt/thefolder/", f"s3://bkt/thefolder/111122223333-NER-{JOB}/output/output.tar.gz"),
        ("s3://bkt/thefolder", f"s3://bkt/thefolder/111122223333-NER-{JOB}/output/output.tar.gz"),
        ("s3://bkt", f"s3://bkt/111122223333-NER-{JOB}/output/output.tar.gz"),
        ("s3://bkt/", f"s3://bkt/111122223333-NER-{JOB}/output/output.tar.gz"),
        ("s3://bkt/a/b/c/", f"s3://bkt/a/b/c/111122223333-NER-{JOB}/output/output.tar.gz"),
    ],
)
def test_output_uri(prefix: str, expected: str) -> None:
    assert output_uri(prefix, "111122223333", JOB) == expected


def test_output_uri_other_job_type() -> None:
    assert (
        output_uri("s3://b/o/", "123456789012", JOB, "PII")
        == f"s3://b/o/123456789012-PII-{JOB}/output/output.tar.gz"
    )


def test_output_uri_rejects_a_non_s3_prefix() -> None:
    with pytest.raises(ValueError):
        output_uri("/tmp/out", "111122223333", JOB)


ENTITY = {
    "BeginOffset": 0,
    "EndOffset": 10,
    "Score": 0.9997676014900208,
    "Text": "Jeff Bezos",
    "Type": "PERSON",
}


def test_record_line_in_line_mode() -> None:
    line = record_line(Document("50_docs", 3, "Jeff Bezos"), [ENTITY])
    assert line == (
        '{"File": "50_docs", "Line": 3, "Entities": [{"BeginOffset": 0, "EndOffset": 10, '
        '"Score": 0.9997676014900208, "Text": "Jeff Bezos", "Type": "PERSON"}]}'
    )


def test_record_line_in_file_mode_has_no_line_key() -> None:
    line = record_line(Document("SampleText1.txt", None, "nothing here"), [])
    assert line == '{"File": "SampleText1.txt", "Entities": []}'


def test_record_line_line_zero_is_written() -> None:
    assert record_line(Document("f", 0, ""), []) == '{"File": "f", "Line": 0, "Entities": []}'


def test_record_line_size_error() -> None:
    doc = Document(
        "50_docs", 2, None, "DOCUMENT_SIZE_EXCEEDED", "Document size exceeds maximum size limit 102400 bytes."
    )
    assert record_line(doc, None) == (
        '{"File": "50_docs", "Line": 2, "ErrorCode": "DOCUMENT_SIZE_EXCEEDED", '
        '"ErrorMessage": "Document size exceeds maximum size limit 102400 bytes."}'
    )


def test_record_line_encoding_error_in_file_mode() -> None:
    message = "Document is not in UTF-8 format and all subsequent lines are ignored."
    doc = Document("latin1.txt", None, None, "UNSUPPORTED_ENCODING", message)
    assert record_line(doc, None) == (
        '{"File": "latin1.txt", "ErrorCode": "UNSUPPORTED_ENCODING", '
        '"ErrorMessage": "Document is not in UTF-8 format and all subsequent lines are ignored."}'
    )


def test_record_line_writes_non_ascii_as_itself() -> None:
    entity = {"BeginOffset": 0, "EndOffset": 2, "Score": 0.5, "Text": "東京", "Type": "LOCATION"}
    line = record_line(Document("sub/ファイル.txt", 0, "東京 🚀"), [entity])
    assert "東京" in line and "ファイル" in line and "\\u" not in line
    assert json.loads(line) == {"File": "sub/ファイル.txt", "Line": 0, "Entities": [entity]}
    assert "\n" not in line


def test_record_line_needs_entities_for_a_good_document() -> None:
    with pytest.raises(ValueError):
        record_line(Document("f", 0, "text"), None)


def read_member(archive: Path) -> tuple[list[tarfile.TarInfo], bytes]:
    with tarfile.open(archive, "r:gz") as tar:
        members = tar.getmembers()
        content = tar.extractfile(members[0]).read() if members else b""  # type: ignore[union-attr]
    return members, content


def test_write_archive_concatenates_parts_into_one_member(tmp_path: Path) -> None:
    parts = []
    for i, body in enumerate(
        [
            b'{"File": "a", "Line": 0, "Entities": []}\n{"File": "a", "Line": 1, "Entities": []}\n',
            b"",
            '{"File": "東京.txt", "Entities": []}\n'.encode(),
        ]
    ):
        part = tmp_path / f"part-{i:05d}.jsonl"
        part.write_bytes(body)
        parts.append(part)

    dest = tmp_path / "output.tar.gz"
    before = time.time()
    write_archive(iter(parts), dest)

    members, content = read_member(dest)
    assert [m.name for m in members] == ["output"]
    member = members[0]
    assert member.isfile() and member.mode == 0o644
    assert before - 2 <= member.mtime <= time.time() + 2
    assert content == b"".join(p.read_bytes() for p in parts)
    assert member.size == len(content)
    # A real gzip stream (what `tar xzf` and Comprehend clients expect), and no temp file left behind.
    assert gzip.open(dest).read(512)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["output.tar.gz", *(p.name for p in parts)]


def test_write_archive_streams_parts_larger_than_a_tar_buffer(tmp_path: Path) -> None:
    # Parts whose sizes are not multiples of tarfile's copy buffer make reads cross part boundaries.
    parts = []
    for i, n in enumerate([70_001, 3, 200_017]):
        part = tmp_path / f"p{i}"
        part.write_bytes(
            b"".join(b'{"File": "f", "Line": %d, "Entities": []}\n' % j for j in range(n // 40 + 1))
        )
        parts.append(part)
    dest = tmp_path / "out.tar.gz"
    write_archive(parts, dest)
    _, content = read_member(dest)
    assert content == b"".join(p.read_bytes() for p in parts)


def test_write_archive_with_no_records_has_an_empty_output_member(tmp_path: Path) -> None:
    dest = tmp_path / "out.tar.gz"
    write_archive([], dest)
    members, content = read_member(dest)
    assert [m.name for m in members] == ["output"] and content == b""


def test_write_archive_refuses_a_part_without_a_final_newline(tmp_path: Path) -> None:
    part = tmp_path / "p"
    part.write_bytes(b'{"File": "f", "Entities": []}')
    with pytest.raises(ValueError, match="newline"):
        write_archive([part], tmp_path / "out.tar.gz")
    assert not (tmp_path / "out.tar.gz").exists()


def test_publish_archive_puts_it_at_the_output_uri(tmp_path: Path) -> None:
    store = LocalFolderStore(tmp_path / "s3")
    store.create_bucket("results")
    archive = tmp_path / "output.tar.gz"
    archive.write_bytes(b"archive bytes")
    uri = output_uri("s3://results/run1/", "111122223333", JOB)
    publish_archive(store, uri, archive)
    key = f"run1/111122223333-NER-{JOB}/output/output.tar.gz"
    assert store.get_bytes("results", key) == b"archive bytes"


def test_publish_archive_needs_an_object_key(tmp_path: Path) -> None:
    archive = tmp_path / "a"
    archive.write_bytes(b"x")
    with pytest.raises(ValueError):
        publish_archive(LocalFolderStore(tmp_path), "s3://bkt/", archive)
