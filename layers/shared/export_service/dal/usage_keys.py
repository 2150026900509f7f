"""API Gateway API keys that meter requests in the stage's usage plan: one per tenant, named after the tenant and
the plan, its value the usage identifier the authorizer returns (ApiKeySourceType AUTHORIZER). Callers never see or
send these values; they only tell API Gateway whose rate limit a request counts against.

Used by the key tool (devtools/keys.py) and the local stack, never by a function."""

from __future__ import annotations

import contextlib
from typing import Any


def usage_key_name(usage_plan_id: str, tenant: str) -> str:
    return f"export-tenant-{tenant}@{usage_plan_id}"


class UsagePlanKeys:
    def __init__(self, client: Any, usage_plan_id: str) -> None:
        self._client = client
        self.usage_plan_id = usage_plan_id

    def tenant_key(self, tenant: str) -> str:
        """The value of the tenant's API key in the usage plan, created (and added to the plan) when it has none."""
        name = usage_key_name(self.usage_plan_id, tenant)
        found = [key for key in self._keys(name) if key.get("name") == name]
        key = found[0] if found else self._client.create_api_key(name=name, enabled=True, generateDistinctId=True)
        with contextlib.suppress(self._client.exceptions.ConflictException):  # already in the plan
            self._client.create_usage_plan_key(usagePlanId=self.usage_plan_id, keyId=key["id"], keyType="API_KEY")
        return str(key["value"])

    def _keys(self, name: str) -> list[dict[str, Any]]:
        keys: list[dict[str, Any]] = []
        for page in self._client.get_paginator("get_api_keys").paginate(nameQuery=name, includeValues=True):
            keys += page.get("items", [])
        return keys
