"""Drop-in paths over HTTP: every documented request of the runbook platform's audit export, the audit-event
export and the nightly data export's listing, replayed literally with only host and key changed."""

from __future__ import annotations

import csv
import io
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
import requests

from devtools.provision import local_refs
from export_service.dal.api_key_store import ApiKeyStore
from export_service.dal.job_store import JobStore
from export_service.logic.api_keys import mint_api_key
from export_service.models.api_keys import Permission
from export_service.models.audit import AUDIT_COLUMNS
from export_service.models.nightly import REQUEST_FIELDS, SOURCE_NAMES
from tests.e2e.conftest import ACME, DEMO_END, GLOBEX, SYNC_LIMIT, Stack
from tests.e2e.night_support import publish_night

pytestmark = pytest.mark.e2e

RUNBOOK = "/api/v1/audit/export"
SENTINEL = "/v5/audit-sentinel/events/export"
LISTING = "/v1/integrations/data_export/export_requests"
TEN = AUDIT_COLUMNS[:10]  # the runbook platform's documented columns
_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")


def _cell(value: str) -> str:
    return "'" + value if value[:1] in _TRIGGERS else value


def _client(stack: Stack, service: str) -> Any:
    endpoint = stack.dynamodb_endpoint if service == "dynamodb" else stack.moto_endpoint
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# ---- the runbook platform's audit export -------------------------------------------------------------------


def test_runbook_csv_has_exactly_the_documented_columns_and_filename(stack, http, expected):
    # bounded to the demo window: the file's name is dated the day of the export either way
    response = http.get(f"{stack.url}{RUNBOOK}", params={"to": DEMO_END}, headers=_bearer(GLOBEX), timeout=120)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/csv")
    today = datetime.now(UTC).strftime("%Y%m%d")
    assert response.headers["Content-Disposition"] == f'attachment; filename="audit-export-{today}.csv"'
    rows = list(csv.reader(io.StringIO(response.text)))
    assert tuple(rows[0]) == TEN
    assert rows[1:] == [[_cell(record[c]) for c in TEN] for record in expected["globex"]]


def test_runbook_json_envelope_and_records_have_exactly_the_documented_fields(stack, http, expected):
    params = {"format": "json", "from": "2026-04-01T00:00:00Z", "to": "2026-05-01T00:00:00Z", "namespace": "production"}
    response = http.get(f"{stack.url}{RUNBOOK}", params=params, headers=_bearer(GLOBEX), timeout=120)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"apiVersion", "kind", "metadata", "records"}
    assert (body["apiVersion"], body["kind"]) == ("v1", "AuditExport")
    assert set(body["metadata"]) == {"exportedAt", "from", "to", "totalRecords", "format"}
    assert body["metadata"]["format"] == "json" and body["metadata"]["from"] == "2026-04-01T00:00:00.000Z"
    want = [
        {c: r[c] for c in TEN}
        for r in expected["globex"]
        if "2026-04-01" <= r["timestamp"] <= "2026-05-01T00:00:00.000Z" and r["namespace"] == "production"
    ]
    assert want and body["records"] == want
    assert body["metadata"]["totalRecords"] == len(want)
    today = datetime.now(UTC).strftime("%Y%m%d")
    assert response.headers["Content-Disposition"] == f'attachment; filename="audit-export-{today}.json"'


@pytest.mark.parametrize("fmt", ["jsonl", "pdf"])
def test_runbook_path_answers_csv_or_json_only(stack, http, fmt):
    response = http.get(f"{stack.url}{RUNBOOK}", params={"format": fmt}, headers=_bearer(GLOBEX), timeout=60)
    assert response.status_code == 400
    assert response.json()["parameter"] == "format"


def _download(http: requests.Session, stack: Stack, token: str, path: str) -> requests.Response:
    deadline = time.monotonic() + 180
    while True:
        response = http.get(f"{stack.url}{path}", headers=_bearer(token), timeout=60, allow_redirects=False)
        if response.status_code != 202:
            return response
        body = response.json()
        assert body["kind"] == "AuditExportJob" and body["status"]["downloadUrl"] == path, body
        assert time.monotonic() < deadline, body
        time.sleep(0.5)


def test_more_than_the_limit_is_an_audit_export_job_downloaded_through_its_path(stack, http, expected):
    assert len(expected["acme"]) > SYNC_LIMIT
    accepted = http.get(f"{stack.url}{RUNBOOK}", params={"to": DEMO_END}, headers=_bearer(ACME), timeout=120)
    assert accepted.status_code == 202, accepted.text
    body = accepted.json()
    job_id = body["metadata"]["jobId"]
    assert body == {
        "apiVersion": "v1",
        "kind": "AuditExportJob",
        "metadata": {"jobId": job_id},
        "status": {
            "state": "processing",
            "estimatedRecords": body["status"]["estimatedRecords"],
            "downloadUrl": f"/api/v1/audit/export/download/{job_id}",
            "expiresAt": body["status"]["expiresAt"],
        },
    }
    # the count before a 202 stops soon after the limit (an instant answer): more than the limit, at most all
    assert SYNC_LIMIT < body["status"]["estimatedRecords"] <= len(expected["acme"])
    assert datetime.fromisoformat(body["status"]["expiresAt"]) > datetime.now(UTC) + timedelta(days=29)
    done = _download(http, stack, ACME, body["status"]["downloadUrl"])
    assert done.status_code == 302, done.text
    link = done.headers["Location"]
    assert parse_qs(urlsplit(link).query)["X-Amz-Expires"] == ["300"]
    content = requests.get(link, timeout=60)
    assert content.status_code == 200
    rows = list(csv.reader(io.StringIO(content.content.decode("utf-8"))))
    assert tuple(rows[0]) == TEN
    assert rows[1:] == [[_cell(record[c]) for c in TEN] for record in expected["acme"]]
    # another tenant's key, and a job id that does not exist: 404 as JSON
    for token, path in ((GLOBEX, f"/api/v1/audit/export/download/{job_id}"), (ACME, "/api/v1/audit/export/download/x")):
        missing = http.get(f"{stack.url}{path}", headers=_bearer(token), timeout=30, allow_redirects=False)
        assert missing.status_code == 404 and missing.json()["error"] == "NOT_FOUND"


def _job(stack: Stack, tenant: str, dataset: str, state: str, expires: datetime) -> str:
    now = datetime.now(UTC)
    job_id = f"exp-{now:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:12]}"
    item = {
        "job_id": job_id,
        "tenant": tenant,
        "dataset": dataset,
        "read_permission": "AUDIT_READ" if dataset.endswith("audit") else "INCIDENTS_READ",
        "created_by": "ak_demo_acme",
        "format": "csv",
        "parameters": "{}",
        "filename": "audit-export-20260101.csv",
        "state": state,
        "estimated_records": 1,
        "error": "the export failed (Error); start it again",
        "created_at": now.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "updated_at": now.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "expires_at": expires.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
    }
    JobStore(_client(stack, "dynamodb"), local_refs()["ExportJobsTable"]).create(
        tenant, job_id, item, ttl=int((expires + timedelta(days=1)).timestamp())
    )
    return job_id


@pytest.mark.parametrize(
    ("dataset", "state", "days", "status", "code"),
    [
        ("runbook-audit", "failed", 30, 409, "EXPORT_FAILED"),
        ("runbook-audit", "succeeded", -1, 410, "GONE"),
        ("incidents", "succeeded", 30, 404, "NOT_FOUND"),
    ],
)
def test_a_failed_expired_or_non_audit_job_is_the_right_4xx(stack, http, dataset, state, days, status, code):
    job_id = _job(stack, "acme", dataset, state, datetime.now(UTC) + timedelta(days=days))
    path = f"/api/v1/audit/export/download/{job_id}"
    response = http.get(f"{stack.url}{path}", headers=_bearer(ACME), timeout=30, allow_redirects=False)
    assert response.status_code == status, response.text
    assert response.json()["error"] == code and response.headers["Content-Type"].startswith("application/json")


# ---- the audit-event export --------------------------------------------------------------------------------


def test_the_first_documented_example_as_written(stack, http, expected):
    url = f"{stack.url}{SENTINEL}?file_type=csv&event_type=assessment&locale=en"
    response = http.get(url, headers={"apikey": ACME}, timeout=120)
    assert response.status_code == 200, response.text
    rows = list(csv.DictReader(io.StringIO(response.text)))
    want = [record["id"] for record in expected["acme"] if record["eventType"] == "assessment"]
    assert want and [row["id"] for row in rows] == want
    assert list(rows[0])[-1] == "localTime"  # locale given: the local time column is added


def test_the_second_documented_example_reads_the_bracketed_metadata_form(stack, http, expected):
    entity = next(
        record["metadata"].split('"entity_id":"', 1)[1][:36] for record in expected["globex"] if record["metadata"]
    )
    literal = f"{stack.url}{SENTINEL}?file_type=pdf&metadata[entity_id={entity}]&locale=en"
    pdf = http.get(literal, headers={"apikey": GLOBEX}, timeout=120)
    assert pdf.status_code == 200, pdf.text
    assert pdf.headers["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    # the bracketed form is the same filter as metadata[entity_id]=<id>
    bracketed = http.get(f"{stack.url}{SENTINEL}?metadata[entity_id={entity}]", headers={"apikey": GLOBEX}, timeout=60)
    plain = http.get(f"{stack.url}{SENTINEL}", params={"metadata[entity_id]": entity}, headers={"apikey": GLOBEX})
    assert bracketed.status_code == plain.status_code == 200
    want = [r["id"] for r in expected["globex"] if f'"entity_id":"{entity}"' in r["metadata"]]
    assert want and [row["id"] for row in csv.DictReader(io.StringIO(bracketed.text))] == want
    assert bracketed.text == plain.text


@pytest.mark.parametrize(
    ("query", "headers", "status", "parameter"),
    [
        ("range_start=2026-04-10T00:00:00.000Z&range_end=2026-04-01T00:00:00.000Z", True, 400, "range_start"),
        ("file_type=pdf", True, 400, "file_type"),  # acme holds more than 5,000 events
        ("file_type=csv", False, 401, None),
    ],
)
def test_the_documented_errors(stack, http, query, headers, status, parameter):
    response = http.get(f"{stack.url}{SENTINEL}?{query}", headers={"apikey": ACME} if headers else {}, timeout=120)
    assert response.status_code == status, response.text
    body = response.json()
    assert body["status"] == status and body.get("parameter") == parameter


# ---- the nightly data export's listing ---------------------------------------------------------------------


def test_the_documented_listing_request_as_written(stack, http):
    tenant = "dropin-listing"
    publish_night(_client(stack, "dynamodb"), local_refs()["ExportRequestsTable"], tenant)
    key, token = mint_api_key(tenant, list(Permission), datetime.now(UTC), key_id="ak_dropin_listing")
    ApiKeyStore(_client(stack, "dynamodb"), local_refs()["ApiKeysTable"]).put(key)
    url = f"{stack.url}{LISTING}?newer_than=2023-04-01T00%3A00%3A00"
    response = http.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=60)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"data"}
    assert len(body["data"]) == len(SOURCE_NAMES)
    assert all(tuple(entry) == REQUEST_FIELDS for entry in body["data"])
    assert all(parse_qs(urlsplit(entry["url"]).query)["X-Amz-Expires"] == ["300"] for entry in body["data"])
    own = http.get(
        f"{stack.url}/v1/export-requests", params={"newer_than": "2023-04-01T00:00:00"}, headers={"apikey": token}
    )
    assert [entry["id"] for entry in own.json()["data"]] == [entry["id"] for entry in body["data"]]
