"""Payloads between the export state machine's states: keys and counts, never rows (256 KiB state limit)."""

from typing import Any

from pydantic import BaseModel, Field


class JobRef(BaseModel):
    job_id: str = Field(min_length=1)
    tenant: str = Field(min_length=1)


class PlanInput(JobRef):
    distributed: bool = False  # the Map's items to S3 for a Distributed Map (logic/distributed.py)


class PartInput(JobRef):
    plan_key: str
    index: int = Field(ge=0)


class PartResult(BaseModel):
    index: int
    key: str
    rows: int
    bytes: int


class FinishInput(JobRef):
    results: list[PartResult] = Field(default_factory=list)  # none: a Distributed Map's parts, read from the job


class FailInput(JobRef):
    error: dict[str, Any] = Field(default_factory=dict)
