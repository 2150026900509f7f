"""How the catalog's exports answer: up to the row cap (100,000) inline, gzip-compressed when the client accepts it
(so a large CSV fits a Lambda response); over the cap, or over what a response can carry, never truncated: an
export job (202), as every synchronous export of this service."""

from __future__ import annotations

import base64
import gzip
from dataclasses import replace
from datetime import datetime
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from export_service.api.deps import get_dependencies
from export_service.api.endpoint import request_event
from export_service.api.export_integrity import audit_action
from export_service.api.job_responses import file_or_job, file_response
from export_service.logic.export_audit import ExportAction
from export_service.logic.export_engine import (
    ExportBody,
    ExportLimits,
    ExportSpec,
    TooLarge,
    count_matches,
    export_inline,
    too_large,
)
from export_service.models.api_keys import Principal
from export_service.models.export import ExportFormat, QueryModel

RAW_BODY_CAP = 200_000_000  # characters rendered before compression (bounded memory on a 1 GB function)


def accepts_gzip(router: Router) -> bool:
    headers = request_event(router).headers or {}
    value = next((v for k, v in headers.items() if k.lower() == "accept-encoding" and v), "")
    return any(part.split(";")[0].strip().lower() in ("gzip", "*") for part in value.split(","))


def gzip_response(result: ExportBody, *, tenant: str, dataset: str, fmt: ExportFormat) -> Response[str]:
    response = file_response(result, tenant=tenant, dataset=dataset, fmt=fmt)
    response.headers["Content-Encoding"] = "gzip"
    response.headers["Vary"] = "Accept-Encoding"
    return response


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
    settings = deps.settings
    compress = accepts_gzip(router)
    body_cap = RAW_BODY_CAP if compress else settings.max_response_bytes
    # matches are counted past the row cap (the job's estimate, "at least N" beyond the count cap)
    count_cap = max(settings.count_cap, settings.catalog_row_cap + 1)
    limits = ExportLimits(settings.catalog_row_cap, body_cap, count_cap, settings.read_prefetch)
    result = export_inline(spec, request, query, fmt, deps, limits, now)
    if isinstance(result, ExportBody) and compress:
        text = result.body if isinstance(result.body, str) else result.body.decode("utf-8")
        packed = gzip.compress(text.encode("utf-8"), compresslevel=6)
        if len(base64.b64encode(packed)) <= settings.max_response_bytes:
            compressed = replace(result, body=packed)
            audit_action(  # every export is audited before it leaves (logic/export_audit.py)
                router,
                principal,
                ExportAction.SYNC,
                dataset=spec.name,
                filter_=query.parameters(),
                records=result.records,
                now=now,
                details={"format": fmt.value},
            )
            return gzip_response(compressed, tenant=principal.tenant_id, dataset=spec.name, fmt=fmt)
        plan = spec.plan(request, deps)
        matched = count_matches(spec, request, deps, plan.parts, limits.count_cap)
        result = TooLarge(too_large("bytes", matched, limits, spec.narrow), matched, query)
    return file_or_job(
        result, router=router, spec=spec, principal=principal, fmt=fmt, now=now, request=request, query=query
    )
