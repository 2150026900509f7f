"""Debug records and sample data: SQL over one catalog asset, its rows as an export file.

- Sample data: the caller's SELECT over the asset ``assetId``, with a credential ``credentialId`` that must be the
  asset's (403 otherwise, and for an asset of another tenant: it does not exist for this tenant, 404).
- Debug records: an incident's validator's debug query over the validator's source's asset, with the parameters
  ``$start`` and ``$end`` (the incident's window, UTC) and ``$segment`` (its segment, "" when unsegmented).
Both run in the sandbox (logic/sql_sandbox.py); columns come from the query.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from export_service.dal.catalog_store import ASSETS, SOURCES, VALIDATORS
from export_service.errors import ForbiddenError, NotFoundError
from export_service.logic.export_engine import ExportBody, ExportLimits, content_type, export_filename, render
from export_service.logic.sql_sandbox import SqlResult, SqlResultTooLargeError, run_select
from export_service.models.export import ExportFormat
from export_service.timefmt import format_instant, parse_instant


class Downloader(Protocol):
    def download(self, key: str, path: Path) -> None: ...


@dataclass(frozen=True)
class SqlRun:
    asset: Mapping[str, Any]
    sql: str
    params: dict[str, Any]
    entity: str  # names the file
    parameter: str  # the parameter an error names


def sample_data_run(store: Any, tenant: str, asset_id: str, credential_id: str, sql: str) -> SqlRun:
    asset = store.get(tenant, ASSETS, asset_id)
    if asset is None:
        raise NotFoundError(f"no catalog asset '{asset_id[:200]}'", parameter="assetId")
    if credential_id != asset.get("credential_id"):
        raise ForbiddenError(
            f"credential '{credential_id[:200]}' may not read asset '{asset_id}'; use the credential of its source",
            parameter="credentialId",
        )
    return SqlRun(asset, sql, {}, str(asset.get("table_name") or asset_id), "query")


def debug_records_run(store: Any, tenant: str, incident_id: str) -> SqlRun:
    incident = store.get_incident(tenant, incident_id)
    if incident is None:
        raise NotFoundError(f"no incident '{incident_id[:200]}'", parameter="incidentId")
    group = store.get(tenant, "IG", f"G#{incident['group_id']}")
    validator = store.get(tenant, VALIDATORS, str(group.get("validator_id", ""))) if group else None
    source = store.get(tenant, SOURCES, str(validator.get("source_id", ""))) if validator else None
    asset = store.get(tenant, ASSETS, str(source.get("asset_id", ""))) if source else None
    if validator is None or asset is None or not validator.get("debug_sql"):
        raise NotFoundError(
            f"incident '{incident_id}' has no debug query (its validator or its source's asset is gone)",
            parameter="incidentId",
        )
    params = {
        "start": _naive(incident["start_time"]),
        "end": _naive(incident["end_time"]),
        "segment": str(incident.get("segment") or ""),
    }
    return SqlRun(asset, str(validator["debug_sql"]), params, incident_id, "incidentId")


def _naive(text: str) -> datetime:
    """Asset TIMESTAMP columns hold UTC without an offset: compare like with like."""
    return parse_instant(text, "time").replace(tzinfo=None)


def run_sql(run: SqlRun, files: Downloader, *, row_cap: int, time_limit: float) -> SqlResult:
    """Download the asset's Parquet file into a private temporary folder, run the SQL, remove the file."""
    with tempfile.TemporaryDirectory(prefix="asset-") as folder:
        path = Path(folder) / "asset.parquet"
        files.download(str(run.asset["key"]), path)
        return run_select(
            path,
            str(run.asset.get("table_name") or ""),
            run.sql,
            params=run.params or None,
            row_cap=row_cap,
            time_limit=time_limit,
            parameter=run.parameter,
        )


def sql_file(
    result: SqlResult, run: SqlRun, resource: str, fmt: ExportFormat, limits: ExportLimits, now: datetime
) -> ExportBody:
    """The rows as a file named ``<resource>-<entity>-<today>.<ext>``, gzip-compressed when ``limits.gzip`` (the
    rows are bounded by the row cap; over the response size the caller is told to narrow, as for the row cap)."""
    from export_service.logic.export_engine import Overflow, gzip_body  # noqa: PLC0415

    def metadata(total: int) -> dict[str, Any]:
        return {"exportedAt": format_instant(now), "columns": list(result.columns), "totalRecords": total}

    try:
        text, written = render([result.rows], fmt, result.columns, limits=limits, kind="SqlResult", metadata=metadata)
        body: str | bytes = gzip_body(text, limits) if limits.gzip else text
    except Overflow:
        raise SqlResultTooLargeError(
            f"the query's result is larger than one answer carries ({limits.max_body_bytes:,} bytes"
            f"{', compressed' if limits.gzip else ''}); select fewer rows or columns",
            parameter=run.parameter,
        ) from None
    filename = export_filename(resource, fmt, start=None, end=now, bounded=False, now=now, entity=run.entity)
    encoding = "gzip" if limits.gzip else None
    return ExportBody(body=body, content_type=content_type(fmt), filename=filename, records=written, encoding=encoding)
