"""A real Dask cluster on 127.0.0.1: `dask scheduler` and `dask worker` processes, started by the tests.

Everything binds 127.0.0.1, the HTTP servers too (`--dashboard-address 127.0.0.1:0`).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from support.components import free_port

if TYPE_CHECKING:
    from support.tls import CertificateAuthority

LOOPBACK = "127.0.0.1"
INSTALL_HINT = "pip install distributed (a dependency of opencomprehend: make test installs it)"
START_TIMEOUT_S = 120.0


def find_dask() -> Path | None:
    """The `dask` command beside this interpreter (the project's virtual environment)."""
    found = Path(sys.executable).parent / "dask"
    return found if found.is_file() and os.access(found, os.X_OK) else None


@dataclass
class DaskCluster:
    address: str
    workdir: Path
    dask: Path
    scheduler: subprocess.Popen[bytes] | None = None
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    started: int = 0  # workers started so far (each gets a name of its own)
    worker_args: list[str] = field(default_factory=list)  # TLS options, when the cluster speaks TLS
    security: Any = None  # distributed.Security for a client of a TLS cluster
    client_env: dict[str, str] = field(default_factory=dict)  # OPENCOMPREHEND_DASK_TLS_* for an API node

    def client(self) -> Any:
        from distributed import Client

        return Client(self.address, timeout="30s", set_as_default=False, security=self.security)

    def add_worker(self, env: dict[str, str] | None = None, args: list[str] | None = None) -> subprocess.Popen[bytes]:
        """One more worker process (one thread, no nanny: killing it kills the worker), joined to the scheduler;
        `args`: more of `dask worker`'s options (e.g. --resources realtime=1)."""
        n = self.started
        self.started += 1
        log = open(self.workdir / f"worker-{n}.log", "wb")  # noqa: SIM115  (the child's for its lifetime)
        process = subprocess.Popen(
            [
                str(self.dask), "worker", self.address, "--host", LOOPBACK, "--nthreads", "1", "--no-nanny",
                "--no-dashboard", "--dashboard-address", f"{LOOPBACK}:0",
                "--name", f"w{n}", "--local-directory", str(self.workdir / f"w{n}"),
                *self.worker_args, *(args or []),
            ],
            stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})}, start_new_session=True,
        )  # fmt: skip
        self.workers.append(process)
        return process

    def wait_for_workers(self, count: int, timeout: float = START_TIMEOUT_S) -> None:
        with self.client() as client:
            client.wait_for_workers(count, timeout=timeout)

    def logs(self) -> str:
        return "\n".join(
            f"--- {path.name}\n" + "\n".join(path.read_text(errors="replace").splitlines()[-30:])
            for path in sorted(self.workdir.glob("*.log"))
        )

    def stop(self) -> None:
        for process in [*self.workers, self.scheduler]:
            if process is not None and process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in [*self.workers, self.scheduler]:
            if process is None:
                continue
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=20)


def _tls_args(ca: CertificateAuthority, name: str) -> list[str]:
    made = ca.issue(name)
    return ["--tls-ca-file", str(ca.ca_file), "--tls-cert", str(made.cert), "--tls-key", str(made.key)]


@contextmanager
def running_dask(
    dask: Path, workdir: Path, workers: int = 2, tls: CertificateAuthority | None = None
) -> Iterator[DaskCluster]:
    """A scheduler and `workers` one-thread workers on loopback; every process is stopped after. With `tls`,
    everything speaks TLS with certificates of that CA (scheduler, workers and clients each their own)."""
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    cluster = DaskCluster(f"{'tls' if tls else 'tcp'}://{LOOPBACK}:{port}", workdir, dask)
    scheduler_args: list[str] = []
    if tls is not None:
        from distributed import Security

        scheduler_args = _tls_args(tls, "scheduler")
        cluster.worker_args = _tls_args(tls, "worker")
        client = tls.issue("client")
        cluster.security = Security(
            tls_ca_file=str(tls.ca_file), tls_client_cert=str(client.cert), tls_client_key=str(client.key),
            require_encryption=True,
        )  # fmt: skip
        cluster.client_env = {
            "OPENCOMPREHEND_DASK_TLS_CA_FILE": str(tls.ca_file),
            "OPENCOMPREHEND_DASK_TLS_CERT": str(client.cert),
            "OPENCOMPREHEND_DASK_TLS_KEY": str(client.key),
        }
    log = open(workdir / "scheduler.log", "wb")  # noqa: SIM115
    cluster.scheduler = subprocess.Popen(
        [
            str(dask), "scheduler", "--host", LOOPBACK, "--port", str(port),
            # --no-dashboard leaves the scheduler's HTTP server (/health, /metrics) on 0.0.0.0:8787: bind it here.
            "--no-dashboard", "--dashboard-address", f"{LOOPBACK}:0", *scheduler_args,
        ],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        try:
            for _ in range(workers):
                cluster.add_worker()
            cluster.wait_for_workers(workers)
        except Exception as exc:
            raise RuntimeError(f"the Dask cluster did not start: {exc}\n{cluster.logs()}") from exc
        yield cluster
    finally:
        cluster.stop()
