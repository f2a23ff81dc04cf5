"""Settings: embedded defaults, overridden by OPENCOMPREHEND_* environment variables or CLI flags."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="OPENCOMPREHEND_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8080
    data_dir: Path = Path("data")

    # The account cannot be derived from an access key, so it is configured.
    account_id: str = "111122223333"
    region: str = "us-east-1"
    partition: str = "aws"

    # Job store: a SQLite file in the data dir unless a URL (e.g. postgresql+psycopg://…) is given.
    database_url: str | None = None

    # Object store: the local bucket folder <data_dir>/s3 unless an S3 endpoint is given.
    s3_endpoint_url: str | None = None
    s3_region: str | None = None
    s3_access_key_id: str | None = None
    s3_secret_access_key: str | None = None

    # Workers.
    workers: int = 2
    worker_recycle_documents: int = 20_000
    shard_documents: int = 64
    shard_chars: int = 100_000
    preload_languages: list[str] = ["en"]

    # Scheduler and leases.
    poll_interval_s: float = 0.2
    lease_s: float = 30.0
    heartbeat_s: float = 5.0

    # Comprehend's limits, as defaults an operator may raise.
    max_document_bytes: int = 1_048_576
    max_job_input_bytes: int = 5 * 1024**3
    max_active_jobs: int = 10
    max_tags: int = 50
    max_detect_bytes: int = 100_000
    max_batch_items: int = 25
    max_batch_item_bytes: int = 5_000
    # DetectEntities/BatchDetectEntities requests per second per account and region; 0 means unlimited.
    detect_tps: float = 0

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

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'opencomprehend.db').resolve()}"
