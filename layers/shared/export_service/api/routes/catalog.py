"""The data-observability catalog's list exports: sources, validators, incident groups, activities (one router per
function). Each is mounted at its CSV export path (/api/export/v1/<resource>) and as /v1/export/<resource>."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from export_service.api.catalog_responses import answer
from export_service.api.endpoint import AnyOf, EndpointRouter, Requirement, caller
from export_service.logic.catalog_export import (
    ACTIVITIES_DATASET,
    COLUMNS,
    GROUPS_DATASET,
    LIST_FIELDS,
    SOURCES_DATASET,
    VALIDATORS_DATASET,
)
from export_service.logic.datasets import EXPORTS
from export_service.logic.export_engine import build_request
from export_service.models.api_keys import Permission
from export_service.models.catalog import ACTIVITY_PERMISSIONS, RESOURCE_PERMISSIONS, CatalogListQuery
from export_service.models.export import Face
from export_service.timefmt import utc_now

sources_router = EndpointRouter()
validators_router = EndpointRouter()
groups_router = EndpointRouter()
activities_router = EndpointRouter()


def paths(dataset: str) -> dict[str, str]:
    return {f"/api/export/v1/{dataset}": Face.CATALOG_EXPORT.value, f"/v1/export/{dataset}": Face.PRODUCT.value}


TAGS = {Face.CATALOG_EXPORT.value: ["catalog", *Face.CATALOG_EXPORT.tags], Face.PRODUCT.value: ["catalog"]}


def _description(dataset: str, intro: str) -> str:
    fields = LIST_FIELDS[dataset]
    filters = "; ".join(f"`{name}`: {meaning}" for name, meaning in fields.filters.items())
    ranges = " or ".join(f"`{name}`" for name in fields.ranges)
    choices = "; ".join(f"`{name}` one of {', '.join(values)}" for name, values in fields.choices.items())
    return (
        f"{intro} Columns, in order: {', '.join(COLUMNS[dataset])}. `filter` (URL-encoded JSON object): {filters}; "
        f"each a string or a list of strings, matched exactly; {ranges}: {{start, end}} (ISO 8601, both inclusive)"
        + (f"; {choices}" if choices else "")
        + ". `sort` (URL-encoded JSON): {field, direction asc|desc} or a list of up to three; fields: "
        + ", ".join(f"`{name}`" for name in fields.sortable)
        + " (or the column headers). Filename: <resource>-<start>_<end>.<ext> with a range, else "
        "<resource>-<today>.<ext>. Up to 100,000 rows answer inline, gzip-compressed when the request accepts it; "
        "more is never truncated: 202 Accepted with an ExportJob (Location)."
    )


def _responses(permission: str) -> dict[int, dict[str, Any]]:
    return {
        200: {"description": "The export file (CSV, JSON or JSON Lines)", "content": {"text/csv": {}}},
        202: {"description": "More rows than one answer carries: an ExportJob was started (poll its Location)"},
        400: {"description": "Invalid filter, sort or format (the error names the parameter and the field)"},
        401: {"description": "Missing, invalid or revoked API key"},
        403: {"description": f"The key lacks {permission}"},
    }


def _export(router: EndpointRouter, dataset: str, query: CatalogListQuery) -> Response[str]:
    principal, now = caller(router), utc_now()
    spec = EXPORTS[dataset]
    request = build_request(spec, principal.tenant_id, principal.permissions, query, now)
    return answer(router, spec, request, query, query.fmt, principal, now)


def _declare(router: EndpointRouter, dataset: str, permission: Requirement, intro: str, needs: str) -> Any:
    return router.endpoint(
        "GET",
        paths(dataset),
        permission=permission,
        query=CatalogListQuery,
        tags=TAGS,
        summary=f"Export the catalog's {dataset.replace('-', ' ')}",
        description=_description(dataset, intro),
        responses=_responses(needs),
    )


@_declare(
    sources_router,
    SOURCES_DATASET,
    Permission.SOURCES_READ,
    "Sources: connections to one data asset each. Validator count: the validators bound to the source now.",
    "SOURCES_READ",
)
def get_sources(query: Annotated[CatalogListQuery, Query()]) -> Response[str]:
    return _export(sources_router, SOURCES_DATASET, query)


@_declare(
    validators_router,
    VALIDATORS_DATASET,
    Permission.VALIDATORS_READ,
    "Validators, each bound to one source (Source: its name; Segmentation: Unsegmented when it has none).",
    "VALIDATORS_READ",
)
def get_validators(query: Annotated[CatalogListQuery, Query()]) -> Response[str]:
    return _export(validators_router, VALIDATORS_DATASET, query)


@_declare(
    groups_router,
    GROUPS_DATASET,
    Permission.INCIDENTS_READ,
    "Incident groups: a validator's incidents grouped. Counts, First Seen (earliest incident start), Last Seen "
    "(latest incident start) and Last End Time (that incident's end) come from the group's incidents. A time range "
    "selects the groups with an incident that started in it; the row still describes the whole group.",
    "INCIDENTS_READ",
)
def get_incident_groups(query: Annotated[CatalogListQuery, Query()]) -> Response[str]:
    return _export(groups_router, GROUPS_DATASET, query)


_SCOPES = ", ".join(f"{kind.value} with {permission.value}" for kind, permission in RESOURCE_PERMISSIONS.items())


@_declare(
    activities_router,
    ACTIVITIES_DATASET,
    AnyOf(tuple(sorted(ACTIVITY_PERMISSIONS))),
    "Activities: every change to catalog objects, in time order (sort by timestamp only). Each row is visible only "
    f"with the read permission of its resource type ({_SCOPES}); a key sees the rows of the permissions it holds. "
    "Entity name is the name the resource had at the event, so deleted and renamed resources keep their rows. "
    "`source` and `validator` match an id or the name the resource had at the event.",
    "all of SOURCES_READ, VALIDATORS_READ, INCIDENTS_READ and CATALOG_ASSETS_READ (one is enough to be admitted)",
)
def get_activities(query: Annotated[CatalogListQuery, Query()]) -> Response[str]:
    return _export(activities_router, ACTIVITIES_DATASET, query)
