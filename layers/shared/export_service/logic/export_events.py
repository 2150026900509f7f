"""Completion events (EventBridge): an export job succeeded or failed, a night's export was published.

Events carry identifiers, counts and S3 keys (the manifest's above all), never a presigned link or exported data: a
consumer fetches files through the API or the bucket with its own permissions. docs/events.md is the schema;
events/event_*.json are samples the tests hold the code to.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

SCHEMA_VERSION = "1"
JOB_SUCCEEDED = "Export Job Succeeded"
JOB_FAILED = "Export Job Failed"
NIGHTLY_PUBLISHED = "Nightly Export Published"


class EventPublisher(Protocol):
    def put(self, detail_type: str, detail: Mapping[str, Any]) -> None: ...


def job_succeeded(job: Mapping[str, Any], result: Mapping[str, Any], finished_at: str) -> dict[str, Any]:
    return {
        "version": SCHEMA_VERSION,
        "jobId": job["job_id"],
        "tenant": job["tenant"],
        "dataset": job["dataset"],
        "format": job["format"],
        "state": "succeeded",
        "records": int(result["rows"]),
        "bytes": int(result["bytes"]),
        "sha256": result["sha256"],
        "fileKey": result["key"],
        "manifestKey": result["manifest_key"],
        "createdAt": job["created_at"],
        "finishedAt": finished_at,
    }


def job_failed(job: Mapping[str, Any], error: str, failed_at: str) -> dict[str, Any]:
    return {
        "version": SCHEMA_VERSION,
        "jobId": job["job_id"],
        "tenant": job["tenant"],
        "dataset": job["dataset"],
        "format": job["format"],
        "state": "failed",
        "error": error,
        "estimatedRecords": int(job.get("estimated_records") or 0),
        "createdAt": job["created_at"],
        "failedAt": failed_at,
    }


def nightly_published(
    tenant: str,
    night: str,
    window: tuple[str, str],
    created_at: str,
    files: Sequence[Mapping[str, Any]],
    manifest_key: str,
    manifest: Mapping[str, Any],
    manifest_sha256: str,
) -> dict[str, Any]:
    return {
        "version": SCHEMA_VERSION,
        "tenant": tenant,
        "night": night,
        "windowStartsAt": window[0],
        "windowEndsAt": window[1],
        "createdAt": created_at,
        "format": str(manifest.get("format") or "csv"),  # the night's files: csv, or parquet for a Parquet tenant
        "sources": [
            {
                "source": entry["source"],
                "records": int(entry["rows"]),
                "bytes": int(entry["bytes"]),
                "sha256": entry["sha256"],
                "key": entry["key"],
            }
            for entry in files
        ],
        "totalRecords": sum(int(entry["rows"]) for entry in files),
        "manifestKey": manifest_key,
        "manifestSha256": manifest_sha256,
        "chainSequence": int(manifest["chain"]["sequence"]),
    }
