"""What route code depends on, built once per container from validated settings; tests swap it."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import boto3

from export_service.config import Settings, get_settings
from export_service.dal.api_key_store import ApiKeyStore
from export_service.dal.audit_store import AuditStore
from export_service.dal.incident_store import IncidentStore


@dataclass
class Dependencies:
    settings: Settings
    audit_store: AuditStore
    api_key_store: ApiKeyStore
    incident_store: IncidentStore


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


def reset_dependencies() -> None:
    """Forget cached settings and clients (tests that change the environment)."""
    get_dependencies.cache_clear()
    get_settings.cache_clear()
