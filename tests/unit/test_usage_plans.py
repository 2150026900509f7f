"""Per-tenant metering: the authorizer names the tenant's usage plan API key (usageIdentifierKey), and the local
gateway meters it as API Gateway does (unknown key 403 INVALID_API_KEY, empty token bucket 429 THROTTLED)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from devtools.usage_plans import UsagePlanMeter, api_key_required
from export_service.logic.api_keys import mint_api_key
from export_service.logic.authorizer import authorize
from export_service.models.api_keys import Permission
from tests.unit.fakes import FakeKeyStore

pytestmark = pytest.mark.unit

METHOD_ARN = "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/prod/GET/v1/exports"
NOW = datetime(2026, 3, 1, tzinfo=UTC)


def _decision(usage_key: str, fallback: str) -> dict:
    key, token = mint_api_key("acme", [Permission.EXPORTS_READ], NOW, key_id="ak_acme_metered")
    store = FakeKeyStore(key.model_copy(update={"usage_key": usage_key}))
    return authorize({"apikey": token}, METHOD_ARN, store, fallback)


def test_the_authorizer_names_the_tenants_usage_key_else_the_fallback():
    assert _decision("acme-usage-key-0123456789", "fallback-usage-key-01234")["usageIdentifierKey"] == (
        "acme-usage-key-0123456789"
    )
    assert _decision("", "fallback-usage-key-01234")["usageIdentifierKey"] == "fallback-usage-key-01234"
    assert "usageIdentifierKey" not in _decision("", "")


def test_the_template_meters_every_method_by_the_authorizers_key():
    assert api_key_required()


class FakeApiGateway:
    def __init__(self) -> None:
        self.keys = [{"id": "k1", "value": "tenant-key-value-0123456789", "enabled": True}]
        self.plans = {"k1": [{"id": "p1", "throttle": {"rateLimit": 2.0, "burstLimit": 3}}]}

    def get_api_keys(self, **_: object) -> dict:
        return {"items": self.keys}

    def get_usage_plans(self, keyId: str) -> dict:  # noqa: N803 - boto3's parameter name
        return {"items": self.plans.get(keyId, [])}


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_key_draws_on_its_plans_token_bucket():
    clock = Clock()
    meter = UsagePlanMeter(FakeApiGateway(), clock=clock)
    key = "tenant-key-value-0123456789"
    assert [meter.admit(key) for _ in range(4)] == [None, None, None, "THROTTLED"]  # the burst of 3
    clock.now += 0.5  # 2 a second: one more token
    assert [meter.admit(key), meter.admit(key)] == [None, "THROTTLED"]
    clock.now += 10  # never more than the burst
    assert [meter.admit(key) for _ in range(4)] == [None, None, None, "THROTTLED"]


def test_a_value_that_is_no_key_of_a_plan_is_refused_as_api_gateway_does():
    gateway = FakeApiGateway()
    gateway.keys.append({"id": "k2", "value": "planless-key-value-01234", "enabled": True})
    meter = UsagePlanMeter(gateway, clock=Clock())
    assert meter.admit(None) == "INVALID_API_KEY"
    assert meter.admit("no-such-key-value-0123456") == "INVALID_API_KEY"
    assert meter.admit("planless-key-value-01234") == "INVALID_API_KEY"
