"""GET /v1/export/{dataset}: incidents, incident-events, incident-role-assignments, incident-impacts, retrospectives."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from export_service.api.caller import authorised_caller
from export_service.api.deps import get_dependencies
from export_service.api.job_responses import export_limits, file_or_job
from export_service.api.query_guard import register_query_rules
from export_service.logic.dataset_export import SORTABLE_FIELDS, build_dataset_request, export_dataset
from export_service.logic.formats import ExportFormat
from export_service.models.api_keys import Permission
from export_service.models.incidents import DATASETS, Dataset
from export_service.timefmt import utc_now

router = Router()

RESOURCE = "/v1/export/{dataset}"
_LISTS = ("severities", "priorities", "statuses", "tags", "project_ids")
QUERY_RULES = register_query_rules(
    RESOURCE,
    {"format", "from", "to", "from_time", "to_time", "range_start", "range_end", "incident_id", "filter", "sort", "bom"}
    | set(_LISTS),
    repeatable=_LISTS,
    permission=Permission.INCIDENTS_READ.value,
)
_ISO = "ISO 8601 date-time, e.g. 2026-03-01T00:00:00Z (no offset means UTC); bounds are inclusive"
_LIST = "comma-separated or repeated; incidents dataset only"


@router.get(
    "/v1/export/<dataset>",
    summary="Export an incident dataset",
    description=(
        "Rows of one dataset of seed 004 with exactly its columns, in its order: "
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
    format: Annotated[ExportFormat, Query(description="csv (default), json or jsonl")] = ExportFormat.CSV,  # noqa: A002
    from_: Annotated[str | None, Query(alias="from", description=f"Start of created_at, {_ISO}")] = None,
    to: Annotated[str | None, Query(description=f"End of created_at (default: now), {_ISO}")] = None,
    from_time: Annotated[str | None, Query(description="Synonym of 'from' (seed 002)")] = None,
    to_time: Annotated[str | None, Query(description="Synonym of 'to' (seed 002)")] = None,
    range_start: Annotated[str | None, Query(description="Synonym of 'from' (seed 003)")] = None,
    range_end: Annotated[str | None, Query(description="Synonym of 'to' (seed 003)")] = None,
    severities: Annotated[list[str] | None, Query(description=f"LOW, MEDIUM, HIGH; {_LIST}")] = None,
    priorities: Annotated[list[str] | None, Query(description=f"LOW, MEDIUM, HIGH; {_LIST}")] = None,
    statuses: Annotated[list[str] | None, Query(description=f"OPEN, CLOSED; {_LIST}")] = None,
    tags: Annotated[list[str] | None, Query(description=f"incidents with any of these tags; {_LIST}")] = None,
    project_ids: Annotated[list[str] | None, Query(description=f"integers; {_LIST}")] = None,
    incident_id: Annotated[str | None, Query(description="One incident (any dataset): names the file too")] = None,
    filter: Annotated[  # noqa: A002
        str | None,
        Query(
            description='URL-encoded JSON object (Validio): {"severities":["HIGH"],"statuses":["OPEN"],"tags":[...],'
            '"project_ids":[0,24],"incident_id":"...","range":{"start":"...","end":"..."}}'
        ),
    ] = None,
    sort: Annotated[
        str | None, Query(description='URL-encoded JSON: {"field":"created_at","direction":"asc"|"desc"}')
    ] = None,
    bom: Annotated[bool, Query(description="Start CSV with a UTF-8 byte order mark (for Excel)")] = False,
) -> Response[str]:
    event, principal = authorised_caller(router, Permission.INCIDENTS_READ)
    deps = get_dependencies()
    now = utc_now()
    request = build_dataset_request(
        principal.tenant_id,
        dataset,
        fmt=format,
        bounds={
            "from": from_,
            "to": to,
            "from_time": from_time,
            "to_time": to_time,
            "range_start": range_start,
            "range_end": range_end,
        },
        lists={
            "severities": severities,
            "priorities": priorities,
            "statuses": statuses,
            "tags": tags,
            "project_ids": project_ids,
        },
        incident_id=incident_id,
        filter_json=filter,
        sort_json=sort,
        bom=bom,
        now=now,
    )
    limits = export_limits(deps.settings)
    return file_or_job(
        lambda: export_dataset(request, deps.incident_store, limits, now),
        event=event,
        principal=principal,
        dataset=request.dataset.value,
        fmt=format,
        now=now,
        repeatable=_LISTS,
    )
