"""GET /v1/incidents, GET /v1/incidents/{incidentId}, GET /v1/incidents/{incidentId}/alerts; the list and the
details are also mounted where incidents are addressed by number (/api/backend/{tenant}/incidents...).

One router per endpoint: each function includes only its own.
"""

import json
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

from export_service.api.deps import cursor_key, get_dependencies
from export_service.api.endpoint import EndpointRouter, caller, face
from export_service.api.job_responses import accepts_gzip, export_limits, file_or_job
from export_service.errors import InvalidParameterError
from export_service.logic.alerts import find_alerts, incident_alert_filter
from export_service.logic.datasets import INCIDENT_LIST_EXPORT
from export_service.logic.export_engine import export_inline
from export_service.logic.incident_filters import build_incident_filter
from export_service.logic.incident_list import get_incident_record, incident_detail, list_incidents
from export_service.logic.numbered_incidents import every_match, numbered_detail, refuse_paging
from export_service.models.alerts import Alert
from export_service.models.api_keys import Permission
from export_service.models.export import ExportFormat, Face
from export_service.models.incident_api import (
    IncidentDetail,
    IncidentListItem,
    IncidentListQuery,
    NumberedIncident,
    NumberedIncidentDetail,
)
from export_service.observability import logger
from export_service.timefmt import utc_now

list_router = EndpointRouter()
detail_router = EndpointRouter()
incident_alerts_router = EndpointRouter()

JSON = "application/json"
_COMMON_ERRORS: dict[int, OpenAPIResponse] = {
    401: {"description": "Missing, invalid or revoked API key"},
    403: {"description": "The key lacks INCIDENTS_READ"},
}
_ID = Path(description="The incident's id, as the list returns it (on /api/backend/{tenant}/... its integer id)")
BY_NUMBER = "/api/backend/<tenant>/incidents"  # where incidents are addressed by number, in the key's tenant
TAGS: dict[str, list[str]] = {Face.PRODUCT: ["incidents"], Face.INCIDENT_BACKEND: Face.INCIDENT_BACKEND.tags}
TOO_MANY_INCIDENT_ALERTS = (
    "this incident's history refers to more than that; send its by-filters body (asset_id, and the metric_time "
    "and violation_name of its alert_refs) to POST /v1/alerts/by-filters in parts, a few upload dates at a time"
)


@list_router.endpoint(
    "GET",
    {"/v1/incidents": Face.PRODUCT, BY_NUMBER: Face.INCIDENT_BACKEND},
    permission=Permission.INCIDENTS_READ,
    query=IncidentListQuery,
    summary="List incidents",
    description=(
        "Incidents matching every given filter (a list filter matches any of its values), newest first: created_time "
        "descending, then id descending. JSON: an array of incident objects (plus number, name, "
        "connection_type, connection_id, source_name), at most `limit` per page. When more match, the "
        "`X-Next-Cursor` response header carries an opaque cursor: send it as `cursor` with the same filters to get "
        "the next page (only `limit` may change); the last page has no such header. A cursor is HMAC-signed and "
        "bound to the tenant and the query: an altered cursor, or one from another query or API key's tenant, is a "
        "400. Without to_time the range ends when the first page was served, for the whole walk. "
        "format=csv: every matching incident in one RFC 4180 file, same fields and order (tags JSON-encoded, "
        "formula cells neutralised), no pagination; over the synchronous export limit (10,000 incidents by default, "
        "or what fits a Lambda response) it is never truncated: the call answers 202 Accepted with a Location header "
        "and an ExportJob that writes the same file asynchronously (POST /v1/exports with dataset `incident-list` "
        "starts one directly). "
        "At /api/backend/{tenant}/incidents ({tenant}: the key's tenant, any other is a 404): the same filters, and "
        "every matching incident in one plain JSON array, newest first, each with exactly the fields id (the "
        "integer of its number, INC-1311 -> 1311), project_id, asset_id, last_upload_timestamp, created_time, "
        "severity, impact, status, ticket_id (integer or null), alert_policy_id (a string), alert_policy_name, "
        "description and tags. limit, cursor and format are refused there (400). When more incidents match than the "
        "synchronous export limit (10,000 by default) or than one Lambda response holds, the answer is a 400 "
        "EXPORT_TOO_LARGE with the number that match, never a cut list: narrow the range or the filters, or page "
        "with GET /v1/incidents."
    ),
    tags=TAGS,
    responses={
        200: {
            "description": "A page of incidents (JSON array) or the CSV file; at /api/backend/{tenant}/incidents "
            "every match (an array of NumberedIncident)",
            "content": {JSON: {"model": list[IncidentListItem] | list[NumberedIncident]}, "text/csv": {}},
        },
        202: {"description": "format=csv too large to answer inline: an ExportJob was started (poll its Location)"},
        400: {
            "description": "Invalid filter, time, range, limit or cursor (named in the error); at "
            "/api/backend/{tenant}/incidents also EXPORT_TOO_LARGE (more matches than one answer holds) and a paging "
            "parameter"
        },
        404: {"description": "/api/backend/{tenant}/...: {tenant} is not the key's tenant"},
        **_COMMON_ERRORS,
    },
)
def get_incidents(query: Annotated[IncidentListQuery, Query()]) -> Response[str]:
    principal = caller(list_router)
    deps = get_dependencies()
    now = utc_now()
    if query.manifest and (face(list_router) == Face.INCIDENT_BACKEND or query.format != "csv"):
        raise InvalidParameterError("manifest=true applies to the file export (format=csv)", parameter="manifest")
    if face(list_router) == Face.INCIDENT_BACKEND:
        refuse_paging(query)
        request = build_incident_filter(principal.tenant_id, query, now)
        body = every_match(request, deps.incident_store, export_limits(deps.settings))
        return Response(status_code=200, content_type=JSON, body=body)
    request = build_incident_filter(principal.tenant_id, query, now)
    if query.format == "csv":
        limits = export_limits(deps.settings, gzip=accepts_gzip(list_router))
        spec = INCIDENT_LIST_EXPORT
        result = export_inline(spec, request, query.filters(), ExportFormat.CSV, deps, limits, now)
        return file_or_job(
            result,
            router=list_router,
            spec=spec,
            principal=principal,
            fmt=ExportFormat.CSV,
            now=now,
            request=request,
            query=query,
        )
    items, next_cursor = list_incidents(request, deps.incident_store, cursor_key(), query.limit, query.cursor)
    logger.info("incidents listed", tenant=principal.tenant_id, count=len(items), more=next_cursor is not None)
    headers = {"X-Next-Cursor": next_cursor} if next_cursor else None
    return Response(status_code=200, content_type=JSON, body=json.dumps(items), headers=headers)


@detail_router.endpoint(
    "GET",
    {"/v1/incidents/<incidentId>": Face.PRODUCT, f"{BY_NUMBER}/<incidentId>": Face.INCIDENT_BACKEND},
    permission=Permission.INCIDENTS_READ,
    summary="Get an incident with its metrics and state history",
    description=(
        "The list fields plus `metrics` and `history`: the state changes NEW (created), ONGOING (more alerts), "
        "RESOLVED and REOPENED, each with the alert_refs (metric_time, violation_name) behind it. "
        "An incident of another tenant is a 404, as one that does not exist. "
        "At /api/backend/{tenant}/incidents/{incidentId} the incident is addressed by its integer id (the list's "
        "id there: the integer of its number; anything but digits is a 400 naming incidentId), and the answer has "
        "exactly the documented fields: the list's, plus metrics and history. A number of another tenant, or of a "
        "deleted incident, is a 404 (a number is never given to another incident)."
    ),
    tags=TAGS,
    responses={
        200: {
            "description": "The incident (at /api/backend/{tenant}/...: a NumberedIncidentDetail)",
            "content": {JSON: {"model": IncidentDetail | NumberedIncidentDetail}},
        },
        400: {"description": "/api/backend/{tenant}/...: incidentId is not an integer"},
        404: {"description": "No such incident for this API key's tenant, or {tenant} is not the key's tenant"},
        **_COMMON_ERRORS,
    },
)
def get_incident(incidentId: Annotated[str, _ID]) -> Response[str]:  # noqa: N803 - the template's name
    principal = caller(detail_router)
    store = get_dependencies().incident_store
    if face(detail_router) == Face.INCIDENT_BACKEND:
        detail = numbered_detail(store, principal.tenant_id, incidentId)
    else:
        detail = incident_detail(store, principal.tenant_id, incidentId)
    return Response(status_code=200, content_type=JSON, body=json.dumps(detail))


@incident_alerts_router.endpoint(
    "GET",
    "/v1/incidents/<incidentId>/alerts",
    permission=Permission.INCIDENTS_READ,
    summary="The alerts behind an incident (the alerts-by-filters recipe, done for you)",
    description=(
        "Builds the POST /v1/alerts/by-filters body from the incident: sources = [asset_id], upload_dates and "
        "violation_names = the metric_time and violation_name of every alert_ref in its history; answers what that "
        "request answers (an array of alert objects; [] when the history refers to no alert)."
    ),
    tags=["alerts"],
    responses={
        200: {"description": "Alert objects", "content": {JSON: {"model": list[Alert]}}},
        400: {"description": "EXPORT_TOO_LARGE naming incidentId: the history refers to more than 5,000 alerts"},
        404: {"description": "No such incident for this API key's tenant"},
        **_COMMON_ERRORS,
    },
)
def get_incident_alerts(incidentId: Annotated[str, _ID]) -> Response[str]:  # noqa: N803 - the template's name
    principal = caller(incident_alerts_router)
    deps = get_dependencies()
    record = get_incident_record(deps.incident_store, principal.tenant_id, incidentId)
    body = incident_alert_filter(record)
    alerts = (
        find_alerts(
            deps.incident_store,
            principal.tenant_id,
            body,
            deps.settings.read_prefetch,
            max_queries=None,
            too_many=("incidentId", TOO_MANY_INCIDENT_ALERTS),
        )
        if body
        else []
    )
    return Response(status_code=200, content_type=JSON, body=json.dumps(alerts))
