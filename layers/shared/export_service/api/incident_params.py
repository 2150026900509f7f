"""Seed 002's incident filters as one query model, shared by the list, distribution and summary routes."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from export_service.logic.incident_filters import INCIDENT_FILTERS

_LIST = "comma-separated or repeated; any of the values matches"
_TIME = (
    "ISO 8601 date-time on created_time, inclusive, e.g. 2025-07-15T12:14:54.123Z (no offset means UTC, whatever "
    "the timezone parameter says)"
)


class IncidentFilterParams(BaseModel):
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

    def lists(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in INCIDENT_FILTERS}


FILTER_NAMES = frozenset(IncidentFilterParams.model_fields)
LIST_NAMES = frozenset(INCIDENT_FILTERS)
