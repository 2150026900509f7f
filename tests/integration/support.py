"""The integration suite's data set, keys, and the independent computation of what an export must return."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

from devtools.generate import audit_records
from devtools.lambda_runtime import invoke
from devtools.provision import local_refs
from devtools.template import FunctionSpec, functions
from export_service.dal.api_key_store import ApiKeyStore
from export_service.dal.audit_store import AuditStore
from export_service.logic.audit_records import seal_audit_record
from export_service.models.api_keys import Permission
from export_service.models.audit import AUDIT_COLUMNS
from tests.helpers import ACME_KEY_ID, ACME_SECRET, spreadsheet_safe

# Three full UTC days; acme has 80 records a day, globex 50 (different sizes show cross-tenant mistakes).
WINDOW_START = datetime(2026, 3, 1, tzinfo=UTC)
WINDOW_END = datetime(2026, 3, 4, tzinfo=UTC)
TENANT_SIZES = {"acme": 240, "globex": 150}


@dataclass(frozen=True)
class KeySpec:
    key_id: str
    secret: str
    tenant: str
    permissions: tuple[Permission, ...]
    revoked: bool = False

    @property
    def token(self) -> str:
        return f"{self.key_id}.{self.secret}"


ACME_READER = KeySpec(ACME_KEY_ID, ACME_SECRET, "acme", (Permission.AUDIT_READ,))
ACME_INCIDENTS_ONLY = KeySpec(
    "ak_acme_incidents_only", "SW5jaWRlbnRzT25seS1hY21lLTIwMjY", "acme", (Permission.INCIDENTS_READ,)
)
ACME_REVOKED = KeySpec(
    "ak_acme_revoked_reader", "UmV2b2tlZC1hY21lLXJlYWRlci0yMDI2", "acme", (Permission.AUDIT_READ,), True
)
GLOBEX_READER = KeySpec(
    "ak_globex_audit_reader",
    "R2xvYmV4LWF1ZGl0LXJlYWRlci0yMDI2",
    "globex",
    (Permission.AUDIT_READ, Permission.EXPORTS_READ),
)
ALL_KEYS = (ACME_READER, ACME_INCIDENTS_ONLY, ACME_REVOKED, GLOBEX_READER)


@dataclass(frozen=True)
class Stack:
    """What the module-scoped moto fixture provides."""

    dynamodb: Any
    audit_store: AuditStore
    key_store: ApiKeyStore


@cache
def specs() -> dict[str, FunctionSpec]:
    return functions(local_refs())


def generated(tenant: str) -> list[Any]:
    return list(audit_records(tenant, TENANT_SIZES[tenant], WINDOW_START, WINDOW_END))


@cache
def _sealed(tenant: str) -> tuple[dict[str, str], ...]:
    return tuple(seal_audit_record(record).model_dump() for record in generated(tenant))


def sealed(tenant: str) -> list[dict[str, str]]:
    """The tenant's records as the writer seals them (timestamp text and checksum), in generation order."""
    return [dict(row) for row in _sealed(tenant)]


def expected(
    records: Iterable[Mapping[str, str]],
    start: datetime | None = None,
    end: datetime | None = None,
    **filters: str | None,
) -> list[dict[str, str]]:
    """What an export of [start, end] with exact-match filters must return, in (timestamp, id) order."""

    def inside(row: Mapping[str, str]) -> bool:
        moment = datetime.fromisoformat(row["timestamp"])
        return (start is None or moment >= start) and (end is None or moment <= end)

    rows = [
        {column: row[column] for column in AUDIT_COLUMNS}
        for row in records
        if inside(row) and all(row[name] == value for name, value in filters.items() if value)
    ]
    return sorted(rows, key=lambda row: (row["timestamp"], row["id"]))


def csv_rows(records: Iterable[Mapping[str, str]]) -> list[list[str]]:
    """The CSV rows (after the header) an export of ``records`` must contain, formulas neutralised."""
    return [[spreadsheet_safe(row[column]) for column in AUDIT_COLUMNS] for row in records]


def parse_csv(body: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body, newline="")))


def call(function: str, event: dict[str, Any]) -> Any:
    """Invoke a template function's real handler in-process; no response may leak a stack trace."""
    result = invoke(specs()[function], event)
    if isinstance(result, dict):
        assert "Traceback" not in str(result.get("body") or "")
    return result


def export(event: dict[str, Any]) -> dict[str, Any]:
    return call("AuditExportFunction", event)


def authorize(event: dict[str, Any]) -> dict[str, Any]:
    return call("AuthorizerFunction", event)
