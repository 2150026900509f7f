"""The audit-event export over HTTP against the local stack: the PDF report, local times in two locales and zones,
filters on the audit-sentinel fields, their errors, and the same filters carried by export jobs."""

from __future__ import annotations

import csv
import io
import json
import math
import re
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import requests
from pypdf import PdfReader

from export_service.models.audit import AUDIT_COLUMNS
from tests.e2e.conftest import ACME, DEMO_END, GLOBEX, SYNC_LIMIT, Stack

pytestmark = pytest.mark.e2e

# The PDF layout's capacity (README): 17 records on the first page (filters on one line), 23 on each following one.
FIRST_PAGE, PER_PAGE = 17, 23
_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")
# Independent of Babel: CLDR's medium formats written out for the languages checked here.
_FR_MONTHS = ("janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc.")


def _get(http: requests.Session, stack: Stack, token: str, params: dict) -> requests.Response:
    return http.get(stack.export_url, params=params, headers={"apikey": token}, timeout=120)


def _local(timestamp: str, zone: str) -> tuple[datetime, str]:
    moment = datetime.fromisoformat(timestamp).astimezone(ZoneInfo(zone))
    offset = moment.strftime("%z")
    return moment, f"{offset[:3]}:{offset[3:]}"


def _de(timestamp: str, zone: str) -> str:
    d, offset = _local(timestamp, zone)
    return f"{d:%d.%m.%Y, %H:%M:%S} {offset}"


def _fr(timestamp: str, zone: str) -> str:
    d, offset = _local(timestamp, zone)
    return f"{d.day} {_FR_MONTHS[d.month - 1]} {d.year}, {d:%H:%M:%S} {offset}"


def _en(timestamp: str, zone: str) -> str:
    d, offset = _local(timestamp, zone)
    return f"{d:%b} {d.day}, {d.year}, {d.hour % 12 or 12}:{d:%M:%S}\u202f{'AM' if d.hour < 12 else 'PM'} {offset}"


def _csv_cells(record: dict[str, str]) -> list[str]:
    return ["'" + record[c] if record[c][:1] in _TRIGGERS else record[c] for c in AUDIT_COLUMNS]


def _metadata(record: dict[str, str]) -> dict[str, str]:
    return json.loads(record["metadata"]) if record["metadata"] else {}


def _pdf(response: requests.Response) -> tuple[PdfReader, list[str]]:
    assert response.status_code == 200, response.text[:500]
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(response.content))
    return reader, [page.extract_text() for page in reader.pages]


def _pages_for(count: int) -> int:
    return 1 if count <= FIRST_PAGE else 1 + math.ceil((count - FIRST_PAGE) / PER_PAGE)


# ---- PDF ----------------------------------------------------------------------------------------------------------


def test_pdf_download_in_french_and_new_york_time(stack, http, expected):
    # Given globex's incidents resolved or reopened over the whole window (several pages)
    start, end = stack.window
    lo, hi = f"{start:%Y-%m-%dT%H:%M:%S.000Z}", f"{end:%Y-%m-%dT%H:%M:%S.000Z}"
    want = [r for r in expected["globex"] if r["eventType"] == "incident" and r["subType"] in ("resolved", "reopened")]
    assert 100 < len(want) < 1000
    params = {"file_type": "pdf", "event_type": "incident", "sub_type": ["resolved", "reopened"]}
    params |= {"range_start": lo, "range_end": hi, "locale": "fr", "timezone": "America/New_York"}
    # When downloaded as a PDF
    response = _get(http, stack, GLOBEX, params)
    reader, pages = _pdf(response)
    assert response.headers["Content-Disposition"] == f'attachment; filename="audit-{lo[:10]}_{hi[:10]}.pdf"'
    # Then it has the layout's page count, each page numbered and headed in French
    assert len(reader.pages) == _pages_for(len(want))
    for number, text in enumerate(pages, start=1):
        assert f"Page {number} sur {len(pages)}" in text
        assert "Heure ID d'enregistrement Type d'événement Sous-type Action Utilisateur" in text
        assert "Somme de contrôle Métadonnées" in text
    # The first page says who, when and what was asked, in the zone
    first = pages[0]
    assert "Export du journal d'audit" in first
    assert "Locataire: globex" in first
    assert f"Période: {_fr(lo, 'America/New_York')} – {_fr(hi, 'America/New_York')}" in first
    assert "Fuseau horaire: America/New_York" in first
    assert "Filtres: event_type = incident; sub_type = resolved, reopened" in first
    # And every expected record, in order, with its local time and checksum; nothing else
    text = "\n".join(pages)
    assert re.findall(r"audit-\d{8}-\d{6}", text) == [r["id"] for r in want]
    for record in want:
        assert _fr(record["timestamp"], "America/New_York") in text
        assert record["checksum"] in text


def test_pdf_of_exactly_5000_events_and_of_5001(stack, http, expected):
    records = expected["acme"]
    # A range holding exactly 5,001 of acme's records, and one holding exactly 5,000
    over = {"from": records[0]["timestamp"], "to": records[5000]["timestamp"]}
    cap = {"from": records[0]["timestamp"], "to": records[4999]["timestamp"]}
    assert sum(over["from"] <= r["timestamp"] <= over["to"] for r in records) == 5001
    assert sum(cap["from"] <= r["timestamp"] <= cap["to"] for r in records) == 5000
    # 5,001: 400 that says to narrow the filters or use CSV (never a job)
    response = _get(http, stack, ACME, {"file_type": "pdf", **over})
    assert response.status_code == 400, response.text
    body = response.json()
    assert (body["error"], body["parameter"], body["limit"]) == ("EXPORT_TOO_LARGE", "file_type", 5000)
    assert "Narrow the filters" in body["message"] and "file_type=csv" in body["message"]
    # 5,000: the whole report
    reader, pages = _pdf(_get(http, stack, ACME, {"format": "pdf", **cap}))
    assert len(reader.pages) == _pages_for(5000) == 218
    assert re.findall(r"audit-\d{8}-\d{6}", "\n".join(pages)) == [r["id"] for r in records[:5000]]
    assert "Page 218 of 218" in pages[-1]


# ---- local times in csv / json ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "locale", "zone", "oracle"),
    [
        ("csv", "de", "Europe/Berlin", _de),
        ("csv", "en", "Asia/Kolkata", _en),
        ("json", "fr", "America/New_York", _fr),
        ("json", "de", "America/New_York", _de),
    ],
)
def test_local_time_column_value_by_value(stack, http, expected, fmt, locale, zone, oracle):
    # Given a window across the end of March (Europe and New York change to summer time on different days)
    lo, hi = "2026-03-05T00:00:00.000Z", "2026-04-02T00:00:00.000Z"
    want = [r for r in expected["globex"] if lo <= r["timestamp"] <= hi]
    response = _get(http, stack, GLOBEX, {"format": fmt, "from": lo, "to": hi, "locale": locale, "timezone": zone})
    assert response.status_code == 200, response.text
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(response.content.decode("utf-8"), newline="")))
        assert rows[0] == [*AUDIT_COLUMNS, "localTime"]
        assert rows[1:] == [[*_csv_cells(r), oracle(r["timestamp"], zone)] for r in want]
    else:
        document = response.json()
        assert document["metadata"]["locale"] == locale and document["metadata"]["timezone"] == zone
        assert document["metadata"]["totalRecords"] == len(want)
        assert document["records"] == [{**r, "localTime": oracle(r["timestamp"], zone)} for r in want]
    offsets = {oracle(r["timestamp"], zone)[-6:] for r in want}
    assert len(offsets) == (1 if zone == "Asia/Kolkata" else 2)  # the summer-time change is in the window


def test_zone_alone_is_english_and_locale_alone_is_utc(stack, http, expected):
    lo, hi = "2026-03-10T00:00:00.000Z", "2026-03-11T00:00:00.000Z"
    want = [r for r in expected["globex"] if lo <= r["timestamp"] <= hi]
    zone_only = _get(http, stack, GLOBEX, {"format": "jsonl", "from": lo, "to": hi, "timezone": "Asia/Kolkata"})
    assert [json.loads(x)["localTime"] for x in zone_only.text.splitlines()] == [
        _en(r["timestamp"], "Asia/Kolkata") for r in want
    ]
    locale_only = _get(http, stack, GLOBEX, {"format": "jsonl", "from": lo, "to": hi, "locale": "de"})
    assert [json.loads(x)["localTime"] for x in locale_only.text.splitlines()] == [
        _de(r["timestamp"], "UTC") for r in want
    ]


# ---- filters on the audit-event export's fields -------------------------------------------------------------------


def test_audit_event_filters_match_an_independent_computation(stack, http, expected):
    records = expected["acme"]
    sample = next(r for r in records if "tag" in _metadata(r))
    cases = [
        ({"event_type": ["assessment", "api_key"]}, lambda r: r["eventType"] in ("assessment", "api_key")),
        (
            {"system_source": "ci_pipeline", "sub_type": "executed"},
            lambda r: (r["systemSource"], r["subType"]) == ("ci_pipeline", "executed"),
        ),
        ({"auditee_id": sample["auditeeId"]}, lambda r: r["auditeeId"] == sample["auditeeId"]),
        (
            {"metadata[entity_id]": _metadata(sample)["entity_id"], "metadata[tag]": _metadata(sample)["tag"]},
            lambda r: (
                _metadata(r).get("entity_id") == _metadata(sample)["entity_id"]
                and _metadata(r).get("tag") == _metadata(sample)["tag"]
            ),
        ),
        (
            {"event_type": "incident", "namespace": "staging"},
            lambda r: r["eventType"] == "incident" and r["namespace"] == "staging",
        ),
    ]
    for params, keep in cases:
        want = [r for r in records if keep(r)]
        assert want, params
        response = _get(http, stack, ACME, {"format": "jsonl", **params})
        assert response.status_code == 200, (params, response.text)
        assert [json.loads(line) for line in response.text.splitlines()] == want, params


def test_unknown_event_type_matches_nothing_but_unknown_parameter_is_a_400(stack, http):
    empty = _get(http, stack, ACME, {"event_type": "no_such_type"})
    assert empty.status_code == 200
    assert empty.content.decode() == ",".join(AUDIT_COLUMNS) + "\r\n"
    unknown = _get(http, stack, ACME, {"event_types": "runbook"})
    assert unknown.status_code == 400
    assert (unknown.json()["error"], unknown.json()["parameter"]) == ("UNKNOWN_PARAMETER", "event_types")


@pytest.mark.parametrize(
    ("params", "code", "parameter"),
    [
        ({"metadata[customer_id]": "x"}, "UNKNOWN_PARAMETER", "metadata[customer_id]"),
        ({"timezone": "Europe/Atlantis"}, "INVALID_PARAMETER", "timezone"),
        ({"locale": "klingon"}, "INVALID_PARAMETER", "locale"),
        ({"file_type": "pdf", "locale": "xx"}, "INVALID_PARAMETER", "locale"),
        (
            {"range_start": "2026-04-10T00:00:00.000Z", "range_end": "2026-04-01T00:00:00.000Z"},
            "INVALID_RANGE",
            "range_start",
        ),
        ({"file_type": "pdf", "range_start": "2026-04-10", "range_end": "2026-04-01"}, "INVALID_RANGE", "range_start"),
    ],
)
def test_bad_audit_event_input_is_a_400_naming_the_parameter(stack, http, params, code, parameter):
    response = _get(http, stack, ACME, params)
    assert response.status_code == 400, response.text
    body = response.json()
    assert (body["error"], body["parameter"]) == (code, parameter)
    assert f"'{parameter}'" in body["message"]


# ---- the asynchronous path carries the new filters and the local time ---------------------------------------------


def _finished_file(http: requests.Session, stack: Stack, token: str, accepted: requests.Response) -> bytes:
    assert accepted.status_code == 202, accepted.text
    deadline = time.monotonic() + 180
    while True:
        job = http.get(f"{stack.url}{accepted.headers['Location']}", headers={"apikey": token}, timeout=30).json()
        if job["status"]["state"] in ("succeeded", "failed"):
            break
        assert time.monotonic() < deadline, job
        time.sleep(0.5)
    assert job["status"]["state"] == "succeeded", job
    return requests.get(job["status"]["downloadUrl"], timeout=60).content


def test_post_exports_with_audit_event_filters_and_local_time(stack, http, expected):
    body = {
        "dataset": "audit",
        "format": "csv",
        "event_type": ["incident", "runbook"],
        "metadata": {"tag": "database"},
        "locale": "de",
        "timezone": "Europe/Berlin",
    }
    accepted = http.post(f"{stack.url}/v1/exports", json=body, headers={"apikey": ACME}, timeout=60)
    rows = list(csv.reader(io.StringIO(_finished_file(http, stack, ACME, accepted).decode(), newline="")))
    want = [
        r
        for r in expected["acme"]
        if r["eventType"] in ("incident", "runbook") and _metadata(r).get("tag") == "database"
    ]
    assert want
    assert rows[0] == [*AUDIT_COLUMNS, "localTime"]
    assert rows[1:] == [[*_csv_cells(r), _de(r["timestamp"], "Europe/Berlin")] for r in want]


def test_sync_over_the_limit_hands_the_new_filters_to_the_job(stack, http, expected):
    types = ["runbook", "incident", "user", "api_key", "export"]
    want = [r for r in expected["acme"] if r["eventType"] in types]
    assert len(want) > SYNC_LIMIT
    params = {"format": "jsonl", "file_type": "jsonl", "event_type": types, "timezone": "Asia/Kolkata", "to": DEMO_END}
    lines = _finished_file(http, stack, ACME, _get(http, stack, ACME, params)).decode().splitlines()
    assert [json.loads(line) for line in lines] == [
        {**r, "localTime": _en(r["timestamp"], "Asia/Kolkata")} for r in want
    ]
