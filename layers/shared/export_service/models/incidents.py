"""Incidents and their children: the nightly data export's datasets (exact columns, in order) and write models."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Self

from pydantic import BaseModel, Field

from export_service.models.export import ExportFormat, ManifestOption, TabularFormat

COMMON = ("id", "account_id", "organization_id", "created_at", "updated_at")


class Dataset(StrEnum):
    INCIDENTS = "incidents"
    INCIDENT_EVENTS = "incident-events"
    INCIDENT_ROLE_ASSIGNMENTS = "incident-role-assignments"
    INCIDENT_IMPACTS = "incident-impacts"
    RETROSPECTIVES = "retrospectives"


@dataclass(frozen=True)
class DatasetSpec:
    dataset: Dataset
    code: str  # the key prefix of the dataset's items (see docs/data-model.md)
    source: str  # the nightly data export's versioned source name
    columns: tuple[str, ...]
    datetime_columns: tuple[str, ...]


DATASETS: dict[Dataset, DatasetSpec] = {
    Dataset.INCIDENTS: DatasetSpec(
        Dataset.INCIDENTS,
        "INC",
        "text/csv+incident-20220525",
        (
            *COMMON,
            "number",
            "name",
            "severity",
            "priority",
            "started_at",
            "detected_at",
            "acknowledged_at",
            "investigating_at",
            "identified_at",
            "mitigated_at",
            "resolved_at",
            "retrospective_started_at",
            "retrospective_completed_at",
            "opened_at",
            "started_by",
            "active_duration",
        ),
        (
            "created_at",
            "updated_at",
            "started_at",
            "detected_at",
            "acknowledged_at",
            "investigating_at",
            "identified_at",
            "mitigated_at",
            "resolved_at",
            "retrospective_started_at",
            "retrospective_completed_at",
            "opened_at",
        ),
    ),
    Dataset.INCIDENT_ROLE_ASSIGNMENTS: DatasetSpec(
        Dataset.INCIDENT_ROLE_ASSIGNMENTS,
        "ROLE",
        "text/csv+incident_role_assignment-20220525",
        (
            *COMMON,
            "status",
            "incident_role_id",
            "incident_role_name",
            "incident_id",
            "assigned_user_id",
            "assigned_user_name",
        ),
        ("created_at", "updated_at"),
    ),
    Dataset.INCIDENT_EVENTS: DatasetSpec(
        Dataset.INCIDENT_EVENTS,
        "EVT",
        "text/csv+incident_event-20220525",
        (*COMMON, "incident_id", "created_by_name", "type", "event_details_schema", "event_details"),
        ("created_at", "updated_at"),
    ),
    Dataset.INCIDENT_IMPACTS: DatasetSpec(
        Dataset.INCIDENT_IMPACTS,
        "IMP",
        "text/csv+incident_impact-20220525",
        (*COMMON, "incident_id", "impacted_id", "impacted_type", "impacted_slug", "condition_name"),
        ("created_at", "updated_at"),
    ),
    Dataset.RETROSPECTIVES: DatasetSpec(
        Dataset.RETROSPECTIVES,
        "RETRO",
        "text/csv+retrospective-20220525",
        (*COMMON, "name", "summary", "tags", "incident_id", "additional_details", "questions"),
        ("created_at", "updated_at"),
    ),
}

# The milestones of the nightly data export, in lifecycle order (each has an ``<name>_at`` column on incidents).
MILESTONES = (
    "started",
    "detected",
    "acknowledged",
    "investigating",
    "identified",
    "mitigated",
    "resolved",
    "retrospective_started",
    "retrospective_completed",
)
SEVERITIES = ("LOW", "MEDIUM", "HIGH")  # the incident API; "" means not set
PRIORITIES = ("LOW", "MEDIUM", "HIGH")  # the Validio-style catalog export's incident-group priority
IMPACTS = ("LOW", "MEDIUM", "HIGH")  # the incident API
STATUSES = ("OPEN", "CLOSED")  # the incident API


class _Row(BaseModel):
    id: str = Field(min_length=1, max_length=200)
    account_id: str
    organization_id: str
    created_at: datetime
    updated_at: datetime


class Incident(_Row):
    """An incident: the nightly data export's columns plus the fields the incident API serves."""

    number: str
    name: str
    severity: str = ""
    priority: str = ""
    started_at: datetime | None = None
    detected_at: datetime | None = None
    acknowledged_at: datetime | None = None
    investigating_at: datetime | None = None
    identified_at: datetime | None = None
    mitigated_at: datetime | None = None
    resolved_at: datetime | None = None
    retrospective_started_at: datetime | None = None
    retrospective_completed_at: datetime | None = None
    opened_at: datetime | None = None
    started_by: str = ""
    active_duration: timedelta | None = None
    # the incident API
    status: str = "OPEN"
    impact: str = ""
    project_id: int = 0
    tags: list[str] = Field(default_factory=list)
    asset_id: str = ""
    connection_type: str = ""
    connection_id: str = ""
    alert_policy_id: str = ""
    alert_policy_name: str = ""
    source_name: str = ""
    description: str = ""
    ticket_id: int | None = None
    last_upload_timestamp: datetime | None = None
    metrics: list[dict[str, Any]] = Field(default_factory=list)
    history: list[dict[str, Any]] = Field(default_factory=list)


class IncidentEvent(_Row):
    incident_id: str
    created_by_name: str = ""
    type: str
    event_details: dict[str, Any]  # must validate against EVENT_DETAILS_SCHEMAS[type]


class IncidentRoleAssignment(_Row):
    status: str  # "assigned" or "unassigned"
    incident_role_id: str
    incident_role_name: str
    incident_id: str
    assigned_user_id: str
    assigned_user_name: str


class IncidentImpact(_Row):
    incident_id: str
    impacted_id: str
    impacted_type: str  # service, functionality or environment
    impacted_slug: str
    condition_name: str


class Retrospective(_Row):
    name: str
    summary: str = ""
    tags: list[str] = Field(default_factory=list)
    incident_id: str
    additional_details: str = ""
    questions: list[dict[str, Any]] = Field(default_factory=list)  # {"title", "body", "question_type_id"}


def _props(**fields: tuple[list[str], str]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {name: {"type": types, "$comment": comment} for name, (types, comment) in fields.items()},
    }


_S = ["string"]
_SN = ["string", "null"]

# The documented "Incident Event Details Schemata", one per event type; exported JSON-encoded in event_details_schema.
EVENT_DETAILS_SCHEMAS: dict[str, dict[str, Any]] = {
    "IncidentStatus": _props(new_status=(_S, "The status the incident is moving to.")),
    "BulkMilestoneUpdate": _props(
        original_milestone=(_S, "The name of the milestone prior to this update"),
        current_milestone=(_S, "The name of the milestone due to this update"),
    ),
    "ImpactUpdate": _props(
        update_type=(_S, "Whether this event represents an addition, removal, update, or no-op."),
        impacted_type=(_S, "The type of the item for which impact was updated"),
        impacted_id=(_S, "The id of the item for which impact was updated"),
        old_condition_name=(_SN, "The name of the previous condition before this update"),
        new_condition_name=(_SN, "The name of the condition set in this update"),
    ),
    "GeneralUpdate": _props(description=(_S, "Description of the event")),
    "Note": _props(body=(_S, "The content of the note.")),
    "RoleUpdate": _props(
        role_assignment_id=(_S, "Id of role assignment. See the incident role assignment docs."),
        incident_role_name=(_S, "Name of the role refrenced in this update."),
        operation=(_S, "Type of operation performed in this update."),
        assigned_user_id=(_S, "Id of user (un)assigned in this update."),
        assigned_user_name=(_S, "Name of user (un)assigned in this update."),
    ),
    "ChatMessage": _props(chat_user_id=(_S, "The chat-provider user id of the user who sent the message.")),
    "AddTaskList": _props(
        task_list_id=(_S, "ID of task list"),
        task_list_name=(_S, "Name of task list"),
    ),
    "RunbookAttachment": _props(
        runbook_id=(_S, "Id of the runbook that was attached."),
        runbook_name=(_S, "Name of the runbook that was attached."),
    ),
    "RunbookStepExecutionUpdate": _props(
        description=(_S, "A description of the update"),
        step_execution_id=(_S, "Unique ID for this invocation of the step."),
        step_id=(_S, "Id of the step."),
        step_name=(_S, "Name of the step."),
    ),
    "TaskUpdate": _props(
        task_id=(_S, "Unique id of the task being updated"),
        task_summary=(_S, "Summary of the task being updated"),
        task_description=(_S, "Description of the task being updated"),
        operation=(_S, "Type of of update"),
        new_state=(_S, "New state of the task after this update"),
    ),
    "TeamAssignment": _props(
        team_id=(_S, "Unique id of the team being being assigned"),
        team_name=(_S, "Name of the team being being assigned"),
    ),
    "TicketUpdate": _props(
        ticket_id=(_S, "Unique id of the task being updated"),
        ticket_type=(_S, "Type of ticket, eg incident, task, etc"),
        ticket_provider_id=(
            _SN,
            "Id of ticket in non-firehydrant ticketing provider (eg Jira) if the ticket is synced.",
        ),
    ),
    "GenericResourceChange": _props(
        operation=(_S, "Nature of operation."),
        resource_type=(_S, "Type of resource changed."),
        resource_id=(_S, "Unique id of the resource changed."),
        fields=(["object"], "Object containing changed fields."),
    ),
}


_ISO = "ISO 8601 date-time, e.g. 2026-03-01T00:00:00Z (no offset means UTC); bounds are inclusive"
_LIST = "comma-separated or repeated; incidents dataset only"
DATASET_LIST_FILTERS = ("severities", "priorities", "statuses", "tags", "project_ids")


class DatasetExportQuery(ManifestOption):
    """The incident datasets' export parameters (GET /v1/export/{dataset} and the job that re-runs it)."""

    format: TabularFormat = Field("csv", description="csv (default), json or jsonl")
    from_: str | None = Field(None, alias="from", description=f"Start of created_at, {_ISO}")
    to: str | None = Field(None, description=f"End of created_at (default: now), {_ISO}")
    from_time: str | None = Field(None, description="Synonym of 'from'")
    to_time: str | None = Field(None, description="Synonym of 'to'")
    range_start: str | None = Field(None, description="Synonym of 'from'")
    range_end: str | None = Field(None, description="Synonym of 'to'")
    severities: list[str] | None = Field(None, description=f"LOW, MEDIUM, HIGH; {_LIST}")
    priorities: list[str] | None = Field(None, description=f"LOW, MEDIUM, HIGH; {_LIST}")
    statuses: list[str] | None = Field(None, description=f"OPEN, CLOSED; {_LIST}")
    tags: list[str] | None = Field(None, description=f"incidents with any of these tags; {_LIST}")
    project_ids: list[str] | None = Field(None, description=f"integers; {_LIST}")
    incident_id: str | None = Field(None, description="One incident (any dataset): names the file too")
    filter: str | None = Field(
        None,
        description='URL-encoded JSON object (Validio-style filter): {"severities":["HIGH"],"statuses":["OPEN"],'
        '"tags":[...],"project_ids":[0,24],"incident_id":"...","range":{"start":"...","end":"..."}}',
    )
    sort: str | None = Field(None, description='URL-encoded JSON: {"field":"created_at","direction":"asc"|"desc"}')
    bom: bool = Field(False, description="Start CSV with a UTF-8 byte order mark (for Excel)")

    @property
    def fmt(self) -> ExportFormat:
        return ExportFormat(self.format)

    def start_candidates(self) -> dict[str, str | None]:
        return {"from": self.from_, "from_time": self.from_time, "range_start": self.range_start}

    def end_candidates(self) -> dict[str, str | None]:
        return {"to": self.to, "to_time": self.to_time, "range_end": self.range_end}

    def list_filters(self) -> dict[str, list[str] | None]:
        return {name: getattr(self, name) for name in DATASET_LIST_FILTERS}

    def with_end(self, end: str) -> Self:
        """The same request with its end fixed (every step of a job reads the same rows), unless it has one."""
        if any(self.end_candidates().values()) or _filter_has_end(self.filter):
            return self
        return self.model_copy(update={"to": end})


def _filter_has_end(raw: str | None) -> bool:
    """Whether a (validated) JSON filter gives ``range.end``."""
    if raw is None:
        return False
    document = json.loads(raw)
    time_range = document.get("range") if isinstance(document, dict) else None
    return isinstance(time_range, dict) and time_range.get("end") is not None
