"""GET /v1/incidents, GET /v1/incidents/{incidentId}, GET /v1/incidents/{incidentId}/alerts (seed 002).

One router per endpoint: each function includes only its own.
"""

import json
from enum import StrEnum
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

from export_service.api.caller import authorised_caller
from export_service.api.deps import cursor_key, get_dependencies
from export_service.api.incident_params import FILTER_NAMES, LIST_NAMES, IncidentFilterParams
from export_service.api.job_responses import export_limits, file_or_job
from export_service.api.query_guard import register_query_rules
from export_service.errors import InvalidParameterError
from export_service.logic.alerts import find_alerts, incident_alert_filter
from export_service.logic.formats import ExportFormat
from export_service.logic.incident_filters import build_incident_filter
from export_service.logic.incident_list import (
    export_incident_list,
    get_incident_record,
    incident_detail,
    list_incidents,
)
from export_service.models.alerts import Alert
from export_service.models.api_keys import Permission
from export_service.models.incident_api import IncidentDetail, IncidentListItem
from export_service.observability import logger
from export_service.timefmt import utc_now

list_router = Router()
detail_router = Router()
incident_alerts_router = Router()

_READ = Permission.INCIDENTS_READ.value
register_query_rules("/v1/incidents", FILTER_NAMES | {"limit", "cursor", "format"}, LIST_NAMES, _READ)
register_query_rules("/v1/incidents/{incidentId}", set(), permission=_READ)
register_query_rules("/v1/incidents/{incidentId}/alerts", set(), permission=_READ)
JSON = "application/json"
MAX_LIMIT = 1000
_COMMON_ERRORS: dict[int, OpenAPIResponse] = {
    401: {"description": "Missing, invalid or revoked API key"},
    403: {"description": "The key lacks INCIDENTS_READ"},
}
_ID = Path(description="The incident's id, as the list returns it")
TOO_MANY_INCIDENT_ALERTS = (
    "this incident's history refers to more than that; send its by-filters body (asset_id, and the metric_time "
    "and violation_name of its alert_refs) to POST /v1/alerts/by-filters in parts, a few upload dates at a time"
)


class ListFormat(StrEnum):
    JSON = "json"
    CSV = "csv"


@list_router.get(
    "/v1/incidents",
    summary="List incidents (seed 002)",
    description=(
        "Incidents matching every given filter (a list filter matches any of its values), newest first: created_time "
        "descending, then id descending. JSON: an array of seed 002's incident objects (plus number, name, "
        "connection_type, connection_id, source_name), at most `limit` per page. When more match, the "
        "`X-Next-Cursor` response header carries an opaque cursor: send it as `cursor` with the same filters to get "
        "the next page (only `limit` may change); the last page has no such header. A cursor is HMAC-signed and "
        "bound to the tenant and the query: an altered cursor, or one from another query or API key's tenant, is a "
        "400. Without to_time the range ends when the first page was served, for the whole walk. "
        "format=csv: every matching incident in one RFC 4180 file, same fields and order (tags JSON-encoded, "
        "formula cells neutralised), no pagination; over the synchronous export limit (10,000 incidents by default, "
        "or what fits a Lambda response) it is never truncated: the call answers 202 Accepted with a Location header "
        "and an ExportJob that writes the same file asynchronously (POST /v1/exports with dataset `incident-list` "
        "starts one directly)."
    ),
    tags=["incidents"],
    responses={
        200: {
            "description": "A page of incidents (JSON array) or the CSV file",
            "content": {JSON: {"model": list[IncidentListItem]}, "text/csv": {}},
        },
        202: {"description": "format=csv too large to answer inline: an ExportJob was started (poll its Location)"},
        400: {"description": "Invalid filter, time, range, limit or cursor (named in the error)"},
        **_COMMON_ERRORS,
    },
)
def get_incidents(
    filters: Annotated[IncidentFilterParams, Query()],
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Incidents per page, 1 to 1000 (JSON)")] = 100,
    cursor: Annotated[str | None, Query(description="X-Next-Cursor of the previous page (JSON)")] = None,
    format: Annotated[  # noqa: A002
        ListFormat, Query(description="json (default, paginated) or csv (every match)")
    ] = ListFormat.JSON,
) -> Response[str]:
    event, principal = authorised_caller(list_router, Permission.INCIDENTS_READ)
    deps = get_dependencies()
    now = utc_now()
    request = build_incident_filter(
        principal.tenant_id,
        filters.lists(),
        from_time=filters.from_time,
        to_time=filters.to_time,
        text_to_search=filters.text_to_search,
        now=now,
    )
    if format is ListFormat.CSV:
        given = (event.query_string_parameters or {}).keys() & {"cursor", "limit"}
        for name in sorted(given):
            raise InvalidParameterError(
                f"query parameter '{name}' pages JSON; format=csv returns every match in one file", parameter=name
            )
        limits = export_limits(deps.settings)
        return file_or_job(
            lambda: export_incident_list(request, deps.incident_store, limits, now),
            event=event,
            principal=principal,
            dataset="incident-list",
            fmt=ExportFormat.CSV,
            now=now,
            repeatable=tuple(LIST_NAMES),
        )
    items, next_cursor = list_incidents(request, deps.incident_store, cursor_key(), limit, cursor)
    logger.info("incidents listed", tenant=principal.tenant_id, count=len(items), more=next_cursor is not None)
    headers = {"X-Next-Cursor": next_cursor} if next_cursor else None
    return Response(status_code=200, content_type=JSON, body=json.dumps(items), headers=headers)


@detail_router.get(
    "/v1/incidents/<incidentId>",
    summary="Get an incident with its metrics and state history (seed 002)",
    description=(
        "The list fields plus `metrics` and `history`: the state changes NEW (created), ONGOING (more alerts), "
        "RESOLVED and REOPENED, each with the alert_refs (metric_time, violation_name) behind it. "
        "An incident of another tenant is a 404, as one that does not exist."
    ),
    tags=["incidents"],
    responses={
        200: {"description": "The incident", "content": {JSON: {"model": IncidentDetail}}},
        404: {"description": "No such incident for this API key's tenant"},
        **_COMMON_ERRORS,
    },
)
def get_incident(incidentId: Annotated[str, _ID]) -> Response[str]:  # noqa: N803 - the template's name
    _, principal = authorised_caller(detail_router, Permission.INCIDENTS_READ)
    detail = incident_detail(get_dependencies().incident_store, principal.tenant_id, incidentId)
    return Response(status_code=200, content_type=JSON, body=json.dumps(detail))


@incident_alerts_router.get(
    "/v1/incidents/<incidentId>/alerts",
    summary="The alerts behind an incident (seed 002's recipe, done for you)",
    description=(
        "Builds the POST /v1/alerts/by-filters body from the incident: sources = [asset_id], upload_dates and "
        "violation_names = the metric_time and violation_name of every alert_ref in its history; answers what that "
        "request answers (an array of seed 002 alert objects; [] when the history refers to no alert)."
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
    _, principal = authorised_caller(incident_alerts_router, Permission.INCIDENTS_READ)
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
