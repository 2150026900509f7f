"""The catalog's list exports over HTTP on the local stack, at the CSV export paths with the `key:secret` header form:
the seed's columns, filled from the generated world and checked row by row; the seed's own example request; per-row
activity scoping; deleted resources in the activities."""

from __future__ import annotations

import gzip
import json
import time
from urllib.parse import quote

import pytest
import requests

from export_service.models.api_keys import Permission
from export_service.models.catalog import ACTIVITY_COLUMNS, INCIDENT_GROUP_COLUMNS, SOURCE_COLUMNS, VALIDATOR_COLUMNS
from tests.e2e.catalog_support import (
    expected_activities,
    expected_groups,
    expected_sources,
    expected_validators,
    key,
    read_csv,
    world,
)
from tests.e2e.conftest import Stack
from tests.helpers import assert_estimate

pytestmark = pytest.mark.e2e
ACME_PAIR = {"Authorization": "ak_demo_acme:demo-acme-secret-0001"}


@pytest.mark.parametrize(
    ("resource", "columns", "expected"),
    [
        ("sources", SOURCE_COLUMNS, expected_sources),
        ("validators", VALIDATOR_COLUMNS, expected_validators),
        ("incident-groups", INCIDENT_GROUP_COLUMNS, expected_groups),
        ("activities", ACTIVITY_COLUMNS, expected_activities),
    ],
)
def test_each_list_has_the_seeds_columns_filled_from_the_generated_world(
    stack: Stack, http: requests.Session, resource: str, columns: tuple[str, ...], expected
):
    response = http.get(f"{stack.url}/api/export/v1/{resource}", headers=ACME_PAIR, timeout=60)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/csv")
    assert response.headers["Content-Disposition"].startswith(f'attachment; filename="{resource}-')
    header, rows = read_csv(response.text)
    assert tuple(header) == columns
    assert rows == expected(world("acme"))
    for column in columns:  # every column is filled somewhere in the demo data
        assert any(row[column] for row in rows), column


def test_the_seeds_example_request_works_as_written(stack: Stack, http: requests.Session):
    seed_filter = '{"namespace":["production"],"range":{"start":"2026-03-01T00:00:00Z","end":"2026-04-01T00:00:00Z"}}'
    url = f"{stack.url}/api/export/v1/incident-groups?filter={quote(seed_filter, safe='')}"
    response = http.get(url, headers=ACME_PAIR, timeout=60)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Disposition"] == 'attachment; filename="incident-groups-2026-03-01_2026-04-01.csv"'
    _header, rows = read_csv(response.text)
    expected = expected_groups(world("acme"), "production", "2026-03-01T00:00:00.000Z", "2026-04-01T00:00:00.000Z")
    assert rows == expected and rows
    assert {row["Namespace"] for row in rows} == {"production"}


def test_filters_and_sort_by_any_column(stack: Stack, http: requests.Session):
    params = {
        "filter": json.dumps({"credentialType": "SNOWFLAKE"}),
        "sort": '{"field":"validatorCount","direction":"desc"}',
    }
    response = http.get(f"{stack.url}/api/export/v1/sources", params=params, headers=ACME_PAIR, timeout=60)
    assert response.status_code == 200, response.text
    _header, rows = read_csv(response.text)
    expected = [row for row in expected_sources(world("acme")) if row["Credential type"] == "SNOWFLAKE"]
    assert rows == sorted(expected, key=lambda row: -int(row["Validator count"]))
    bad = http.get(
        f"{stack.url}/api/export/v1/sources", params={"filter": '{"colour":"red"}'}, headers=ACME_PAIR, timeout=30
    )
    assert bad.status_code == 400 and bad.json()["parameter"] == "filter" and "colour" in bad.json()["message"]


def test_activities_filter_by_source_and_time_and_sort_newest_first(stack: Stack, http: requests.Session):
    w = world("acme")
    source = w.sources[0]
    params = {"filter": json.dumps({"source": source.id, "timeRange": {"start": "2026-03-01T00:00:00Z"}})}
    params["sort"] = '{"field":"timestamp","direction":"desc"}'
    response = http.get(f"{stack.url}/api/export/v1/activities", params=params, headers=ACME_PAIR, timeout=60)
    assert response.status_code == 200, response.text
    _header, rows = read_csv(response.text)
    ids = {a.id for a in w.activities if a.source_id == source.id}
    expected = [row for row, a in zip(expected_activities(w), w.activities, strict=True) if a.id in ids]
    assert sorted(rows, key=lambda r: r["Timestamp"]) == sorted(expected, key=lambda r: r["Timestamp"])
    assert [row["Timestamp"] for row in rows] == sorted((row["Timestamp"] for row in rows), reverse=True)


def test_a_deleted_source_and_validator_keep_their_names_in_the_activities(stack: Stack, http: requests.Session):
    w = world("acme")
    response = http.get(f"{stack.url}/api/export/v1/activities", headers=ACME_PAIR, timeout=60)
    _header, rows = read_csv(response.text)
    listed = read_csv(http.get(f"{stack.url}/api/export/v1/sources", headers=ACME_PAIR, timeout=60).text)[1]
    for gone in w.deleted_sources:
        assert gone.id not in {row["ID"] for row in listed}
        deleted = [r for r in rows if r["Activity type"] == "SOURCE_DELETED" and r["Entity ID"] == gone.id]
        assert len(deleted) == 1 and deleted[0]["Entity name"] == gone.name and deleted[0]["Action"] == "DELETED"
    for gone in w.deleted_validators:
        deleted = [r for r in rows if r["Activity type"] == "VALIDATOR_DELETED" and r["Entity ID"] == gone.id]
        assert len(deleted) == 1 and deleted[0]["Entity name"] == gone.name
    assert {row["Actor type"] for row in rows} == {"User", "API key", "System"}
    assert all(row["Actor"] == "" for row in rows if row["Actor type"] == "System")


@pytest.mark.parametrize(
    ("permission", "types"),
    [
        (Permission.VALIDATORS_READ, {"VALIDATOR"}),
        (Permission.SOURCES_READ, {"SOURCE", "CREDENTIAL"}),
        (Permission.INCIDENTS_READ, {"INCIDENT_GROUP"}),
        (Permission.CATALOG_ASSETS_READ, {"CATALOG_ASSET"}),
    ],
)
def test_activities_are_scoped_per_row_by_the_keys_permissions(
    stack: Stack, http: requests.Session, permission: Permission, types: set[str]
):
    headers = key(stack, f"ak_cat_act_{permission.value.lower()}", "acme", permission)
    response = http.get(f"{stack.url}/api/export/v1/activities", headers=headers, timeout=60)
    assert response.status_code == 200, response.text
    _header, rows = read_csv(response.text)
    assert rows == expected_activities(world("acme"), types) and rows


def test_each_list_needs_its_permission(stack: Stack, http: requests.Session):
    headers = key(stack, "ak_cat_audit_only", "acme", Permission.AUDIT_READ, Permission.EXPORTS_READ)
    for resource in ("sources", "validators", "incident-groups", "activities"):
        response = http.get(f"{stack.url}/api/export/v1/{resource}", headers=headers, timeout=30)
        assert response.status_code == 403, (resource, response.text)
        assert response.json()["error"] == "FORBIDDEN"
    sources_only = key(stack, "ak_cat_sources_only", "acme", Permission.SOURCES_READ)
    assert http.get(f"{stack.url}/api/export/v1/validators", headers=sources_only, timeout=30).status_code == 403
    assert http.get(f"{stack.url}/api/export/v1/sources", headers=sources_only, timeout=30).status_code == 200
    assert http.get(f"{stack.url}/api/export/v1/sources", timeout=30).status_code == 401


def test_json_jsonl_gzip_and_the_product_path(stack: Stack, http: requests.Session):
    expected = expected_validators(world("globex"))
    globex = {"Authorization": "ak_demo_globex:demo-globex-secret-0001"}
    as_json = http.get(f"{stack.url}/v1/export/validators?format=json", headers=globex, timeout=60).json()
    assert as_json["kind"] == "ValidatorExport" and as_json["records"] == expected
    assert as_json["metadata"]["totalRecords"] == len(expected)
    lines = http.get(f"{stack.url}/api/export/v1/validators?format=jsonl", headers=globex, timeout=60).text
    assert [json.loads(line) for line in lines.splitlines()] == expected
    raw = requests.get(
        f"{stack.url}/api/export/v1/validators", headers={**globex, "Accept-Encoding": "gzip"}, timeout=60, stream=True
    )
    assert raw.headers["Content-Encoding"] == "gzip"
    assert read_csv(gzip.decompress(raw.raw.read()).decode("utf-8"))[1] == expected


def test_an_activities_job_is_scoped_by_the_permissions_of_the_key_that_started_it(
    stack: Stack, http: requests.Session
):
    writer = key(stack, "ak_cat_job_validators", "acme", Permission.VALIDATORS_READ, Permission.EXPORTS_WRITE)
    started = http.post(f"{stack.url}/v1/exports", json={"dataset": "activities"}, headers=writer, timeout=60)
    assert started.status_code == 202, started.text
    job_url = f"{stack.url}{started.headers['Location']}"
    deadline = time.monotonic() + 180
    while (job := http.get(job_url, headers=writer, timeout=30).json())["status"]["state"] not in (
        "succeeded",
        "failed",
    ):
        assert time.monotonic() < deadline, job
        time.sleep(0.5)
    assert job["status"]["state"] == "succeeded", job
    header, rows = read_csv(requests.get(job["status"]["downloadUrl"], timeout=60).content.decode("utf-8"))
    expected = expected_activities(world("acme"), {"VALIDATOR"})
    assert tuple(header) == ACTIVITY_COLUMNS and rows[: len(expected)] == expected
    # the file holds validator activities: a key of the tenant without VALIDATORS_READ may not see the job
    sources_reader = key(stack, "ak_cat_job_sources", "acme", Permission.SOURCES_READ, Permission.EXPORTS_READ)
    refused = http.get(job_url, headers=sources_reader, timeout=30)
    assert refused.status_code == 403 and "VALIDATORS_READ" in refused.json()["message"]
    assert http.get(job_url, headers=ACME_PAIR, timeout=30).status_code == 200


def test_more_rows_than_one_answer_holds_are_never_truncated_but_become_an_export_job(
    stack: Stack, http: requests.Session
):
    globex = {"Authorization": "ak_demo_globex:demo-globex-secret-0001"}
    expected = expected_activities(world("globex"))
    assert len(expected) > 500  # the stack's row cap for the catalog (CATALOG_ROW_CAP)
    accepted = http.get(f"{stack.url}/api/export/v1/activities", headers=globex, timeout=60)
    assert accepted.status_code == 202, accepted.text[:300]
    assert_estimate(accepted.json()["status"], len(expected), 500)
    job_url = f"{stack.url}{accepted.headers['Location']}"
    deadline = time.monotonic() + 180
    while (job := http.get(job_url, headers=globex, timeout=30).json())["status"]["state"] not in (
        "succeeded",
        "failed",
    ):
        assert time.monotonic() < deadline, job
        time.sleep(0.5)
    assert job["status"]["state"] == "succeeded", job
    header, rows = read_csv(requests.get(job["status"]["downloadUrl"], timeout=60).content.decode("utf-8"))
    assert tuple(header) == ACTIVITY_COLUMNS and rows[: len(expected)] == expected
