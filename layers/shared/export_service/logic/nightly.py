"""Nightly incremental exports: dispatch one execution per tenant and night, export each source's rows
created or changed in the night's window to a file in S3 (CSV, or Parquet when the tenant chose it), commit the night's
entries with the watermark, list them.

Exactly once per night: the execution is named after tenant and night (Step Functions refuses a second start),
each source file has a fixed key (a retried step rewrites it), and the commit is one conditional transaction that
a second run of the same night cannot pass.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from export_service.dal.export_request_store import CommitRefusedError, ExportRequestStore
from export_service.dal.query import QueryPartition
from export_service.dal.s3_files import PRESIGN_SECONDS
from export_service.logic import parquet_files
from export_service.logic.export_jobs import FilesLike, SourceStores
from export_service.logic.formats import CONTENT_TYPES, CsvWriter, ExportFormat
from export_service.logic.job_steps import ExecutionStarter, Presigner
from export_service.logic.nightly_chain import (
    NightManifest,
    NightPublisher,
    build_night_manifest,
    committed_manifest,
    file_name,
    night_format,
    previous_manifest,
    publish,
)
from export_service.models.api_keys import Principal
from export_service.models.nightly import (
    NIGHTLY_SOURCES,
    SOURCE_NAMES,
    CommitInput,
    NightlyConfig,
    NightlyFormat,
    NightlySource,
    SourceInput,
    SourceResult,
)
from export_service.timefmt import format_instant

RETENTION = timedelta(days=30)
CSV_CONTENT_TYPE = CONTENT_TYPES[ExportFormat.CSV]  # text/csv; charset=utf-8
PARQUET_CONTENT_TYPE = CONTENT_TYPES[ExportFormat.PARQUET]  # application/vnd.apache.parquet, as the export jobs'
_CONTENT_TYPES = {NightlyFormat.CSV: CSV_CONTENT_TYPE, NightlyFormat.PARQUET: PARQUET_CONTENT_TYPE}
_IDS = uuid.UUID("6f1c2f4e-8d53-4a57-9a51-3b0f0f3a7c11")  # namespace of the deterministic export request ids


def night_of(scheduled: datetime) -> str:
    """The night a schedule time belongs to: its UTC date."""
    return scheduled.astimezone(UTC).date().isoformat()


def execution_name(tenant: str, night: str) -> str:
    """At most 80 characters (tenants are at most 63), unique per tenant and night."""
    return f"nightly-{night.replace('-', '')}-{tenant}"


def plan_window(config: NightlyConfig, scheduled: datetime, overlap: timedelta) -> tuple[datetime, datetime] | None:
    """The night's window: from the previous committed window's end less ``overlap`` (a late write is never
    missed), or from when exports were enabled, up to the schedule time. None when that is empty."""
    start = config.enabled_at if config.watermark is None else max(config.enabled_at, config.watermark - overlap)
    if start >= scheduled:
        return None
    return start, scheduled


@dataclass(frozen=True)
class Dispatched:
    tenant: str
    outcome: str  # started | skipped: <why>
    execution: str | None = None


def dispatch(
    store: ExportRequestStore, starter: ExecutionStarter, scheduled: datetime, overlap: timedelta
) -> list[Dispatched]:
    """Start the night's execution for every tenant with nightly exports on (a duplicate event starts none)."""
    night = night_of(scheduled)
    outcomes = []
    for listed in store.enabled_tenants():
        # The index is eventually consistent: the tenant's own item says whether it is still on, and from when.
        config = store.get_config(listed.tenant)
        if config is None or not config.enabled:
            outcomes.append(Dispatched(listed.tenant, "skipped: disabled"))
            continue
        if config.last_night is not None and config.last_night >= night:
            outcomes.append(Dispatched(config.tenant, "skipped: night already committed"))
            continue
        window = plan_window(config, scheduled, overlap)
        if window is None:
            outcomes.append(Dispatched(config.tenant, "skipped: enabled after this night's schedule"))
            continue
        name = execution_name(config.tenant, night)
        started = starter.start(
            name,
            {
                "mode": "nightly",
                "tenant": config.tenant,
                "night": night,
                "enabled_at": format_instant(config.enabled_at),
                "window_starts_at": format_instant(window[0]),
                "window_ends_at": format_instant(window[1]),
                "format": config.format.value,  # in the input: a retried step writes the same file
                "sources": list(SOURCE_NAMES),
            },
        )
        outcomes.append(Dispatched(config.tenant, "started" if started else "skipped: already started", name))
    return outcomes


def file_key(tenant: str, night: str, source: NightlySource, fmt: NightlyFormat = NightlyFormat.CSV) -> str:
    return f"nightly/{tenant}/{night}/{source.slug}.{fmt.extension}"


def _partitions(stores: SourceStores, source: NightlySource, run: SourceInput) -> Sequence[QueryPartition]:
    if source.dataset is None:
        return stores.audit.plan(run.tenant, run.window_starts_at, run.window_ends_at, {})  # type: ignore[no-any-return]
    return stores.incidents.plan_changed(  # type: ignore[no-any-return]
        run.tenant, source.dataset, run.window_starts_at, run.window_ends_at
    )


def _pages(stores: SourceStores, source: NightlySource, parts: Sequence[QueryPartition]) -> Iterator[list[dict]]:
    for part in parts:
        if source.dataset is None:
            yield from stores.audit.read_pages(part)
        else:
            yield from stores.incidents.read_pages(source.dataset, part)


def export_source(stores: SourceStores, files: FilesLike, run: SourceInput) -> SourceResult:
    """One source's file for the night: the rows created or changed in the window, read a page at a time (bounded
    memory), in change-time order; CSV (the header, even when the night has no rows) or, when the night was dispatched
    with format parquet, a Parquet file with typed columns. Written to a fixed key: a retry replaces the file."""
    source = NIGHTLY_SOURCES[run.source]
    key = file_key(run.tenant, run.night, source, run.format)
    pages = _pages(stores, source, _partitions(stores, source, run))
    upload = files.upload(key, _CONTENT_TYPES[run.format])
    try:
        if run.format is NightlyFormat.PARQUET:
            # written as an export job's part is (logic/parquet_files.py: the rows spooled to a temporary file, then
            # typed columns by DuckDB, streamed into S3); a night without rows is a file with the columns and no row
            rows = parquet_files.write_part(pages, source.columns, upload)
        else:
            rows = _write_csv(pages, source.columns, upload)
        sha256 = upload.close()
    except BaseException:
        upload.abort()
        raise
    return SourceResult(source=run.source, key=key, rows=rows, bytes=upload.bytes, sha256=sha256, format=run.format)


def _write_csv(pages: Iterable[Sequence[Mapping[str, Any]]], columns: Sequence[str], upload: Any) -> int:
    """The header (even when the night has no rows), then the pages' rows, a page at a time; the rows written."""
    buffer = io.StringIO()
    writer = CsvWriter(buffer, columns)
    rows = 0
    for page in pages:
        writer.write_many(page)
        rows += len(page)
        upload.write(buffer.getvalue())
        buffer.seek(0)
        buffer.truncate()
    upload.write(buffer.getvalue())
    return rows


def request_id(tenant: str, night: str, source: str) -> str:
    return str(uuid.uuid5(_IDS, f"{tenant}/{night}/{source}"))


def commit_night(
    store: ExportRequestStore, run: CommitInput, now: datetime, publisher: NightPublisher | None = None
) -> dict[str, Any]:
    """Publish the night's entries and move the watermark, once. Runs after every file is written. With a
    ``publisher`` the night also gets its signed manifest, chained to the tenant's previous night, committed with
    the entries and then written beside the files, and a completion event."""
    config = store.get_config(run.tenant)
    if config is None or not config.enabled:
        return {"tenant": run.tenant, "night": run.night, "state": "skipped", "reason": "disabled"}
    if config.enabled_at != run.enabled_at:
        return {"tenant": run.tenant, "night": run.night, "state": "skipped", "reason": "re-enabled since dispatch"}
    if config.last_night is not None and config.last_night >= run.night:
        # Executions are named per night, so this is an earlier attempt of this step that landed before it failed
        return _by_earlier_attempt(store, run, publisher)
    by_source = {result.source: result for result in run.files}
    if sorted(by_source) != sorted(SOURCE_NAMES):
        raise ValueError(f"a night needs one file per source, got {sorted(by_source)}")
    fmt = night_format(run.files)
    created = now if config.last_created_at is None else max(now, config.last_created_at + timedelta(milliseconds=1))
    night: NightManifest | None = None
    if publisher is not None:
        chain = store.get_chain(run.tenant)
        files = [by_source[name] for name in SOURCE_NAMES]
        export_id = execution_name(run.tenant, run.night)
        night = build_night_manifest(run, files, created, export_id, previous_manifest(chain), publisher.signer)
    entries = [
        {
            "id": request_id(run.tenant, run.night, name),
            "created_at": format_instant(created),
            "window_starts_at": format_instant(run.window_starts_at),
            "window_ends_at": format_instant(run.window_ends_at),
            "source": name,
            "status": "completed",
            "night": run.night,
            "key": by_source[name].key,
            "records": by_source[name].rows,
            "bytes": by_source[name].bytes,
            "sha256": by_source[name].sha256,
            "format": fmt.value,
            **({"manifest_key": night.key} if night is not None else {}),
        }
        for name in SOURCE_NAMES
    ]
    ttl = int((created + RETENTION).timestamp())
    try:
        if night is None:
            store.commit(run.tenant, run.night, run.enabled_at, run.window_ends_at, created, entries, ttl)
        else:
            store.commit(
                run.tenant,
                run.night,
                run.enabled_at,
                run.window_ends_at,
                created,
                entries,
                ttl,
                chain=night.chain_item(),
            )
    except CommitRefusedError as refused:
        if refused.reason == "already committed":  # an earlier attempt landed while this one ran
            return _by_earlier_attempt(store, run, publisher)
        return {"tenant": run.tenant, "night": run.night, "state": "skipped", "reason": refused.reason}
    result = {"tenant": run.tenant, "night": run.night, "state": "committed", "created_at": format_instant(created)}
    if publisher is not None and night is not None:
        publish(publisher, night, run)
        result.update({"manifest_key": night.key, "chain_sequence": night.chain_item()["sequence"]})
    return result


def _by_earlier_attempt(
    store: ExportRequestStore, run: CommitInput, publisher: NightPublisher | None
) -> dict[str, Any]:
    """An earlier attempt of this step committed the night: publish its committed manifest again (the attempt may
    have failed before writing it or sending the event)."""
    result: dict[str, Any] = {
        "tenant": run.tenant,
        "night": run.night,
        "state": "committed",
        "reason": "by an earlier attempt",
    }
    if publisher is not None:
        night = committed_manifest(store, run)
        if night is not None:
            publish(publisher, night, run)
            result["manifest_key"] = night.key
    return result


def list_export_requests(
    store: ExportRequestStore,
    files: Presigner,
    principal: Principal,
    newer_than: datetime | None,
    limit: int,
    now: datetime,
) -> dict[str, Any]:
    """Entries created after ``newer_than``, oldest first, each with a link presigned for 300 s. A page holds whole
    nights (at most ``limit`` entries); ``next_newer_than`` continues after it. Only the sources whose read permission
    the key holds are listed (the pages are cut over all sources, so paging is the same for every key)."""
    after = format_instant(newer_than) if newer_than is not None else None
    items = store.list_requests(principal.tenant_id, after, int(now.timestamp()), limit + 1)
    more = len(items) > limit
    page = items[:limit]
    if more:  # drop a night cut in two by the limit; it starts the next page
        cut = items[limit]["created_at"]
        page = [item for item in page if item["created_at"] != cut]
    elif page and sum(item["created_at"] == page[-1]["created_at"] for item in page) < len(SOURCE_NAMES):
        # a night seen in part (never expected with consistent reads): left for the next poll, never skipped
        last = page[-1]["created_at"]
        page = [item for item in page if item["created_at"] != last]
    data = []
    # A night's manifest lists every source's file (hashes and row counts): only a key that reads them all gets it.
    every_source = {source.read_permission for source in NIGHTLY_SOURCES.values()} <= principal.permissions
    manifests: dict[str, str] = {}
    for item in page:
        source = NIGHTLY_SOURCES.get(item["source"])
        if source is None or source.read_permission not in principal.permissions:
            continue
        fmt = NightlyFormat(item.get("format") or NightlyFormat.CSV)  # entries written before formats existed: CSV
        filename = file_name(source.name, item["night"], fmt)
        entry = {
            "id": item["id"],
            "created_at": item["created_at"],
            "window_starts_at": item["window_starts_at"],
            "window_ends_at": item["window_ends_at"],
            "source": item["source"],
            "status": item["status"],
            "url": files.presign(item["key"], filename),
            "records": int(item["records"]),
            "sha256": item["sha256"],
            "format": fmt.value,
        }
        if every_source and item.get("manifest_key"):
            key = item["manifest_key"]
            if key not in manifests:
                manifests[key] = files.presign(key, f"manifest-{item['night']}.json")
            entry["manifest_url"] = manifests[key]
        data.append(entry)
    return {
        "data": data,
        "urls_expire_at": format_instant(now + timedelta(seconds=PRESIGN_SECONDS)),
        "pagination": {
            "limit": limit,
            "has_more": more,
            "next_newer_than": page[-1]["created_at"] if more and page else None,
        },
    }
