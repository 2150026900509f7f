"""GET /v1/export/{dataset}: incidents, incident-events, incident-role-assignments, incident-impacts, retrospectives."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from export_service.api.deps import get_dependencies
from export_service.api.endpoint import EndpointRouter, caller
from export_service.api.job_responses import accepts_gzip, export_limits, file_or_job
from export_service.logic.dataset_export import SORTABLE_FIELDS, parse_dataset
from export_service.logic.datasets import EXPORTS
from export_service.logic.export_engine import export_inline
from export_service.models.api_keys import Permission
from export_service.models.incidents import DATASETS, Dataset, DatasetExportQuery
from export_service.timefmt import utc_now

router = EndpointRouter()


@router.endpoint(
    "GET",
    "/v1/export/<dataset>",
    permission=Permission.INCIDENTS_READ,
    query=DatasetExportQuery,
    summary="Export an incident dataset",
    description=(
        "Rows of one incident dataset with exactly its columns (those of the nightly data export), in its order: "
        + "; ".join(f"`{d.value}` ({spec.source}): {', '.join(spec.columns)}" for d, spec in DATASETS.items())
        + ". Date-times are ISO 8601 UTC with milliseconds, active_duration an ISO 8601 duration, event_details, "
        "event_details_schema, tags and questions JSON-encoded strings. Rows are filtered by created_at. "
        f"Sortable fields (the only ones that can be ordered without loading the result into memory): "
        f"{', '.join(SORTABLE_FIELDS)}, asc or desc; other sort fields are rejected with 400. Results over the "
        "synchronous limit are never truncated: 202 Accepted with a Location header and an ExportJob."
    ),
    tags=["incidents"],
    responses={
        200: {"description": "The export file", "content": {"text/csv": {}, "application/json": {}}},
        202: {"description": "Too large to answer inline: an ExportJob was started (poll its Location)"},
        400: {"description": "Invalid parameter, filter or sort; reversed range; result too large"},
        401: {"description": "Missing, invalid or revoked API key"},
        403: {"description": "The key lacks INCIDENTS_READ"},
        404: {"description": "Unknown dataset (the body lists the datasets)"},
    },
)
def get_dataset_export(
    dataset: Annotated[str, Path(description=", ".join(d.value for d in Dataset))],
    query: Annotated[DatasetExportQuery, Query()],
) -> Response[str]:
    principal = caller(router)
    spec = EXPORTS[parse_dataset(dataset).value]  # 404 naming the datasets when there is no such one
    deps = get_dependencies()
    now = utc_now()
    request = spec.build(principal.tenant_id, query, now)
    limits = export_limits(deps.settings, gzip=accepts_gzip(router))
    result = export_inline(spec, request, query, query.fmt, deps, limits, now)
    return file_or_job(
        result, router=router, spec=spec, principal=principal, fmt=query.fmt, now=now, request=request, query=query
    )
