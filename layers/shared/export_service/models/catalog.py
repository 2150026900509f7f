"""The data-observability catalog: sources, validators, incident groups and their incidents, activities, catalog
assets; the columns of their CSV exports (exact header names, in order) and the query parameters of their endpoints.

Times are ``datetime`` (UTC) in the models and ISO 8601 UTC with milliseconds in every export and item.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from export_service.models.api_keys import Permission
from export_service.models.export import ExportFormat, QueryModel, TabularFormat

SOURCE_COLUMNS = ("ID", "Name", "Namespace", "Owner", "Tags", "Credential type", "Validator count", "Created at")
VALIDATOR_COLUMNS = (
    "ID",
    "Name",
    "Namespace",
    "Source",
    "Segmentation",
    "Window",
    "Type",
    "Owner",
    "Tags",
    "Created at",
)
INCIDENT_GROUP_COLUMNS = (
    "ID",
    "Status",
    "Priority",
    "Owner",
    "Source",
    "Validator",
    "Validator Type",
    "Namespace",
    "First Seen",
    "Last Seen",
    "Last End Time",
    "Created At",
    "Incident Count",
    "High Severity Count",
    "Medium Severity Count",
    "Low Severity Count",
    "Muted Until",
)
ACTIVITY_COLUMNS = (
    "Timestamp",
    "Action",
    "Activity type",
    "Entity name",
    "Entity ID",
    "Actor type",
    "Actor",
    "Namespace",
    "Description",
)
UNSEGMENTED = "Unsegmented"


class ValidatorType(StrEnum):
    VOLUME = "VOLUME"
    FRESHNESS = "FRESHNESS"
    NUMERIC = "NUMERIC"
    NUMERIC_ANOMALY = "NUMERIC_ANOMALY"
    CATEGORICAL = "CATEGORICAL"
    SQL = "SQL"


class GroupStatus(StrEnum):
    """An incident group's lifecycle: new groups are in TRIAGE; someone looks (INVESTIGATING), fixes (FIXING), and
    closes it as RESOLVED or as NOT_AN_ANOMALY (the validator was right to flag nothing)."""

    TRIAGE = "TRIAGE"
    INVESTIGATING = "INVESTIGATING"
    FIXING = "FIXING"
    RESOLVED = "RESOLVED"
    NOT_AN_ANOMALY = "NOT_AN_ANOMALY"


class Level(StrEnum):
    """A group's priority and an incident's severity."""

    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"


class ResourceType(StrEnum):
    """What an activity is about; each is read with one permission (``RESOURCE_PERMISSIONS``)."""

    SOURCE = "SOURCE"
    CREDENTIAL = "CREDENTIAL"
    CATALOG_ASSET = "CATALOG_ASSET"
    VALIDATOR = "VALIDATOR"
    INCIDENT_GROUP = "INCIDENT_GROUP"


RESOURCE_PERMISSIONS: dict[ResourceType, Permission] = {
    ResourceType.SOURCE: Permission.SOURCES_READ,
    ResourceType.CREDENTIAL: Permission.SOURCES_READ,  # a source's connection: seen with the source
    ResourceType.CATALOG_ASSET: Permission.CATALOG_ASSETS_READ,
    ResourceType.VALIDATOR: Permission.VALIDATORS_READ,
    ResourceType.INCIDENT_GROUP: Permission.INCIDENTS_READ,
}
ACTIVITY_PERMISSIONS = frozenset(RESOURCE_PERMISSIONS.values())


class ActorType(StrEnum):
    USER = "User"
    API_KEY = "API key"
    SYSTEM = "System"


# Activity type -> (resource type, action). Actions are CREATED, UPDATED, DELETED or a verb of the resource's own.
ACTIVITY_TYPES: dict[str, tuple[ResourceType, str]] = {
    "SOURCE_CREATED": (ResourceType.SOURCE, "CREATED"),
    "SOURCE_UPDATED": (ResourceType.SOURCE, "UPDATED"),
    "SOURCE_DELETED": (ResourceType.SOURCE, "DELETED"),
    "CREDENTIAL_CREATED": (ResourceType.CREDENTIAL, "CREATED"),
    "CREDENTIAL_ROTATED": (ResourceType.CREDENTIAL, "ROTATED"),
    "CATALOG_ASSET_DISCOVERED": (ResourceType.CATALOG_ASSET, "DISCOVERED"),
    "CATALOG_ASSET_SCHEMA_CHANGED": (ResourceType.CATALOG_ASSET, "SCHEMA_CHANGED"),
    "VALIDATOR_CREATED": (ResourceType.VALIDATOR, "CREATED"),
    "VALIDATOR_UPDATED": (ResourceType.VALIDATOR, "UPDATED"),
    "VALIDATOR_DELETED": (ResourceType.VALIDATOR, "DELETED"),
    "VALIDATOR_BACKFILLED": (ResourceType.VALIDATOR, "BACKFILLED"),
    "INCIDENT_GROUP_CREATED": (ResourceType.INCIDENT_GROUP, "CREATED"),
    "INCIDENT_GROUP_STATUS_CHANGED": (ResourceType.INCIDENT_GROUP, "STATUS_CHANGED"),
    "INCIDENT_GROUP_UPDATED": (ResourceType.INCIDENT_GROUP, "UPDATED"),
    "INCIDENT_GROUP_MUTED": (ResourceType.INCIDENT_GROUP, "MUTED"),
}


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class Source(_Model):
    """A connection to one data asset (a table) through a credential."""

    id: str
    name: str
    namespace: str
    owner: str = ""  # email, or "" when not set
    tags: tuple[str, ...] = ()
    credential_id: str
    credential_type: str
    asset_id: str
    created_at: datetime


class Validator(_Model):
    """A check bound to one source; ``debug_sql`` explains its incidents (run over the source's asset with the
    parameters ``$start``, ``$end`` and ``$segment``)."""

    id: str
    name: str
    namespace: str
    source_id: str
    segmentation: str = UNSEGMENTED  # the segmentation's name
    window: str
    type: ValidatorType
    owner: str = ""
    tags: tuple[str, ...] = ()
    created_at: datetime
    debug_sql: str
    alert_policy_id: str = ""  # the incident API's alert policy that routes this validator's incidents


class IncidentGroup(_Model):
    """A validator's incidents grouped. Its counts, first and last seen are its incidents', never stored."""

    id: str
    validator_id: str
    status: GroupStatus
    priority: Level
    owner: str = ""
    created_at: datetime
    muted_until: datetime | None = None


class CatalogIncident(_Model):
    """One window of one segment in which a validator found the data out of bounds."""

    id: str
    group_id: str
    severity: Level
    start_time: datetime
    end_time: datetime
    segment: str = ""  # the segment's value ("" when the validator is unsegmented)


class Activity(_Model):
    """A change to a catalog object. Names are as they were at the event (a deleted or renamed resource keeps
    the name it had); ``source_*`` and ``validator_*`` name the source and validator the object belongs to."""

    id: str
    timestamp: datetime
    activity_type: str
    entity_name: str
    entity_id: str
    actor_type: ActorType
    actor: str = ""  # email (User), the key's name (API key), "" (System)
    namespace: str = ""
    description: str
    source_id: str = ""
    source_name: str = ""
    validator_id: str = ""
    validator_name: str = ""

    @property
    def resource_type(self) -> ResourceType:
        return ACTIVITY_TYPES[self.activity_type][0]

    @property
    def action(self) -> str:
        return ACTIVITY_TYPES[self.activity_type][1]


class AssetColumn(_Model):
    name: str
    type: str  # a DuckDB type


class CatalogAsset(_Model):
    """A table a source points at; its rows are a Parquet file under ``catalog/<tenant>/`` in the catalog bucket,
    readable with its credential only."""

    id: str
    name: str
    table_name: str
    credential_id: str
    columns: tuple[AssetColumn, ...]
    rows: int
    created_at: datetime


# ---------------------------------------------------------------- query parameters


class CatalogListQuery(QueryModel):
    """The catalog lists' parameters: URL-encoded JSON ``filter`` and ``sort``, and the file format."""

    format: TabularFormat = Field("csv", description="csv (default), json or jsonl")
    filter: str | None = Field(None, description="URL-encoded JSON object; the fields are listed per endpoint")
    sort: str | None = Field(
        None,
        description='URL-encoded JSON: {"field": <field>, "direction": "asc"|"desc"} (or a list of such objects)',
    )

    @property
    def fmt(self) -> ExportFormat:
        return ExportFormat(self.format)


class DebugRecordsQuery(QueryModel):
    incident_id: str = Field(alias="incidentId", min_length=1, max_length=200, description="An incident's id")
    format: TabularFormat = Field("csv", description="csv (default), json or jsonl")

    @property
    def fmt(self) -> ExportFormat:
        return ExportFormat(self.format)


class SampleDataQuery(QueryModel):
    asset_id: str = Field(alias="assetId", min_length=1, max_length=200, description="The catalog asset's id")
    credential_id: str = Field(
        alias="credentialId", min_length=1, max_length=200, description="A credential that may read the asset"
    )
    query: str = Field(
        min_length=1,
        max_length=10_000,
        description="One read-only SELECT over the asset, which is the table `asset` (and its own table name)",
    )
    format: TabularFormat = Field("csv", description="csv (default), json or jsonl")

    @property
    def fmt(self) -> ExportFormat:
        return ExportFormat(self.format)
