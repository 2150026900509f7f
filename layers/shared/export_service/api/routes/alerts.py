"""POST /v1/alerts/by-filters (also at /api/backend/{tenant}/configuration/alerts/by_filters): the alerts behind
incidents, by sources, upload dates and violation names."""

import json
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body

from export_service.api.deps import get_dependencies
from export_service.api.endpoint import EndpointRouter, caller, face
from export_service.logic.alerts import find_alerts
from export_service.logic.numbered_incidents import alert_objects
from export_service.models.alerts import Alert, AlertFilter, AlertObject
from export_service.models.api_keys import Permission
from export_service.models.export import Face

by_filters_router = EndpointRouter()


@by_filters_router.endpoint(
    "POST",
    {
        "/v1/alerts/by-filters": Face.PRODUCT,
        "/api/backend/<tenant>/configuration/alerts/by_filters": Face.INCIDENT_BACKEND,
    },
    permission=Permission.INCIDENTS_READ,
    summary="Alerts by sources, upload dates and violation names",
    description=(
        "Body: {sources, upload_dates, violation_names}, each a non-empty list, as a client builds it from an "
        "incident (asset_id and its history's alert_refs; GET /v1/incidents/{incidentId}/alerts does it for you). "
        "Answers the alerts whose asset is one of `sources`, whose upload (metric_time) is one of `upload_dates` "
        "(ISO 8601, compared at millisecond precision) and whose violation name is one of `violation_names`, "
        "ordered by source (as given), then upload date, then violation name. At most 1000 source x upload date "
        "pairs per request. Any other field, or a field of the wrong type, is a 400 naming it. "
        "At /api/backend/{tenant}/configuration/alerts/by_filters ({tenant}: the key's tenant, any other is a 404) "
        "each alert has exactly the documented alert object's fields (no asset_id)."
    ),
    tags={Face.PRODUCT: ["alerts"], Face.INCIDENT_BACKEND: Face.INCIDENT_BACKEND.tags},
    responses={
        200: {
            "description": "Alert objects (at /api/backend/{tenant}/...: AlertObject)",
            "content": {"application/json": {"model": list[Alert] | list[AlertObject]}},
        },
        404: {"description": "/api/backend/{tenant}/...: {tenant} is not the key's tenant"},
        400: {
            "description": "Body not the documented shape (the field is named), too many pairs, or over 5,000 alerts"
        },
        415: {"description": "The body is not sent as JSON"},
        401: {"description": "Missing, invalid or revoked API key"},
        403: {"description": "The key lacks INCIDENTS_READ"},
    },
)
def post_alerts_by_filters(body: Annotated[AlertFilter, Body()]) -> Response[str]:
    principal = caller(by_filters_router)
    deps = get_dependencies()
    alerts = find_alerts(deps.incident_store, principal.tenant_id, body, deps.settings.read_prefetch)
    if face(by_filters_router) == Face.INCIDENT_BACKEND:
        alerts = alert_objects(alerts)
    return Response(status_code=200, content_type="application/json", body=json.dumps(alerts))
