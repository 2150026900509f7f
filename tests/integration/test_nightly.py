"""Nightly exports through the real state machine (moto interprets the ASL; tasks run the real handlers in-process):
the schedule's event, one execution per tenant and night, the files, the commit, the listing.

Faults: a duplicated schedule event; a source worker that crashes after writing its file (retried); a night that
fails for good (nothing published, the next night covers it); a late write (inside the overlap); a tenant with no
changes; a tenant that disabled exports.

The operator's command (``python -m devtools.nightly enable|disable|status``) run in-process against the same tables.
"""

from __future__ import annotations

import csv
import io
import json
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, unquote, urlsplit

import boto3
import pytest

from devtools.lambda_runtime import rest_proxy_event
from devtools.nightly import main as nightly_command
from devtools.nightly import schedule_event
from devtools.provision import local_refs
from export_service.dal.export_request_store import ExportRequestStore
from export_service.dal.incident_store import IncidentStore
from export_service.logic import nightly
from export_service.logic.audit_records import write_audit_records
from export_service.models.audit import AUDIT_COLUMNS, NewAuditRecord
from export_service.models.incidents import DATASETS, Dataset
from export_service.models.nightly import AUDIT_SOURCE, SOURCE_NAMES
from export_service.timefmt import format_instant, utc_now
from tests.helpers import authorizer_context
from tests.integration.support import call

pytestmark = pytest.mark.integration

ENABLED = datetime(2026, 5, 1, 12, tzinfo=UTC)
NIGHT1 = datetime(2026, 5, 2, 2, 30, tzinfo=UTC)
NIGHT2 = NIGHT1 + timedelta(days=1)
NIGHT3 = NIGHT2 + timedelta(days=1)
INCIDENT_SOURCE = DATASETS[Dataset.INCIDENTS].source


def _refs() -> dict[str, str]:
    return local_refs()


def _requests_store() -> ExportRequestStore:
    return ExportRequestStore(boto3.client("dynamodb"), _refs()["ExportRequestsTable"])


def _incidents() -> IncidentStore:
    return IncidentStore(boto3.client("dynamodb"), _refs()["IncidentsTable"])


def incident(number: int, created: datetime, updated: datetime, name: str = "") -> dict[str, str]:
    row = dict.fromkeys(DATASETS[Dataset.INCIDENTS].columns, "")
    row.update(
        id=f"inc-{number:04d}",
        account_id="acc-1",
        organization_id="org-1",
        created_at=format_instant(created),
        updated_at=format_instant(updated),
        number=str(number),
        name=name or f"Incident {number}",
    )
    return row


def put_incidents(tenant: str, rows: list[dict[str, str]]) -> None:
    _incidents().put_rows(tenant, Dataset.INCIDENTS, ((row, {}) for row in rows))


def put_audit(tenant: str, moments: list[datetime]) -> None:
    from export_service.dal.audit_store import AuditStore  # noqa: PLC0415

    store = AuditStore(boto3.client("dynamodb"), _refs()["AuditTable"])
    records = (
        NewAuditRecord(id=f"aud-{moment:%Y%m%d%H%M}", timestamp=moment, action="runbook.create", user="a@example.com")
        for moment in moments
    )
    write_audit_records(store, tenant, records)


def fire(moment: datetime) -> dict:
    return call("NightlyDispatchFunction", schedule_event(moment))


def wait_all(timeout: float = 60) -> list[dict]:
    sfn = boto3.client("stepfunctions")
    arn = next(m["stateMachineArn"] for m in sfn.list_state_machines()["stateMachines"])
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        executions = sfn.list_executions(stateMachineArn=arn)["executions"]
        if all(e["status"] != "RUNNING" for e in executions):
            return [e for e in executions if e["name"].startswith("nightly-")]
        time.sleep(0.2)
    raise AssertionError("nightly executions did not finish")


def listing(tenant: str, permissions: str = "EXPORTS_READ,AUDIT_READ,INCIDENTS_READ", **query: str) -> dict:
    event = rest_proxy_event(
        method="GET",
        path="/v1/export-requests",
        resource="/v1/export-requests",
        query={name: [value] for name, value in query.items()},
        authorizer=authorizer_context(tenant, f"ak_{tenant.replace('-', '_')}", permissions),
    )
    return call("ListExportRequestsFunction", event)


def entries(tenant: str, **query: str) -> list[dict]:
    response = listing(tenant, **query)
    assert response["statusCode"] == 200, response["body"]
    return json.loads(response["body"])["data"]


def download(url: str) -> list[list[str]]:
    path = unquote(urlsplit(url).path)
    key = path[path.index("nightly/") :]
    body = boto3.client("s3").get_object(Bucket=_refs()["ExportBucket"], Key=key)["Body"].read().decode()
    return list(csv.reader(io.StringIO(body, newline="")))


def by_source(found: list[dict], night: str) -> dict[str, dict]:
    return {entry["source"]: entry for entry in found if entry["window_ends_at"].startswith(night)}


def test_a_night_exports_each_source_once_and_lists_it(executing):
    tenant = "nightly-a"
    _requests_store().enable(tenant, ENABLED)
    before = incident(1, ENABLED - timedelta(days=3), ENABLED - timedelta(hours=1))  # changed before enabling
    changed = incident(2, ENABLED - timedelta(days=3), ENABLED + timedelta(hours=2), name="=HYPERLINK(1)")
    new = incident(3, ENABLED + timedelta(hours=5), ENABLED + timedelta(hours=5))
    after = incident(4, NIGHT1 + timedelta(minutes=1), NIGHT1 + timedelta(minutes=1))  # after the night's schedule
    put_incidents(tenant, [before, changed, new, after])
    put_audit(tenant, [ENABLED + timedelta(hours=1), ENABLED - timedelta(hours=2)])

    result = fire(NIGHT1)
    assert [t["outcome"] for t in result["tenants"] if t["tenant"] == tenant] == ["started"]
    runs = [e for e in wait_all() if e["name"] == f"nightly-20260502-{tenant}"]
    assert [e["status"] for e in runs] == ["SUCCEEDED"]

    found = entries(tenant)
    assert sorted(e["source"] for e in found) == sorted(SOURCE_NAMES)
    assert {e["window_starts_at"] for e in found} == {"2026-05-01T12:00:00.000Z"}  # the first night: from enabling
    assert {e["window_ends_at"] for e in found} == {"2026-05-02T02:30:00.000Z"}  # up to the run's start
    assert {e["status"] for e in found} == {"completed"}
    assert len({e["created_at"] for e in found}) == 1
    for entry in found:
        assert parse_qs(urlsplit(entry["url"]).query)["X-Amz-Expires"] == ["300"]
    files = {entry["source"]: download(entry["url"]) for entry in found}
    incidents = files[INCIDENT_SOURCE]
    assert incidents[0] == list(DATASETS[Dataset.INCIDENTS].columns)
    assert [row[0] for row in incidents[1:]] == ["inc-0002", "inc-0003"]  # in change order
    assert incidents[1][incidents[0].index("name")] == "'=HYPERLINK(1)"  # formula neutralised
    audit = files[AUDIT_SOURCE]
    assert audit[0] == list(AUDIT_COLUMNS)
    assert [row[0] for row in audit[1:]] == ["aud-202605011300"]
    # sources without changes still get their header-only file, so a missing night is visible
    for source in SOURCE_NAMES:
        if source not in (INCIDENT_SOURCE, AUDIT_SOURCE):
            assert len(files[source]) == 1 and files[source][0][0] == "id"
            assert next(e for e in found if e["source"] == source)["records"] == 0

    # The entries expire with their files after 30 days (DynamoDB TTL on the item)
    items = boto3.client("dynamodb").query(
        TableName=_refs()["ExportRequestsTable"],
        KeyConditionExpression="pk = :pk AND begins_with(sk, :req)",
        ExpressionAttributeValues={":pk": {"S": f"T#{tenant}"}, ":req": {"S": "REQ#"}},
    )["Items"]
    assert len(items) == 6
    created = datetime.fromisoformat(found[0]["created_at"])
    assert {int(item["ttl"]["N"]) for item in items} == {int((created + timedelta(days=30)).timestamp())}

    # A duplicated schedule event (the same night delivered again) starts nothing and publishes nothing
    again = fire(NIGHT1 + timedelta(seconds=1))
    assert [t["outcome"] for t in again["tenants"] if t["tenant"] == tenant] == ["skipped: night already committed"]
    assert len([e for e in wait_all() if e["name"] == f"nightly-20260502-{tenant}"]) == 1
    assert len(entries(tenant)) == 6

    # Another tenant sees none of it
    assert entries("nightly-other") == []


def test_a_duplicate_delivered_while_the_night_runs_starts_no_second_execution(executing):
    tenant = "nightly-dup"
    _requests_store().enable(tenant, ENABLED)
    put_incidents(tenant, [incident(1, ENABLED + timedelta(hours=1), ENABLED + timedelta(hours=1))])
    first, second = fire(NIGHT1), fire(NIGHT1)  # the second before the first night committed
    assert [t["outcome"] for t in first["tenants"] if t["tenant"] == tenant] == ["started"]
    assert [t["outcome"] for t in second["tenants"] if t["tenant"] == tenant] in (
        # Step Functions answers a start of a running execution (same name, same input) with that execution ...
        ["started"],
        ["skipped: already started"],  # ... refuses it once that execution has ended ...
        ["skipped: night already committed"],  # ... and the dispatcher skips a committed night itself
    )
    assert len([e for e in wait_all() if e["name"].endswith(f"-{tenant}")]) == 1
    found = entries(tenant)
    assert len(found) == 6
    assert by_source(found, "2026-05-02")[INCIDENT_SOURCE]["records"] == 1


def test_a_source_worker_that_crashes_once_is_retried_and_the_night_is_published_once(executing, monkeypatch):
    tenant = "nightly-retry"
    _requests_store().enable(tenant, ENABLED)
    put_incidents(tenant, [incident(n, ENABLED + timedelta(hours=n), ENABLED + timedelta(hours=n)) for n in (1, 2)])
    real = nightly.export_source
    crashed: list[str] = []

    def crash_after_writing(stores, files, run):
        result = real(stores, files, run)  # the file is written ...
        if run.source == INCIDENT_SOURCE and not crashed:
            crashed.append(run.source)
            raise RuntimeError("worker lost after writing its file")  # ... and the worker dies
        return result

    monkeypatch.setattr(nightly, "export_source", crash_after_writing)
    fire(NIGHT1)
    assert [e["status"] for e in wait_all(90) if e["name"].endswith(f"-{tenant}")] == ["SUCCEEDED"]
    assert crashed == [INCIDENT_SOURCE]
    found = by_source(entries(tenant), "2026-05-02")
    assert len(found) == 6
    rows = download(found[INCIDENT_SOURCE]["url"])
    assert [row[0] for row in rows[1:]] == ["inc-0001", "inc-0002"]  # each row once
    prefix = f"nightly/{tenant}/2026-05-02/"
    objects = boto3.client("s3").list_objects_v2(Bucket=_refs()["ExportBucket"], Prefix=prefix)["Contents"]
    names = sorted(item["Key"].removeprefix(prefix) for item in objects)
    # one file per source (the retry rewrote its own), and the night's manifest
    assert len(names) == 7 and names.count("manifest.json") == 1


def test_a_night_that_fails_publishes_nothing_and_the_next_night_covers_it(executing, monkeypatch):
    tenant = "nightly-fail"
    store = _requests_store()
    store.enable(tenant, ENABLED)
    put_incidents(tenant, [incident(1, ENABLED + timedelta(hours=1), ENABLED + timedelta(hours=1))])

    def broken(stores, files, run):
        raise RuntimeError("DynamoDB is unreachable")

    with monkeypatch.context() as patch:
        patch.setattr(nightly, "export_source", broken)
        fire(NIGHT1)
        assert [e["status"] for e in wait_all(120) if e["name"].endswith(f"-{tenant}")] == ["FAILED"]
    assert entries(tenant) == []
    config = store.get_config(tenant)
    assert config is not None and config.watermark is None and config.last_night is None

    put_incidents(tenant, [incident(2, NIGHT1 + timedelta(hours=3), NIGHT1 + timedelta(hours=3))])
    fire(NIGHT2)
    assert [e["status"] for e in wait_all() if e["name"] == f"nightly-20260503-{tenant}"] == ["SUCCEEDED"]
    found = by_source(entries(tenant), "2026-05-03")
    assert found[INCIDENT_SOURCE]["window_starts_at"] == "2026-05-01T12:00:00.000Z"  # still from enabling
    assert [row[0] for row in download(found[INCIDENT_SOURCE]["url"])[1:]] == ["inc-0001", "inc-0002"]


def test_a_late_write_inside_the_overlap_is_in_the_next_night(executing):
    tenant = "nightly-late"
    store = _requests_store()
    store.enable(tenant, ENABLED)
    fire(NIGHT1)
    wait_all()
    # Written after night 1 was exported, stamped 10 minutes before night 1's window ended
    late = incident(7, NIGHT1 - timedelta(minutes=10), NIGHT1 - timedelta(minutes=10))
    put_incidents(tenant, [late])
    fire(NIGHT2)
    wait_all()
    found = entries(tenant)
    night1, night2 = by_source(found, "2026-05-02"), by_source(found, "2026-05-03")
    assert night1[INCIDENT_SOURCE]["records"] == 0
    # The second window starts an overlap (60 minutes) before the first ended
    assert night2[INCIDENT_SOURCE]["window_starts_at"] == "2026-05-02T01:30:00.000Z"
    assert [row[0] for row in download(night2[INCIDENT_SOURCE]["url"])[1:]] == ["inc-0007"]
    config = store.get_config(tenant)
    assert config is not None and config.watermark == NIGHT2 and config.last_night == "2026-05-03"


def test_a_disabled_tenant_gets_no_run_and_no_files(executing):
    tenant = "nightly-off"
    store = _requests_store()
    store.enable(tenant, ENABLED)
    put_incidents(tenant, [incident(1, ENABLED + timedelta(hours=1), ENABLED + timedelta(hours=1))])
    assert store.disable(tenant)
    result = fire(NIGHT1)
    assert tenant not in [t["tenant"] for t in result["tenants"]]
    assert not [e for e in wait_all() if e["name"].endswith(f"-{tenant}")]
    assert entries(tenant) == []
    bucket = _refs()["ExportBucket"]
    assert "Contents" not in boto3.client("s3").list_objects_v2(Bucket=bucket, Prefix=f"nightly/{tenant}/")


def test_the_listing_pages_whole_nights_and_filters_by_newer_than(executing):
    tenant = "nightly-pages"
    _requests_store().enable(tenant, ENABLED)
    for night in (NIGHT1, NIGHT2, NIGHT3):
        fire(night)
        wait_all()
    everything = entries(tenant)
    assert len(everything) == 18
    created = sorted({e["created_at"] for e in everything})
    assert len(created) == 3  # one creation time per night, strictly increasing
    assert [e["created_at"] for e in everything] == sorted(e["created_at"] for e in everything)

    # newer_than: strictly after (the seed's "generated after that date")
    assert {e["created_at"] for e in entries(tenant, newer_than=created[0])} == set(created[1:])
    assert entries(tenant, newer_than=created[2]) == []

    # limit 8 holds one whole night (6), never part of the next
    pages, after = [], None
    while True:
        query = {"limit": "8", **({"newer_than": after} if after else {})}
        response = listing(tenant, **query)
        body = json.loads(response["body"])
        pages.append([e["id"] for e in body["data"]])
        if not body["pagination"]["has_more"]:
            break
        after = body["pagination"]["next_newer_than"]
    assert [len(page) for page in pages] == [6, 6, 6]
    assert [i for page in pages for i in page] == [e["id"] for e in everything]


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ({"newer_than": "yesterday"}, "newer_than"),
        ({"newer_than": "2026-13-01T00:00:00Z"}, "newer_than"),
        ({"limit": "5"}, "limit"),
        ({"limit": "601"}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"newer": "2026-05-01"}, "newer"),
    ],
)
def test_bad_listing_input_is_a_400_naming_the_parameter(stack, query, parameter):
    response = listing("nightly-a", **query)
    assert response["statusCode"] == 400, response["body"]
    assert json.loads(response["body"])["parameter"] == parameter


def test_the_listing_needs_exports_read(stack):
    response = listing("nightly-a", permissions="AUDIT_READ", newer_than="garbage")
    assert response["statusCode"] == 403


# ---- the operator's command: enable, disable, status ------------------------------------------------------------


def command(capsys, *argv: str) -> str:
    """Run ``python -m devtools.nightly`` in-process against moto's table (``--dynamodb-endpoint ""``: the
    default AWS client, as for a deployed stack); returns what it printed."""
    capsys.readouterr()
    assert nightly_command(["--dynamodb-endpoint", "", "--table", _refs()["ExportRequestsTable"], *argv]) == 0
    return capsys.readouterr().out


def status(capsys) -> dict[str, dict]:
    """``status``: one JSON line per tenant with nightly exports on, by tenant."""
    lines = [json.loads(line) for line in command(capsys, "status").splitlines()]
    assert all(line["enabled"] is True for line in lines)  # only enabled tenants are listed
    return {line["tenant"]: line for line in lines}


def test_the_command_enables_a_tenant_status_reports_it_and_disable_turns_it_off(stack, capsys):
    tenant = "nightly-cli"
    out = command(capsys, "enable", "--tenant", tenant, "--since", "2026-05-01T14:00:00+02:00")
    assert out == f"nightly exports on for {tenant} (first window from 2026-05-01T12:00:00.000Z; csv files)\n"
    assert status(capsys)[tenant] == {
        "tenant": tenant,
        "enabled": True,
        "enabled_at": "2026-05-01T12:00:00Z",  # --since, in UTC
        "watermark": None,
        "last_night": None,
        "last_created_at": None,
        "format": "csv",
    }
    config = _requests_store().get_config(tenant)
    assert config is not None and config.enabled and config.enabled_at == ENABLED

    assert command(capsys, "disable", "--tenant", tenant) == f"nightly exports off for {tenant}\n"
    assert tenant not in status(capsys)  # status lists the tenants that are on
    config = _requests_store().get_config(tenant)
    assert config is not None and not config.enabled


def test_enabling_again_keeps_the_first_enablement_and_re_enabling_after_disable_starts_afresh(stack, capsys):
    tenant = "nightly-cli-twice"
    store = _requests_store()
    command(capsys, "enable", "--tenant", tenant, "--since", "2026-05-01T12:00:00Z")
    # A night committed under that enablement moves the watermark
    store.commit(tenant, "2026-05-02", ENABLED, NIGHT1, NIGHT1 + timedelta(minutes=5), [], 0)
    committed = {
        "tenant": tenant,
        "enabled": True,
        "enabled_at": "2026-05-01T12:00:00Z",
        "watermark": "2026-05-02T02:30:00Z",
        "last_night": "2026-05-02",
        "last_created_at": "2026-05-02T02:35:00Z",
        "format": "csv",
    }
    assert status(capsys)[tenant] == committed

    # Enabling while enabled changes nothing: neither the start nor the watermark
    for again in (["--since", "2026-05-10T00:00:00Z"], []):
        out = command(capsys, "enable", "--tenant", tenant, *again)
        assert (
            out == f"nightly exports were already on for {tenant} (since 2026-05-01T12:00:00.000Z); nothing changed\n"
        )
    assert status(capsys)[tenant] == committed

    # Re-enabling after a disable starts afresh from --since: no watermark, no committed night
    command(capsys, "disable", "--tenant", tenant)
    command(capsys, "enable", "--tenant", tenant, "--since", "2026-05-10T00:00:00Z")
    assert status(capsys)[tenant] == {
        "tenant": tenant,
        "enabled": True,
        "enabled_at": "2026-05-10T00:00:00Z",
        "watermark": None,
        "last_night": None,
        "last_created_at": None,
        "format": "csv",
    }
    command(capsys, "disable", "--tenant", tenant)  # leave it off: the other tests fire nights for every tenant on


def test_enable_without_since_starts_now(stack, capsys):
    tenant = "nightly-cli-now"
    before = utc_now()
    out = command(capsys, "enable", "--tenant", tenant)
    after = utc_now()
    enabled_at = datetime.fromisoformat(status(capsys)[tenant]["enabled_at"])
    assert before.replace(microsecond=before.microsecond // 1000 * 1000) <= enabled_at <= after  # milliseconds kept
    assert out == f"nightly exports on for {tenant} (first window from {format_instant(enabled_at)}; csv files)\n"
    command(capsys, "disable", "--tenant", tenant)


def test_disabling_a_tenant_that_never_enabled_says_so_and_writes_nothing(stack, capsys):
    tenant = "nightly-cli-never"
    assert command(capsys, "disable", "--tenant", tenant) == f"{tenant} never had nightly exports\n"
    assert _requests_store().get_config(tenant) is None
    assert tenant not in status(capsys)
