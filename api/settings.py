"""Settings from the environment (prefix ``MINSHENG_``), with embedded defaults that just work."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every knob an operator may turn. Defaults: SQLite and audio under ./var, one worker thread."""

    model_config = SettingsConfigDict(env_prefix="MINSHENG_", env_file=None, extra="ignore")

    data_dir: Path = Field(Path("var"), description="Where the database, audio and models live.")
    database_url: str | None = Field(None, description="SQLAlchemy URL; default SQLite in data_dir.")
    database_pool_size: int = Field(
        20,
        ge=1,
        le=200,
        description="PostgreSQL connections each process keeps open; set it to at least the requests "
        "a process has in flight at busy times (a smaller pool opens a connection per request).",
    )
    database_max_overflow: int = Field(
        10, ge=0, le=200, description="Extra PostgreSQL connections a process may open briefly."
    )
    weights_cache: Path | None = Field(
        None, description="Where Whisper weights are unpacked; default data_dir."
    )
    host: str = "127.0.0.1"
    port: int = 8000
    api_processes: int = Field(
        1,
        ge=1,
        le=32,
        description="Processes serving HTTP (`minsheng serve`); one of them runs the embedded worker.",
    )
    access_log: bool = Field(True, description="Log one line per HTTP request (costs ~20 % of a read).")
    asr_engine: str = Field("faster-whisper", description="faster-whisper or openai-whisper.")
    asr_compute_type: str = Field("int8", description="CTranslate2 compute type for faster-whisper.")
    asr_threads: int = Field(1, ge=1, description="CPU threads per transcription.")
    asr_township_vocabulary: bool = Field(
        False,
        description="Hint Mandarin recognition with the township's vocabulary (clerks' corrections, "
        "villages, departments). Off: measured, it fixes names but raises the error rate overall "
        "(docs/decisions/0006-township-vocabulary.md).",
    )
    worker_enabled: bool = Field(True, description="Run the in-process worker inside the server.")
    worker_threads: int = Field(1, ge=1, le=16, description="Notes transcribed at the same time.")
    max_upload_mb: float = Field(25.0, gt=0)
    max_audio_seconds: float = Field(600.0, gt=0)
    min_audio_seconds: float = Field(0.5, ge=0)
    min_transcript_confidence: float = Field(0.4, ge=0, le=1)
    min_classifier_confidence: float = Field(0.5, ge=0, le=1)
    job_max_attempts: int = Field(3, ge=1)
    transcription_wait_seconds: float = Field(
        300.0,
        gt=0,
        description="How long POST /v1/audio/transcriptions waits for the worker before answering 504.",
    )
    job_retry_seconds: float = Field(5.0, ge=0, description="First retry delay; doubles each time.")
    job_lease_seconds: float = Field(
        60.0, gt=0, description="A running job's lease; its worker renews it every third of this."
    )
    # Celery mode (several machines). Unset: the server runs the jobs itself (embedded default).
    broker_url: str | None = Field(
        None,
        description="e.g. redis://127.0.0.1:6379/0: the server publishes jobs; `minsheng worker` runs them.",
    )
    broker_queue: str = Field("minsheng", description="Celery queue name.")
    broker_visibility_timeout: float = Field(
        3600.0, gt=0, description="Seconds before Redis hands an unacknowledged message out again."
    )
    broker_connect_timeout: float = Field(3.0, gt=0, description="Seconds to wait for the broker.")
    sweep_seconds: float = Field(10.0, gt=0, description="How often `minsheng worker` sweeps for jobs.")
    republish_seconds: float = Field(
        1800.0, gt=0, description="A published job still unclaimed after this long is published again."
    )
    worker_concurrency: int = Field(1, ge=1, le=64, description="Processes per `minsheng worker`.")
    # Audio storage: a local directory (default, data_dir/audio) or s3://bucket/prefix.
    audio_store: str | None = Field(None, description="s3://bucket/prefix for an S3-compatible store.")
    s3_endpoint_url: str | None = Field(None, description="e.g. http://minio:9000; unset for AWS.")
    s3_region: str | None = None
    s3_access_key_id: str | None = Field(None, description="Else boto3's usual sources (AWS_* env).")
    s3_secret_access_key: str | None = None
    s3_timeout_seconds: float = Field(10.0, gt=0, description="Connect/read timeout per S3 request.")

    @model_validator(mode="after")
    def _visibility_above_lease(self) -> Settings:
        if self.broker_visibility_timeout <= self.job_lease_seconds:
            raise ValueError(
                "MINSHENG_BROKER_VISIBILITY_TIMEOUT must be longer than MINSHENG_JOB_LEASE_SECONDS "
                f"({self.broker_visibility_timeout} <= {self.job_lease_seconds})"
            )
        return self

    duplicate_window_days: float = Field(
        30.0, gt=0, description="A new suggestion is compared with open ones from the last N days."
    )
    duplicate_min_similarity: float = Field(
        0.5,
        gt=0,
        le=1,
        description="Text similarity (0-1) from which a suggestion is flagged a likely duplicate.",
    )
    theme_window_days: int = Field(90, ge=1, description="Themes group the suggestions of the last N days.")
    theme_distance_threshold: float = Field(
        0.9, gt=0, lt=1, description="How loose a theme may be (cosine distance; lower: tighter themes)."
    )
    appointment_every_months: int = Field(
        2, ge=1, le=12, description="Fixed sessions with the township head every N months (乡长有约)."
    )
    timezone: ZoneInfo = Field(
        ZoneInfo("Asia/Shanghai"),
        description="The township's time zone (IANA name): a date or time staff send without a zone "
        "is read in it, e.g. an appointment on 2026-12-22 at 09:00.",
    )
    report_min_ratings: int = Field(
        5, ge=1, description="Fewer ratings than this: the report shows no satisfaction average."
    )
    open311_api_keys: str = Field(
        "",
        description="Open311 POST keys, comma-separated, each 'client=key' (or just 'key'). Empty: POST off.",
    )
    open311_contact: str = Field("", description="Contact shown in the Open311 discovery document.")
    open311_public_location: bool = Field(
        False,
        description="Exact address and coordinates in the anonymous Open311 feed (else only the village).",
    )
    open311_rate_limit: int = Field(
        60, ge=0, description="Anonymous Open311 request reads per client IP per window (0: none)."
    )

    @property
    def open311_keys(self) -> dict[str, str]:
        """Open311 API key → client name."""
        keys: dict[str, str] = {}
        for item in self.open311_api_keys.split(","):
            item = item.strip()
            if not item:
                continue
            client, _, key = item.rpartition("=")
            keys[key.strip()] = client.strip() or f"key-{len(keys) + 1}"
        return keys

    retrain_after_reviews: int = Field(
        50, ge=0, description="Retrain automatically after this many new reviews (0: never)."
    )
    promotion_margin: float = Field(
        0.01,
        ge=0,
        le=1,
        description="A candidate may score this much lower macro-F1 and still replace the model.",
    )
    reviewed_weight: float = Field(
        3.0,
        gt=0,
        le=100,
        description="How many times a seed or imported example a staff-reviewed one weighs in retraining.",
    )
    retrain_cv_max_examples: int = Field(
        3000, ge=0, description="Cross-validate candidates (for the record) up to this many training texts."
    )
    session_hours: float = Field(12.0, gt=0, description="How long a staff sign-in lasts.")
    rate_limit_window_seconds: float = Field(60.0, gt=0, description="Sliding window of the rate limits.")
    submit_rate_limit: int = Field(
        30, ge=0, description="Suggestions one client IP may submit per window (0: no limit)."
    )
    track_rate_limit: int = Field(
        120, ge=0, description="Tracking look-ups per client IP per window (0: none)."
    )
    login_rate_limit: int = Field(
        30,
        ge=0,
        description="Sign-in attempts per client IP per window (0: none); above the per-account limit, "
        "so one person's typos do not lock out an office that shares one address.",
    )
    login_account_rate_limit: int = Field(
        5, ge=0, description="Failed sign-ins per account per window (0: none)."
    )
    trusted_proxies: str = Field(
        "",
        description="Comma-separated addresses or networks of reverse proxies whose X-Forwarded-For "
        "and X-Forwarded-Proto are believed. Empty: none; the client is the connection's peer.",
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _proxy_addresses(cls, value: str) -> str:
        networks = []
        for item in (part.strip() for part in value.split(",")):
            if not item:
                continue
            try:
                networks.append(str(ipaddress.ip_network(item, strict=False)))
            except ValueError:
                raise ValueError(
                    f"{item!r} is not an IP address or network (e.g. 127.0.0.1, 10.0.0.0/8, ::1)"
                ) from None
        return ",".join(networks)

    @property
    def trusted_proxy_list(self) -> list[str]:
        """The proxies whose forwarded headers are believed (networks, e.g. ``10.0.0.5/32``)."""
        return [item for item in self.trusted_proxies.split(",") if item]

    cookie_secure: bool | None = Field(
        None,
        description="Secure flag on cookies; default: on, except for plain http on a loopback host.",
    )

    @property
    def resolved_database_url(self) -> str:
        """The database URL to use."""
        return self.database_url or f"sqlite:///{(self.data_dir / 'minsheng.db').resolve()}"

    @property
    def audio_dir(self) -> Path:
        """Content-addressed audio store (local), or the staging area for uploads (S3)."""
        return self.data_dir / "audio"

    @property
    def embedded_worker(self) -> bool:
        """Whether the server runs jobs on its own threads (no broker configured)."""
        return self.worker_enabled and self.broker_url is None

    @property
    def classifier_dir(self) -> Path:
        """Trained classifier artefacts."""
        return self.data_dir / "classifiers"

    @property
    def weights_dir(self) -> Path:
        """Rebuilt Whisper weights."""
        return self.weights_cache or self.data_dir / "weights"

    @property
    def max_upload_bytes(self) -> int:
        """Upload size limit in bytes."""
        return int(self.max_upload_mb * 1024 * 1024)
