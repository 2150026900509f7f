"""The benchmark's section for people's exports: the PDF report and localized csv/json at 5,000 records.

Run by ``python -m devtools.bench`` after the synchronous part, or alone with ``--only-people``. For a tenant of its
own (``people-<N>``, N = ``--people-size``, 5,000 by default: the PDF's cap), it exports through the real handler:

- csv without locale (the baseline), csv with ``locale=de&timezone=Europe/Berlin``, json with
  ``locale=fr&timezone=America/New_York`` (the ``localTime`` column), and the PDF in en/UTC and de/Europe/Berlin;
- best of ``--repeat`` timed runs, then one run under tracemalloc for the peak of Python allocations;
- each response checked: status 200, N data rows (csv/json), or a PDF whose pages pypdf can read, with N record ids.
"""

from __future__ import annotations

import argparse
import base64
import io
import re
import time
from datetime import datetime
from functools import partial
from typing import Any

from devtools.bench.audit import FUNCTION, ROUTE, configure_environment, data_rows
from devtools.bench.common import MIB, handler_event, log, traced_peak
from devtools.bench.loading import load_tenant
from devtools.dynamodb_local import DynamoDBLocal
from devtools.lambda_runtime import invoke
from devtools.provision import local_refs
from devtools.template import FunctionSpec, functions
from export_service.timefmt import format_instant

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
    return handler_event("GET", ROUTE, tenant, "AUDIT_READ", query=query)


def _check(params: dict[str, str], response: dict[str, Any], size: int) -> str:
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
    found = data_rows(params["format"], response["body"])
    if found != size:
        raise RuntimeError(f"{params} has {found:,} rows, expected {size:,}")
    return f"{len(response['body'].encode('utf-8')) / MIB:.1f} MiB"


def run_people(spec: FunctionSpec, tenant: str, size: int, window: tuple[datetime, datetime], repeat: int) -> None:
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
            described = _check(params, response, size)
            del response
        peak = traced_peak(partial(invoke, spec, event))
        lines.append(f"| {label} | {best:.2f} s | {size / best:,.0f} | {peak / MIB:.1f} MiB | {described} |")
        log(f"  {label}: {best:.2f}s, tracemalloc peak {peak / MIB:.1f} MiB, {described}")
    log("\n| export | time | rec/s | tracemalloc peak | file |\n|---|---|---|---|---|")
    for line in lines:
        log(line)


def run_people_section(
    args: argparse.Namespace, dynamodb: DynamoDBLocal, window: tuple[datetime, datetime], loaded: dict[str, int]
) -> None:
    """The PDF report and localized csv/json at --people-size records."""
    if loaded:
        spec = functions(local_refs())[FUNCTION]
    else:
        spec = configure_environment(dynamodb.endpoint, args.read_concurrency)
    tenant, size = f"people-{args.people_size}", args.people_size
    if tenant not in loaded:
        seconds = load_tenant(spec.environment["AUDIT_TABLE_NAME"], tenant, size, window, args.load_threads)
        loaded[tenant] = size
        log(f"\nloaded {tenant}: {size:,} records in {seconds:.1f}s")
    run_people(spec, tenant, size, window, args.repeat)
