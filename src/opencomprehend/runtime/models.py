"""Trained models as objects: packed into one archive in the object store, unpacked once per node."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import tarfile
import tempfile
from pathlib import Path

from opencomprehend.io.objects import ObjectStore, StorageError, parse_s3_uri
from opencomprehend.security.keyring import MAGIC, Key, KeyRing, KeyringError


def pack_model(folder: Path) -> bytes:
    """A model folder (the spaCy pipeline with its config and training report) as one gzip tar, in memory."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        tar.add(folder, arcname="model")
    return buffer.getvalue()


def unpack_model(packed: bytes, target: Path) -> Path:
    """Unpack `pack_model`'s archive as the folder `target`, whole or not at all: staged beside it, then
    renamed. When another process got there first, theirs is as good as ours."""
    if target.is_dir():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=".unpack-"))
    try:
        with tarfile.open(fileobj=io.BytesIO(packed), mode="r:gz") as tar:
            tar.extractall(staging, filter="data")
        try:
            os.rename(staging / "model", target)
        except OSError:
            if not target.is_dir():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def store_model(objects: ObjectStore, folder: Path, uri: str, kms: tuple[KeyRing, Key] | None = None) -> None:
    """Pack a model folder and upload it.

    With `kms` (the recognizer's ModelKmsKeyId) the stored archive is sealed under that key.
    """
    store_packed_model(objects, pack_model(folder), uri, kms)


def store_packed_model(objects: ObjectStore, packed: bytes, uri: str, kms: tuple[KeyRing, Key] | None = None) -> None:
    """Upload a model already packed (`pack_model`), sealed under `kms` as `store_model` does."""
    bucket, key = parse_s3_uri(uri)
    objects.put_bytes(bucket, key, packed if kms is None else kms[0].seal(kms[1], packed))


def fetch_model(objects: ObjectStore, uri: str, cache: Path, keys: KeyRing | None = None) -> Path:
    """The local folder of a stored model, downloaded and unpacked on first use on this node.

    A sealed model (ModelKmsKeyId) is opened with the keyring; its key must still be enabled.
    """
    target = cache / hashlib.sha256(uri.encode()).hexdigest()[:24] / "model"
    if target.is_dir():
        return target
    bucket, key = parse_s3_uri(uri)
    stored = objects.get_bytes(bucket, key)
    if stored.startswith(MAGIC):
        if keys is None:
            raise StorageError(f"The model {uri} is encrypted and this node has no keyring.")
        try:
            stored = keys.open(stored)
        except KeyringError as exc:
            raise StorageError(f"The model {uri} could not be decrypted: {exc}.") from None
    return unpack_model(stored, target)


def delete_model(objects: ObjectStore, uri: str) -> None:
    bucket, key = parse_s3_uri(uri)
    objects.delete(bucket, key)
