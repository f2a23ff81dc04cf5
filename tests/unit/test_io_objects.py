from __future__ import annotations

import os
import pickle
import threading
from pathlib import Path
from typing import Any

import pytest

from opencomprehend.io.objects import (
    AccessDenied,
    LocalFolderStore,
    NoSuchBucket,
    NoSuchKey,
    ObjectInfo,
    S3Store,
    StorageError,
    parse_s3_uri,
)


@pytest.fixture
def store(tmp_path: Path) -> LocalFolderStore:
    made = LocalFolderStore(tmp_path)
    made.create_bucket("bkt")
    return made


def keys(store: LocalFolderStore, prefix: str, bucket: str = "bkt") -> list[str]:
    return [o.key for o in store.list_objects(bucket, prefix)]


# -- parse_s3_uri -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("s3://b/a/b.txt", ("b", "a/b.txt")),
        ("s3://b", ("b", "")),
        ("s3://b/", ("b", "")),
        ("s3://b/in/", ("b", "in/")),
        ("s3://b//x", ("b", "/x")),
    ],
)
def test_parse_s3_uri(uri: str, expected: tuple[str, str]) -> None:
    assert parse_s3_uri(uri) == expected


@pytest.mark.parametrize("uri", ["", "b/key", "s3:/b/k", "S3://b/k", "file:///tmp/x", "s3://", "s3:///key"])
def test_parse_s3_uri_rejects_anything_else(uri: str) -> None:
    with pytest.raises(ValueError):
        parse_s3_uri(uri)


# -- listing ---------------------------------------------------------------------------------------------


def test_listing_is_in_s3_key_order_across_sub_folders(store: LocalFolderStore) -> None:
    # "a-b" < "a.txt" < "a/..." in code point order ("-" 0x2D, "." 0x2E, "/" 0x2F), which is not the
    # order of a folder-first walk; "B" < "a" (upper case first); "é" sorts after every ASCII key.
    written = ["in/a/x.txt", "in/b.txt", "in/a.txt", "in/a-b.txt", "in/é.txt", "in/B.txt", "in/a/0/deep.txt"]
    for key in written:
        store.put_bytes("bkt", key, key.encode())
    assert keys(store, "in/") == [
        "in/B.txt",
        "in/a-b.txt",
        "in/a.txt",
        "in/a/0/deep.txt",
        "in/a/x.txt",
        "in/b.txt",
        "in/é.txt",
    ]
    assert keys(store, "in/") == sorted(written)


def test_listing_reports_sizes(store: LocalFolderStore) -> None:
    store.put_bytes("bkt", "in/a.txt", b"12345")
    store.put_bytes("bkt", "in/empty.txt", b"")
    assert list(store.list_objects("bkt", "in/")) == [
        ObjectInfo("in/a.txt", 5),
        ObjectInfo("in/empty.txt", 0),
    ]


def test_a_prefix_need_not_end_on_a_folder_boundary(store: LocalFolderStore) -> None:
    for key in ["in/doc.txt", "in/dog/1.txt", "in/cat.txt", "inbox/x.txt", "in.txt"]:
        store.put_bytes("bkt", key, b"x")
    assert keys(store, "in/do") == ["in/doc.txt", "in/dog/1.txt"]
    assert keys(store, "in") == ["in.txt", "in/cat.txt", "in/doc.txt", "in/dog/1.txt", "inbox/x.txt"]
    assert keys(store, "in/doc.txt") == ["in/doc.txt"]
    assert keys(store, "") == ["in.txt", "in/cat.txt", "in/doc.txt", "in/dog/1.txt", "inbox/x.txt"]


def test_a_prefix_matching_nothing_lists_nothing(store: LocalFolderStore) -> None:
    store.put_bytes("bkt", "in/a.txt", b"x")
    assert keys(store, "out/") == []
    assert keys(store, "in/a.txt/") == []
    assert keys(store, "in/zzz") == []


def test_empty_folders_are_not_objects(store: LocalFolderStore, tmp_path: Path) -> None:
    store.put_bytes("bkt", "in/a.txt", b"x")
    (tmp_path / "bkt" / "in" / "empty").mkdir()
    assert keys(store, "in/") == ["in/a.txt"]


def test_temp_files_of_writes_in_progress_are_never_listed(store: LocalFolderStore, tmp_path: Path) -> None:
    store.put_bytes("bkt", "in/a.txt", b"x")
    folder = tmp_path / "bkt" / "in"
    (folder / ".b.txt.tmp-0123456789abcdef0123456789abcdef").write_bytes(b"half")
    (folder / ".hidden").write_bytes(b"a real key that happens to start with a dot")
    assert keys(store, "in/") == ["in/.hidden", "in/a.txt"]


def test_temp_files_stay_hidden_during_a_large_write(store: LocalFolderStore, tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(256 * 1024) * 40)
    seen: list[list[str]] = []
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            seen.append(keys(store, "out/"))

    store.put_bytes("bkt", "out/other.txt", b"x")
    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        for _ in range(5):
            store.put_file("bkt", "out/big.bin", big)
    finally:
        stop.set()
        watcher.join()
    assert seen
    assert all(listing in (["out/other.txt"], ["out/big.bin", "out/other.txt"]) for listing in seen)


def test_a_missing_bucket_is_no_such_bucket(store: LocalFolderStore) -> None:
    with pytest.raises(NoSuchBucket, match="missing"):
        list(store.list_objects("missing", ""))
    with pytest.raises(NoSuchBucket):
        store.get_bytes("missing", "a.txt")


def test_errors_are_storage_errors_with_a_sentence(store: LocalFolderStore) -> None:
    store.put_bytes("bkt", "a.txt", b"x")
    with pytest.raises(StorageError) as info:
        store.get_bytes("bkt", "b.txt")
    assert isinstance(info.value, NoSuchKey)
    assert str(info.value) == "The object s3://bkt/b.txt does not exist."


# -- keys that would escape or cannot be stored ----------------------------------------------------------


@pytest.mark.parametrize("key", ["../x", "a/../../x", "..", "a/..", "/etc/passwd", "a//b", "./a", ""])
def test_keys_that_would_escape_or_collapse_are_rejected(store: LocalFolderStore, key: str) -> None:
    store.put_bytes("bkt", "a.txt", b"x")
    with pytest.raises(StorageError):
        store.put_bytes("bkt", key, b"x")
    with pytest.raises(StorageError):
        store.get_bytes("bkt", key)


@pytest.mark.parametrize("prefix", ["../", "a/../../", "/", "/a", "a//"])
def test_prefixes_no_local_key_can_have_are_rejected(store: LocalFolderStore, prefix: str) -> None:
    # "/" in particular must not fall back to listing the whole bucket.
    store.put_bytes("bkt", "a/b.txt", b"x")
    with pytest.raises(StorageError):
        list(store.list_objects("bkt", prefix))


@pytest.mark.parametrize("bucket", ["..", ".", "a/b", ""])
def test_bucket_names_that_are_not_one_folder_are_rejected(store: LocalFolderStore, bucket: str) -> None:
    with pytest.raises(StorageError):
        store.put_bytes(bucket, "a.txt", b"x")


def test_dots_inside_a_name_are_fine(store: LocalFolderStore) -> None:
    store.put_bytes("bkt", "a/..b/c..", b"x")
    assert store.get_bytes("bkt", "a/..b/c..") == b"x"


def test_a_key_cannot_be_both_object_and_folder(store: LocalFolderStore) -> None:
    store.put_bytes("bkt", "a", b"x")
    with pytest.raises(StorageError, match="s3://bkt/a/b"):
        store.put_bytes("bkt", "a/b", b"y")


# -- writing ---------------------------------------------------------------------------------------------


def test_put_creates_parent_folders_in_an_existing_bucket(store: LocalFolderStore, tmp_path: Path) -> None:
    store.put_bytes("bkt", "deep/er/key.txt", b"data")
    assert (tmp_path / "bkt" / "deep" / "er" / "key.txt").read_bytes() == b"data"
    assert store.get_bytes("bkt", "deep/er/key.txt") == b"data"


def test_put_into_a_missing_bucket_is_no_such_bucket_and_makes_no_folder(
    store: LocalFolderStore, tmp_path: Path
) -> None:
    # As on S3: writing never makes a bucket (issue 17, item 6); the server makes its own at start.
    for put in (
        lambda: store.put_bytes("no-such-out-bucket", "x/output.tar.gz", b"data"),
        lambda: store.put_file("no-such-out-bucket", "x/output.tar.gz", tmp_path / "bkt" / "k"),
    ):
        store.put_bytes("bkt", "k", b"x")
        with pytest.raises(NoSuchBucket, match="no-such-out-bucket"):
            put()
    assert not (tmp_path / "no-such-out-bucket").exists()
    store.create_bucket("no-such-out-bucket")
    store.put_bytes("no-such-out-bucket", "x/output.tar.gz", b"data")
    assert store.get_bytes("no-such-out-bucket", "x/output.tar.gz") == b"data"


@pytest.mark.parametrize("where", ["long-segment", "in/long-segment/a.txt", "in/long-segment"])
def test_a_key_segment_longer_than_a_file_name_is_a_storage_error_naming_the_limit(
    store: LocalFolderStore, where: str
) -> None:
    key = where.replace("long-segment", "s" * 256)
    for attempt in (
        lambda: store.put_bytes("bkt", key, b"x"),
        lambda: store.get_bytes("bkt", key),
        lambda: list(store.list_objects("bkt", key + "/")),
    ):
        with pytest.raises(StorageError, match="at most 255 bytes per segment"):
            attempt()


def test_a_key_segment_of_255_bytes_is_stored(store: LocalFolderStore) -> None:
    key = "in/" + "é" * 127 + "x"  # 255 bytes in UTF-8; its temporary name must fit too
    store.put_bytes("bkt", key, b"x")
    assert store.get_bytes("bkt", key) == b"x"
    assert keys(store, "in/") == [key]


def test_put_replaces_an_existing_object(store: LocalFolderStore) -> None:
    store.put_bytes("bkt", "k", b"old")
    store.put_bytes("bkt", "k", b"new")
    assert store.get_bytes("bkt", "k") == b"new"


def test_put_file_copies_the_file_and_leaves_no_temp(store: LocalFolderStore, tmp_path: Path) -> None:
    src = tmp_path / "src.bin"
    src.write_bytes(b"\x00\x01payload" * 1000)
    store.put_file("bkt", "out/archive.tar.gz", src)
    assert store.get_bytes("bkt", "out/archive.tar.gz") == src.read_bytes()
    assert src.exists()
    assert os.listdir(tmp_path / "bkt" / "out") == ["archive.tar.gz"]


def test_put_file_of_a_missing_file_is_a_storage_error(store: LocalFolderStore, tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="nope"):
        store.put_file("bkt", "k", tmp_path / "nope")


def test_a_failed_write_keeps_the_old_object_and_leaves_no_temp(
    store: LocalFolderStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.put_bytes("bkt", "k", b"old")

    def failing_fsync(fd: int) -> None:
        raise OSError(5, "disk on fire")

    # The new bytes are already in the temp file when the write fails.
    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(StorageError, match="disk on fire"):
        store.put_bytes("bkt", "k", b"new")
    assert store.get_bytes("bkt", "k") == b"old"
    assert os.listdir(tmp_path / "bkt") == ["k"]


def test_a_folder_we_may_not_read_is_access_denied(
    store: LocalFolderStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.put_bytes("bkt", "in/a.txt", b"x")
    refused = tmp_path / "bkt" / "in"
    real_scandir = os.scandir

    # The operating system's answer for a folder without read permission (root would ignore a chmod).
    def scandir(path: str | os.PathLike[str]) -> object:
        if Path(path) == refused:
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    with pytest.raises(AccessDenied):
        list(store.list_objects("bkt", "in/"))


# -- S3Store without a server ----------------------------------------------------------------------------


def test_s3_store_pickles_without_its_client() -> None:
    store = S3Store("http://127.0.0.1:1", "us-east-1", "AK", "SK")
    assert store.client is not None
    clone = pickle.loads(pickle.dumps(store))
    assert (clone.endpoint_url, clone.region, clone.access_key_id) == (
        "http://127.0.0.1:1",
        "us-east-1",
        "AK",
    )


def test_s3_store_unreachable_endpoint_is_a_storage_error() -> None:
    # Port 1 on loopback: nothing listens there, so the connection is refused at once.
    store = S3Store("http://127.0.0.1:1", "us-east-1", "AK", "SK", max_attempts=1)
    with pytest.raises(StorageError, match="127.0.0.1:1"):
        list(store.list_objects("bkt", ""))


def test_delete_removes_an_object_and_a_missing_one_is_fine(store: LocalFolderStore) -> None:
    store.put_bytes("bkt", "models/m.tar.gz", b"x")
    store.delete("bkt", "models/m.tar.gz")
    assert list(store.list_objects("bkt", "")) == []
    store.delete("bkt", "models/m.tar.gz")


# -- symbolic links: nothing outside the root is ever read or written ------------------------------------


@pytest.fixture
def outside(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("outside")
    (folder / "secret.txt").write_text("root:x:0:0")
    return folder


def test_links_are_left_out_of_listings(store: LocalFolderStore, outside: Path) -> None:
    store.put_bytes("bkt", "in/real.txt", b"real")
    (store.root / "bkt" / "in" / "etc").symlink_to(outside)
    (store.root / "bkt" / "in" / "file-link.txt").symlink_to(outside / "secret.txt")
    (store.root / "bkt" / "in" / "loop").symlink_to(store.root / "bkt" / "in" / "loop")
    assert keys(store, "in/") == ["in/real.txt"]


def test_reading_through_a_link_is_refused(store: LocalFolderStore, outside: Path) -> None:
    store.put_bytes("bkt", "in/real.txt", b"real")
    (store.root / "bkt" / "etc").symlink_to(outside)
    (store.root / "bkt" / "secret.txt").symlink_to(outside / "secret.txt")
    for key in ("etc/secret.txt", "secret.txt"):
        with pytest.raises(StorageError) as raised:
            store.get_bytes("bkt", key)
        assert str(store.root) not in str(raised.value), "messages name S3 locations only"
    with pytest.raises(StorageError):
        list(store.list_objects("bkt", "etc/"))


def test_a_bucket_that_is_a_link_does_not_exist(store: LocalFolderStore, outside: Path) -> None:
    (store.root / "linked").symlink_to(outside)
    with pytest.raises(NoSuchBucket):
        list(store.list_objects("linked", ""))
    with pytest.raises(StorageError):
        store.put_bytes("linked", "x.txt", b"x")
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]


def test_writing_through_a_link_is_refused(store: LocalFolderStore, outside: Path) -> None:
    store.put_bytes("bkt", "keep.txt", b"x")
    (store.root / "bkt" / "out").symlink_to(outside)
    with pytest.raises(StorageError):
        store.put_bytes("bkt", "out/output.tar.gz", b"archive")
    with pytest.raises(StorageError):
        store.put_bytes("bkt", "out/deeper/output.tar.gz", b"archive")
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]


class _BreakingBody:
    """An S3 response body whose connection drops after `cut` bytes (as urllib3 reports it)."""

    def __init__(self, data: bytes, cut: int | None) -> None:
        self.data, self.cut, self.at = data, cut, 0

    def read(self, size: int = -1) -> bytes:
        from urllib3.exceptions import ProtocolError

        if self.cut is not None and self.at >= self.cut:
            raise ProtocolError("Connection broken: IncompleteRead")
        end = len(self.data) if size < 0 else self.at + size
        if self.cut is not None:
            end = min(end, self.cut)
        chunk, self.at = self.data[self.at : end], end
        return chunk

    def close(self) -> None:
        pass


class _FlakyS3:
    """get_object that drops the connection `breaks` times, each after `cut` bytes of what it serves (the
    first time after 100)."""

    def __init__(self, data: bytes, breaks: int, cut: int = 100) -> None:
        self.data, self.breaks, self.cut, self.requests = data, breaks, cut, []

    def get_object(self, **request: Any) -> dict[str, Any]:
        self.requests.append(request)
        start = int(request["Range"].removeprefix("bytes=").rstrip("-")) if "Range" in request else 0
        cut = (100 if len(self.requests) == 1 else self.cut) if len(self.requests) <= self.breaks else None
        return {"Body": _BreakingBody(self.data[start:], cut), "ETag": '"abc"'}


def test_an_s3_stream_resumes_where_a_dropped_connection_left_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from opencomprehend.io.objects import s3 as objects

    monkeypatch.setattr(objects, "STREAM_BACKOFF_S", 0.001)
    data = bytes(range(256)) * 10
    store = S3Store("http://127.0.0.1:1", "us-east-1", "AK", "SK")
    store._client = _FlakyS3(data, breaks=2)
    with store.open_stream("b", "k") as stream:
        read = b"".join(iter(lambda: stream.read(64), b""))
    assert read == data
    ranges = [r.get("Range") for r in store._client.requests]
    assert ranges == [None, "bytes=100-", "bytes=200-"]
    assert all(r.get("IfMatch") == '"abc"' for r in store._client.requests[1:]), "the object may not change"


def test_an_s3_stream_that_keeps_breaking_fails_with_a_storage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """Resumed as long as it makes progress; a connection that breaks at once, again and again, fails."""
    from opencomprehend.io.objects import s3 as objects

    monkeypatch.setattr(objects, "STREAM_BACKOFF_S", 0.001)
    store = S3Store("http://127.0.0.1:1", "us-east-1", "AK", "SK")
    store._client = _FlakyS3(b"x" * 10_000, breaks=100, cut=0)
    with pytest.raises(StorageError, match="Cannot read s3://b/k"), store.open_stream("b", "k") as stream:
        while stream.read(1000):
            pass
    assert len(store._client.requests) == objects.STREAM_ATTEMPTS  # the first GET, then the reopenings
