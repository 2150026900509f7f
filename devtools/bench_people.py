"""The benchmark's section for people's exports (issue #7): the PDF report and localized csv/json at 5,000 records.

Run by ``python -m devtools.bench`` after the synchronous part, or alone with ``--only-people``. For a tenant of its
own (``people-<N>``, N = ``--people-size``, 5,000 by default: the PDF's cap), it exports through the real handler:

- csv without locale (the baseline), csv with ``locale=de&timezone=Europe/Berlin``, json with
  ``locale=fr&timezone=America/New_York`` (the ``localTime`` column), and the PDF in en/UTC and de/Europe/Berlin;
- best of ``--repeat`` timed runs, then one run under tracemalloc for the peak of Python allocations;
- each response checked: status 200, N data rows (csv/json), or a PDF whose pages pypdf can read, with N record ids.
"""

from __future__ import annotations

import base64
import gc
import io
import re
import time
import tracemalloc
from collections.abc import Callable
from datetime import datetime
from typing import Any

from devtools.lambda_runtime import invoke, rest_proxy_event
from devtools.template import FunctionSpec
from export_service.timefmt import format_instant

ROUTE = "/v1/audit/export"
MIB = 1024 * 1024
VARIANTS: tuple[tuple[str, dict[str, str]], ...] = (
    ("csv (baseline, UTC only)", {"format": "csv"}),
    ("csv de Europe/Berlin", {"format": "csv", "locale": "de", "timezone": "Europe/Berlin"}),
    ("json fr America/New_York", {"format": "json", "locale": "fr", "timezone": "America/New_York"}),
    ("pdf en UTC", {"file_type": "pdf"}),
    ("pdf de Europe/Berlin", {"file_type": "pdf", "locale": "de", "timezone": "Europe/Berlin"}),
)


def _event(tenant: str, params: dict[str, str], window: tuple[datetime, datetime]) -> dict[str, Any]:
    query = {name: [value] for name, value in params.items()}
    query |= {"from": [format_instant(window[0])], "to": [format_instant(window[1])]}
    authorizer = {"tenantId": tenant, "keyId": "ak_bench", "permissions": "AUDIT_READ", "principalId": "ak_bench"}
    return rest_proxy_event(method="GET", path=ROUTE, resource=ROUTE, query=query, headers={}, authorizer=authorizer)


def _check(params: dict[str, str], response: dict[str, Any], size: int, rows: Callable[[str, str], int]) -> str:
    """Checks the response; returns a short description of the file."""
    if response.get("statusCode") != 200:
        raise RuntimeError(f"{params} answered {response.get('statusCode')}: {str(response.get('body'))[:300]}")
    if params.get("file_type") == "pdf":
        from pypdf import PdfReader  # noqa: PLC0415 - a test dependency, used here to check the file

        pdf = base64.b64decode(response["body"])
        reader = PdfReader(io.BytesIO(pdf))
        ids = sum(len(re.findall(r"audit-\d{8}-\d{6}", page.extract_text())) for page in reader.pages)
        if ids != size:
            raise RuntimeError(f"the PDF shows {ids:,} record ids, expected {size:,}")
        return f"{len(reader.pages)} pages, {len(pdf) / MIB:.1f} MiB"
    found = rows(params["format"], response["body"])
    if found != size:
        raise RuntimeError(f"{params} has {found:,} rows, expected {size:,}")
    return f"{len(response['body'].encode('utf-8')) / MIB:.1f} MiB"


def run_people(
    spec: FunctionSpec,
    tenant: str,
    size: int,
    window: tuple[datetime, datetime],
    repeat: int,
    rows: Callable[[str, str], int],
    log: Callable[[str], None],
) -> None:
    log(f"\npeople's exports: {size:,} records of {tenant}, through the handler (best of {repeat}):")
    lines = []
    for label, params in VARIANTS:
        event = _event(tenant, params, window)
        invoke(spec, event)  # warm: Babel's locale data, fpdf2 and the font are loaded on first use
        best = float("inf")
        described = ""
        for _ in range(repeat):
            began = time.perf_counter()
            response = invoke(spec, event)
            best = min(best, time.perf_counter() - began)
            described = _check(params, response, size, rows)
            del response
        gc.collect()
        tracemalloc.start()
        try:
            invoke(spec, event)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        lines.append(f"| {label} | {best:.2f} s | {size / best:,.0f} | {peak / MIB:.1f} MiB | {described} |")
        log(f"  {label}: {best:.2f}s, tracemalloc peak {peak / MIB:.1f} MiB, {described}")
    log("\n| export | time | rec/s | tracemalloc peak | file |\n|---|---|---|---|---|")
    for line in lines:
        log(line)
