"""HTTP shapes of export jobs shared by the job routes and the synchronous routes that hand over to a job."""

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from aws_lambda_powertools.event_handler import Response

from export_service.logic.job_steps import job_body


def accepted(job: Mapping[str, Any], now: datetime) -> Response[str]:
    """202 Accepted with the job and where to poll it."""
    return Response(
        status_code=202,
        content_type="application/json",
        body=json.dumps(job_body(job, None, now)),
        headers={"Location": f"/v1/exports/{job['job_id']}"},
    )


def parameters_from_query(multi: Mapping[str, Sequence[str]] | None, repeatable: Sequence[str] = ()) -> dict[str, Any]:
    """A synchronous request's query parameters as job parameters (format travels separately)."""
    return {
        name: (list(values) if name in repeatable else values[-1])
        for name, values in (multi or {}).items()
        if name != "format"
    }
