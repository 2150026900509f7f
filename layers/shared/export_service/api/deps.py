"""What route code depends on, built once per container from validated settings; tests swap it."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import boto3

from export_service.config import Settings, get_settings
from export_service.dal.api_key_store import ApiKeyStore
from export_service.dal.audit_store import AuditStore
from export_service.dal.incident_store import IncidentStore

if TYPE_CHECKING:
    from export_service.dal.export_request_store import ExportRequestStore
    from export_service.logic.job_steps import JobContext


@dataclass
class Dependencies:
    settings: Settings
    audit_store: AuditStore
    api_key_store: ApiKeyStore
    incident_store: IncidentStore

    @property
    def audit(self) -> AuditStore:  # the SourceStores shape export jobs read from
        return self.audit_store

    @property
    def incidents(self) -> IncidentStore:
        return self.incident_store

    def jobs(self) -> JobContext:
        """Export jobs: built on first use, so endpoints that never start a job need no S3 or Step Functions."""
        return _job_context()

    def export_requests(self) -> ExportRequestStore:
        """Nightly export settings and the listed export requests (built on first use)."""
        return _export_request_store()


@lru_cache(maxsize=1)
def get_dependencies() -> Dependencies:
    settings = get_settings()
    dynamodb = boto3.client("dynamodb")
    return Dependencies(
        settings=settings,
        audit_store=AuditStore(dynamodb, settings.audit_table_name),
        api_key_store=ApiKeyStore(dynamodb, settings.api_keys_table_name),
        incident_store=IncidentStore(dynamodb, settings.incidents_table_name),
    )


@lru_cache(maxsize=1)
def _job_context() -> JobContext:
    # Imported here: only the functions that start, run or read export jobs pay for them at cold start (the
    # authorizer, called on every request, does not).
    from botocore.config import Config  # noqa: PLC0415

    from export_service.dal.executions import StepFunctionsStarter  # noqa: PLC0415
    from export_service.dal.job_store import JobStore  # noqa: PLC0415
    from export_service.dal.s3_files import ExportFiles  # noqa: PLC0415
    from export_service.logic.job_steps import JobContext  # noqa: PLC0415

    deps, settings = get_dependencies(), get_settings()
    starter = (
        StepFunctionsStarter(boto3.client("stepfunctions"), settings.state_machine_arn)
        if settings.state_machine_arn
        else None
    )
    return JobContext(
        stores=deps,
        jobs=JobStore(boto3.client("dynamodb"), settings.export_jobs_table_name),
        # SigV4 links carry their lifetime (X-Amz-Expires=300), which callers and tests can read.
        files=ExportFiles(boto3.client("s3", config=Config(signature_version="s3v4")), settings.export_bucket_name),
        starter=starter,
        count_cap=settings.count_cap,
    )


@lru_cache(maxsize=1)
def _export_request_store() -> ExportRequestStore:
    from export_service.dal.export_request_store import ExportRequestStore  # noqa: PLC0415

    return ExportRequestStore(boto3.client("dynamodb"), get_settings().export_requests_table_name)


def reset_dependencies() -> None:
    """Forget cached settings and clients (tests that change the environment)."""
    _export_request_store.cache_clear()
    _job_context.cache_clear()
    get_dependencies.cache_clear()
    get_settings.cache_clear()
