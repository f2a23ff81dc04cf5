"""The composition root: settings → store, object store, workers, scheduler → the ASGI app."""

from __future__ import annotations

import errno
import hashlib
import hmac
import logging
import os
import secrets
from typing import TYPE_CHECKING

from starlette.applications import Starlette

from opencomprehend.api.app import build_app
from opencomprehend.config import Settings
from opencomprehend.io.objects import LocalFolderStore, ObjectStore, S3Store, parse_s3_uri
from opencomprehend.jobs.access import DataAccess
from opencomprehend.jobs.endpoints import EndpointStore
from opencomprehend.jobs.recognizers import RecognizerStore
from opencomprehend.jobs.scheduler import Scheduler
from opencomprehend.jobs.store import JobStore
from opencomprehend.runtime.pool import InlineRunner, LocalPool
from opencomprehend.runtime.runner import pii_engine_key
from opencomprehend.security.credentials import CredentialStore
from opencomprehend.security.keyring import KeyRing
from opencomprehend.security.keys import master_cipher
from opencomprehend.security.roles import RoleRegistry
from opencomprehend.service.registry import Environment

if TYPE_CHECKING:
    from opencomprehend.runtime.cluster import DaskRunner

log = logging.getLogger("opencomprehend")


def open_object_store(settings: Settings) -> ObjectStore:
    if settings.s3_endpoint_url:
        return S3Store(
            settings.s3_endpoint_url,
            settings.s3_region or settings.region,
            settings.s3_access_key_id,
            settings.s3_secret_access_key,
            settings.s3_sse_kms,
            settings.s3_max_attempts,
        )
    settings.store_root.mkdir(mode=0o700, parents=True, exist_ok=True)
    store = LocalFolderStore(settings.store_root)
    # The server's own buckets (trained models; a job's parts with an s3:// work URI) are made here, once: a
    # write never makes a bucket, so a job's output into a bucket nobody made fails as it does on S3.
    for uri in (settings.models_uri, settings.resolved_work_uri()):
        if uri:
            store.create_bucket(parse_s3_uri(uri)[0])
    return store


def _secret(settings: Settings) -> bytes:
    """The key that signs pagination tokens, so that they survive a restart: derived from the master key when
    the operator gives one (every node of a cluster then accepts the tokens of the others), else a random
    key kept in the data dir."""
    if settings.master_key:
        return hmac.new(settings.master_key.encode(), b"opencomprehend pagination tokens", hashlib.sha256).digest()
    path = settings.data_dir / "secret.key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with open(fd, "wb") as out:
            out.write(secrets.token_bytes(32))
    return path.read_bytes()


def prepare_data_dir(settings: Settings) -> None:
    """The data folder, private to the server's user: folders 0700, the SQLite job store 0600.

    Raises OSError (a file in the way, no permission) before anything else starts.
    """
    data_dir = settings.data_dir
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not os.access(data_dir, os.W_OK | os.X_OK):
        raise PermissionError(errno.EACCES, "not writable", str(data_dir))
    for folder in (settings.work_dir, settings.model_cache):
        folder.mkdir(mode=0o700, exist_ok=True)
    if not settings.database_url:
        # SQLite creates its -wal and -shm files with the database file's own permissions.
        database = data_dir / "opencomprehend.db"
        os.close(os.open(database, os.O_RDWR | os.O_CREAT, 0o600))


def open_credentials(settings: Settings) -> CredentialStore:
    """The operator's API credentials (the file `opencomprehend credentials` manages)."""
    return CredentialStore(settings.resolved_credentials_file, master_cipher(settings.data_dir, settings.master_key))


def open_keyring(settings: Settings) -> KeyRing:
    """The local KMS keyring (the file `opencomprehend kms` manages)."""
    return KeyRing(settings.data_dir / "keys.json", master_cipher(settings.data_dir, settings.master_key))


def open_roles(settings: Settings) -> RoleRegistry:
    """The operator's data access roles (the file `opencomprehend roles` manages)."""
    return RoleRegistry(settings.data_dir / "roles.json", master_cipher(settings.data_dir, settings.master_key))


def preload_keys(settings: Settings) -> list[str]:
    """The engines every worker loads before its first task: the preloaded languages' entity models, and
    their PII detection unless `preload_pii` is off."""
    keys = list(settings.preload_languages)
    if settings.preload_pii:
        keys += [pii_engine_key(language) for language in settings.preload_languages]
    return keys


def open_runner(settings: Settings) -> LocalPool | DaskRunner:
    """The runtime shards run on: this node's warm worker processes, or a Dask cluster's workers."""
    if settings.runtime == "dask":
        from opencomprehend.runtime.cluster import DaskRunner

        if not settings.dask_scheduler:
            raise ValueError("The dask runtime needs the scheduler's address (--scheduler tcp://host:port).")
        return DaskRunner(settings.dask_scheduler, preload_keys(settings), settings.worker_task_timeout_s)
    return LocalPool(
        settings.workers,
        preload_keys(settings),
        max(1, settings.worker_recycle_documents // max(1, settings.shard_documents)),
        settings.worker_task_timeout_s,
        settings.realtime_workers,
    )


def create_app(settings: Settings, run_workers: bool = True) -> Starlette:
    """The service. Without workers (in-process tests) Detect runs in this process and jobs stay queued."""
    prepare_data_dir(settings)
    store = JobStore(settings.resolved_database_url())
    objects = open_object_store(settings)
    pool = open_runner(settings) if run_workers else None
    env = Environment(
        settings=settings,
        store=store,
        recognizers=RecognizerStore(store.engine),
        endpoints=EndpointStore(store.engine),
        secret=_secret(settings),
        credentials=open_credentials(settings) if settings.auth == "sigv4" else None,
        # Roles are enforced with real accounts; in development mode every role reaches every local bucket.
        roles=open_roles(settings) if settings.auth == "sigv4" else None,
        keys=open_keyring(settings),
        objects=objects,
        runner=pool if pool is not None else InlineRunner(),
    )
    hooks = []
    if pool is not None:

        def start_workers():  # type: ignore[no-untyped-def]
            pool.warm_up()
            access = DataAccess(objects, env.roles, settings, env.keys)
            scheduler = Scheduler(store, env.recognizers, objects, pool, settings, access)
            scheduler.start()
            env.on_job_change.append(scheduler.wake)
            extra = getattr(pool, "realtime_workers", 0)
            log.info("%d warm workers ready%s", pool.workers, f" (and {extra} for real time)" if extra else "")

            def stop() -> None:
                env.on_job_change.remove(scheduler.wake)
                scheduler.stop()
                pool.close()

            return stop

        hooks.append(start_workers)
    return build_app(env, hooks)
