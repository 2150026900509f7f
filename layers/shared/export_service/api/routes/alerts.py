"""POST /v1/alerts/by-filters: the alerts behind incidents, by sources, upload dates and violation names."""

import json
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body

from export_service.api.deps import get_dependencies
from export_service.api.endpoint import EndpointRouter, caller
from export_service.logic.alerts import find_alerts
from export_service.models.alerts import Alert, AlertFilter
from export_service.models.api_keys import Permission

by_filters_router = EndpointRouter()


@by_filters_router.endpoint(
    "POST",
    "/v1/alerts/by-filters",
    permission=Permission.INCIDENTS_READ,
    summary="Alerts by sources, upload dates and violation names",
    description=(
        "Body: {sources, upload_dates, violation_names}, each a non-empty list, as a client builds it from an "
        "incident (asset_id and its history's alert_refs; GET /v1/incidents/{incidentId}/alerts does it for you). "
        "Answers the alerts whose asset is one of `sources`, whose upload (metric_time) is one of `upload_dates` "
        "(ISO 8601, compared at millisecond precision) and whose violation name is one of `violation_names`, "
        "ordered by source (as given), then upload date, then violation name. At most 1000 source x upload date "
        "pairs per request. Any other field, or a field of the wrong type, is a 400 naming it."
    ),
    tags=["alerts"],
    responses={
        200: {"description": "Alert objects", "content": {"application/json": {"model": list[Alert]}}},
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
    return Response(status_code=200, content_type="application/json", body=json.dumps(alerts))
