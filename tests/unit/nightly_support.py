"""Shared by the nightly logic tests (test_nightly_*.py): the nights, a config, an in-memory request store, files."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from export_service.dal.export_request_store import CommitRefusedError
from export_service.logic.nightly import night_of
from export_service.models.nightly import NIGHTLY_SOURCES, SOURCE_NAMES, CommitInput, NightlyConfig, SourceResult

ENABLED = datetime(2026, 5, 1, 12, tzinfo=UTC)
NIGHT1 = datetime(2026, 5, 2, 2, 30, tzinfo=UTC)
NIGHT2 = NIGHT1 + timedelta(days=1)
NIGHT3 = NIGHT2 + timedelta(days=1)
OVERLAP = timedelta(minutes=15)


def _config(**changes: Any) -> NightlyConfig:
    return NightlyConfig(**{"tenant": "acme", "enabled": True, "enabled_at": ENABLED, **changes})


class FakeRequestStore:
    """ExportRequestStore's contract in memory: the config, the commits it was given, the listing."""

    def __init__(self, config: NightlyConfig | None = None, refuse: str | None = None) -> None:
        self.config = config
        self.refuse = refuse
        self.commits: list[tuple[str, str, datetime, datetime, list[dict[str, Any]], int]] = []
        self.items: list[dict[str, Any]] = []
        self.listed: list[tuple[str, str | None, int, int]] = []

    def get_config(self, tenant: str) -> NightlyConfig | None:
        return self.config if self.config is not None and self.config.tenant == tenant else None

    def commit(
        self,
        tenant: str,
        night: str,
        enabled_at: datetime,
        window_end: datetime,
        created_at: datetime,
        entries: list[dict[str, Any]],
        ttl: int,
    ) -> None:
        assert self.config is None or enabled_at == self.config.enabled_at  # the store's condition
        if self.refuse:
            raise CommitRefusedError(self.refuse)
        self.commits.append((tenant, night, window_end, created_at, list(entries), ttl))  # enabled_at asserted above
        self.items.extend({**entry, "tenant": tenant, "ttl": ttl} for entry in entries)
        if self.config is not None:
            self.config = self.config.model_copy(
                update={"watermark": window_end, "last_night": night, "last_created_at": created_at}
            )

    def list_requests(self, tenant: str, newer_than: str | None, now: int, most: int) -> list[dict[str, Any]]:
        self.listed.append((tenant, newer_than, now, most))
        found = [
            item
            for item in self.items
            if item["tenant"] == tenant
            and (newer_than is None or item["created_at"] > newer_than)
            and item["ttl"] > now
        ]
        return sorted(found, key=lambda item: (item["created_at"], item["source"]))[:most]


def _files(night: str, *, leave_out: str | None = None) -> list[SourceResult]:
    return [
        SourceResult(
            source=name,
            key=f"nightly/acme/{night}/{NIGHTLY_SOURCES[name].slug}.csv",
            rows=10 + n,
            bytes=1000 + n,
            sha256=f"{n:064x}",
        )
        for n, name in enumerate(SOURCE_NAMES)
        if name != leave_out
    ]


def _commit_input(
    scheduled: datetime, start: datetime, *, leave_out: str | None = None, files: list[SourceResult] | None = None
) -> CommitInput:
    """The commit task's input for the night scheduled at ``scheduled`` (``files``: the sources' results, else one
    file of every source but ``leave_out``)."""
    night = night_of(scheduled)
    return CommitInput(
        mode="nightly",
        tenant="acme",
        night=night,
        enabled_at=ENABLED,
        window_starts_at=start,
        window_ends_at=scheduled,
        files=_files(night, leave_out=leave_out) if files is None else files,
    )
