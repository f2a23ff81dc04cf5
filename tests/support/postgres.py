"""A private PostgreSQL cluster for tests, from the server binaries `initdb` and `pg_ctl`.

The cluster lives in a fresh temporary folder, listens on 127.0.0.1 only (a port picked free at start, its
unix socket inside the folder), trusts local connections, and is stopped and deleted at the end. initdb
refuses to run as root, so under root the cluster is created and run as the `postgres` system user.
"""

from __future__ import annotations

import dataclasses
import os
import pwd
import re
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from support.components import free_port

if TYPE_CHECKING:
    import psycopg

LOOPBACK = "127.0.0.1"
SUPERUSER = "postgres"
SYSTEM_USER = "postgres"  # who runs the server when the tests run as root
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 30.0
START_ATTEMPTS = 3
INSTALL_HINT = (
    "apt-get install postgresql (Debian/Ubuntu; it puts initdb and pg_ctl in /usr/lib/postgresql/<v>/bin), "
    "dnf install postgresql-server, or brew install postgresql"
)


@dataclass(frozen=True)
class PostgreSQL:
    host: str
    port: int
    user: str
    database: str
    data_dir: Path = field(repr=False)
    log_path: Path = field(repr=False)
    start_seconds: float = 0.0

    def url_for(self, database: str) -> str:
        """The SQLAlchemy URL (psycopg 3 driver) of one database in this cluster."""
        return f"postgresql+psycopg://{self.user}@{self.host}:{self.port}/{database}"

    @property
    def url(self) -> str:
        return self.url_for(self.database)

    def connect(self, database: str = "postgres") -> psycopg.Connection[Any]:
        """An autocommit connection as the superuser, to `database` (the maintenance one by default)."""
        import psycopg

        return psycopg.connect(
            host=self.host,
            port=self.port,
            user=self.user,
            dbname=database,
            autocommit=True,
            connect_timeout=5,
        )

    def create_database(self, name: str | None = None) -> str:
        """A new, empty database; returns its SQLAlchemy URL."""
        name = name or f"oc_{uuid.uuid4().hex[:16]}"
        _check_name(name)
        with self.connect() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url_for(name)

    def drop_database(self, name: str) -> None:
        """Drop a database even while clients still hold connections to it (PostgreSQL 13+)."""
        _check_name(name)
        with self.connect() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def fresh_database(server: PostgreSQL) -> Iterator[str]:
    """A new, empty database for one test (its URL), dropped afterwards."""
    name = f"oc_{uuid.uuid4().hex[:16]}"
    url = server.create_database(name)
    try:
        yield url
    finally:
        server.drop_database(name)


def _check_name(name: str) -> None:
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", name):
        raise ValueError(f"not a plain database name: {name!r}")


def find_pg_bin() -> Path | None:
    """The folder holding both `initdb` and `pg_ctl`: from PATH first, then the newest Debian install."""
    candidates: list[Path] = []
    initdb = shutil.which("initdb")
    if initdb:
        # /usr/local/bin/initdb is often a symlink; pg_ctl must sit beside the real `postgres`.
        candidates += [Path(initdb).resolve().parent, Path(initdb).parent]
    installed = Path("/usr/lib/postgresql").glob("*/bin")

    def version(path: Path) -> tuple[int, ...]:
        return tuple(int(p) for p in re.findall(r"\d+", path.parent.name)) or (0,)

    candidates += sorted(installed, key=version, reverse=True)
    for folder in candidates:
        if all(os.access(folder / name, os.X_OK) for name in ("initdb", "pg_ctl", "postgres")):
            return folder
    return None


def _as_server_user() -> list[str]:
    """The command prefix that runs the server binaries as an unprivileged user (empty unless root)."""
    if os.geteuid() != 0:
        return []
    runuser = shutil.which("runuser")
    if runuser:
        return [runuser, "-u", SYSTEM_USER, "--"]
    setpriv = shutil.which("setpriv")
    if setpriv:
        return [setpriv, f"--reuid={SYSTEM_USER}", f"--regid={SYSTEM_USER}", "--init-groups", "--"]
    raise RuntimeError("running as root, but neither runuser nor setpriv is available to drop to postgres")


def _make_workdir() -> Path:
    """A temp folder the server user owns; under root, one that user can also reach.

    pytest's own temp folders sit below a 0700 folder of the invoking user, which `postgres` cannot
    enter, and unix socket paths are limited to ~100 bytes, so this is a short folder of its own.
    """
    base = Path(tempfile.gettempdir())
    if os.geteuid() == 0 and not all(os.stat(p).st_mode & 0o001 for p in [base, *base.parents]):
        base = Path("/tmp")
    workdir = Path(tempfile.mkdtemp(prefix="oc-pg-", dir=base))
    if os.geteuid() == 0:
        account = pwd.getpwnam(SYSTEM_USER)
        os.chown(workdir, account.pw_uid, account.pw_gid)
    return workdir


def _run(command: list[str], workdir: Path, timeout: float) -> subprocess.CompletedProcess[str]:
    # cwd inside the folder: the server user may not be allowed to look at the caller's directory.
    # Own session: a Ctrl-C aimed at pytest is handled by our teardown, not delivered to the postmaster.
    return subprocess.run(
        [*_as_server_user(), *command],
        cwd=workdir,
        start_new_session=True,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "LC_ALL": "C", "LANG": "C"},
    )


def _log_tail(log_path: Path, lines: int = 40) -> str:
    try:
        text = log_path.read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "postgres log tail:\n" + "\n".join(text.splitlines()[-lines:])


def _wait_until_ready(server: PostgreSQL, deadline: float) -> None:
    import psycopg

    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            with server.connect() as conn:
                conn.execute("SELECT 1")
            return
        except psycopg.OperationalError as e:
            last_error = e
            time.sleep(0.1)
    raise TimeoutError(f"PostgreSQL on port {server.port} not accepting connections: {last_error}")


def _stop(bin_dir: Path, data_dir: Path, workdir: Path) -> None:
    if not (data_dir / "postmaster.pid").exists():
        return
    done = _run(
        [
            str(bin_dir / "pg_ctl"),
            "stop",
            "-D",
            str(data_dir),
            "-m",
            "fast",
            "-w",
            "-t",
            str(int(STOP_TIMEOUT_S)),
        ],
        workdir,
        STOP_TIMEOUT_S + 10,
    )
    if done.returncode != 0 and (data_dir / "postmaster.pid").exists():
        _run(
            [str(bin_dir / "pg_ctl"), "stop", "-D", str(data_dir), "-m", "immediate", "-w"],
            workdir,
            STOP_TIMEOUT_S + 10,
        )


@contextmanager
def running_postgres(bin_dir: Path, database: str = "opencomprehend") -> Iterator[PostgreSQL]:
    """initdb a cluster in a new temp folder, start it on loopback, create `database`, stop and delete after."""
    workdir = _make_workdir()
    data_dir = workdir / "data"
    socket_dir = workdir / "sock"
    try:
        started = time.monotonic()
        socket_dir.mkdir()
        if os.geteuid() == 0:
            shutil.chown(socket_dir, SYSTEM_USER, SYSTEM_USER)
        done = _run(
            [
                str(bin_dir / "initdb"),
                "-D", str(data_dir),
                "-U", SUPERUSER,
                "-A", "trust",  # local connections only (see listen_addresses), so trust is enough
                "-E", "UTF8",
                "--no-locale",
                "--no-sync",
            ],
            workdir,
            120,
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"initdb failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")

        last_error: Exception | None = None
        for attempt in range(1, START_ATTEMPTS + 1):
            port = free_port()
            log_path = workdir / f"postgres-{attempt}.log"
            options = " ".join(
                [
                    f"-h {LOOPBACK}",  # listen_addresses: loopback only
                    f"-p {port}",
                    f"-k {socket_dir}",  # unix_socket_directories: inside the temp folder
                    # A throwaway cluster: durability only slows the tests down.
                    "-c fsync=off",
                    "-c synchronous_commit=off",
                    "-c full_page_writes=off",
                    "-c max_connections=200",
                ]
            )
            done = _run(
                [
                    str(bin_dir / "pg_ctl"),
                    "start",
                    "-D", str(data_dir),
                    "-l", str(log_path),
                    "-o", options,
                    "-w",
                    "-t", str(int(START_TIMEOUT_S)),
                ],
                workdir,
                START_TIMEOUT_S + 10,
            )  # fmt: skip
            server = PostgreSQL(
                host=LOOPBACK,
                port=port,
                user=SUPERUSER,
                database=database,
                data_dir=data_dir,
                log_path=log_path,
            )
            try:
                if done.returncode != 0:
                    raise RuntimeError(f"pg_ctl start failed ({done.returncode}): {done.stdout}{done.stderr}")
                _wait_until_ready(server, time.monotonic() + START_TIMEOUT_S)
            except (RuntimeError, TimeoutError) as e:
                # Most likely the port was taken between choosing it and the server binding it.
                _stop(bin_dir, data_dir, workdir)
                last_error = RuntimeError(f"{e}\n{_log_tail(log_path)}")
                continue
            server.create_database(database)
            server = dataclasses.replace(server, start_seconds=time.monotonic() - started)
            try:
                yield server
            finally:
                _stop(bin_dir, data_dir, workdir)
            return
        raise RuntimeError(f"PostgreSQL did not start after {START_ATTEMPTS} attempts: {last_error}")
    finally:
        _stop(bin_dir, data_dir, workdir)
        shutil.rmtree(workdir, ignore_errors=True)
