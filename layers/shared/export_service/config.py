"""Configuration, read from the environment once and validated."""

from __future__ import annotations

import os
from functools import lru_cache

from pydantic import BaseModel, Field, ValidationError


class Settings(BaseModel):
    audit_table_name: str = Field(min_length=3)
    api_keys_table_name: str = Field(min_length=3)
    incidents_table_name: str = Field(min_length=3)
    export_bucket_name: str = ""
    export_jobs_table_name: str = ""
    state_machine_arn: str = ""
    export_requests_table_name: str = ""
    # Nightly exports start this long before the previous night's window ended, so a late write is never missed.
    nightly_overlap_minutes: int = Field(default=60, ge=0, le=24 * 60)
    # Largest result a synchronous export answers inline; above it the caller is told to narrow.
    sync_export_limit: int = Field(default=10_000, ge=1)
    # Lambda's response payload limit is 6 MB; this caps the body as Lambda serialises it (JSON-escaped), with
    # headroom for the rest of the proxy response.
    max_response_bytes: int = Field(default=5_000_000, ge=1_000)
    # Matching records are counted up to this many ("at least N" beyond) when a request is too large: counting is
    # a read too, and the answer must come well within API Gateway's 29 s.
    count_cap: int = Field(default=100_000, ge=1)
    # ... and, past the synchronous limit, for at most this long (between pages) before a 202 or such a 4xx
    # answers: the answer comes at once whatever the size (then "at least N"); a job counts its rows as it goes
    # (its status: recordsSoFar).
    count_seconds: float = Field(default=0.25, gt=0, le=20)
    # Partitions read ahead (on threads) while the current page is formatted; 1 reads sequentially.
    read_prefetch: int = Field(default=2, ge=1, le=16)
    # Export jobs a tenant may run at once (MaxConcurrentJobsPerTenant); 0: no limit. Over it: 429 TOO_MANY_JOBS.
    max_concurrent_jobs: int = Field(default=0, ge=0)
    # Powertools Idempotency's table: POST /v1/exports with an Idempotency-Key, and a retried over-limit export
    # answered with the job its first request started. Empty: neither is deduplicated.
    idempotency_table_name: str = ""
    # The usage identifier (an API Gateway API key's value in the stage's usage plan) of keys minted without one of
    # their tenant's: their requests share one rate limit (see docs/deploy.md).
    fallback_usage_key: str = ""
    # Incident list cursors are HMAC-signed. Deployed: the key is a generated Secrets Manager secret, read once per
    # cold start; locally: a documented development key straight from the environment (never in deployed config).
    cursor_secret_arn: str = ""
    cursor_signing_key: str = Field(default="", repr=False)
    # The data-observability catalog: its table, the bucket of its assets' Parquet files, the row cap of its answers
    # (larger lists become export jobs; a SQL result over it is refused) and the SQL time limit.
    catalog_table_name: str = ""
    catalog_bucket_name: str = ""
    catalog_row_cap: int = Field(default=100_000, ge=1)
    sql_row_cap: int = Field(default=100_000, ge=1)
    sql_time_limit_seconds: float = Field(default=10.0, gt=0, le=25)
    # Export manifests are signed with this asymmetric KMS key (ARN; ECC_NIST_P256, ECDSA_SHA_256); the public-key
    # route also publishes the retired keys (comma-separated ARNs) that signed manifests still kept.
    manifest_signing_key_id: str = ""
    manifest_retired_key_ids: str = ""
    # Completion events (jobs, nightly exports) go to this EventBridge bus; empty: none are sent.
    event_bus_name: str = ""


class ConfigurationError(RuntimeError):
    pass


_ENV = {
    "audit_table_name": "AUDIT_TABLE_NAME",
    "api_keys_table_name": "API_KEYS_TABLE_NAME",
    "incidents_table_name": "INCIDENTS_TABLE_NAME",
    "export_bucket_name": "EXPORT_BUCKET_NAME",
    "export_jobs_table_name": "EXPORT_JOBS_TABLE_NAME",
    "state_machine_arn": "STATE_MACHINE_ARN",
    "export_requests_table_name": "EXPORT_REQUESTS_TABLE_NAME",
    "nightly_overlap_minutes": "NIGHTLY_OVERLAP_MINUTES",
    "sync_export_limit": "SYNC_EXPORT_LIMIT",
    "max_response_bytes": "MAX_RESPONSE_BYTES",
    "count_cap": "EXPORT_COUNT_CAP",
    "count_seconds": "EXPORT_COUNT_SECONDS",
    "read_prefetch": "READ_PREFETCH",
    "max_concurrent_jobs": "MAX_CONCURRENT_JOBS",
    "idempotency_table_name": "IDEMPOTENCY_TABLE_NAME",
    "fallback_usage_key": "FALLBACK_USAGE_KEY",
    "cursor_secret_arn": "CURSOR_SECRET_ARN",
    "cursor_signing_key": "CURSOR_SIGNING_KEY",
    "catalog_table_name": "CATALOG_TABLE_NAME",
    "catalog_bucket_name": "CATALOG_BUCKET_NAME",
    "catalog_row_cap": "CATALOG_ROW_CAP",
    "sql_row_cap": "SQL_ROW_CAP",
    "sql_time_limit_seconds": "SQL_TIME_LIMIT_SECONDS",
    "manifest_signing_key_id": "MANIFEST_SIGNING_KEY_ID",
    "manifest_retired_key_ids": "MANIFEST_RETIRED_KEY_IDS",
    "event_bus_name": "EVENT_BUS_NAME",
}


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    raw = {field: os.environ[var] for field, var in _ENV.items() if var in os.environ}
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        raise ConfigurationError(f"invalid environment: {exc}") from exc
