"""Any S3-compatible server through boto3 (S3Store), streams resumed where a dropped connection left them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

from opencomprehend.io.objects.base import AccessDenied, NoSuchBucket, NoSuchKey, ObjectInfo, StorageError

# A stream that cannot be opened, or loses its connection part-way, is (re)opened where it stopped (a ranged
# GET), this many times, after 0.5 s, 1 s, 2 s, ... (botocore's own retries cover each request before that).
STREAM_ATTEMPTS = 5
STREAM_BACKOFF_S = 0.5


class _S3Stream:
    """An object read as it is consumed; a broken connection is resumed with a ranged GET from the
    offset reached, with backoff, so one reset does not fail a job that is hours into a large file."""

    def __init__(self, store: S3Store, bucket: str, key: str) -> None:
        self._store = store
        self._bucket = bucket
        self._key = key
        self._offset = 0
        self._etag: str | None = None
        self._body: Any = None  # opened by the first read, inside its retries

    def _open(self) -> None:
        extra: dict[str, str] = {"Range": f"bytes={self._offset}-"} if self._offset else {}
        if self._etag is not None:
            extra["IfMatch"] = self._etag  # the object must not change under a resumed read
        with _mapped_errors(f"read s3://{self._bucket}/{self._key}"):
            response = self._store.client.get_object(Bucket=self._bucket, Key=self._key, **extra)
        self._etag = self._etag or response.get("ETag")
        self._body = response["Body"]

    def read(self, size: int = -1) -> bytes:
        import time

        for attempt in range(STREAM_ATTEMPTS):
            try:
                if self._body is None:
                    self._open()
                data = self._body.read() if size is None or size < 0 else self._body.read(size)
                self._offset += len(data)
                return data
            except NoSuchKey:
                raise
            except Exception as exc:  # noqa: BLE001  (classified below: storage errors are retried)
                error = exc if isinstance(exc, StorageError) else _translate(exc, f"read s3://{self._bucket}/{self._key}")
                if error is None:
                    error = StorageError(f"Cannot read s3://{self._bucket}/{self._key}: {exc}.")
                if isinstance(error, (AccessDenied, NoSuchBucket)) or attempt == STREAM_ATTEMPTS - 1:
                    raise error from exc
                self.close()
                time.sleep(STREAM_BACKOFF_S * 2**attempt)
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self._body is not None:
            try:
                self._body.close()
            except Exception:  # noqa: BLE001  (closing a broken connection)
                pass
            self._body = None

    def __enter__(self) -> _S3Stream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class S3Store:
    """Any S3-compatible server (AWS S3, SeaweedFS, MinIO, Ceph) through boto3.

    The boto3 client is made on first use and left out of pickling, so a store can be handed to worker
    processes (local pool or Dask) and each builds its own client there.
    """

    def __init__(
        self,
        endpoint_url: str | None,
        region: str,
        access_key_id: str | None,
        secret_access_key: str | None,
        server_side_kms: bool = True,
        max_attempts: int = 8,
    ) -> None:
        # False for S3-compatible servers without a KMS (SeaweedFS): output is then sealed before upload.
        self.server_side_kms = server_side_kms
        self.endpoint_url = endpoint_url
        self.region = region
        self.access_key_id = access_key_id
        self.secret_access_key = secret_access_key
        self.max_attempts = max_attempts
        self._client: Any = None

    def __repr__(self) -> str:
        return f"S3Store(endpoint_url={self.endpoint_url!r}, region={self.region!r})"

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_client"] = None
        return state

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3
            from botocore.config import Config

            self._client = boto3.client(
                "s3",
                endpoint_url=self.endpoint_url,
                region_name=self.region,
                aws_access_key_id=self.access_key_id,
                aws_secret_access_key=self.secret_access_key,
                # Path-style because SeaweedFS and MinIO are usually reached by IP or a name without
                # wildcard DNS, where virtual-hosted bucket names cannot resolve.
                config=Config(
                    s3={"addressing_style": "path"},
                    retries={"mode": "standard", "max_attempts": self.max_attempts},
                ),
            )
        return self._client

    def list_objects(self, bucket: str, prefix: str) -> Iterator[ObjectInfo]:
        # S3 itself lists in key order, but some compatible servers (SeaweedFS) list a folder's
        # sub-folders before its files, so "a/x" comes before "a-b". Record order in the output follows
        # the listing, so sort here rather than trust the server.
        with _mapped_errors(f"list s3://{bucket}/{prefix}"):
            pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
            objects = [
                ObjectInfo(key=item["Key"], size=int(item["Size"]))
                for page in pages
                for item in page.get("Contents", ())
                if not item["Key"].endswith("/")
            ]
        # Listing eagerly (not as a generator) makes a missing bucket fail at the call, as it does for
        # LocalFolderStore; the sort needs every key anyway.
        objects.sort(key=lambda o: o.key)
        return iter(objects)

    def get_bytes(self, bucket: str, key: str) -> bytes:
        with _mapped_errors(f"read s3://{bucket}/{key}"):
            response = self.client.get_object(Bucket=bucket, Key=key)
            return response["Body"].read()

    def open_stream(self, bucket: str, key: str) -> BinaryIO:
        return _S3Stream(self, bucket, key)  # type: ignore[return-value]

    def put_bytes(self, bucket: str, key: str, data: bytes, kms_key_id: str | None = None) -> None:
        extra = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": kms_key_id} if kms_key_id else {}
        with _mapped_errors(f"write s3://{bucket}/{key}"):
            self.client.put_object(Bucket=bucket, Key=key, Body=data, **extra)

    def put_file(self, bucket: str, key: str, path: Path, kms_key_id: str | None = None) -> None:
        # upload_file switches to multipart for large files; either way the object appears only when
        # the upload completes, so readers never see a partial archive.
        if not Path(path).is_file():
            raise StorageError(f"Cannot upload {path} to s3://{bucket}/{key}: the file does not exist.")
        extra = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": kms_key_id} if kms_key_id else None
        with _mapped_errors(f"write s3://{bucket}/{key}"):
            self.client.upload_file(str(path), bucket, key, ExtraArgs=extra)

    def delete(self, bucket: str, key: str) -> None:
        with _mapped_errors(f"delete s3://{bucket}/{key}"):
            self.client.delete_object(Bucket=bucket, Key=key)


@contextmanager
def _mapped_errors(action: str) -> Iterator[None]:
    """Turn botocore and boto3 transfer errors into this module's StorageError family."""
    try:
        yield
    except Exception as exc:
        error = _translate(exc, action)
        if error is None:
            raise
        raise error from exc


def _translate(exc: BaseException, action: str) -> StorageError | None:
    from boto3.exceptions import S3UploadFailedError
    from botocore.exceptions import BotoCoreError, ClientError

    if isinstance(exc, S3UploadFailedError):
        # boto3's transfer manager wraps the server's ClientError; classify by that when it is there.
        inner = exc.__cause__ or exc.__context__
        if isinstance(inner, ClientError):
            exc = inner
        else:
            return StorageError(f"Cannot {action}: {exc}.")
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        code = str(err.get("Code", ""))
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        message = str(err.get("Message") or code or "error").rstrip(".")
        text = f"Cannot {action}: {message} ({code or status})."
        if code == "NoSuchBucket":
            return NoSuchBucket(text)
        if code in ("NoSuchKey", "NotFound", "404"):
            return NoSuchKey(text)
        # S3 answers bad or unknown credentials with 403 too (SignatureDoesNotMatch, InvalidAccessKeyId):
        # for a job they all mean the same thing, the store will not let us in.
        if code == "AccessDenied" or status == 403:
            return AccessDenied(text)
        return StorageError(text)
    if isinstance(exc, BotoCoreError):
        # Connection refused, bad endpoint, missing credentials: botocore's own sentences are clear.
        return StorageError(f"Cannot {action}: {exc}")
    return None
