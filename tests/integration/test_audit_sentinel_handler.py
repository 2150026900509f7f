"""GET /v1/audit/export with the audit-event export's parameters, through the real handler against moto: filters on
the new fields (DynamoDB FilterExpressions on the day/month Queries), locale and time zone columns,
the PDF over the proxy."""

from __future__ import annotations

import base64
import io
import json
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader

from tests.helpers import json_body, load_event, response_header, with_query
from tests.integration.support import export, parse_csv, sealed

pytestmark = pytest.mark.integration

BOUNDS = {"from": "2026-03-01T00:00:00Z", "to": "2026-03-04T00:00:00Z"}


def _call(params: dict) -> dict:
    return export(with_query(load_event("audit_export_get"), params))


def _records(params: dict) -> list[dict[str, str]]:
    response = _call({**BOUNDS, "format": "json", **params})
    assert response["statusCode"] == 200, response["body"]
    return json_body(response)["records"]


def _error(params: dict, code: str, parameter: str) -> dict:
    response = _call({**BOUNDS, **params})
    assert response["statusCode"] == 400, response["body"]
    body = json_body(response)
    assert (body["error"], body["parameter"]) == (code, parameter)
    assert f"'{parameter}'" in body["message"]
    return body


def _metadata(record: dict[str, str]) -> dict[str, str]:
    return json.loads(record["metadata"]) if record["metadata"] else {}


def test_generated_records_carry_every_audit_event_field():
    records = sealed("acme")
    assert all(r["eventType"] and r["subType"] and r["systemSource"] and r["auditeeId"] for r in records)
    keys = {key for r in records for key in _metadata(r)}
    assert {"entity_id", "task_id", "workflow_instance_id", "workflow_step", "tag"} <= keys


@pytest.mark.parametrize(
    "params",
    [
        {"event_type": "incident"},
        {"event_type": ["runbook", "user"]},
        {"event_type": "runbook,user"},  # comma-separated means the same
        {"sub_type": "executed", "system_source": "task_platform"},
        {"system_source": ["identity_service", "ci_pipeline"], "namespace": "production"},
        {"event_type": "incident", "user": "USER0"},  # index query (ByUser) plus filters
        {"auditee_id": ["AUDITEE0", "AUDITEE5", "AUDITEE12"]},  # several auditees, repeated ...
        {"auditee_id": "AUDITEE3,AUDITEE7"},  # ... or comma-separated
        {"auditee_id": ["AUDITEE1,AUDITEE9", "AUDITEE4"]},  # ... or both
        {"auditee_id": ["AUDITEE2", "usr_nobody"], "event_type": "runbook,incident"},  # an unknown one adds nothing
    ],
)
def test_list_filters_match_an_independent_computation(stack, params):
    records = sealed("acme")
    # USERn / AUDITEEn: the n-th of the data's distinct users / auditee ids (in sorted order)
    pools = {"USER": sorted({r["user"] for r in records}), "AUDITEE": sorted({r["auditeeId"] for r in records})}

    def resolve(value: str) -> str:
        parts = (re.fullmatch(r"(USER|AUDITEE)(\d+)", part) or part for part in value.split(","))
        return ",".join(part if isinstance(part, str) else pools[part[1]][int(part[2])] for part in parts)

    params = {k: ([resolve(x) for x in v] if isinstance(v, list) else resolve(v)) for k, v in params.items()}
    fields = {
        "event_type": "eventType",
        "sub_type": "subType",
        "system_source": "systemSource",
        "auditee_id": "auditeeId",
    }

    def values(value: str | list[str]) -> set[str]:  # repeated, comma-separated, or both: any of them
        return {v for item in ([value] if isinstance(value, str) else value) for v in item.split(",")}

    def matches(record: dict[str, str]) -> bool:
        return all(record[fields.get(name, name)] in values(value) for name, value in params.items())

    want = sorted((r for r in records if matches(r)), key=lambda r: (r["timestamp"], r["id"]))
    assert want, params
    if "auditee_id" in params:  # every auditee named that is in the data is in the answer: none may be dropped
        assert {r["auditeeId"] for r in want} == values(params["auditee_id"]) & set(pools["AUDITEE"])
    assert _records(params) == want


def test_auditee_and_several_metadata_keys_at_once(stack):
    records = sealed("acme")
    sample = next(r for r in records if "workflow_step" in _metadata(r))
    meta = _metadata(sample)
    params = {
        "auditee_id": sample["auditeeId"],
        "metadata[entity_id]": meta["entity_id"],
        "metadata[workflow_step]": meta["workflow_step"],
    }
    want = [
        r
        for r in sorted(records, key=lambda r: (r["timestamp"], r["id"]))
        if r["auditeeId"] == sample["auditeeId"]
        and _metadata(r).get("entity_id") == meta["entity_id"]
        and _metadata(r).get("workflow_step") == meta["workflow_step"]
    ]
    assert sample in want
    assert _records(params) == want


def test_unknown_filter_values_match_nothing(stack):
    assert _records({"event_type": "no_such_type"}) == []
    assert _records({"metadata[tag]": "no-such-tag"}) == []


@pytest.mark.parametrize("name", ["metadata[customer]", "metadata[entity]", "metadata[]", "metadata"])
def test_metadata_keys_outside_the_documented_set_are_a_400(stack, name):
    body = _error({name: "x"}, "UNKNOWN_PARAMETER", name)
    assert "metadata[entity_id]" in body["message"]  # the accepted names are listed


@pytest.mark.parametrize(
    ("params", "parameter"), [({"locale": "xx"}, "locale"), ({"timezone": "Mars/Base"}, "timezone")]
)
def test_invalid_locale_or_timezone_is_a_400(stack, params, parameter):
    _error(params, "INVALID_PARAMETER", parameter)


def test_format_and_file_type_must_agree(stack):
    _error({"format": "json", "file_type": "csv"}, "INVALID_PARAMETER", "file_type")
    _error({"file_type": "xlsx"}, "INVALID_PARAMETER", "file_type")
    assert _call({**BOUNDS, "format": "csv", "file_type": "csv"})["statusCode"] == 200


def test_file_type_csv_with_locale_and_zone_adds_local_time_column(stack):
    response = _call({**BOUNDS, "file_type": "csv", "locale": "de", "timezone": "America/New_York"})
    assert response["statusCode"] == 200, response["body"]
    rows = parse_csv(response["body"])
    assert rows[0][-1] == "localTime"
    by_id = {r["id"]: r for r in sealed("acme")}
    for row in rows[1:]:
        record = by_id[row[0]]
        local = datetime.fromisoformat(record["timestamp"]).astimezone(ZoneInfo("America/New_York"))
        offset = local.strftime("%z")
        assert row[1] == record["timestamp"]  # UTC kept exact
        assert row[-1] == f"{local:%d.%m.%Y, %H:%M:%S} {offset[:3]}:{offset[3:]}"
    assert len(rows) == 241


def test_pdf_through_the_proxy_is_base64_with_its_content_type_and_filename(stack):
    response = _call({**BOUNDS, "file_type": "pdf", "event_type": "incident", "locale": "fr"})
    assert response["statusCode"] == 200, response["body"]
    assert response["isBase64Encoded"] is True
    assert response_header(response, "Content-Type") == "application/pdf"
    assert response_header(response, "Content-Disposition") == 'attachment; filename="audit-2026-03-01_2026-03-04.pdf"'
    pdf = base64.b64decode(response["body"])
    assert pdf.startswith(b"%PDF-")
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "Export du journal d'audit" in text
    assert "Filtres: event_type = incident" in text
    want = [
        r["id"] for r in sorted(sealed("acme"), key=lambda r: (r["timestamp"], r["id"])) if r["eventType"] == "incident"
    ]
    assert want
    assert all(record_id in text for record_id in want)
    assert not any(r["id"] in text for r in sealed("acme") if r["eventType"] != "incident")


def test_pdf_over_the_cap_is_a_400_never_a_job(stack, monkeypatch):
    monkeypatch.setattr("export_service.logic.audit_export.MAX_PDF_RECORDS", 100)
    body = _error({"file_type": "pdf"}, "EXPORT_TOO_LARGE", "file_type")
    assert "narrow the filters" in body["message"].lower() and "file_type=csv" in body["message"]
    assert body["limit"] == 100
