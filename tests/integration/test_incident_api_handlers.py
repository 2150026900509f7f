"""The incident API's handlers against moto: the cursor key read from Secrets Manager (as deployed), permissions,
and what only a small hand-built data set shows (same-millisecond incidents across pages, no severity)."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from devtools.generate_incidents import incident_bundles
from devtools.lambda_runtime import rest_proxy_event
from export_service.logic import alerts
from export_service.logic.cursor import CursorPosition, seal_cursor
from export_service.logic.incident_records import IncidentBundle, write_incident_bundles
from tests.helpers import authorizer_context, response_header
from tests.integration.incident_support import bundles, incident_store
from tests.integration.support import call, specs

pytestmark = pytest.mark.integration

SECRET = "k" * 40  # what Secrets Manager generated for this stack


@pytest.fixture(scope="module")
def data(stack) -> None:
    store = incident_store(stack)
    for tenant in ("acme", "globex"):
        write_incident_bundles(store, tenant, bundles(tenant))
    # The template's secret, named as the function's environment resolves it locally.
    secret_id = specs()["ListIncidentsFunction"].environment["CURSOR_SECRET_ARN"]
    boto3.client("secretsmanager").create_secret(Name=secret_id, SecretString=SECRET)


def _event(
    resource: str,
    path: str,
    params: Mapping[str, str | Sequence[str]] | None = None,
    *,
    tenant: str = "acme",
    permissions: str = "INCIDENTS_READ",
    path_parameters: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    query = {name: [value] if isinstance(value, str) else list(value) for name, value in (params or {}).items()}
    return rest_proxy_event(
        method="GET",
        path=path,
        resource=resource,
        path_parameters=path_parameters,
        query=query,
        authorizer=authorizer_context(tenant, f"ak_{tenant}_incidents", permissions),
    )


def _list(params: Mapping[str, str | Sequence[str]] | None = None, **kwargs: Any) -> dict[str, Any]:
    return call("ListIncidentsFunction", _event("/v1/incidents", "/v1/incidents", params, **kwargs))


def test_cursors_are_signed_with_the_secrets_manager_key(data):
    # Given the deployed configuration (a secret ARN, no development key), when a first page is served
    first = _list({"limit": "2"})
    assert first["statusCode"] == 200, first["body"]
    cursor = response_header(first, "X-Next-Cursor")
    assert cursor
    # Then the next page resumes after it, and a cursor signed with any other key is refused
    second = _list({"limit": "2", "cursor": cursor})
    assert second["statusCode"] == 200
    ids = [item["id"] for item in json.loads(first["body"]) + json.loads(second["body"])]
    assert len(set(ids)) == 4
    payload = json.loads(base64.urlsafe_b64decode(cursor.split(".")[0] + "=="))
    forged = seal_cursor(
        b"another-key-of-at-least-32-characters!", "acme", payload["q"], CursorPosition.model_validate(payload)
    )
    refused = _list({"limit": "2", "cursor": forged})
    assert refused["statusCode"] == 400 and json.loads(refused["body"])["parameter"] == "cursor"


def test_walk_over_every_acme_incident_one_at_a_time_sees_each_once(data):
    seen: list[str] = []
    cursor = None
    while True:
        response = _list({"limit": "1", **({"cursor": cursor} if cursor else {})})
        assert response["statusCode"] == 200, response["body"]
        seen += [item["id"] for item in json.loads(response["body"])]
        cursor = response_header(response, "X-Next-Cursor")
        if not cursor:
            break
    want = sorted(
        ((b.incident.created_at, b.incident.id) for b in bundles("acme")),
        reverse=True,
    )
    assert seen == [incident_id for _, incident_id in want]  # two incidents share a millisecond: still each once


def test_a_walk_without_to_time_keeps_the_end_its_first_page_used(stack, data):
    # Given a tenant of its own (other tests count acme's and globex's incidents) and a first page without to_time
    store = incident_store(stack)
    write_incident_bundles(store, "initech", bundles("globex"))
    first = _list({"limit": "1"}, tenant="initech")
    assert first["statusCode"] == 200, first["body"]
    cursor = response_header(first, "X-Next-Cursor")
    assert cursor
    # When an incident is created during the walk (now: newer than every incident, on a day the walk has not read)
    late = bundles("globex")[0]
    created = datetime.now(UTC).replace(microsecond=0)
    update = {"id": "inc-initech-late", "number": "INC-900", "created_at": created, "updated_at": created}
    moved = late.incident.model_copy(update=update)  # a new incident: a number of its own
    write_incident_bundles(store, "initech", [IncidentBundle(incident=moved)])
    # Then the rest of the walk does not mix it in, and a new walk starts with it
    second = _list({"limit": "5", "cursor": cursor}, tenant="initech")
    assert second["statusCode"] == 200, second["body"]
    walked = [item["id"] for item in json.loads(first["body"]) + json.loads(second["body"])]
    assert walked == ["inc-globex-002", "inc-globex-001"]
    fresh = _list({"limit": "5"}, tenant="initech")
    assert [item["id"] for item in json.loads(fresh["body"])] == ["inc-initech-late", *walked]


@pytest.mark.parametrize(
    ("function", "resource", "path", "path_parameters"),
    [
        ("ListIncidentsFunction", "/v1/incidents", "/v1/incidents", None),
        ("IncidentSummaryFunction", "/v1/incidents/summary", "/v1/incidents/summary", None),
        ("IncidentDistributionFunction", "/v1/incidents/distribution", "/v1/incidents/distribution", None),
        ("GetIncidentFunction", "/v1/incidents/{incidentId}", "/v1/incidents/x", {"incidentId": "x"}),
        ("IncidentAlertsFunction", "/v1/incidents/{incidentId}/alerts", "/v1/incidents/x/alerts", {"incidentId": "x"}),
    ],
)
def test_a_key_without_incidents_read_is_403_whatever_it_sends(data, function, resource, path, path_parameters):
    event = _event(resource, path, {"limit": "0"}, permissions="AUDIT_READ", path_parameters=path_parameters)
    response = call(function, event)
    assert response["statusCode"] == 403, response["body"]


def test_distribution_counts_incidents_without_severity_under_the_empty_key(data):
    response = call(
        "IncidentDistributionFunction",
        _event("/v1/incidents/distribution", "/v1/incidents/distribution", tenant="acme"),
    )
    assert response["statusCode"] == 200, response["body"]
    days = json.loads(response["body"])["incidents"]
    counted: dict[str, int] = {}
    for day in days:
        for key, value in day["counts"].items():
            counted[key] = counted.get(key, 0) + value
    want: dict[str, int] = {}
    for bundle in bundles("acme"):
        want[bundle.incident.severity] = want.get(bundle.incident.severity, 0) + 1
    assert want.get("", 0) >= 1  # the data has an incident without severity, so the "" bucket is exercised
    assert {k: v for k, v in counted.items() if v} == want


@pytest.mark.parametrize("params", [{}, {"severities": "HIGH,MEDIUM", "statuses": ["OPEN", "CLOSED"]}])
def test_a_csv_list_over_the_sync_limit_becomes_a_job_that_writes_the_same_file(data, executing, monkeypatch, params):
    from urllib.parse import unquote, urlsplit  # noqa: PLC0415

    from devtools.provision import local_refs  # noqa: PLC0415
    from export_service.api.deps import reset_dependencies  # noqa: PLC0415

    permissions = "INCIDENTS_READ,EXPORTS_READ"
    inline = _list({**params, "format": "csv"}, permissions=permissions)
    assert inline["statusCode"] == 200, inline["body"]
    rows = inline["body"].count("\r\n") - 1
    assert rows > 1
    if params:  # the filters exclude some incidents, so a job that dropped them would write more rows
        everything = _list({"format": "csv"}, permissions=permissions)["body"].count("\r\n") - 1
        assert rows < everything

    monkeypatch.setenv("SYNC_EXPORT_LIMIT", "1")
    reset_dependencies()
    accepted = _list({**params, "format": "csv"}, permissions=permissions)
    assert accepted["statusCode"] == 202, accepted["body"]
    job = json.loads(accepted["body"])
    job_id = job["metadata"]["jobId"]
    assert job["metadata"]["dataset"] == "incident-list"
    assert response_header(accepted, "Location").endswith(f"/v1/exports/{job_id}")

    status: dict[str, Any] = {}
    for _ in range(300):
        event = rest_proxy_event(
            method="GET",
            path=f"/v1/exports/{job_id}",
            resource="/v1/exports/{jobId}",
            path_parameters={"jobId": job_id},
            authorizer=authorizer_context("acme", "ak_acme_incidents", permissions),
        )
        status = json.loads(call("GetExportFunction", event)["body"])
        if status["status"]["state"] in ("succeeded", "failed"):
            break
        import time  # noqa: PLC0415

        time.sleep(0.2)
    assert status["status"]["state"] == "succeeded", status
    assert status["status"]["records"] == rows
    path = unquote(urlsplit(status["status"]["downloadUrl"]).path)
    key = path[path.index("exports/") :]
    content = boto3.client("s3").get_object(Bucket=local_refs()["ExportBucket"], Key=key)["Body"].read()
    # the same bytes, in the same order (newest first), under the same name as the inline answer
    assert content.decode("utf-8") == inline["body"]
    assert status["metadata"]["filename"] in response_header(inline, "Content-Disposition")


def test_an_incident_with_more_alerts_than_one_answer_holds_is_refused_naming_the_incident(stack, data, monkeypatch):

    # Given an incident whose history refers to several alerts (generated data, a tenant of its own)
    start = datetime(2026, 3, 1, tzinfo=UTC)
    generated = list(incident_bundles("umbrella", 20, start, start.replace(day=20), seed=3))
    write_incident_bundles(incident_store(stack), "umbrella", generated)
    busiest = max(generated, key=lambda bundle: len(bundle.alerts))
    assert len(busiest.alerts) >= 2
    path_parameters = {"incidentId": busiest.incident.id}

    def incident_alerts() -> dict[str, Any]:
        event = _event(
            "/v1/incidents/{incidentId}/alerts",
            f"/v1/incidents/{busiest.incident.id}/alerts",
            tenant="umbrella",
            path_parameters=path_parameters,
        )
        return call("IncidentAlertsFunction", event)

    answered = incident_alerts()
    assert answered["statusCode"] == 200, answered["body"]
    found = len(json.loads(answered["body"]))
    assert found >= len(busiest.alerts)
    # When one answer may hold fewer, the GET is refused (never truncated), naming the incident, not a body it has not
    monkeypatch.setattr(alerts, "MAX_ALERTS", found - 1)
    refused = incident_alerts()
    assert refused["statusCode"] == 400, refused["body"]
    problem = json.loads(refused["body"])
    assert problem["error"] == "EXPORT_TOO_LARGE" and problem["parameter"] == "incidentId"
    assert problem["limit"] == found - 1 and "POST /v1/alerts/by-filters" in problem["message"]
