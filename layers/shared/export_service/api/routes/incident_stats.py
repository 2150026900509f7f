"""GET /v1/incidents/distribution and GET /v1/incidents/summary, also mounted where incidents are addressed by number
(/api/backend/{tenant}/incidents/distribution and /summary); one router per endpoint."""

import json
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

from export_service.api.deps import get_dependencies
from export_service.api.endpoint import EndpointRouter, caller, face
from export_service.logic.incident_filters import IncidentFilter, build_incident_filter
from export_service.logic.incident_stats import incident_distribution, incident_summary, parse_timezone
from export_service.logic.numbered_incidents import distribution_days, summary_counts
from export_service.models.api_keys import Permission
from export_service.models.export import Face
from export_service.models.incident_api import (
    Distribution,
    DistributionDays,
    DistributionQuery,
    IncidentFilterParams,
    Summary,
    SummaryCounts,
)
from export_service.timefmt import utc_now

distribution_router = EndpointRouter()
summary_router = EndpointRouter()
JSON = "application/json"
_ERRORS: dict[int, OpenAPIResponse] = {
    400: {"description": "Invalid filter, time, range or timezone (named in the error)"},
    401: {"description": "Missing, invalid or revoked API key"},
    403: {"description": "The key lacks INCIDENTS_READ"},
    404: {"description": "/api/backend/{tenant}/...: {tenant} is not the key's tenant"},
}
BY_NUMBER = "/api/backend/<tenant>/incidents"
TAGS: dict[str, list[str]] = {Face.PRODUCT: ["incidents"], Face.INCIDENT_BACKEND: Face.INCIDENT_BACKEND.tags}


def _request(router: EndpointRouter, filters: IncidentFilterParams) -> IncidentFilter:
    return build_incident_filter(caller(router).tenant_id, filters, utc_now())


@distribution_router.endpoint(
    "GET",
    {"/v1/incidents/distribution": Face.PRODUCT, f"{BY_NUMBER}/distribution": Face.INCIDENT_BACKEND},
    permission=Permission.INCIDENTS_READ,
    query=DistributionQuery,
    summary="Day-by-day incident counts by severity and impact",
    description=(
        "The list's filters; incidents counted on the calendar day of their created_time in `timezone` (IANA, "
        "default UTC), so the same incidents can fall on different days for different zones, and a day with a DST "
        'change is 23 or 25 hours long. `counts` is by severity with "" for incidents without one, '
        '`counts_by_impact` by impact (with "" too); every key is present, zeros included. Only days with at '
        "least one matching incident are listed, oldest first. Without from_time, from the tenant's first incident. "
        'At /api/backend/{tenant}/incidents/distribution the body is {"incidents": [...]} alone (no timezone echo).'
    ),
    tags=TAGS,
    responses={
        200: {
            "description": "Counts per day (at /api/backend/{tenant}/...: DistributionDays)",
            "content": {JSON: {"model": Distribution | DistributionDays}},
        },
        **_ERRORS,
    },
)
def get_distribution(query: Annotated[DistributionQuery, Query()]) -> Response[str]:
    request = _request(distribution_router, query)
    zone = parse_timezone(query.timezone)
    deps = get_dependencies()
    body = incident_distribution(request, deps.incident_store, zone, deps.settings.read_prefetch)
    if face(distribution_router) == Face.INCIDENT_BACKEND:
        body = distribution_days(body)
    return Response(status_code=200, content_type=JSON, body=json.dumps(body))


@summary_router.endpoint(
    "GET",
    {"/v1/incidents/summary": Face.PRODUCT, f"{BY_NUMBER}/summary": Face.INCIDENT_BACKEND},
    permission=Permission.INCIDENTS_READ,
    query=IncidentFilterParams,
    summary="Incident totals and mean time to resolve, now and in the previous period",
    description=(
        "Over the incidents created in the period [from_time, to_time] (default: the 30 days up to to_time, which "
        "defaults to now) that match the list's filters: `total`; `open` and `closed` by their current status "
        "(CLOSED = resolved); `mean_time_to_resolve`, the mean of resolved_at - created_time over the closed ones, "
        "in hours rounded to the nearest (halves up), null when none is closed; `previous_mean_time_to_resolve`, "
        "the same over the period of the same length just before; `open_by_tag` and `closed_by_tag`, open and "
        "closed incidents per tag (an incident counts once for each of its tags). The periods used are echoed. "
        "Computed by streaming the matching incidents' created_time, status, tags and resolved_at (memory does not "
        "grow with their number; time does, linearly: see the benchmark). "
        "At /api/backend/{tenant}/incidents/summary the body has the seven documented fields only (total, open, "
        "closed, mean_time_to_resolve, previous_mean_time_to_resolve, open_by_tag, closed_by_tag)."
    ),
    tags=TAGS,
    responses={
        200: {
            "description": "The summary (at /api/backend/{tenant}/...: SummaryCounts)",
            "content": {JSON: {"model": Summary | SummaryCounts}},
        },
        **_ERRORS,
    },
)
def get_summary(filters: Annotated[IncidentFilterParams, Query()]) -> Response[str]:
    request = _request(summary_router, filters)
    deps = get_dependencies()
    body = incident_summary(request, deps.incident_store, deps.settings.read_prefetch)
    if face(summary_router) == Face.INCIDENT_BACKEND:
        body = summary_counts(body)
    return Response(status_code=200, content_type=JSON, body=json.dumps(body))
