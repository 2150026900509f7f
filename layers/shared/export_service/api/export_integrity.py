"""What every export answer adds for integrity and audit: the representation's digest and row count (RFC 9530
``Repr-Digest``), the export action's audit record, and on request (``manifest=true``) the signed manifest of the
very answer, stored beside the jobs' manifests and linked from the answer."""

from __future__ import annotations

import base64
import gzip
import hashlib
import secrets
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import Router

from export_service.api.deps import get_dependencies
from export_service.api.endpoint import request_event
from export_service.dal.s3_files import PRESIGN_SECONDS
from export_service.logic.datasets import AUDIT
from export_service.logic.export_audit import ExportAction, export_action_record, write_export_action
from export_service.logic.export_engine import ExportBody, ExportSpec
from export_service.logic.manifest import file_entry, manifest_bytes, new_manifest, sign_manifest
from export_service.models.api_keys import Principal
from export_service.models.export import QueryModel

RECORD_COUNT_HEADER = "X-Record-Count"
MANIFEST_PREFIX = "manifests"  # manifests/<tenant>/<export id>.json in the export bucket (30-day lifecycle)


def body_bytes(body: str | bytes) -> bytes:
    return body if isinstance(body, bytes) else body.encode("utf-8")


def repr_digest(data: bytes) -> str:
    """RFC 9530 ``Repr-Digest`` of the bytes sent: ``sha-256=:<base64>:``."""
    return f"sha-256=:{base64.b64encode(hashlib.sha256(data).digest()).decode('ascii')}:"


def representation_headers(body: str | bytes, records: int) -> dict[str, str]:
    return {"Repr-Digest": repr_digest(body_bytes(body)), RECORD_COUNT_HEADER: str(records)}


def request_filter(query: QueryModel | None) -> dict[str, Any]:
    """The request's parameters as given (the filter and range a manifest and an audit record name)."""
    return query.parameters() if query is not None else {}


def source_ip(router: Router) -> str:
    try:
        return str(request_event(router).request_context.identity.source_ip or "")
    except (AssertionError, AttributeError, KeyError):
        return ""


def audit_action(
    router: Router,
    principal: Principal,
    action: ExportAction,
    *,
    dataset: str,
    filter_: Mapping[str, Any],
    records: int,
    now: datetime,
    details: Mapping[str, str] | None = None,
) -> None:
    """Write the export action's audit record, or refuse the action (503 AUDIT_UNAVAILABLE)."""
    record = export_action_record(
        principal,
        action,
        dataset=dataset,
        filter_=filter_,
        records=records,
        now=now,
        source_ip=source_ip(router),
        details=details,
    )
    write_export_action(get_dependencies().audit_store, principal.tenant_id, record)


def new_export_id(now: datetime) -> str:
    """``sync-<yyyymmddThhmmss>-<random>``: names a synchronous answer in its manifest and audit record."""
    return f"sync-{now:%Y%m%dT%H%M%S}-{secrets.token_hex(6)}"


def sync_manifest_link(
    result: ExportBody,
    *,
    export_id: str,
    spec: ExportSpec[Any],
    request: Any,
    query: QueryModel | None,
    principal: Principal,
    fmt: str,
    now: datetime,
) -> str:
    """Sign and store the manifest of this exact answer; returns a link to it, presigned for 300 s. A gzip-encoded
    answer's manifest describes the file the client saves (decoded), as a job's manifest does."""
    data = body_bytes(result.body)
    if result.encoding == "gzip":
        data = gzip.decompress(data)
    start, end, _bounded = spec.bounds(request) if request is not None else (None, None, False)
    entry = file_entry(
        result.filename,
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        rows=result.records,
        fmt=fmt,
        audit_records=spec.name == AUDIT,
    )
    manifest = new_manifest(
        export_id=export_id,
        export_type="sync",
        tenant=principal.tenant_id,
        dataset=spec.name,
        fmt=fmt,
        filter_=request_filter(query),
        start=start,
        end=end,
        created_at=now,
        files=[entry],
    )
    jobs = get_dependencies().jobs()
    key = f"{MANIFEST_PREFIX}/{principal.tenant_id}/{export_id}.json"
    jobs.files.put_bytes(key, manifest_bytes(sign_manifest(manifest, jobs.signer)), "application/json")
    return jobs.files.presign(key, f"{result.filename}.manifest.json", PRESIGN_SECONDS)


def link_header(url: str) -> str:
    return f'<{url}>; rel="describedby"; type="application/json"'
