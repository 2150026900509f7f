"""The incident API's alerts: one violation found in one upload of an asset; an incident aggregates them over time."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class AlertObject(BaseModel):
    """The incident API's alert object: one violation found in one upload of an asset (exactly these fields)."""

    type: str = Field(description="What kind of check fired, e.g. SCHEMA_CHANGE, FRESHNESS, VOLUME_ANOMALY")
    source: str = Field(description="The asset's full source path, e.g. SNOWFLAKE.SALES_DB.PUBLIC.CUSTOMER_ORDERS")
    attribute: str | None = None
    job_id: str
    create_time: str = Field(description="ISO 8601 UTC with milliseconds")
    save_time: str = Field(description="ISO 8601 UTC with milliseconds")
    violation_data: dict[str, Any] = Field(default_factory=dict)
    violation_name: str
    notification_channels: list[str] = Field(default_factory=list)
    is_notification_enabled: bool = True
    metric_time: str = Field(description="The upload the alert belongs to (ISO 8601 UTC with milliseconds)")
    is_notified: bool = False
    metric_value: float | None = None
    policy_name: str = ""
    segment: str | None = None
    priority: str = ""
    description: dict[str, list[str]] = Field(default_factory=dict, description="Messages keyed by priority")
    source_name: str = ""
    source_type: str = ""
    project_name: str = ""
    tags: list[str] = Field(default_factory=list)


class Alert(AlertObject):
    """The alert object plus ``asset_id`` (what ``sources`` in a by-filters request matches)."""

    asset_id: str = Field(description="The asset (the incident's asset_id); matched by the filter's sources")


ALERT_OBJECT_FIELDS = tuple(AlertObject.model_fields)


MAX_SOURCES = 50
MAX_UPLOAD_DATES = 500
MAX_VIOLATION_NAMES = 500
MAX_QUERIES = 1000  # sources x upload dates: one Query each


class AlertFilter(BaseModel):
    """``POST /v1/alerts/by-filters``: alerts of any of the sources, at any of the upload dates, with any
    of the violation names."""

    model_config = ConfigDict(extra="forbid")

    sources: list[str] = Field(
        min_length=1,
        max_length=MAX_SOURCES,
        description=f"Asset ids (the incident's asset_id); 1 to {MAX_SOURCES}",
    )
    upload_dates: list[str] = Field(
        min_length=1,
        max_length=MAX_UPLOAD_DATES,
        description=f"ISO 8601 date-times (the alert_refs' metric_time); 1 to {MAX_UPLOAD_DATES}",
    )
    violation_names: list[str] = Field(
        min_length=1,
        max_length=MAX_VIOLATION_NAMES,
        description=f"The alert_refs' violation_name values; 1 to {MAX_VIOLATION_NAMES}",
    )
