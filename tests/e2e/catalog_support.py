"""What the e2e catalog tests share: the generated world the stack loaded, its rows as the seed's columns (built here,
independently of the service's code), keys with chosen permissions, and CSV reading."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import boto3

from devtools.catalog_generator import CatalogWorld, catalog_world
from devtools.generate import DEFAULT_SEED, demo_window
from export_service.dal.api_key_store import ApiKeyStore
from export_service.logic.api_keys import mint_api_key
from export_service.models.api_keys import Permission
from tests.e2e.conftest import ANCHOR, DAYS, Stack


def stamp(moment: datetime | None) -> str:
    if moment is None:
        return ""
    m = moment.astimezone(UTC)
    return f"{m:%Y-%m-%dT%H:%M:%S}.{m.microsecond // 1000:03d}Z"


@lru_cache(maxsize=4)
def world(tenant: str) -> CatalogWorld:
    start, end = demo_window(ANCHOR, DAYS)
    return catalog_world(tenant, start, end, DEFAULT_SEED)


def read_csv(text: str) -> tuple[list[str], list[dict[str, str]]]:
    reader = csv.reader(io.StringIO(text))
    header = next(reader)
    return header, [dict(zip(header, row, strict=True)) for row in reader]


def expected_sources(w: CatalogWorld) -> list[dict[str, str]]:
    rows = [
        {
            "ID": s.id,
            "Name": s.name,
            "Namespace": s.namespace,
            "Owner": s.owner,
            "Tags": ",".join(s.tags),
            "Credential type": s.credential_type,
            "Validator count": str(sum(1 for v in w.validators if v.source_id == s.id)),
            "Created at": stamp(s.created_at),
        }
        for s in w.sources
    ]
    return sorted(rows, key=lambda r: (r["Created at"], r["ID"]))


def expected_validators(w: CatalogWorld) -> list[dict[str, str]]:
    names = {s.id: s.name for s in w.sources}
    rows = [
        {
            "ID": v.id,
            "Name": v.name,
            "Namespace": v.namespace,
            "Source": names[v.source_id],
            "Segmentation": v.segmentation,
            "Window": v.window,
            "Type": v.type.value,
            "Owner": v.owner,
            "Tags": ",".join(v.tags),
            "Created at": stamp(v.created_at),
        }
        for v in w.validators
    ]
    return sorted(rows, key=lambda r: (r["Created at"], r["ID"]))


def expected_groups(w: CatalogWorld, namespace: str | None = None, start: str = "", end: str = "~") -> list[dict]:
    validators = {v.id: v for v in w.validators}
    sources = {s.id: s for s in w.sources}
    rows = []
    for group, incidents in w.groups:
        validator = validators[group.validator_id]
        if namespace and validator.namespace != namespace:
            continue
        if not any(start <= stamp(i.start_time) <= end for i in incidents):
            continue
        latest = max(incidents, key=lambda i: (i.start_time, i.id))
        rows.append(
            {
                "ID": group.id,
                "Status": group.status.value,
                "Priority": group.priority.value,
                "Owner": group.owner,
                "Source": sources[validator.source_id].name,
                "Validator": validator.name,
                "Validator Type": validator.type.value,
                "Namespace": validator.namespace,
                "First Seen": stamp(min(i.start_time for i in incidents)),
                "Last Seen": stamp(latest.start_time),
                "Last End Time": stamp(latest.end_time),
                "Created At": stamp(group.created_at),
                "Incident Count": str(len(incidents)),
                "High Severity Count": str(sum(i.severity.value == "HIGH" for i in incidents)),
                "Medium Severity Count": str(sum(i.severity.value == "MEDIUM" for i in incidents)),
                "Low Severity Count": str(sum(i.severity.value == "LOW" for i in incidents)),
                "Muted Until": stamp(group.muted_until),
            }
        )
    return sorted(rows, key=lambda r: (r["Created At"], r["ID"]))


def expected_activities(w: CatalogWorld, resource_types: set[str] | None = None) -> list[dict[str, str]]:
    return [
        {
            "Timestamp": stamp(a.timestamp),
            "Action": a.action,
            "Activity type": a.activity_type,
            "Entity name": a.entity_name,
            "Entity ID": a.entity_id,
            "Actor type": a.actor_type.value,
            "Actor": a.actor,
            "Namespace": a.namespace,
            "Description": a.description,
        }
        for a in w.activities
        if resource_types is None or a.resource_type.value in resource_types
    ]


def key(stack: Stack, key_id: str, tenant: str, *permissions: Permission) -> dict[str, str]:
    """The seed's header form for a new key: ``Authorization: <key-id>:<secret>``."""
    client: Any = boto3.client(
        "dynamodb",
        endpoint_url=stack.dynamodb_endpoint,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    secret = f"{key_id.replace('_', '-')}-secret-0001"
    api_key, _ = mint_api_key(tenant, permissions, datetime.now(UTC), key_id=key_id, secret=secret)
    ApiKeyStore(client, "ApiKeysTable").put(api_key)
    return {"Authorization": f"{key_id}:{secret}"}
