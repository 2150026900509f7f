"""Every exportable dataset, declared once: its read permission, parameters, planner, reader, columns and envelope.

The synchronous routes, the export jobs (POST /v1/exports and the 202 hand-over) and the nightly files read these
specs, so a dataset means the same thing on every path. Adding a dataset is one spec here plus its query logic.
"""

from __future__ import annotations

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
from export_service.logic.catalog_export import CATALOG_EXPORTS
from export_service.logic.dataset_export import (
    NARROW as DATASET_NARROW,
)
from export_service.logic.dataset_export import (
    DatasetExportRequest,
    build_dataset_request,
    dataset_envelope,
    plan_dataset,
)
from export_service.logic.export_engine import ExportSpec
from export_service.logic.incident_filters import IncidentFilter, build_incident_filter
from export_service.logic.incident_list import NARROW as LIST_NARROW
from export_service.logic.incident_list import list_envelope, plan_list_export, read_list_items
from export_service.models.api_keys import Permission
from export_service.models.audit import AUDIT_LOG_COLUMNS, AuditExportQuery
from export_service.models.incident_api import LIST_FIELDS, IncidentFilterParams
from export_service.models.incidents import DATASETS, Dataset, DatasetExportQuery

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


def _dataset_spec(dataset: Dataset) -> ExportSpec[DatasetExportRequest]:
    return ExportSpec(
        name=dataset.value,
        resource=dataset.value,
        permission=Permission.INCIDENTS_READ,
        query=DatasetExportQuery,
        kind="DatasetExport",
        narrow=DATASET_NARROW,
        build=lambda tenant, query, now: build_dataset_request(tenant, dataset.value, query, now),
        plan=lambda request, stores: plan_dataset(request, stores.incidents),
        read=lambda request, stores, parts, prefetch: stores.incidents.read_plan(request.dataset, parts, prefetch),
        counter=lambda stores: stores.incidents.count,
        columns=lambda request: DATASETS[request.dataset].columns,
        envelope=dataset_envelope,
        bounds=lambda request: (request.start, request.end, request.bounded),
        bom=lambda request: request.bom,
        prober=lambda stores: stores.incidents.prober(),
    )


INCIDENT_LIST_EXPORT: ExportSpec[IncidentFilter] = ExportSpec(
    name=INCIDENT_LIST,
    resource="incidents",  # as the list's CSV is named
    permission=Permission.INCIDENTS_READ,
    query=IncidentFilterParams,
    kind="IncidentList",
    narrow=LIST_NARROW,
    build=build_incident_filter,
    plan=lambda request, stores: plan_list_export(request, stores.incidents),
    read=lambda request, stores, parts, prefetch: read_list_items(stores.incidents, parts, prefetch),
    counter=lambda stores: stores.incidents.count,
    columns=lambda _request: LIST_FIELDS,
    envelope=list_envelope,
    bounds=lambda request: (request.start, request.end, request.bounded),
)

EXPORTS: dict[str, ExportSpec[Any]] = {
    AUDIT: AUDIT_EXPORT,
    RUNBOOK_AUDIT: RUNBOOK_AUDIT_EXPORT,
    **{dataset.value: _dataset_spec(dataset) for dataset in Dataset},
    INCIDENT_LIST: INCIDENT_LIST_EXPORT,
    **CATALOG_EXPORTS,  # sources, validators, incident-groups, activities
}
DATASET_NAMES = tuple(EXPORTS)


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
