"""The stage's usage plan, locally: the template's TenantUsagePlan and FallbackUsageKey created in moto's API Gateway,
and the metering API Gateway does with the authorizer's usageIdentifierKey, done by the local gateway.

On a stage whose ApiKeySourceType is AUTHORIZER and whose methods require an API key, API Gateway takes the
authorizer's ``usageIdentifierKey``: a value that is not an enabled API key of a usage plan answers the
INVALID_API_KEY gateway response (403); otherwise the key's requests draw on its plan's token bucket (``rateLimit``
tokens a second, at most ``burstLimit`` held), and a request that finds it empty answers THROTTLED (429). Stage-wide
throttling (MethodSettings) and quotas are not emulated."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from devtools.template import load_template, resolve

PLAN = "TenantUsagePlan"
FALLBACK_KEY = "FallbackUsageKey"


def api_key_required(api_logical_id: str = "ExportApi") -> bool:
    props = load_template()["Resources"][api_logical_id]["Properties"]
    return bool(props.get("Auth", {}).get("ApiKeyRequired")) and props.get("ApiKeySourceType") == "AUTHORIZER"


def create_usage_plans(apigateway: Any, refs: dict[str, str]) -> str:
    """The template's usage plan (its throttle from the parameters in ``refs``) and its fallback key, in moto;
    returns the plan's id."""
    resources = load_template()["Resources"]
    throttle = resources[PLAN]["Properties"]["Throttle"]
    plan = apigateway.create_usage_plan(
        name=f"local-{PLAN}",
        description="local copy of template.yaml's TenantUsagePlan",
        throttle={
            "rateLimit": float(resolve(throttle["RateLimit"], refs)),
            "burstLimit": int(resolve(throttle["BurstLimit"], refs)),
        },
    )
    value = str(resolve(resources[FALLBACK_KEY]["Properties"]["Value"], refs))
    key = apigateway.create_api_key(name=f"local-{FALLBACK_KEY}", value=value, enabled=True)
    apigateway.create_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"], keyType="API_KEY")
    return str(plan["id"])


@dataclass
class _Bucket:
    rate: float
    burst: int
    tokens: float
    updated: float


class UsagePlanMeter:
    """Admits a request by its usage identifier as API Gateway does: unknown -> INVALID_API_KEY, empty bucket ->
    THROTTLED, else None (admitted). Keys and plans are read from API Gateway (moto) when first seen."""

    def __init__(self, apigateway: Any, clock: Any = time.monotonic) -> None:
        self._client = apigateway
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def admit(self, usage_key: str | None) -> str | None:
        if not usage_key:
            return "INVALID_API_KEY"
        with self._lock:
            bucket = self._buckets.get(usage_key) or self._load(usage_key)
            if bucket is None:
                return "INVALID_API_KEY"
            now = self._clock()
            bucket.tokens = min(float(bucket.burst), bucket.tokens + (now - bucket.updated) * bucket.rate)
            bucket.updated = now
            if bucket.tokens < 1:
                return "THROTTLED"
            bucket.tokens -= 1
            return None

    def _load(self, usage_key: str) -> _Bucket | None:
        keys = self._client.get_api_keys(includeValues=True, limit=500).get("items", [])
        key = next((k for k in keys if k.get("value") == usage_key and k.get("enabled", True)), None)
        if key is None:
            return None
        plans = self._client.get_usage_plans(keyId=key["id"]).get("items", [])
        throttle = next((plan["throttle"] for plan in plans if plan.get("throttle")), None)
        if not plans:
            return None
        rate = float(throttle["rateLimit"]) if throttle else 10_000.0
        burst = int(throttle["burstLimit"]) if throttle else 5_000
        bucket = _Bucket(rate=rate, burst=burst, tokens=float(burst), updated=self._clock())
        self._buckets[usage_key] = bucket
        return bucket
