"""Trained models as objects: packed into one archive in the object store, unpacked once per node."""

from __future__ import annotations

import hashlib
import os
import shutil
import tarfile
import tempfile
from pathlib import Path

from opencomprehend.io.objects import ObjectStore, StorageError, parse_s3_uri
from opencomprehend.security.keyring import MAGIC, Key, KeyRing, KeyringError


def store_model(objects: ObjectStore, folder: Path, uri: str, kms: tuple[KeyRing, Key] | None = None) -> None:
    """Pack a model folder (the spaCy pipeline with its config and training report) and upload it.

    With `kms` (the recognizer's ModelKmsKeyId) the stored archive is sealed under that key.
    """
    bucket, key = parse_s3_uri(uri)
    with tempfile.TemporaryDirectory() as tmp:
        archive = Path(tmp) / "model.tar.gz"
        with tarfile.open(archive, "w:gz") as tar:
            tar.add(folder, arcname="model")
        if kms is not None:
            archive.write_bytes(kms[0].seal(kms[1], archive.read_bytes()))
        objects.put_file(bucket, key, archive)


def fetch_model(objects: ObjectStore, uri: str, cache: Path, keys: KeyRing | None = None) -> Path:
    """The local folder of a stored model, downloaded and unpacked on first use on this node.

    A sealed model (ModelKmsKeyId) is opened with the keyring; its key must still be enabled.
    """
    target = cache / hashlib.sha256(uri.encode()).hexdigest()[:24]
    if (target / "model").is_dir():
        return target / "model"
    bucket, key = parse_s3_uri(uri)
    cache.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=cache, prefix=".unpack-"))
    try:
        archive = staging / "model.tar.gz"
        stored = objects.get_bytes(bucket, key)
        if stored.startswith(MAGIC):
            if keys is None:
                raise StorageError(f"The model {uri} is encrypted and this node has no keyring.")
            try:
                stored = keys.open(stored)
            except KeyringError as exc:
                raise StorageError(f"The model {uri} could not be decrypted: {exc}.") from None
        archive.write_bytes(stored)
        with tarfile.open(archive, "r:gz") as tar:
            tar.extractall(staging, filter="data")
        archive.unlink()
        try:
            os.rename(staging, target)
        except OSError:
            # Another worker unpacked it first; theirs is as good as ours.
            if not (target / "model").is_dir():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target / "model"


def delete_model(objects: ObjectStore, uri: str) -> None:
    bucket, key = parse_s3_uri(uri)
    objects.delete(bucket, key)
