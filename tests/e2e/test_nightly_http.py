"""Nightly exports end to end: several simulated nights against the local stack, with writes between and during
them, every file downloaded through its presigned link, and the client's sync and stitch checked against the
source data.

The nights are fired with the documented command (``python -m devtools.nightly fire --time ...``), which sends the
schedule's EventBridge event (events/nightly_schedule.json) to the dispatcher, as EventBridge Scheduler does.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import subprocess
import sys
import threading
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import boto3
import pytest
import requests

from devtools.dynamodb_local import free_port  # noqa: F401 - keeps the e2e imports uniform
from devtools.generate import audit_records
from devtools.generate_incidents import incident_bundles
from devtools.provision import local_refs
from export_service.dal.api_key_store import ApiKeyStore
from export_service.dal.audit_store import AuditStore
from export_service.dal.export_request_store import ExportRequestStore
from export_service.dal.incident_store import IncidentStore
from export_service.logic.api_keys import mint_api_key
from export_service.logic.audit_records import seal_audit_record, write_audit_records
from export_service.logic.incident_records import export_row
from export_service.models.api_keys import Permission
from export_service.models.audit import AUDIT_COLUMNS
from export_service.models.incidents import DATASETS, Dataset
from export_service.models.nightly import AUDIT_SOURCE, SOURCE_NAMES
from export_service.timefmt import format_instant
from tests.e2e.conftest import ROOT, Stack
from tests.helpers import spreadsheet_safe

TENANT = "nightly-e2e"
ENABLED = datetime(2026, 6, 20, tzinfo=UTC)
NIGHTS = [datetime(2026, 6, 21 + n, 2, 30, tzinfo=UTC) for n in range(6)]  # N1..N6 (N6: after disabling)
OVERLAP = timedelta(minutes=60)
SOURCE_OF = {DATASETS[d].source: d for d in Dataset}
TOKEN = "ak_nightly_e2e.nightly-e2e-secret-0001"


def _client(stack: Stack, service: str) -> Any:
    endpoint = stack.dynamodb_endpoint if service == "dynamodb" else stack.moto_endpoint
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )


class Source:
    """What the test wrote: every version of every row, per source, to check the nights against."""

    def __init__(self) -> None:
        self.versions: dict[str, list[dict[str, str]]] = defaultdict(list)

    def add(self, source: str, row: dict[str, str]) -> None:
        self.versions[source].append(dict(row))

    def latest(self, source: str) -> list[dict[str, str]]:
        """The final state of every row changed since enabling (what a deduplicated stitch must give)."""
        order = "timestamp" if source == AUDIT_SOURCE else "created_at"
        stamp = "timestamp" if source == AUDIT_SOURCE else "updated_at"
        final: dict[str, dict[str, str]] = {}
        for row in self.versions[source]:
            if row["id"] not in final or row[stamp] >= final[row["id"]][stamp]:
                final[row["id"]] = row
        since, until = format_instant(ENABLED), format_instant(NIGHTS[4])
        kept = [row for row in final.values() if since <= row[stamp] <= until]
        return sorted(kept, key=lambda row: (row[order], row["id"]))


def _write_incident_rows(stack: Stack, truth: Source, rows: list[tuple[Dataset, dict[str, str]]]) -> None:
    store = IncidentStore(_client(stack, "dynamodb"), local_refs()["IncidentsTable"])
    for dataset in Dataset:
        mine = [row for d, row in rows if d is dataset]
        store.put_rows(TENANT, dataset, ((row, {}) for row in mine))
        for row in mine:
            truth.add(DATASETS[dataset].source, row)


def _bundle_rows(count: int, start: datetime, end: datetime, seed: int) -> list[tuple[Dataset, dict[str, str]]]:
    rows: list[tuple[Dataset, dict[str, str]]] = []
    for bundle in incident_bundles(TENANT, count, start, end, seed):
        rows.append((Dataset.INCIDENTS, export_row(Dataset.INCIDENTS, bundle.incident)))
        for dataset, models in (
            (Dataset.INCIDENT_EVENTS, bundle.events),
            (Dataset.INCIDENT_ROLE_ASSIGNMENTS, bundle.role_assignments),
            (Dataset.INCIDENT_IMPACTS, bundle.impacts),
            (Dataset.RETROSPECTIVES, bundle.retrospectives),
        ):
            rows.extend((dataset, export_row(dataset, model)) for model in models)
    return rows


def _changed(row: dict[str, str], at: datetime, **fields: str) -> dict[str, str]:
    return {**row, **fields, "updated_at": format_instant(at)}


def _fire(stack: Stack, moment: datetime) -> list[dict]:
    command = [sys.executable, "-m", "devtools.nightly", "--dynamodb-endpoint", stack.dynamodb_endpoint]
    command += ["--moto-endpoint", stack.moto_endpoint, "fire", "--time", moment.isoformat()]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    return [line for line in lines if {"tenant", "outcome", "status"} <= set(line)]  # not the functions' logs


def _mine(outcomes: list[dict]) -> list[dict]:
    return [outcome for outcome in outcomes if outcome["tenant"] == TENANT]


def _list(http: requests.Session, stack: Stack, **query: str) -> requests.Response:
    return http.get(f"{stack.url}/v1/export-requests", params=query, headers={"apikey": TOKEN}, timeout=60)


def _all_entries(http: requests.Session, stack: Stack, limit: int = 6) -> list[dict]:
    """Walk the listing page by page (whole nights per page)."""
    found: list[dict] = []
    after = None
    while True:
        query = {"limit": str(limit), **({"newer_than": after} if after else {})}
        response = _list(http, stack, **query)
        assert response.status_code == 200, response.text
        body = response.json()
        found.extend(body["data"])
        if not body["pagination"]["has_more"]:
            return found
        after = body["pagination"]["next_newer_than"]


@pytest.fixture(scope="module")
def nights(stack: Stack, http: requests.Session) -> dict[str, Any]:
    """Enable the tenant, write, and run six nights (the sixth after disabling); returns what happened."""
    dynamodb = _client(stack, "dynamodb")
    refs = local_refs()
    key, _ = mint_api_key(
        TENANT,
        [Permission.EXPORTS_READ, Permission.AUDIT_READ, Permission.INCIDENTS_READ],
        ENABLED,
        key_id="ak_nightly_e2e",
        secret="nightly-e2e-secret-0001",
    )
    ApiKeyStore(dynamodb, refs["ApiKeysTable"]).put(key)
    requests_store = ExportRequestStore(dynamodb, refs["ExportRequestsTable"])
    requests_store.enable(TENANT, ENABLED)
    truth = Source()

    # Before night 1: incidents from ten days before enabling (only their changes since enabling count)
    batch_a = _bundle_rows(20, ENABLED - timedelta(days=10), ENABLED + timedelta(hours=20), seed=11)
    _write_incident_rows(stack, truth, batch_a)
    audit = list(audit_records(TENANT, 60, ENABLED - timedelta(days=1), NIGHTS[2], seed=5))
    write_audit_records(AuditStore(dynamodb, refs["AuditTable"]), TENANT, audit)
    for record in audit:
        truth.add(AUDIT_SOURCE, {c: v for c, v in seal_audit_record(record).model_dump().items()})
    outcomes = {1: _fire(stack, NIGHTS[0])}

    # Between nights 1 and 2: changes to five incidents and new incidents
    incidents_a = [row for dataset, row in batch_a if dataset is Dataset.INCIDENTS]
    updates = [
        (Dataset.INCIDENTS, _changed(row, NIGHTS[0] + timedelta(hours=2, minutes=i), name=row["name"] + " (updated)"))
        for i, row in enumerate(incidents_a[:5])
    ]
    retrospective = next(row for dataset, row in batch_a if dataset is Dataset.RETROSPECTIVES)
    updates.append(
        (Dataset.RETROSPECTIVES, _changed(retrospective, NIGHTS[0] + timedelta(hours=3), summary="Revised summary"))
    )
    batch_b = _bundle_rows(6, NIGHTS[0] + timedelta(hours=1), NIGHTS[0] + timedelta(hours=20), seed=12)
    assert not {r["id"] for _, r in batch_a} & {r["id"] for _, r in batch_b}
    _write_incident_rows(stack, truth, updates + batch_b)

    # Night 2 delivered twice at once (EventBridge is at least once), then once more after it finished
    with_duplicates: list[list[dict]] = [[], []]
    threads = [
        threading.Thread(target=lambda i=i: with_duplicates.__setitem__(i, _fire(stack, NIGHTS[1]))) for i in (0, 1)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    outcomes[2] = with_duplicates[0] + with_duplicates[1] + _fire(stack, NIGHTS[1])

    # After night 2 was exported, a late write stamped 10 minutes before night 2's window ended
    late = _changed(incidents_a[6], NIGHTS[1] - timedelta(minutes=10), name="late write")
    _write_incident_rows(stack, truth, [(Dataset.INCIDENTS, late)])

    # Night 3 with writes landing while it runs, stamped around its schedule time
    incidents_b = [row for dataset, row in batch_b if dataset is Dataset.INCIDENTS]
    during = [
        _changed(row, NIGHTS[2] + timedelta(seconds=i - 2), name=f"during run {i}")
        for i, row in enumerate(incidents_b[:5])
    ]

    landed: list[datetime] = []  # when each of those writes was acknowledged
    night3 = f"nightly-{NIGHTS[2]:%Y%m%d}-{TENANT}"

    def write_during() -> None:
        sfn = _client(stack, "stepfunctions")
        machine = local_refs()["ExportStateMachine"]
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # begin once night 3's execution exists
            started = sfn.list_executions(stateMachineArn=machine, maxResults=1000)["executions"]
            if any(execution["name"] == night3 for execution in started):
                break
            time.sleep(0.02)
        for row in during:
            _write_incident_rows(stack, truth, [(Dataset.INCIDENTS, row)])
            landed.append(datetime.now(UTC))

    # A busy night 3 (10,000 audit records in its window): it runs for seconds, so the writes below land inside it
    busy = list(audit_records(TENANT, 10000, NIGHTS[1] + timedelta(hours=1), NIGHTS[2] - timedelta(hours=1), seed=6))
    write_audit_records(AuditStore(dynamodb, refs["AuditTable"]), TENANT, busy)
    for record in busy:
        truth.add(AUDIT_SOURCE, {c: v for c, v in seal_audit_record(record).model_dump().items()})
    writer = threading.Thread(target=write_during)
    writer.start()
    outcomes[3] = _fire(stack, NIGHTS[2])
    writer.join()
    outcomes[4] = _fire(stack, NIGHTS[3])
    outcomes[5] = _fire(stack, NIGHTS[4])  # nothing changed since night 4's overlap
    assert requests_store.disable(TENANT)
    outcomes[6] = _fire(stack, NIGHTS[5])
    return {
        "truth": truth,
        "outcomes": outcomes,
        "during": during,
        "landed": landed,
        "late": late,
        "entries": _all_entries(http, stack),
    }


def _night(entry: dict) -> int:
    ends = [format_instant(n) for n in NIGHTS]
    return ends.index(entry["window_ends_at"]) + 1


def _download(http: requests.Session, entry: dict) -> list[dict[str, str]]:
    response = http.get(entry["url"], timeout=60)
    assert response.status_code == 200, response.text[:500]
    assert hashlib.sha256(response.content).hexdigest() == entry["sha256"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8"), newline="")))
    assert len(rows) == entry["records"]
    return rows


def test_each_night_ran_once_per_tenant_and_duplicates_added_nothing(nights, stack):
    outcomes = nights["outcomes"]
    assert [o["status"] for o in _mine(outcomes[1])] == ["SUCCEEDED"]
    # three deliveries of night 2: one execution; the others were refused by name or skipped as committed
    night2 = _mine(outcomes[2])
    assert len(night2) == 3 and {o["execution"] for o in night2} == {f"nightly-20260622-{TENANT}"}
    assert _mine(outcomes[6]) == []  # disabled: not dispatched
    by_night = defaultdict(list)
    for entry in nights["entries"]:
        by_night[_night(entry)].append(entry)
    assert sorted(by_night) == [1, 2, 3, 4, 5]
    for night, found in by_night.items():
        assert sorted(e["source"] for e in found) == sorted(SOURCE_NAMES), night
    objects = _client(stack, "s3").list_objects_v2(Bucket=local_refs()["ExportBucket"], Prefix=f"nightly/{TENANT}/")
    keys = [item["Key"] for item in objects["Contents"]]
    assert len([key for key in keys if key.endswith(".csv")]) == 30  # five nights, six files each
    assert len([key for key in keys if key.endswith("/manifest.json")]) == 5  # and each night's manifest
    # what Step Functions ran: one execution per night, whatever the number of deliveries
    sfn = _client(stack, "stepfunctions")
    executions = sfn.list_executions(stateMachineArn=local_refs()["ExportStateMachine"], maxResults=1000)["executions"]
    mine = sorted(e["name"] for e in executions if e["name"].endswith(f"-{TENANT}"))
    assert mine == [f"nightly-{night:%Y%m%d}-{TENANT}" for night in NIGHTS[:5]]
    assert all(e["status"] == "SUCCEEDED" for e in executions if e["name"] in mine)


def test_windows_start_an_overlap_before_the_previous_end_and_stop_at_the_run(nights):
    for entry in nights["entries"]:
        night = _night(entry)
        start = ENABLED if night == 1 else NIGHTS[night - 2] - OVERLAP
        assert entry["window_starts_at"] == format_instant(start)
        assert entry["window_ends_at"] == format_instant(NIGHTS[night - 1])
        assert entry["status"] == "completed"
        assert parse_qs(urlsplit(entry["url"]).query)["X-Amz-Expires"] == ["300"]


def test_every_change_is_in_at_least_one_night(nights, http, stack):
    truth: Source = nights["truth"]
    seen: dict[str, set[tuple[str, str]]] = defaultdict(set)
    files: dict[int, dict[str, list[dict[str, str]]]] = defaultdict(dict)
    for entry in nights["entries"]:
        rows = _download(http, entry)
        stamp = "timestamp" if entry["source"] == AUDIT_SOURCE else "updated_at"
        seen[entry["source"]].update((row["id"], row[stamp]) for row in rows)
        files[_night(entry)][entry["source"]] = rows
    since, until = format_instant(ENABLED), format_instant(NIGHTS[4])
    checked = 0
    for source in SOURCE_NAMES:
        stamp = "timestamp" if source == AUDIT_SOURCE else "updated_at"
        for row in truth.versions[source]:
            if since <= row[stamp] <= until:
                assert (row["id"], row[stamp]) in seen[source], (source, row["id"], row[stamp])
                checked += 1
    assert checked > 100
    incident_source = DATASETS[Dataset.INCIDENTS].source
    # the late write (inside the overlap) is in night 3
    late = nights["late"]
    assert (late["id"], late["name"]) in {(r["id"], r["name"]) for r in files[3][incident_source]}
    # writes landed while night 3 ran (between its execution's start and stop) ...
    sfn = _client(stack, "stepfunctions")
    machine = local_refs()["ExportStateMachine"]
    (run,) = (
        sfn.describe_execution(executionArn=e["executionArn"])
        for e in sfn.list_executions(stateMachineArn=machine, maxResults=1000)["executions"]
        if e["name"] == f"nightly-{NIGHTS[2]:%Y%m%d}-{TENANT}"
    )
    assert len(nights["landed"]) == len(nights["during"])
    assert any(run["startDate"] <= moment <= run["stopDate"] for moment in nights["landed"]), (run, nights["landed"])
    # ... and each is in night 3 or night 4, never in neither
    for row in nights["during"]:
        in_3 = row["updated_at"] in {r["updated_at"] for r in files[3][incident_source] if r["id"] == row["id"]}
        in_4 = row["updated_at"] in {r["updated_at"] for r in files[4][incident_source] if r["id"] == row["id"]}
        assert in_3 or in_4, row["id"]
    # night 5 had no changes: every source still has its header-only file
    for source in SOURCE_NAMES:
        assert files[5][source] == []


def test_stitching_with_dedupe_reproduces_the_source_data(nights, stack, tmp_path: Path):
    """The client keeps the nights in a folder (`exports nightly sync`) and stitches them, one file per source."""
    truth: Source = nights["truth"]
    synced, stitched_dir = tmp_path / "nightly", tmp_path / "stitched"
    env = {**os.environ, "EXPORTS_ENDPOINT": stack.url, "EXPORTS_KEY": TOKEN, "EXPORTS_CONFIG": str(tmp_path / "c")}
    for arguments in (["sync", str(synced)], ["stitch", str(synced), "-o", str(stitched_dir)]):
        command = [sys.executable, "-m", "export_client", "nightly", *arguments, "--quiet"]
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
        assert done.returncode == 0, done.stderr
    sizes: dict[str, int] = {}
    for source in SOURCE_NAMES:
        (out,) = stitched_dir.glob(f"{source.split('+')[1]}-*.csv")
        with out.open(encoding="utf-8", newline="") as handle:
            stitched = list(csv.DictReader(handle))
        columns = AUDIT_COLUMNS if source == AUDIT_SOURCE else DATASETS[SOURCE_OF[source]].columns
        want = [{c: spreadsheet_safe(row[c]) for c in columns} for row in truth.latest(source)]
        assert stitched == want, source
        sizes[source] = len(stitched)
    # every source had rows changed since enabling, so the comparison above is never of two empty files
    assert all(sizes.values()), sizes


def test_an_expunged_report_answers_404_and_the_listing_validates_its_input(nights, stack, http):
    entry = next(e for e in nights["entries"] if _night(e) == 1 and e["source"] == AUDIT_SOURCE)
    path = unquote(urlsplit(entry["url"]).path)
    # What the bucket's 30-day lifecycle rule does to the file
    _client(stack, "s3").delete_object(Bucket=local_refs()["ExportBucket"], Key=path[path.index("nightly/") :])
    fresh = next(e for e in _list(http, stack).json()["data"] if e["id"] == entry["id"])
    assert http.get(fresh["url"], timeout=60).status_code == 404
    # The entry itself expires with it (DynamoDB TTL, 30 days after it was created)
    items = _client(stack, "dynamodb").query(
        TableName=local_refs()["ExportRequestsTable"],
        KeyConditionExpression="pk = :pk AND begins_with(sk, :req)",
        ExpressionAttributeValues={":pk": {"S": f"T#{TENANT}"}, ":req": {"S": "REQ#"}},
    )["Items"]
    assert len(items) == 30
    for item in items:
        created = datetime.fromisoformat(item["created_at"]["S"])
        assert int(item["ttl"]["N"]) == int((created + timedelta(days=30)).timestamp())

    bad = _list(http, stack, newer_than="2026-06-31T00:00:00")
    assert bad.status_code == 400 and bad.json()["parameter"] == "newer_than"
    assert _list(http, stack, limit="0").status_code == 400
    first = nights["entries"][0]["created_at"]
    after_first = _list(http, stack, newer_than=first).json()["data"]
    assert all(e["created_at"] > first for e in after_first) and len(after_first) == 24
    # URL-encoded colons, as the nightly data export's example sends them
    encoded = http.get(
        f"{stack.url}/v1/export-requests?newer_than={first.replace(':', '%3A')}", headers={"apikey": TOKEN}, timeout=60
    )
    assert [e["id"] for e in encoded.json()["data"]] == [e["id"] for e in after_first]
