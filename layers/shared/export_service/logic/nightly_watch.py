"""The nightly commit deadline: hours after the nightly schedule (NightlyCommitDeadline), every tenant with nightly
exports on must have committed a night whose window ended within the last day. One that has not (its night failed
for good, was never dispatched, or is still running) is reported by name in the log and counted in the
NightlyNotCommitted metric, which an alarm watches. A tenant enabled less than a day before is not due yet."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from export_service.models.nightly import NightlyConfig

DUE_WITHIN = timedelta(hours=24)


def late_tenants(configs: Iterable[NightlyConfig], now: datetime, due_within: timedelta = DUE_WITHIN) -> list[str]:
    """The tenants, among those with nightly exports on, without a night committed within ``due_within``."""
    late = []
    for config in configs:
        if not config.enabled or config.enabled_at > now - due_within:
            continue
        if config.watermark is None or config.watermark < now - due_within:
            late.append(config.tenant)
    return sorted(late)
