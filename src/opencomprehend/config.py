"""Settings: embedded defaults, overridden by OPENCOMPREHEND_* environment variables or CLI flags."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# What AWS region names look like (us-east-1, eu-west-3, us-gov-west-1, us-isob-east-1, cn-north-1): the
# service's region setting, a request's SigV4 scope and a KMS key's region are all checked against it.
REGION_PATTERN = r"[a-z]{2}(?:-[a-z]+){1,2}-\d{1,2}"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="OPENCOMPREHEND_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    data_dir: Path = Path("data")

    # "development" (the default; loopback only): signatures are not checked, and the account is the access
    # key id when that is twelve digits, else `account_id`. "sigv4": every request is verified against the
    # operator's credentials (`opencomprehend credentials add`), each mapped to its account.
    auth: Literal["development", "sigv4"] = "development"
    # The credentials file of earlier releases (default <data_dir>/credentials.json): imported into the job store
    # once (credentials, roles and KMS keys live there now, security/records.py).
    credentials_file: Path | None = None
    # Encrypts secrets at rest (a Fernet key); default: <data_dir>/master.key, made on first use.
    master_key: str | None = None
    account_id: str = Field("111122223333", pattern=r"^\d{12}$")
    region: str = Field("us-east-1", pattern=f"^{REGION_PATTERN}$")
    partition: str = "aws"

    # The server's log on stderr: "text" lines (the default) or "json", one object a line with the request id,
    # account, operation and job id where known (docs/operations.md). `access_log`: a line per API request;
    # by default on with JSON logs, off with text.
    log_format: Literal["text", "json"] = "text"
    access_log: bool | None = None

    # Job store: a SQLite file in the data dir unless a URL (e.g. postgresql+psycopg://…) is given.
    database_url: str | None = None

    # Object store: the local bucket folder <data_dir>/s3 unless an S3 endpoint is given.
    s3_endpoint_url: str | None = None
    s3_region: str | None = None
    s3_access_key_id: str | None = None
    s3_secret_access_key: str | None = None
    # OutputDataConfig.KmsKeyId toward S3: SSE-KMS by the store (AWS S3, MinIO with a KMS); false for a store
    # without a KMS (SeaweedFS), where the output is sealed before upload as on the local folder.
    s3_sse_kms: bool = True
    # Tries of each S3 request (botocore's standard retry mode: exponential backoff with jitter, up to 20 s
    # apart): 8 rides out about a minute of an unreachable or failing store before the job fails.
    s3_max_attempts: int = Field(8, ge=1)

    # Where shards run: "local", this node's own warm worker processes (the embedded default), or "dask",
    # the tasks of a Dask cluster whose scheduler is `dask_scheduler` (tcp://host:port).
    runtime: Literal["local", "dask"] = "local"
    dask_scheduler: str | None = None
    # How long a node waits for the Dask scheduler at start before it gives up (one line naming the address).
    dask_connect_timeout_s: float = Field(30.0, gt=0)
    # TLS toward the Dask cluster (a tls:// scheduler): the CA that signed the cluster's certificates, and this
    # node's own certificate and key (PEM files). With them every connection to the scheduler and the workers
    # is encrypted and both ends must show a certificate of that CA (docs/cluster.md).
    dask_tls_ca_file: Path | None = None
    dask_tls_cert: Path | None = None
    dask_tls_key: Path | None = None
    # Where a job's finished parts are kept until its output is assembled: None, this node's data dir (one
    # node); an s3:// URI on the server's object store, so that any node can resume a job another node
    # began, and assemble it. The dask runtime defaults to <models_uri bucket>/work/.
    work_uri: str | None = None

    # Workers.
    workers: int = Field(2, ge=1)
    # More worker processes that take DetectEntities and BatchDetectEntities only (the local runtime), so
    # that a request never waits for a job's shard to finish; a free batch worker serves requests too.
    realtime_workers: int = Field(1, ge=0)
    worker_recycle_documents: int = 20_000
    # A task (shard or detect request) running longer is taken to be hung: its worker is killed and
    # replaced, and the shard runs again. 0 means no limit.
    worker_task_timeout_s: float = 600.0
    # A job none of whose shards finished for this long stops renewing its lease (it is taken over).
    job_stall_s: float = 1800.0
    shard_documents: int = 64
    shard_chars: int = 100_000
    preload_languages: list[str] = ["en"]
    # The operator's models file (TOML, docs/models.md "Your own model"): per language an engine, a model and a
    # label map, over the shipped defaults. `serve --models`, or OPENCOMPREHEND_MODELS.
    models: Path | None = None
    # Also build those languages' PII analyzers (Presidio's recognizers, about 3 s each) in every worker
    # before its first task, so the first DetectPiiEntities or PII shard does not wait for them.
    preload_pii: bool = True

    # Scheduler and leases.
    poll_interval_s: float = 0.2
    lease_s: float = 30.0
    heartbeat_s: float = 5.0

    # HTTP limits. Comprehend's largest request is a 100 KB text (or a 25 x 5 KB batch), which JSON
    # escaping can at most sextuple: a 1 MiB body holds any valid request with room to spare.
    max_request_bytes: int = 1_048_576
    max_header_bytes: int = 16_384  # all of a request's headers together
    header_timeout_s: float = 10.0  # to send a request's headers, from connect (or the previous response)
    request_timeout_s: float = 30.0  # to send a request's body, once its headers are in
    # Open connections (idle ones too) and running requests; past it API requests get 503 (AWS's JSON form),
    # while GET /health is still answered on a reserve of max(8, max_connections / 20) more connections.
    max_connections: int = Field(1000, ge=1)
    # Connections one client address may hold at once (an IPv6 client: its /64); past it a new one is answered
    # 503 and closed, so that one client's idle sockets cannot crowd out everyone else. 0: no limit (behind a
    # proxy or load balancer, where every connection comes from its address, raise it or set 0).
    max_connections_per_client: int = Field(128, ge=0)

    # Comprehend's limits, as defaults an operator may raise.
    max_document_bytes: int = 1_048_576
    max_job_input_bytes: int = 5 * 1024**3
    max_job_documents: int = 1_000_000  # files (ONE_DOC_PER_FILE) or lines (ONE_DOC_PER_LINE) per job
    max_active_jobs: int = 10
    max_tags: int = 50
    max_detect_bytes: int = 100_000
    max_batch_items: int = 25
    max_batch_item_bytes: int = 5_000
    # Real-time requests (Detect*, ContainsPiiEntities) per second per account and region; 0 means unlimited.
    detect_tps: float = 0
    # Every other operation (jobs, recognizers, endpoints, tags), per account and region; 0: unlimited.
    control_tps: float = 0

    # Custom entity recognizers: where trained models are stored, and how training runs.
    models_uri: str = "s3://opencomprehend-models/"
    training_capacity: int = 1  # trainings at once on this node (each uses the cores it can get)
    training_max_epochs: int = 30
    training_max_seconds: float = 900.0
    min_annotations_per_type: int = 25
    min_entity_list_matches: int = 200
    test_fraction: float = 0.1

    @property
    def store_root(self) -> Path:
        return self.data_dir / "s3"

    @property
    def work_dir(self) -> Path:
        return self.data_dir / "work"

    @property
    def model_cache(self) -> Path:
        return self.data_dir / "models"

    @property
    def resolved_credentials_file(self) -> Path:
        return self.credentials_file or self.data_dir / "credentials.json"

    def resolved_work_uri(self) -> str | None:
        """Where parts are kept: `work_uri`, else the models bucket's work/ folder on a cluster, else None."""
        if self.work_uri:
            return self.work_uri if self.work_uri.endswith("/") else self.work_uri + "/"
        if self.runtime == "dask":
            bucket = self.models_uri.removeprefix("s3://").split("/", 1)[0]
            return f"s3://{bucket}/work/"
        return None

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'opencomprehend.db').resolve()}"

    @model_validator(mode="after")
    def _development_mode_stays_on_this_machine(self) -> Settings:
        """Development mode checks no signature, so it binds loopback addresses only."""
        if self.auth != "sigv4" and not is_loopback(self.host):
            raise ValueError(
                f"refusing to bind {self.host}: in development mode (no signature checks) this server only "
                "binds loopback addresses (127.0.0.1, ::1); start it with --auth sigv4 to share it."
            )
        return self


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
