"""HTTP shapes of export jobs shared by the job routes and the synchronous routes that hand over to a job."""

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from aws_lambda_powertools.event_handler import Response

from export_service.logic.job_steps import job_body


def accepted(job: Mapping[str, Any], now: datetime, base_path: str = "") -> Response[str]:
    """202 Accepted with the job and where to poll it (``base_path``: the stage or custom-domain prefix)."""
    return Response(
        status_code=202,
        content_type="application/json",
        body=json.dumps(job_body(job, None, now)),
        headers={"Location": f"{base_path}/v1/exports/{job['job_id']}"},
    )


def base_path(request_path: str, path: str) -> str:
    """What precedes the route in the caller's URL: ``requestContext.path`` is ``/prod/v1/...`` on the
    execute-api domain (``path`` is ``/v1/...``)."""
    return request_path[: -len(path)] if path and request_path.endswith(path) else ""


def parameters_from_query(multi: Mapping[str, Sequence[str]] | None, repeatable: Sequence[str] = ()) -> dict[str, Any]:
    """A synchronous request's query parameters as job parameters (format travels separately)."""
    return {
        name: (list(values) if name in repeatable else values[-1])
        for name, values in (multi or {}).items()
        if name != "format"
    }
