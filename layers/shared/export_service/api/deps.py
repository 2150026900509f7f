"""What route code depends on, built once per container from validated settings; tests swap it."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING, Any

from export_service.api.authorizer_keys import key_records
from export_service.aws_clients import INTERACTIVE, aws_client
from export_service.config import Settings, get_settings
from export_service.errors import NotConfiguredError

if TYPE_CHECKING:
    from export_service.dal.api_key_store import ApiKeyStore
    from export_service.dal.asset_files import AssetFiles
    from export_service.dal.audit_store import AuditStore
    from export_service.dal.catalog_store import CatalogStore
    from export_service.dal.events import EventBus
    from export_service.dal.export_request_store import ExportRequestStore
    from export_service.dal.incident_store import IncidentStore
    from export_service.dal.signing import KmsPublicKeys, KmsSigner
    from export_service.logic.job_steps import JobContext


@dataclass
class Dependencies:
    """The stores are built (and their modules imported) on first use: a function loads only what its path reads
    (the audit export never imports the incident models, nor the incident routes the audit ones)."""

    settings: Settings
    dynamodb: Any  # the profile's DynamoDB client, shared by the stores
    profile: str = INTERACTIVE  # the AWS clients' timeouts and retries (aws_clients)

    @cached_property
    def audit_store(self) -> AuditStore:
        from export_service.dal.audit_store import AuditStore  # noqa: PLC0415

        return AuditStore(self.dynamodb, self.settings.audit_table_name)

    @cached_property
    def api_key_store(self) -> ApiKeyStore:
        from export_service.dal.api_key_store import ApiKeyStore  # noqa: PLC0415

        return ApiKeyStore(self.dynamodb, self.settings.api_keys_table_name)

    @cached_property
    def incident_store(self) -> IncidentStore:
        from export_service.dal.incident_store import IncidentStore  # noqa: PLC0415

        return IncidentStore(self.dynamodb, self.settings.incidents_table_name)

    @property
    def audit(self) -> AuditStore:  # the SourceStores shape export jobs read from
        return self.audit_store

    @property
    def incidents(self) -> IncidentStore:
        return self.incident_store

    def jobs(self) -> JobContext:
        """Export jobs: built on first use, so endpoints that never start a job need no S3 or Step Functions."""
        return _job_context(self.profile)

    @property
    def catalog(self) -> CatalogStore:
        """The data-observability catalog (built on first use)."""
        return _catalog_store(self.profile)

    def export_requests(self) -> ExportRequestStore:
        """Nightly export settings and the listed export requests (built on first use)."""
        return _export_request_store(self.profile)


@lru_cache(maxsize=2)
def get_dependencies(profile: str = INTERACTIVE) -> Dependencies:
    """The clients of one kind of caller: ``INTERACTIVE`` (API routes and the authorizer: fail within seconds) or
    ``BATCH`` (the state machine's tasks: patient, retrying throttles). See aws_clients."""
    return Dependencies(settings=get_settings(), dynamodb=aws_client("dynamodb", profile), profile=profile)


def _bookkeeping_client(profile: str) -> Any:
    """The client of the job and nightly bookkeeping tables. The API's functions share the process's DynamoDB client
    (one client fewer to build at a cold start); a batch worker gives its bookkeeping a client of its own, because a
    BATCH client's adaptive retry mode rate-limits the client as a whole: throttled reads of the data being exported
    must not slow the writes that record a job's progress or commit a night."""
    return get_dependencies(profile).dynamodb if profile == INTERACTIVE else aws_client("dynamodb", profile)


@lru_cache(maxsize=2)
def _job_context(profile: str = INTERACTIVE) -> JobContext:
    # Imported here: only the functions that start, run or read export jobs pay for them at cold start (the
    # authorizer, called on every request, does not).
    from export_service.dal.executions import StepFunctionsStarter  # noqa: PLC0415
    from export_service.dal.job_slots import JobSlots  # noqa: PLC0415
    from export_service.dal.job_store import JobStore  # noqa: PLC0415
    from export_service.dal.s3_files import ExportFiles  # noqa: PLC0415
    from export_service.logic.job_steps import JobContext  # noqa: PLC0415

    deps, settings = get_dependencies(profile), get_settings()
    jobs_client = _bookkeeping_client(profile)
    slots = JobSlots(jobs_client, settings.export_jobs_table_name, settings.max_concurrent_jobs)
    starter = (
        StepFunctionsStarter(aws_client("stepfunctions", profile), settings.state_machine_arn)
        if settings.state_machine_arn
        else None
    )
    return JobContext(
        stores=deps,
        jobs=JobStore(jobs_client, settings.export_jobs_table_name),
        # SigV4 links carry their lifetime (X-Amz-Expires=300), which callers and tests can read.
        files=ExportFiles(aws_client("s3", profile, signature_version="s3v4"), settings.export_bucket_name),
        starter=starter,
        count_cap=settings.count_cap,
        count_seconds=settings.count_seconds,
        count_floor=settings.sync_export_limit,
        signer=manifest_signer(profile),
        events=event_bus(profile),
        slots=slots if settings.max_concurrent_jobs else None,
    )


@lru_cache(maxsize=2)
def manifest_signer(profile: str = INTERACTIVE) -> KmsSigner | None:
    """Signs export manifests with the KMS key MANIFEST_SIGNING_KEY_ID (None where none is configured)."""
    key_id = get_settings().manifest_signing_key_id
    if not key_id:
        return None
    from export_service.dal.signing import KmsSigner  # noqa: PLC0415 - only the functions that sign

    return KmsSigner(aws_client("kms", profile), key_id)


@lru_cache(maxsize=1)
def public_keys() -> KmsPublicKeys:
    from export_service.dal.signing import KmsPublicKeys  # noqa: PLC0415

    return KmsPublicKeys(aws_client("kms", INTERACTIVE))


@lru_cache(maxsize=2)
def event_bus(profile: str = INTERACTIVE) -> EventBus | None:
    """Completion events' bus (EVENT_BUS_NAME; None: no events)."""
    name = get_settings().event_bus_name
    if not name:
        return None
    from export_service.dal.events import EventBus  # noqa: PLC0415

    return EventBus(aws_client("events", profile), name)


@lru_cache(maxsize=2)
def _catalog_store(profile: str = INTERACTIVE) -> CatalogStore:
    from export_service.dal.catalog_store import CatalogStore  # noqa: PLC0415

    return CatalogStore(get_dependencies(profile).dynamodb, get_settings().catalog_table_name)


@lru_cache(maxsize=1)
def asset_files() -> AssetFiles:
    """The catalog assets' Parquet files (the SQL functions only)."""
    from export_service.dal.asset_files import AssetFiles  # noqa: PLC0415

    return AssetFiles(aws_client("s3"), get_settings().catalog_bucket_name)


@lru_cache(maxsize=2)
def _export_request_store(profile: str = INTERACTIVE) -> ExportRequestStore:
    from export_service.dal.export_request_store import ExportRequestStore  # noqa: PLC0415

    return ExportRequestStore(_bookkeeping_client(profile), get_settings().export_requests_table_name)


@lru_cache(maxsize=1)
def cursor_key() -> bytes:
    """The key that signs incident list cursors, read once per container: CURSOR_SIGNING_KEY (local development),
    else the Secrets Manager secret CURSOR_SECRET_ARN (deployed; generated by the template)."""
    settings = get_settings()
    key = settings.cursor_signing_key
    if not key and settings.cursor_secret_arn:
        from export_service.dal.secrets import read_secret  # noqa: PLC0415 - only the list function needs it

        key = read_secret(aws_client("secretsmanager"), settings.cursor_secret_arn)
    if len(key) < 32:
        raise NotConfiguredError("incident list cursors are not configured (no signing key of 32+ characters)")
    return key.encode("utf-8")


def reset_dependencies() -> None:
    """Forget cached settings and clients (tests that change the environment)."""
    key_records.cache_clear()
    _export_request_store.cache_clear()
    manifest_signer.cache_clear()
    public_keys.cache_clear()
    event_bus.cache_clear()
    _catalog_store.cache_clear()
    asset_files.cache_clear()
    cursor_key.cache_clear()
    _job_context.cache_clear()
    get_dependencies.cache_clear()
    get_settings.cache_clear()
