"""The composition root: settings → store, object store, workers, scheduler → the ASGI app."""

from __future__ import annotations

import logging
import secrets
from pathlib import Path

from starlette.applications import Starlette

from opencomprehend.api.app import build_app
from opencomprehend.config import Settings
from opencomprehend.io.objects import LocalFolderStore, ObjectStore, S3Store
from opencomprehend.jobs.endpoints import EndpointStore
from opencomprehend.jobs.recognizers import RecognizerStore
from opencomprehend.jobs.scheduler import Scheduler
from opencomprehend.jobs.store import JobStore
from opencomprehend.runtime.pool import InlineRunner, LocalPool
from opencomprehend.service.registry import Environment

log = logging.getLogger("opencomprehend")


def open_object_store(settings: Settings) -> ObjectStore:
    if settings.s3_endpoint_url:
        return S3Store(
            settings.s3_endpoint_url,
            settings.s3_region or settings.region,
            settings.s3_access_key_id,
            settings.s3_secret_access_key,
        )
    settings.store_root.mkdir(parents=True, exist_ok=True)
    return LocalFolderStore(settings.store_root)


def _secret(data_dir: Path) -> bytes:
    """The key that signs pagination tokens; kept in the data dir so tokens survive a restart."""
    path = data_dir / "secret.key"
    if not path.exists():
        path.write_bytes(secrets.token_bytes(32))
        path.chmod(0o600)
    return path.read_bytes()


def create_app(settings: Settings, run_workers: bool = True) -> Starlette:
    """The service. Without workers (in-process tests) Detect runs in this process and jobs stay queued."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = JobStore(settings.resolved_database_url())
    objects = open_object_store(settings)
    pool = (
        LocalPool(
            settings.workers,
            settings.preload_languages,
            max(1, settings.worker_recycle_documents // max(1, settings.shard_documents)),
        )
        if run_workers
        else None
    )
    env = Environment(
        settings=settings,
        store=store,
        recognizers=RecognizerStore(store.engine),
        endpoints=EndpointStore(store.engine),
        secret=_secret(settings.data_dir),
        objects=objects,
        runner=pool if pool is not None else InlineRunner(),
    )
    hooks = []
    if pool is not None:

        def start_workers():  # type: ignore[no-untyped-def]
            pool.warm_up()
            scheduler = Scheduler(store, env.recognizers, objects, pool, settings)
            scheduler.start()
            env.on_job_change.append(scheduler.wake)
            log.info("%d warm workers ready", pool.workers)

            def stop() -> None:
                env.on_job_change.remove(scheduler.wake)
                scheduler.stop()
                pool.close()

            return stop

        hooks.append(start_workers)
    return build_app(env, hooks)
