"""SQL over one catalog asset: an incident's debug records, and a caller's sample-data query (one router each)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from export_service.api.deps import asset_files, get_dependencies
from export_service.api.endpoint import AllOf, EndpointRouter, caller
from export_service.api.export_integrity import audit_action
from export_service.api.job_responses import accepts_gzip, file_response
from export_service.api.routes.catalog import TAGS
from export_service.logic.catalog_sql import SqlRun, debug_records_run, run_sql, sample_data_run, sql_file
from export_service.logic.export_audit import ExportAction
from export_service.logic.export_engine import ExportLimits
from export_service.logic.sql_sandbox import ALLOWED_TABLE_FUNCTIONS
from export_service.models.api_keys import Permission
from export_service.models.catalog import DebugRecordsQuery, SampleDataQuery
from export_service.models.export import ExportFormat, Face
from export_service.timefmt import utc_now

debug_router = EndpointRouter()
sample_router = EndpointRouter()

_SANDBOX = (
    "The SQL runs in an embedded DuckDB holding only the asset (the table `asset`, also under its own table name): "  # noqa: S608
    "one read-only SELECT (WITH and subqueries allowed), no file, network or extension access, no other table, no "
    f"table function but {', '.join(sorted(ALLOWED_TABLE_FUNCTIONS))}, a time limit and a row cap of 100,000 (a "
    "larger result is refused with 400, never truncated). Columns come from the query; values are text (TIMESTAMP "
    "as ISO 8601 UTC). Anything refused is 400 (INVALID_SQL, SQL_TIME_LIMIT, SQL_ROW_LIMIT) naming the parameter."
)


def _paths(resource: str) -> dict[str, str]:
    return {f"/api/export/v1/{resource}": Face.CATALOG_EXPORT.value, f"/v1/export/{resource}": Face.PRODUCT.value}


def _answer(router: EndpointRouter, run: SqlRun, resource: str, fmt: ExportFormat) -> Response[str]:
    principal, now = caller(router), utc_now()
    settings = get_dependencies().settings
    result = run_sql(run, asset_files(), row_cap=settings.sql_row_cap, time_limit=settings.sql_time_limit_seconds)
    limits = ExportLimits(
        settings.sql_row_cap, settings.max_response_bytes, settings.sql_row_cap, gzip=accepts_gzip(router)
    )
    body = sql_file(result, run, resource, fmt, limits, now)
    audit_action(  # every export is audited before it leaves (logic/export_audit.py)
        router,
        principal,
        ExportAction.SYNC,
        dataset=resource,
        filter_={"asset": run.entity, "sql": run.sql},
        records=body.records,
        now=now,
        details={"format": fmt.value},
    )
    return file_response(body, tenant=principal.tenant_id, dataset=resource, fmt=fmt)


@debug_router.endpoint(
    "GET",
    _paths("incident-debug-records"),
    permission=AllOf((Permission.INCIDENTS_WRITE, Permission.SQL_EXECUTION_WRITE)),
    query=DebugRecordsQuery,
    tags=TAGS,
    summary="The rows that explain an incident: its validator's debug query over its source's asset",
    description="The debug query of the incident's validator runs over the validator's source's asset for the "
    "incident's window and segment (parameters $start, $end, $segment). Filename: "
    "incident-debug-records-<incidentId>-<today>.<ext>. " + _SANDBOX,
    responses={
        200: {"description": "The rows (CSV, JSON or JSON Lines)", "content": {"text/csv": {}}},
        400: {"description": "A parameter, or the query refused or over its limits"},
        401: {"description": "Missing, invalid or revoked API key"},
        403: {"description": "The key lacks INCIDENTS_WRITE or SQL_EXECUTION_WRITE (both are needed)"},
        404: {"description": "No such incident for this tenant, or its validator or asset is gone"},
    },
)
def get_debug_records(query: Annotated[DebugRecordsQuery, Query()]) -> Response[str]:
    principal = caller(debug_router)
    run = debug_records_run(get_dependencies().catalog, principal.tenant_id, query.incident_id)
    return _answer(debug_router, run, "incident-debug-records", query.fmt)


@sample_router.endpoint(
    "GET",
    _paths("sample-data"),
    permission=Permission.CATALOG_ASSETS_READ,
    query=SampleDataQuery,
    tags=TAGS,
    summary="The rows of a caller's SELECT over one catalog asset",
    description="`credentialId` must be the asset's credential (its source's), else 403. Filename: "
    "sample-data-<table name>-<today>.<ext>. " + _SANDBOX,
    responses={
        200: {"description": "The rows (CSV, JSON or JSON Lines)", "content": {"text/csv": {}}},
        400: {"description": "A parameter, or the query refused or over its limits"},
        401: {"description": "Missing, invalid or revoked API key"},
        403: {"description": "The key lacks CATALOG_ASSETS_READ, or the credential may not read the asset"},
        404: {"description": "No such asset for this tenant"},
    },
)
def get_sample_data(query: Annotated[SampleDataQuery, Query()]) -> Response[str]:
    principal = caller(sample_router)
    store = get_dependencies().catalog
    run = sample_data_run(store, principal.tenant_id, query.asset_id, query.credential_id, query.query)
    return _answer(sample_router, run, "sample-data", query.fmt)
