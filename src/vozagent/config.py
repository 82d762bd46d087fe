"""Settings, read from ``VOZAGENT_*`` environment variables by the composition roots only."""

from __future__ import annotations

from pathlib import Path

import platformdirs
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

# Requests per window, per API key, for each plan ("N/second;M/minute" in the
# `limits` notation). Generous: a script can do ~100 req/s with short bursts.
DEFAULT_RATE_LIMITS: dict[str, str] = {
    "essential": "200/second;6000/minute",
    "growth": "200/second;6000/minute",
    "advanced": "200/second;6000/minute",
    "enterprise": "1000/second;30000/minute",
}


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("vozagent", appauthor=False))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VOZAGENT_", extra="ignore")

    data_dir: Path = Field(default_factory=default_data_dir)
    # An external PostgreSQL (>= 15). When unset, the embedded server in data_dir is used.
    database_url: str | None = None
    # Shared rate-limit counters for several API processes; in-memory when unset.
    redis_url: str | None = None
    # Master key for secrets stored encrypted (webhook signing secrets). When unset it
    # is created once in data_dir/secret.key.
    secret_key: SecretStr | None = None

    host: str = "127.0.0.1"
    port: int = 8000
    default_region: str = "US"
    max_body_bytes: int = 1024 * 1024
    rate_limits: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_RATE_LIMITS))
    # Requests without a valid key are limited per client address (brute-force guard).
    anonymous_rate_limit: str = "50/second"
    rate_limit_enabled: bool = True
    idempotency_ttl_hours: int = 24
    max_webhooks_per_org: int = 50
    # SSRF guard: webhooks must be https; loopback/private targets only when allowed.
    webhooks_allow_http: bool = False
    webhooks_allow_private: bool = False
    # Delivery workers run inside `serve` unless this is off (`serve --no-workers`).
    workers_enabled: bool = True
    webhook_max_in_flight: int = 256
    webhook_per_endpoint_in_flight: int = 32
    webhook_timeout_seconds: float = 15.0
    # A claimed delivery becomes due again this long after its worker stopped answering.
    webhook_lease_seconds: float = 60.0
    webhook_secret_overlap_hours: float = 24.0
    # Calls. Our externally reachable base URL, used in every callback, TwiML and media URL
    # handed to a carrier; default: the address `serve` listens on.
    public_url: str | None = None
    carriers: list[str] = Field(default_factory=lambda: ["sandbox", "browser", "twilio", "telnyx"])
    # Per-minute price per carrier, for `cost` (sandbox and browser are simulated prices).
    call_rates_per_minute: dict[str, float] = Field(
        default_factory=lambda: {
            "sandbox": 0.01,
            "browser": 0.0,
            "sip": 0.005,
            "twilio": 0.014,
            "telnyx": 0.01,
        }
    )
    carrier_calls_per_second: dict[str, float] = Field(
        default_factory=lambda: {"twilio": 1.0, "telnyx": 10.0, "sandbox": 50.0}
    )
    ring_timeout_seconds: int = 30
    sandbox_answer_delay_seconds: float = 1.0
    sip_bind_host: str = "127.0.0.1"
    sip_bind_port: int = 5060
    recording_url_ttl_seconds: int = 3600
    recording_retention_days: int = 90
    db_pool_size: int = 10
    db_max_overflow: int = 20
    # "null" opens a connection per session (tests that drive the app from many loops).
    db_pool: str = "queue"
    log_level: str = "INFO"
