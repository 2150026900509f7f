"""GET /v1/export-requests: the nightly exports' reports (export requests), with links valid for 300 s."""

import json
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from export_service.api.deps import get_dependencies
from export_service.api.endpoint import EndpointRouter, caller, face
from export_service.api.export_integrity import audit_action
from export_service.logic.export_audit import ExportAction
from export_service.logic.nightly import list_export_requests
from export_service.models.api_keys import Permission
from export_service.models.export import Face
from export_service.models.nightly import MAX_PAGE, REQUEST_FIELDS, ExportRequestsQuery
from export_service.timefmt import parse_instant, utc_now

router = EndpointRouter()


@router.endpoint(
    "GET",
    {"/v1/export-requests": Face.PRODUCT, "/v1/integrations/data_export/export_requests": Face.DATA_EXPORT},
    permission=Permission.EXPORTS_READ,
    query=ExportRequestsQuery,
    tags={face: face.tags or ["nightly exports"] for face in Face},
    summary="Nightly export reports created after newer_than, each with a download link valid for 300 s",
    description=(
        "The reports (not incidents) that nightly exports created after `newer_than`, oldest first: one per source "
        "and night, each with `id`, `created_at`, `window_starts_at`, `window_ends_at`, `source` (the versioned "
        "CSV sources of incident data, plus text/csv+audit_event-20261122), `status`, `url` (an S3 link presigned "
        "for 300 s when this call is made; call again for fresh links), `records`, `sha256` and `format` (`csv`, or "
        "`parquet` for a tenant whose nightly files are Parquet: a .parquet file with typed columns). A page holds "
        "whole nights; when `pagination.has_more`, call again with `newer_than` = `pagination.next_newer_than`. "
        "Only the sources whose read permission the key holds are listed (the audit-events source needs AUDIT_READ, "
        "the incident sources INCIDENTS_READ); pages are cut the same way for every key. Reports and their "
        "files are expunged after 30 days; a link to an expunged file answers 404. At "
        "/v1/integrations/data_export/export_requests (the nightly data export's own path) the answer is "
        "`{data: [...]}` with each entry's documented fields only, every report of the retention window in one page."
    ),
    responses={
        200: {"description": "{data: [export request], urls_expire_at, pagination}"},
        400: {"description": "Malformed newer_than, or limit out of range"},
        401: {"description": "Missing, invalid or revoked API key"},
        403: {"description": "The key lacks EXPORTS_READ"},
    },
)
def get_export_requests(query: Annotated[ExportRequestsQuery, Query()]) -> Response[str]:
    principal = caller(router)
    after = parse_instant(query.newer_than, "newer_than") if query.newer_than is not None else None
    deps = get_dependencies()
    documented = face(router) == Face.DATA_EXPORT
    limit = MAX_PAGE if documented and "limit" not in query.model_fields_set else query.limit
    now = utc_now()
    body = list_export_requests(deps.export_requests(), deps.jobs().files, principal, after, limit, now)
    # Reading the listing hands out links to the nightly files: an export action, audited before they leave.
    audit_action(
        router,
        principal,
        ExportAction.LISTING_READ,
        dataset="nightly",
        filter_=query.parameters(),
        records=sum(int(entry["records"]) for entry in body["data"]),
        now=now,
        details={"entries": str(len(body["data"]))},
    )
    if documented:
        body = {"data": [{name: entry[name] for name in REQUEST_FIELDS} for entry in body["data"]]}
    return Response(status_code=200, content_type="application/json", body=json.dumps(body))
