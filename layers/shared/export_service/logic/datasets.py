"""Every exportable dataset, declared once: its read permission, parameters, planner, reader, columns and envelope.

The synchronous routes, the export jobs (POST /v1/exports and the 202 hand-over) and the nightly files read these
specs, so a dataset means the same thing on every path. Adding a dataset is one spec here plus its query logic.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import Any

from export_service.errors import InvalidParameterError
from export_service.logic.audit_export import (
    NARROW as AUDIT_NARROW,
)
from export_service.logic.audit_export import (
    AuditExportRequest,
    audit_envelope,
    build_audit_request,
    localize_pages,
    plan_audit,
)
from export_service.logic.export_engine import ExportSpec
from export_service.models.api_keys import Permission
from export_service.models.audit import AUDIT_LOG_COLUMNS, AuditExportQuery

AUDIT = "audit"
INCIDENT_LIST = "incident-list"  # GET /v1/incidents?format=csv: the list's fields and filters

AUDIT_EXPORT: ExportSpec[AuditExportRequest] = ExportSpec(
    name=AUDIT,
    resource="audit",
    permission=Permission.AUDIT_READ,
    query=AuditExportQuery,
    kind="AuditExport",
    narrow=AUDIT_NARROW,
    build=build_audit_request,
    plan=lambda request, stores: plan_audit(request, stores.audit),
    read=lambda request, stores, parts, prefetch: localize_pages(request, stores.audit.read_plan(parts, prefetch)),
    counter=lambda stores: stores.audit.count,
    columns=lambda request: request.columns,
    envelope=audit_envelope,
    bounds=lambda request: (request.start, request.end, request.bounded),
    bom=lambda request: request.bom,
    prober=lambda stores: stores.audit.prober(),
)


# The audit log in the runbook platform's documented shape: its ten columns and fields, files named
# audit-export-YYYYMMDD (the drop-in path /api/v1/audit/export, and its jobs).
RUNBOOK_AUDIT = "runbook-audit"
RUNBOOK_AUDIT_EXPORT: ExportSpec[AuditExportRequest] = replace(
    AUDIT_EXPORT,
    name=RUNBOOK_AUDIT,
    resource="audit-export",
    columns=lambda _request: AUDIT_LOG_COLUMNS,
    envelope=lambda request: {"from": audit_envelope(request)["from"], "to": audit_envelope(request)["to"]},
    dated_name=True,
)


# The datasets besides the audit log, by name: their specs (and their models, stores and query logic) are imported
# when one of them is asked for, so a function loads only the datasets its path exports (tests/unit check these
# names against the specs).
INCIDENT_DATASETS = ("incidents", "incident-events", "incident-role-assignments", "incident-impacts", "retrospectives")
CATALOG_DATASETS = ("sources", "validators", "incident-groups", "activities")
DATASET_NAMES = (AUDIT, RUNBOOK_AUDIT, *INCIDENT_DATASETS, INCIDENT_LIST, *CATALOG_DATASETS)


class _Exports(Mapping[str, ExportSpec[Any]]):
    """Every dataset's spec by name, each imported on first use (iterating names imports nothing)."""

    def __getitem__(self, name: str) -> ExportSpec[Any]:
        if name == AUDIT:
            return AUDIT_EXPORT
        if name == RUNBOOK_AUDIT:
            return RUNBOOK_AUDIT_EXPORT
        if name in INCIDENT_DATASETS or name == INCIDENT_LIST:
            from export_service.logic.incident_specs import INCIDENT_EXPORTS  # noqa: PLC0415

            return INCIDENT_EXPORTS[name]
        if name in CATALOG_DATASETS:
            from export_service.logic.catalog_export import CATALOG_EXPORTS  # noqa: PLC0415

            return CATALOG_EXPORTS[name]
        raise KeyError(name)

    def __iter__(self) -> Iterator[str]:
        return iter(DATASET_NAMES)

    def __len__(self) -> int:
        return len(DATASET_NAMES)


EXPORTS: Mapping[str, ExportSpec[Any]] = _Exports()


def __getattr__(name: str) -> Any:
    """``INCIDENT_LIST_EXPORT``, imported when a module asks for it (the incident list's route)."""
    if name == "INCIDENT_LIST_EXPORT":
        from export_service.logic.incident_specs import INCIDENT_LIST_EXPORT  # noqa: PLC0415

        return INCIDENT_LIST_EXPORT
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def export_spec(dataset: str) -> ExportSpec[Any]:
    """The spec of ``dataset`` (400 naming ``dataset`` when there is no such dataset)."""
    spec = EXPORTS.get(dataset)
    if spec is None:
        raise InvalidParameterError(
            f"unknown dataset '{dataset}'; datasets: {', '.join(DATASET_NAMES)}",
            parameter="dataset",
            datasets=list(DATASET_NAMES),
        )
    return spec


def read_permission(dataset: str) -> Permission | None:
    """The permission that reads ``dataset``'s rows on every path (None: each row is read with its own)."""
    return export_spec(dataset).permission
