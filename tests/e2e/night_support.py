"""A published night for a tenant of a test's own, without running the nightly state machine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from export_service.dal.export_request_store import ExportRequestStore
from export_service.logic.nightly import commit_night
from export_service.models.nightly import SOURCE_NAMES, CommitInput, SourceResult


def publish_night(dynamodb: Any, table: str, tenant: str) -> None:
    """Last night published for ``tenant`` (within the 30 days a listing shows), one entry per source, then nightly
    exports off again: the nightly tests fire nights for every enabled tenant."""
    store = ExportRequestStore(dynamodb, table)
    night = datetime.now(UTC).replace(hour=2, minute=30, second=0, microsecond=0) - timedelta(days=1)
    enabled = night - timedelta(days=1)
    store.enable(tenant, enabled)
    files = [
        SourceResult(source=name, key=f"nightly/{tenant}/{night:%Y-%m-%d}/{i}.csv", rows=1, bytes=10, sha256="0" * 64)
        for i, name in enumerate(SOURCE_NAMES)
    ]
    run = CommitInput(
        mode="nightly",
        tenant=tenant,
        night=f"{night:%Y-%m-%d}",
        enabled_at=enabled,
        window_starts_at=enabled,
        window_ends_at=night,
        files=files,
    )
    assert commit_night(store, run, night + timedelta(minutes=5))["state"] == "committed"
    store.disable(tenant)
