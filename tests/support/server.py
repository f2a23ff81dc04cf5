"""Start `opencomprehend serve` as a subprocess on a free loopback port, and drive it as users do."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from support.components import free_port

ACCOUNT = "111122223333"
REGION = "us-east-1"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/ComprehendData"
AWS_INSTALL_HINT = "pip install awscli (make test installs it)"

BIN = Path(sys.executable).parent


def aws_cli() -> str | None:
    found = BIN / "aws"
    return str(found) if found.exists() else shutil.which("aws")


def client_env() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID="AKIDEXAMPLE",
        AWS_SECRET_ACCESS_KEY="secret",
        AWS_DEFAULT_REGION=REGION,
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
    )
    return env


@dataclass
class Server:
    data_dir: Path
    port: int
    extra_env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def bucket_root(self) -> Path:
        return self.data_dir / "s3"

    def start(self, timeout: float = 120) -> None:
        env = {**os.environ, **self.extra_env}
        self.log_path = self.data_dir / f"server-{int(time.time() * 1000)}.log"
        log = open(self.log_path, "wb")  # noqa: SIM115  (owned by the child for its lifetime)
        self.process = subprocess.Popen(
            [
                str(BIN / "opencomprehend"),
                "serve",
                "--port",
                str(self.port),
                "--data-dir",
                str(self.data_dir),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,  # so a kill takes its worker processes with it
        )
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log()}")
            try:
                # /health answers 200 once the store and the workers do, whatever the server's auth mode.
                with urllib.request.urlopen(f"{self.endpoint}/health", timeout=5) as answer:
                    if answer.status == 200:
                        return
            except Exception:  # noqa: BLE001  (not up yet)
                pass
            time.sleep(0.3)
        raise RuntimeError(f"server did not start in {timeout}s: {self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path else ""

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()

    def kill(self) -> None:
        """Die like a crashed machine: SIGKILL to the server and its workers at once."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=20)

    def client(self, access_key_id: str = "AKIDEXAMPLE", **config: Any) -> Any:
        """A boto3 client of this server; in development mode a twelve-digit `access_key_id` is the account."""
        return boto3.client(
            "comprehend",
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id=access_key_id,
            aws_secret_access_key="secret",
            config=Config(retries={"max_attempts": 1}, **config),
        )

    def start_job(self, input_uri: str, output_uri: str, language: str = "en", **members: Any) -> str:
        """StartEntitiesDetectionJob through boto3 with the usual role; returns the JobId."""
        input_config = {"S3Uri": input_uri}
        if "InputFormat" in members:
            input_config["InputFormat"] = members.pop("InputFormat")
        return self.client().start_entities_detection_job(
            InputDataConfig=input_config,
            OutputDataConfig={"S3Uri": output_uri},
            DataAccessRoleArn=ROLE,
            LanguageCode=language,
            **members,
        )["JobId"]

    def aws(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        cli = aws_cli()
        assert cli, AWS_INSTALL_HINT
        done = subprocess.run(
            [cli, "comprehend", *args, "--endpoint-url", self.endpoint, "--output", "json"],
            capture_output=True,
            text=True,
            env=client_env(),
            timeout=120,
        )
        if check and done.returncode != 0:
            raise AssertionError(f"aws {' '.join(args)} failed: {done.stderr}")
        return done

    def aws_json(self, *args: str) -> Any:
        return json.loads(self.aws(*args).stdout or "{}")

    def put(self, bucket: str, key: str, data: bytes | str) -> None:
        path = self.bucket_root / bucket / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode() if isinstance(data, str) else data)

    def wait(
        self,
        job_id: str,
        timeout: float = 180,
        until: tuple[str, ...] = ("COMPLETED", "FAILED", "STOPPED"),
        kind: str = "entities",
    ) -> dict[str, Any]:
        """The job's properties once its status is one of `until`; `kind` "pii" for a PII job, "language"
        for a dominant language detection job."""
        deadline = time.time() + timeout
        client = self.client()
        while time.time() < deadline:
            if kind == "pii":
                props = client.describe_pii_entities_detection_job(JobId=job_id)["PiiEntitiesDetectionJobProperties"]
            elif kind == "language":
                described = client.describe_dominant_language_detection_job(JobId=job_id)
                props = described["DominantLanguageDetectionJobProperties"]
            else:
                props = client.describe_entities_detection_job(JobId=job_id)["EntitiesDetectionJobProperties"]
            if props["JobStatus"] in until:
                return props
            time.sleep(0.1)
        raise AssertionError(f"job {job_id} still {props['JobStatus']} after {timeout}s: {self.log()[-3000:]}")


def worker_pids(server_pid: int) -> list[int]:
    """The pool's worker processes: children of the server started by multiprocessing's spawn."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent == server_pid and b"spawn_main" in cmdline:
            pids.append(int(entry.name))
    return pids


@contextmanager
def running_server(data_dir: Path, **extra_env: str) -> Iterator[Server]:
    data_dir.mkdir(parents=True, exist_ok=True)
    server = Server(data_dir=data_dir, port=free_port(), extra_env=extra_env)
    server.start()
    try:
        yield server
    finally:
        server.stop()
