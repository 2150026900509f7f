"""The incident API where incidents are addressed by number (/api/backend/{tenant}/...), its handlers against moto:
the documented shapes exactly, integer ids that find their incident, the list never cut, numbers never reused, and
another tenant's path or number not found."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import pytest

from devtools.generate_incidents import incident_bundles
from devtools.lambda_runtime import rest_proxy_event
from export_service.api.deps import reset_dependencies
from export_service.dal.incident_store import NumberTakenError
from export_service.logic.incident_records import IncidentBundle, delete_incident, write_incident_bundles
from export_service.models.alerts import ALERT_OBJECT_FIELDS
from tests.helpers import DOCUMENTED_INCIDENT_FIELDS, authorizer_context
from tests.integration.incident_support import incident_store
from tests.integration.support import call

pytestmark = pytest.mark.integration

TENANT, OTHER = "numbered", "numbered-other"
START, END = datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 20, tzinfo=UTC)
LIST_FIELDS = DOCUMENTED_INCIDENT_FIELDS
DETAIL_FIELDS = {*LIST_FIELDS, "metrics", "history"}
FUNCTIONS = {
    "incidents": "ListIncidentsFunction",
    "incidents/{incidentId}": "GetIncidentFunction",
    "incidents/distribution": "IncidentDistributionFunction",
    "incidents/summary": "IncidentSummaryFunction",
    "configuration/alerts/by_filters": "AlertsByFiltersFunction",
}


@pytest.fixture(scope="module")
def generated(stack) -> dict[str, list[IncidentBundle]]:
    store = incident_store(stack)
    data = {
        TENANT: list(incident_bundles(TENANT, 30, START, END, seed=11)),
        OTHER: list(incident_bundles(OTHER, 12, START, END, seed=12)),
    }
    for tenant, bundles in data.items():
        write_incident_bundles(store, tenant, bundles)
    return data


def _call(
    route: str,
    *,
    path_tenant: str = TENANT,
    key_tenant: str = TENANT,
    incident: str | None = None,
    params: Mapping[str, str] | None = None,
    body: Any = None,
) -> tuple[int, Any]:
    path = f"/api/backend/{path_tenant}/{route}".replace("{incidentId}", incident or "")
    path_parameters = {"tenant": path_tenant, **({"incidentId": incident} if incident is not None else {})}
    event = rest_proxy_event(
        method="POST" if body is not None else "GET",
        path=path,
        resource=f"/api/backend/{{tenant}}/{route}",
        path_parameters=path_parameters,
        headers={"Content-Type": ["application/json"]} if body is not None else None,
        query={name: [value] for name, value in (params or {}).items()},
        body=json.dumps(body) if body is not None else None,
        authorizer=authorizer_context(key_tenant, f"ak_{key_tenant}_incidents", "INCIDENTS_READ"),
    )
    response = call(FUNCTIONS[route], event)
    return response["statusCode"], json.loads(response["body"])


def _number(bundle: IncidentBundle) -> int:
    return int(bundle.incident.number.removeprefix("INC-"))


def test_the_list_is_every_match_with_integer_ids_and_exactly_the_documented_fields(generated):
    status, body = _call("incidents")
    assert status == 200, body
    assert isinstance(body, list) and len(body) == 30
    assert all(list(item) == LIST_FIELDS for item in body)
    newest_first = sorted(generated[TENANT], key=lambda b: (b.incident.created_at, b.incident.id), reverse=True)
    assert [item["id"] for item in body] == [_number(b) for b in newest_first]
    assert all(isinstance(item["id"], int) and isinstance(item["alert_policy_id"], str) for item in body)
    assert all(item["ticket_id"] is None or isinstance(item["ticket_id"], int) for item in body)
    # the seed's comma-separated filters narrow it as on the product's list
    high = ",".join(("HIGH", "MEDIUM"))
    status, filtered = _call("incidents", params={"severities": high, "project_ids": "0,24"})
    assert status == 200
    assert [item["id"] for item in filtered] == [
        _number(b)
        for b in newest_first
        if b.incident.severity in ("HIGH", "MEDIUM") and b.incident.project_id in (0, 24)
    ]


@pytest.mark.parametrize("name", ["limit", "cursor", "format"])
def test_paging_parameters_are_refused_and_say_where_pages_are(generated, name):
    status, body = _call("incidents", params={name: "csv" if name == "format" else "5"})
    assert status == 400 and body["parameter"] == name, body
    assert "GET /v1/incidents" in body["message"]


def test_more_matches_than_one_answer_holds_is_a_400_never_a_cut_list(generated, monkeypatch):
    monkeypatch.setenv("SYNC_EXPORT_LIMIT", "29")
    reset_dependencies()
    status, body = _call("incidents")
    assert status == 400, body
    assert body["error"] == "EXPORT_TOO_LARGE" and body["matchedRecords"] == 30 and body["limit"] == 29
    assert "from_time" in body["message"] and "cursor" in body["message"] and "format=csv" in body["message"]
    # a narrower query fits
    status, narrowed = _call("incidents", params={"to_time": generated[TENANT][10].incident.created_at.isoformat()})
    assert status == 200 and 0 < len(narrowed) < 29
    monkeypatch.setenv("SYNC_EXPORT_LIMIT", "10000")
    monkeypatch.setenv("MAX_RESPONSE_BYTES", "5000")  # about 15 incidents' worth
    reset_dependencies()
    status, body = _call("incidents")
    assert status == 400 and body["error"] == "EXPORT_TOO_LARGE" and "5,000 bytes" in body["message"], body


def test_details_by_integer_id_with_exactly_the_documented_fields(generated):
    for bundle in generated[TENANT][:5]:
        status, body = _call("incidents/{incidentId}", incident=str(_number(bundle)))
        assert status == 200, body
        assert set(body) == DETAIL_FIELDS
        assert body["id"] == _number(bundle) and body["asset_id"] == bundle.incident.asset_id
        assert body["history"] == bundle.incident.history and body["metrics"] == bundle.incident.metrics


@pytest.mark.parametrize("text", ["abc", "-1", "1.5", "inc-1", "1" * 16])
def test_an_id_that_is_not_an_integer_is_a_400_naming_it(generated, text):
    status, body = _call("incidents/{incidentId}", incident=text)
    assert status == 400 and body["parameter"] == "incidentId", body


def test_another_tenants_number_and_an_unknown_number_are_not_found(generated):
    ours = {_number(b) for b in generated[TENANT]}
    theirs = next(_number(b) for b in generated[OTHER] if _number(b) not in ours)
    for number in (theirs, 999_999_999):
        status, body = _call("incidents/{incidentId}", incident=str(number))
        assert status == 404 and body["error"] == "NOT_FOUND", body
    # the other tenant's key finds it in its own tenant
    status, body = _call("incidents/{incidentId}", incident=str(theirs), path_tenant=OTHER, key_tenant=OTHER)
    assert status == 200 and body["id"] == theirs


@pytest.mark.parametrize("route", list(FUNCTIONS))
def test_another_tenants_path_segment_is_not_found_on_every_path(generated, route):
    body = {"sources": ["x"], "upload_dates": ["2026-03-01T00:00:00Z"], "violation_names": ["y"]}
    number = str(_number(generated[OTHER][0]))
    status, answer = _call(
        route,
        path_tenant=OTHER,
        incident=number if "{incidentId}" in route else None,
        body=body if route.startswith("configuration") else None,
    )
    assert status == 404 and answer["error"] == "NOT_FOUND", answer
    assert OTHER not in json.dumps(answer["message"]).replace(f"/api/backend/{OTHER}/", "")


def test_alerts_by_filters_from_the_details_have_exactly_the_documented_fields(generated):
    bundle = max(generated[TENANT], key=lambda b: len(b.alerts))
    status, detail = _call("incidents/{incidentId}", incident=str(_number(bundle)))
    assert status == 200
    refs = [ref for entry in detail["history"] for ref in entry["alert_refs"]]
    request = {
        "sources": [detail["asset_id"]],
        "upload_dates": [ref["metric_time"] for ref in refs],
        "violation_names": [ref["violation_name"] for ref in refs],
    }
    status, alerts = _call("configuration/alerts/by_filters", body=request)
    assert status == 200, alerts
    assert alerts and all(list(alert) == list(ALERT_OBJECT_FIELDS) for alert in alerts)
    wanted = {(ref["metric_time"], ref["violation_name"]) for ref in refs}
    assert {(a["metric_time"], a["violation_name"]) for a in alerts} >= wanted
    assert all(alert["source"] == bundle.incident.source_name for alert in alerts)


def test_distribution_and_summary_carry_the_documented_fields_only(generated):
    status, distribution = _call("incidents/distribution")
    assert status == 200 and list(distribution) == ["incidents"], distribution
    assert sum(sum(day["counts"].values()) for day in distribution["incidents"]) == 30
    status, summary = _call("incidents/summary", params={"from_time": "2026-03-01T00:00:00Z", "to_time": "2026-03-31"})
    assert status == 200, summary
    assert list(summary) == [
        "total",
        "open",
        "closed",
        "mean_time_to_resolve",
        "previous_mean_time_to_resolve",
        "open_by_tag",
        "closed_by_tag",
    ]
    assert summary["total"] == 30 == summary["open"] + summary["closed"]


def test_a_number_is_never_reused_not_even_after_its_incident_is_deleted(stack, generated):
    store = incident_store(stack)
    tenant = "numbered-reuse"
    first, second = incident_bundles(tenant, 2, START, END, seed=13)
    write_incident_bundles(store, tenant, [first, second])
    write_incident_bundles(store, tenant, [first])  # the same incident again: its own number, accepted
    taken = second.incident.model_copy(update={"number": first.incident.number})
    with pytest.raises(NumberTakenError, match=first.incident.id):
        write_incident_bundles(store, tenant, [IncidentBundle(taken)])
    assert store.get_incident(tenant, second.incident.id)["number"] == second.incident.number  # not overwritten
    # deleted: the number finds nothing, and still belongs to the deleted incident
    now = datetime.now(UTC)
    assert delete_incident(store, tenant, first.incident.id, "Ana Silva", now, "evt-numbered-del") is not None
    assert store.incident_id_by_number(tenant, _number(first)) is None
    renumbered = second.incident.model_copy(update={"id": "inc-numbered-new", "number": first.incident.number})
    with pytest.raises(NumberTakenError):
        write_incident_bundles(store, tenant, [IncidentBundle(renumbered)])
    # the deleted incident written again (a restore) takes its number back
    write_incident_bundles(store, tenant, [first])
    assert store.incident_id_by_number(tenant, _number(first)) == first.incident.id


def test_a_refused_number_writes_nothing_of_its_batch(stack, generated):
    store = incident_store(stack)
    tenant = "numbered-batch"
    one, two, three = incident_bundles(tenant, 3, START, END, seed=14)
    write_incident_bundles(store, tenant, [one])
    clash = three.incident.model_copy(update={"number": one.incident.number})
    rows: Sequence[Any] = [two.incident, clash]
    from export_service.logic.incident_records import export_row, incident_extras  # noqa: PLC0415
    from export_service.models.incidents import Dataset  # noqa: PLC0415

    with pytest.raises(NumberTakenError):
        store.put_rows(
            tenant, Dataset.INCIDENTS, [(export_row(Dataset.INCIDENTS, i), incident_extras(i)) for i in rows]
        )
    assert store.get_incident(tenant, two.incident.id) is None
    assert store.incident_id_by_number(tenant, _number(two)) is None  # the transaction claimed none of them


def test_a_number_renumbered_away_from_its_incident_no_longer_finds_it(stack, generated):
    store = incident_store(stack)
    tenant = "numbered-renumber"
    (bundle,) = incident_bundles(tenant, 1, START, END, seed=15)
    write_incident_bundles(store, tenant, [bundle])
    renumbered = bundle.incident.model_copy(update={"number": "INC-77777"})
    write_incident_bundles(store, tenant, [IncidentBundle(renumbered)])
    old = _call("incidents/{incidentId}", path_tenant=tenant, key_tenant=tenant, incident=str(_number(bundle)))
    assert old[0] == 404
    new = _call("incidents/{incidentId}", path_tenant=tenant, key_tenant=tenant, incident="77777")
    assert new[0] == 200 and new[1]["id"] == 77777
