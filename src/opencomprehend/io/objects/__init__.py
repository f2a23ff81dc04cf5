"""Object storage behind `s3://` URIs: a local folder (the embedded default) or any S3-compatible server.

Both stores present S3's semantics to the rest of the system: plain string prefixes, keys listed in
ascending code point order, folder markers invisible, and writes that a reader sees whole or not at all.

The package's modules: `base` (the ObjectStore protocol, StorageError and its kinds, s3:// URIs), `local`
(LocalFolderStore), `scoped` (ScopedStore: a store seen through a data access role) and `s3` (S3Store).
"""

from opencomprehend.io.objects.base import (
    AccessDenied,
    NoSuchBucket,
    NoSuchKey,
    ObjectInfo,
    ObjectStore,
    StorageError,
    parse_s3_uri,
)
from opencomprehend.io.objects.local import LocalFolderStore
from opencomprehend.io.objects.s3 import S3Store
from opencomprehend.io.objects.scoped import ScopedStore

__all__ = [
    "AccessDenied",
    "LocalFolderStore",
    "NoSuchBucket",
    "NoSuchKey",
    "ObjectInfo",
    "ObjectStore",
    "S3Store",
    "ScopedStore",
    "StorageError",
    "parse_s3_uri",
]
