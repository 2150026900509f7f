"""What the incident API answers: list items, details, distribution and summary."""

from __future__ import annotations

import re
from typing import Literal, Self

from pydantic import BaseModel, Field, model_validator

from export_service.errors import InvalidParameterError
from export_service.models.export import ManifestOption, QueryModel

# The list item's fields: the incident API's, in its order (created_at is its created_time), then this service's extras.
LIST_FIELDS = (
    "id",
    "project_id",
    "asset_id",
    "last_upload_timestamp",
    "created_time",
    "severity",
    "impact",
    "status",
    "ticket_id",
    "alert_policy_id",
    "alert_policy_name",
    "description",
    "tags",
    "number",
    "name",
    "connection_type",
    "connection_id",
    "source_name",
)


class IncidentListItem(BaseModel):
    id: str = Field(description="The incident's id (a UUID string here; the documented example shows an integer)")
    project_id: int
    asset_id: str
    last_upload_timestamp: str | None = Field(description="ISO 8601 UTC with milliseconds")
    created_time: str = Field(description="ISO 8601 UTC with milliseconds; from_time/to_time filter on it")
    severity: str = Field(description='LOW, MEDIUM, HIGH, or "" when not set')
    impact: str = Field(description='LOW, MEDIUM, HIGH, or "" when not set')
    status: str = Field(description="OPEN or CLOSED (CLOSED = resolved)")
    ticket_id: int | None
    alert_policy_id: str
    alert_policy_name: str
    description: str
    tags: list[str]
    number: str = Field(description="Human-readable number, e.g. INC-1042 (an addition to the documented object)")
    name: str = Field(description="Title (an addition to the documented object)")
    connection_type: str = Field(description="The asset's connection type, e.g. SNOWFLAKE (an addition)")
    connection_id: str = Field(description="The asset's connection (an addition to the documented object)")
    source_name: str = Field(description="The asset's source path; text_to_search looks in it (an addition)")


# An incident's integer id on the paths that address incidents by number: the digits of its number ("INC-1311" ->
# 1311; a prefix of letters and a hyphen, or none). At most 15 digits, so every JavaScript client reads it exactly.
_NUMBER = re.compile(r"(?:[A-Za-z][A-Za-z0-9_]{0,31}-)?0*([0-9]{1,15})")


def incident_number(number: str) -> int | None:
    """The integer of an incident number (``INC-1311`` -> 1311, ``1311`` -> 1311); None when it has none."""
    match = _NUMBER.fullmatch(number)
    return int(match.group(1)) if match else None


# The documented incident object, exactly: the list's fields, and the details' (the list's plus metrics and history).
NUMBERED_LIST_FIELDS = LIST_FIELDS[:13]
NUMBERED_DETAIL_FIELDS = (*NUMBERED_LIST_FIELDS[:12], "metrics", "tags", "history")


class NumberedIncident(BaseModel):
    """An incident as the paths that address incidents by number answer it (exactly these fields)."""

    id: int = Field(description="The incident's number, unique in the tenant and never reused (INC-1311 -> 1311)")
    project_id: int
    asset_id: str
    last_upload_timestamp: str | None = Field(description="ISO 8601 UTC with milliseconds")
    created_time: str = Field(description="ISO 8601 UTC with milliseconds; from_time/to_time filter on it")
    severity: str = Field(description='LOW, MEDIUM, HIGH, or "" when not set')
    impact: str = Field(description='LOW, MEDIUM, HIGH, or "" when not set')
    status: str = Field(description="OPEN or CLOSED (CLOSED = resolved)")
    ticket_id: int | None = Field(description="The incident's ticket number; null when it has no ticket")
    alert_policy_id: str = Field(description="A string: prebuilt policies have ids such as prebuilt_freshness")
    alert_policy_name: str
    description: str
    tags: list[str]


class AlertRef(BaseModel):
    metric_time: str
    violation_name: str


class HistoryEntry(BaseModel):
    timestamp: str
    state: str = Field(description="NEW, ONGOING, RESOLVED or REOPENED")
    alert_refs: list[AlertRef]


class Metric(BaseModel):
    metric_name: str
    metric_aggregation: str
    display_metric_name: str
    segment: str | None = None
    rule: str | None = Field(default=None, description="Set: a virtual attribute of a correctness policy")
    attribute: str | None = None


class IncidentDetail(IncidentListItem):
    metrics: list[Metric]
    history: list[HistoryEntry]


class NumberedIncidentDetail(NumberedIncident):
    metrics: list[Metric]
    history: list[HistoryEntry]


class DistributionDay(BaseModel):
    date: str = Field(description="Calendar day (YYYY-MM-DD) in the requested timezone")
    counts: dict[str, int] = Field(description='By severity: LOW, MEDIUM, HIGH and "" (no severity)')
    counts_by_impact: dict[str, int] = Field(description='By impact: LOW, MEDIUM, HIGH and "" (no impact)')


class DistributionDays(BaseModel):
    """The distribution as the paths that address incidents by number answer it."""

    incidents: list[DistributionDay] = Field(description="Days with at least one matching incident, oldest first")


class Distribution(DistributionDays):
    timezone: str


class SummaryCounts(BaseModel):
    """The summary as the paths that address incidents by number answer it (without the periods used)."""

    total: int = Field(description="Incidents created in the period (matching the filters)")
    open: int = Field(description="Of those, currently OPEN")
    closed: int = Field(description="Of those, currently CLOSED")
    mean_time_to_resolve: int | None = Field(
        description="Mean of resolved_at - created_at over the period's CLOSED incidents, in hours, rounded to the "
        "nearest hour; null when none is closed"
    )
    previous_mean_time_to_resolve: int | None = Field(
        description="The same over the period of the same length just before"
    )
    open_by_tag: dict[str, int]
    closed_by_tag: dict[str, int]


class Summary(SummaryCounts):
    from_time: str = Field(description="The period's start (inclusive)")
    to_time: str = Field(description="The period's end (inclusive)")
    previous_from_time: str
    previous_to_time: str


_LIST = "comma-separated or repeated; any of the values matches"
_TIME = (
    "ISO 8601 date-time on created_time, inclusive, e.g. 2025-07-15T12:14:54.123Z (no offset means UTC, whatever "
    "the timezone parameter says)"
)
MAX_LIST_LIMIT = 1000


class IncidentFilterParams(QueryModel):
    """The incident filters shared by the list, its CSV export job, the distribution and the summary."""

    project_ids: list[str] | None = Field(default=None, description=f"Project ids, integers; {_LIST}")
    connection_types: list[str] | None = Field(
        default=None, description=f"Asset connection types, e.g. GCS,BIGQUERY (exact, case-sensitive); {_LIST}"
    )
    alert_policy_ids: list[str] | None = Field(default=None, description=f"Alert policy ids (strings); {_LIST}")
    severities: list[str] | None = Field(default=None, description=f"LOW, MEDIUM, HIGH; {_LIST}")
    impacts: list[str] | None = Field(default=None, description=f"LOW, MEDIUM, HIGH; {_LIST}")
    connection_ids: list[str] | None = Field(default=None, description=f"Connection ids, e.g. conn-123; {_LIST}")
    statuses: list[str] | None = Field(default=None, description=f"OPEN, CLOSED (CLOSED = resolved); {_LIST}")
    tags: list[str] | None = Field(default=None, description=f"Incidents with any of these tags (exact); {_LIST}")
    from_time: str | None = Field(default=None, description=f"Range start: {_TIME}")
    to_time: str | None = Field(default=None, description=f"Range end (default: now): {_TIME}")
    text_to_search: str | None = Field(
        default=None,
        description="Case-insensitive substring of the alert policy name or the source name (at most 128 "
        "characters; empty means no text filter)",
    )

    def lists(self) -> dict[str, list[str] | None]:
        """The list filters by name (every field but the range and the text)."""
        return {
            name: getattr(self, name)
            for name in type(self).model_fields
            if name in IncidentFilterParams.model_fields and name not in ("from_time", "to_time", "text_to_search")
        }

    def filters(self) -> IncidentFilterParams:
        """The filters alone, as given (what an export job of the list re-runs)."""
        given = self.model_dump(include=set(IncidentFilterParams.model_fields), exclude_unset=True)
        return IncidentFilterParams.model_validate(given)

    def with_end(self, end: str) -> Self:
        return self if self.to_time is not None else self.model_copy(update={"to_time": end})


class IncidentListQuery(IncidentFilterParams, ManifestOption):
    """GET /v1/incidents: the filters, and either a JSON page (limit, cursor) or every match as CSV."""

    limit: int = Field(100, ge=1, le=MAX_LIST_LIMIT, description="Incidents per page, 1 to 1000 (JSON)")
    cursor: str | None = Field(None, description="X-Next-Cursor of the previous page (JSON)")
    format: Literal["json", "csv"] = Field("json", description="json (default, paginated) or csv (every match)")

    @model_validator(mode="after")
    def _pages_are_json(self) -> IncidentListQuery:
        if self.format == "csv":
            for name in sorted(self.model_fields_set & {"cursor", "limit"}):
                raise InvalidParameterError(
                    f"query parameter '{name}' pages JSON; format=csv returns every match in one file", parameter=name
                )
        return self


class DistributionQuery(IncidentFilterParams):
    timezone: str = Field("UTC", description="IANA time zone of the calendar days, e.g. Europe/Berlin")
