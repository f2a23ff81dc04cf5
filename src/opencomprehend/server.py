"""The composition root: settings → store, object store, workers, scheduler → the ASGI app."""

from __future__ import annotations

import errno
import hashlib
import hmac
import logging
import os
import secrets
import shutil
import threading
from pathlib import Path

from sqlalchemy import Engine
from starlette.applications import Starlette

from opencomprehend.api.app import build_app
from opencomprehend.config import Settings
from opencomprehend.console.app import console_routes
from opencomprehend.console.session import SignOuts
from opencomprehend.io.objects import LocalFolderStore, ObjectStore, S3Store, parse_s3_uri
from opencomprehend.jobs.access import DataAccess
from opencomprehend.jobs.endpoints import EndpointStore
from opencomprehend.jobs.recognizers import RecognizerStore
from opencomprehend.jobs.scheduler import Scheduler
from opencomprehend.jobs.store import TERMINAL, JobStore, open_engine
from opencomprehend.jobs.tags import TagStore
from opencomprehend.nlp.models_file import ModelChoice, read_models_file
from opencomprehend.nlp.registry import configure_models
from opencomprehend.runtime.pool import InlineRunner
from opencomprehend.runtime.runner import (
    LANGUAGE_ENGINE,
    EngineRef,
    Runner,
    entities_engine,
    open_runtime,
    pii_engine_key,
)
from opencomprehend.security.credentials import SECRET_FIELDS as CREDENTIAL_SECRETS
from opencomprehend.security.credentials import CredentialStore
from opencomprehend.security.keyring import SECRET_FIELDS as KEY_SECRETS
from opencomprehend.security.keyring import KeyRing
from opencomprehend.security.keys import master_cipher
from opencomprehend.security.records import RecordsTable
from opencomprehend.security.roles import SECRET_FIELDS as ROLE_SECRETS
from opencomprehend.security.roles import RoleRegistry
from opencomprehend.service.registry import Environment

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


_security_engines: dict[str, Engine] = {}
_security_engines_lock = threading.Lock()


def security_engine(settings: Settings) -> Engine:
    """The job store's database, for the security records (one engine per database in a process; the CLI's
    commands open it without a server, migrating it as a server would)."""
    url = settings.resolved_database_url()
    with _security_engines_lock:
        engine = _security_engines.get(url)
        if engine is None:
            prepare_data_dir(settings)
            engine = open_engine(url)
            _security_engines[url] = engine
        return engine


def _records(
    settings: Settings, kind: str, id_field: str, secrets: tuple[str, ...], legacy: Path, engine: Engine | None
) -> RecordsTable:
    """One kind of security record in the job store; a file of before (`legacy`) is imported into it once."""
    cipher = master_cipher(settings.data_dir, settings.master_key)
    table = RecordsTable(engine or security_engine(settings), kind, cipher, id_field, secrets)
    table.import_file(legacy)
    return table


def open_credentials(settings: Settings, engine: Engine | None = None) -> CredentialStore:
    """The operator's API credentials (`opencomprehend credentials`), in the job store."""
    legacy = settings.resolved_credentials_file
    return CredentialStore(_records(settings, "credentials", "access_key_id", CREDENTIAL_SECRETS, legacy, engine))


def open_keyring(settings: Settings, engine: Engine | None = None) -> KeyRing:
    """The local KMS keyring (`opencomprehend kms`), in the job store."""
    legacy = settings.data_dir / "keys.json"
    return KeyRing(_records(settings, "keys", "key_id", KEY_SECRETS, legacy, engine))


def open_roles(settings: Settings, engine: Engine | None = None) -> RoleRegistry:
    """The operator's data access roles (`opencomprehend roles`), in the job store."""
    legacy = settings.data_dir / "roles.json"
    return RoleRegistry(_records(settings, "roles", "arn", ROLE_SECRETS, legacy, engine))


def preload_keys(settings: Settings) -> list[EngineRef]:
    """The engines every worker loads before its first task: the preloaded languages' entity models, and
    their PII detection unless `preload_pii` is off, and the dominant language identifier (20 MB, 0.1 s)."""
    keys = [entities_engine(language) for language in settings.preload_languages]
    if settings.preload_pii:
        keys += [pii_engine_key(language) for language in settings.preload_languages]
    return [*keys, LANGUAGE_ENGINE]


def configured_models(settings: Settings) -> dict[str, ModelChoice]:
    """The operator's models file, resolved (nothing without one); ModelsFileError, one line, when unusable."""
    return read_models_file(settings.models) if settings.models else {}


def open_runner(settings: Settings, models: dict[str, ModelChoice] | None = None) -> Runner:
    """The runtime shards run on (Settings.runtime: runtime/runner.py RUNTIMES), warming `preload_keys`;
    `models` is the resolved models file every worker takes as its configuration."""
    return open_runtime(settings, preload_keys(settings), models)


def clean_work_dir(settings: Settings, store: JobStore) -> None:
    """At start, the job folders a killed run left in this node's work folder: an empty one, one of a job that
    is over or unknown, and on a cluster (parts kept in the object store) every one, since nothing in them is
    needed to resume. On a single node a running job's parts stay: the job resumes from them."""
    try:
        folders = [entry for entry in settings.work_dir.iterdir() if entry.is_dir()]
    except OSError:
        return
    shared = settings.resolved_work_uri() is not None
    for folder in folders:
        job = store.get(folder.name)
        active = job is not None and job.status not in TERMINAL
        if shared or not active or not any(folder.iterdir()):
            shutil.rmtree(folder, ignore_errors=True)
            log.info("removed the work folder %s left from before", folder)


def create_app(settings: Settings, run_workers: bool = True) -> Starlette:
    """The service. Without workers (in-process tests) Detect runs in this process and jobs stay queued."""
    prepare_data_dir(settings)
    models = configured_models(settings)
    # This process answers which languages are served (and, without workers, recognises them) as workers do.
    configure_models(models)
    store = JobStore(settings.resolved_database_url())
    clean_work_dir(settings, store)
    objects = open_object_store(settings)
    pool = open_runner(settings, models) if run_workers else None
    env = Environment(
        settings=settings,
        store=store,
        recognizers=RecognizerStore(store.engine),
        endpoints=EndpointStore(store.engine),
        secret=_secret(settings),
        tags=TagStore(store.engine),
        credentials=open_credentials(settings, store.engine) if settings.auth == "sigv4" else None,
        # Roles are enforced with real accounts; in development mode every role reaches every local bucket.
        roles=open_roles(settings, store.engine) if settings.auth == "sigv4" else None,
        keys=open_keyring(settings, store.engine),
        objects=objects,
        runner=pool if pool is not None else InlineRunner(),
    )
    hooks = []
    if pool is not None:

        def start_workers():  # type: ignore[no-untyped-def]
            pool.warm_up()
            access = DataAccess(objects, env.roles, settings, env.keys)
            scheduler = Scheduler(store, env.recognizers, objects, pool, settings, access, env.metrics)
            scheduler.start()
            env.on_job_change.append(scheduler.wake)
            extra = pool.realtime_workers
            log.info("%d warm workers ready%s", pool.workers, f" (and {extra} for real time)" if extra else "")

            def stop() -> None:
                env.on_job_change.remove(scheduler.wake)
                scheduler.stop()
                pool.close()

            return stop

        hooks.append(start_workers)
    sign_outs = None
    if settings.auth == "sigv4":
        cipher = master_cipher(settings.data_dir, settings.master_key)
        sign_outs = SignOuts(RecordsTable(store.engine, "console-sign-outs", cipher, "session"))
    return build_app(env, hooks, console_routes(env, sign_outs))
