"""In-memory stand-ins for the stores, with the same contracts as the DynamoDB ones."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta

from export_service.dal.audit_store import QueryPartition
from export_service.models.api_keys import ApiKey


def _field(row: Mapping[str, str], name: str) -> str | None:
    """A record's field, or a metadata key's value for ``md_<key>`` (as the DynamoDB items store it)."""
    if name.startswith("md_"):
        return json.loads(row.get("metadata") or "{}").get(name[3:])
    return row.get(name)


class FakeKeyStore:
    def __init__(self, *keys: ApiKey) -> None:
        self.keys = {key.key_id: key for key in keys}

    def get(self, key_id: str) -> ApiKey | None:
        return self.keys.get(key_id)


class FakeAuditStore:
    """Records per tenant; plans one partition per UTC day like AuditStore, and records what it was asked."""

    def __init__(self, records: Mapping[str, list[dict[str, str]]]) -> None:
        self._records = {tenant: list(rows) for tenant, rows in records.items()}
        self.plans: list[tuple[str, datetime, datetime, dict[str, str]]] = []
        self.counted = 0

    def plan(
        self,
        tenant: str,
        start: datetime,
        end: datetime,
        filters: Mapping[str, str],
        any_of: Mapping[str, Sequence[str]] | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> list[QueryPartition]:
        self.plans.append((tenant, start, end, dict(filters)))
        equals = dict(filters) | {f"md_{key}": value for key, value in (metadata or {}).items()}
        one_of: dict[str, list[str | int]] = {field: list(values) for field, values in (any_of or {}).items()}
        parts = []
        day = start.astimezone(UTC).date()
        while day <= end.astimezone(UTC).date():
            parts.append(
                QueryPartition(
                    index=None,
                    pk_attr="pk",
                    pk=f"{tenant}|{day.isoformat()}",
                    sk_lo=start.astimezone(UTC).isoformat(),
                    sk_hi=end.astimezone(UTC).isoformat(),
                    equals=equals,
                    one_of=one_of,
                )
            )
            day += timedelta(days=1)
        return parts

    def read(self, part: QueryPartition, page_size: int | None = None) -> Iterator[dict[str, str]]:
        tenant, day = part.pk.split("|")
        lo, hi = datetime.fromisoformat(part.sk_lo), datetime.fromisoformat(part.sk_hi)
        rows = [
            row
            for row in self._records.get(tenant, [])
            if row["timestamp"][:10] == day
            and lo <= datetime.fromisoformat(row["timestamp"]) <= hi
            and all(_field(row, name) == value for name, value in part.equals.items())
            and all(row.get(name) in values for name, values in part.one_of.items())
        ]
        yield from sorted(rows, key=lambda row: (row["timestamp"], row["id"]))

    def read_plan(self, parts: list[QueryPartition], prefetch: int = 2) -> Iterator[list[dict[str, str]]]:
        for part in parts:
            page = list(self.read(part))
            if page:
                yield page

    def count(self, part: QueryPartition, cap: int) -> int:
        self.counted += 1
        return min(cap, sum(1 for _ in self.read(part)))

    def bounds(self, tenant: str) -> tuple[date, date] | None:
        days = [row["timestamp"][:10] for row in self._records.get(tenant, [])]
        return (date.fromisoformat(min(days)), date.fromisoformat(max(days))) if days else None
