"""How the catalog's exports answer: up to the row cap (100,000) inline, gzip-compressed when the client accepts it
(so a large CSV fits a Lambda response); over the cap, or over what a response can carry, never truncated: an
export job (202), as every synchronous export of this service."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from export_service.api.deps import get_dependencies
from export_service.api.job_responses import accepts_gzip, export_limits, file_or_job
from export_service.config import Settings
from export_service.logic.export_engine import ExportLimits, ExportSpec, export_inline
from export_service.models.api_keys import Principal
from export_service.models.export import ExportFormat, QueryModel


def catalog_limits(settings: Settings, *, gzip: bool) -> ExportLimits:
    """The synchronous limits with the catalog's row cap (100,000 rows) in place of the record limit; matches are
    counted past it (the job's estimate)."""
    return replace(
        export_limits(settings, gzip=gzip),
        max_records=settings.catalog_row_cap,
        count_cap=max(settings.count_cap, settings.catalog_row_cap + 1),
    )


def answer(
    router: Router,
    spec: ExportSpec[Any],
    request: Any,
    query: QueryModel,
    fmt: ExportFormat,
    principal: Principal,
    now: datetime,
) -> Response[str]:
    deps = get_dependencies()
    limits = catalog_limits(deps.settings, gzip=accepts_gzip(router))
    result = export_inline(spec, request, query, fmt, deps, limits, now)
    return file_or_job(
        result, router=router, spec=spec, principal=principal, fmt=fmt, now=now, request=request, query=query
    )
