"""S3Store against a real S3-protocol server (SeaweedFS, started by the `seaweedfs` fixture)."""

from __future__ import annotations

import tarfile
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from opencomprehend.io.documents import ONE_DOC_PER_LINE, InputNotFound, file_name, list_input, read_documents
from opencomprehend.io.objects import AccessDenied, NoSuchBucket, NoSuchKey, ObjectInfo, S3Store, StorageError
from opencomprehend.io.output import output_uri, publish_archive, write_archive

KEYS = [
    "in/a/x.txt",
    "in/b.txt",
    "in/a.txt",
    "in/a-b.txt",
    "in/é.txt",
    "in/B.txt",
    "in/a/0/deep.txt",
    "inbox/x.txt",
    "other/y.txt",
]


@pytest.fixture(scope="module")
def s3(seaweedfs: Any) -> S3Store:
    return S3Store(
        seaweedfs.endpoint_url, seaweedfs.region, seaweedfs.access_key_id, seaweedfs.secret_access_key
    )


@pytest.fixture(scope="module")
def bucket(seaweedfs: Any) -> str:
    name = f"oc-test-{uuid.uuid4().hex[:12]}"
    client = seaweedfs.s3_client()
    client.create_bucket(Bucket=name)
    for key in KEYS:
        client.put_object(Bucket=name, Key=key, Body=key.encode())
    # Folder markers, as the S3 console and `aws s3api put-object --key in/` create them.
    client.put_object(Bucket=name, Key="in/", Body=b"")
    client.put_object(Bucket=name, Key="in/a/", Body=b"")
    return name


def test_listing_is_in_s3_key_order_without_folder_markers(s3: S3Store, bucket: str) -> None:
    listed = list(s3.list_objects(bucket, "in/"))
    assert [o.key for o in listed] == sorted(k for k in KEYS if k.startswith("in/"))
    assert [o.key for o in listed] == [
        "in/B.txt",
        "in/a-b.txt",
        "in/a.txt",
        "in/a/0/deep.txt",
        "in/a/x.txt",
        "in/b.txt",
        "in/é.txt",
    ]
    assert listed[0] == ObjectInfo("in/B.txt", len(b"in/B.txt"))


def test_a_prefix_need_not_end_on_a_folder_boundary(s3: S3Store, bucket: str) -> None:
    assert [o.key for o in s3.list_objects(bucket, "in/a")] == [
        "in/a-b.txt",
        "in/a.txt",
        "in/a/0/deep.txt",
        "in/a/x.txt",
    ]
    assert [o.key for o in s3.list_objects(bucket, "in")][-1] == "inbox/x.txt"
    assert [o.key for o in s3.list_objects(bucket, "nothing/")] == []
    assert len(list(s3.list_objects(bucket, ""))) == len(KEYS)


def test_listing_pages_through_more_than_one_page(s3: S3Store, seaweedfs: Any, bucket: str) -> None:
    client = seaweedfs.s3_client()
    keys = [f"many/{i:05d}" for i in range(1005)]  # S3 pages hold at most 1000 keys
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda key: client.put_object(Bucket=bucket, Key=key, Body=b""), keys))
    assert [o.key for o in s3.list_objects(bucket, "many/")] == keys


def test_a_missing_bucket_is_no_such_bucket(s3: S3Store) -> None:
    with pytest.raises(NoSuchBucket, match="does not exist"):
        list(s3.list_objects("oc-no-such-bucket", ""))
    with pytest.raises(NoSuchBucket):
        s3.get_bytes("oc-no-such-bucket", "a.txt")


def test_a_missing_key_is_no_such_key(s3: S3Store, bucket: str) -> None:
    with pytest.raises(NoSuchKey, match="nope.txt"):
        s3.get_bytes(bucket, "nope.txt")


def test_wrong_credentials_are_access_denied(seaweedfs: Any, bucket: str, tmp_path: Path) -> None:
    wrong = S3Store(seaweedfs.endpoint_url, seaweedfs.region, seaweedfs.access_key_id, "not-the-secret")
    with pytest.raises(AccessDenied):
        list(wrong.list_objects(bucket, "in/"))
    with pytest.raises(AccessDenied):
        wrong.get_bytes(bucket, "in/a.txt")
    archive = tmp_path / "a"
    archive.write_bytes(b"x")
    with pytest.raises(AccessDenied):
        wrong.put_file(bucket, "out/a", archive)


def test_put_bytes_then_get_bytes(s3: S3Store, bucket: str) -> None:
    data = "東京 🚀\r\n".encode() + bytes(range(256))
    s3.put_bytes(bucket, "roundtrip/bytes.bin", data)
    assert s3.get_bytes(bucket, "roundtrip/bytes.bin") == data


def test_put_file_uploads_large_files_whole(s3: S3Store, bucket: str, tmp_path: Path) -> None:
    # Above boto3's 8 MiB multipart threshold, so the multipart path is exercised too.
    path = tmp_path / "big.bin"
    path.write_bytes(uuid.uuid4().bytes * (9 * 1024 * 1024 // 16 + 7))
    s3.put_file(bucket, "roundtrip/big.bin", path)
    assert s3.get_bytes(bucket, "roundtrip/big.bin") == path.read_bytes()
    assert [o.size for o in s3.list_objects(bucket, "roundtrip/big.bin")] == [path.stat().st_size]


def test_writes_to_a_missing_bucket_are_no_such_bucket(s3: S3Store, tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"x")
    with pytest.raises(NoSuchBucket):
        s3.put_file("oc-missing-for-put", "k", path)
    with pytest.raises(NoSuchBucket):
        s3.put_bytes("oc-missing-for-put", "k", b"x")


def test_uploading_a_missing_local_file_is_a_storage_error(s3: S3Store, bucket: str, tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="does not exist"):
        s3.put_file(bucket, "k", tmp_path / "nope")


def test_a_job_reads_and_publishes_through_s3(
    s3: S3Store, seaweedfs: Any, bucket: str, tmp_path: Path
) -> None:
    client = seaweedfs.s3_client()
    client.put_object(Bucket=bucket, Key="job/in/docs.txt", Body="Seattle\r\n東京\n".encode())
    objects = list_input(s3, f"s3://{bucket}/job/in/")
    assert [o.key for o in objects] == ["job/in/docs.txt"]
    name = file_name(f"s3://{bucket}/job/in/", objects[0].key)
    docs = list(read_documents(s3.get_bytes(bucket, objects[0].key), name, ONE_DOC_PER_LINE, 1_000_000))
    assert [(d.file, d.line, d.text) for d in docs] == [("docs.txt", 0, "Seattle"), ("docs.txt", 1, "東京")]

    part = tmp_path / "part"
    part.write_text('{"File": "docs.txt", "Line": 0, "Entities": []}\n')
    archive = tmp_path / "output.tar.gz"
    write_archive([part], archive)
    uri = output_uri(f"s3://{bucket}/job/out/", "111122223333", "ab" * 16)
    publish_archive(s3, uri, archive)
    fetched = tmp_path / "fetched.tar.gz"
    fetched.write_bytes(s3.get_bytes(bucket, f"job/out/111122223333-NER-{'ab' * 16}/output/output.tar.gz"))
    with tarfile.open(fetched) as tar:
        assert tar.getnames() == ["output"]

    with pytest.raises(InputNotFound, match="job/none/"):
        list_input(s3, f"s3://{bucket}/job/none/")


def test_delete_removes_an_object_and_a_missing_one_is_fine(s3: S3Store, bucket: str) -> None:
    s3.put_bytes(bucket, "models/m.tar.gz", b"x")
    s3.delete(bucket, "models/m.tar.gz")
    assert [o.key for o in s3.list_objects(bucket, "models/")] == []
    s3.delete(bucket, "models/m.tar.gz")
