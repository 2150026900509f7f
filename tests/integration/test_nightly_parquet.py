"""Parquet nightly files through the real state machine (moto interprets the ASL; tasks run the real handlers
in-process): the operator's command sets a tenant's format, the night's files are Parquet with typed columns at
fixed keys, a source worker that crashes is retried into the same file, the listing and the signed manifest name the
format, and switching the format of a tenant that is on keeps its window.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import unquote, urlsplit

import boto3
import pyarrow.parquet as pq
import pytest

from devtools.nightly import main as nightly_command
from export_service.dal.executions import StepFunctionsStarter
from export_service.logic import nightly
from export_service.models.audit import AUDIT_COLUMNS
from export_service.models.incidents import DATASETS, Dataset
from export_service.models.nightly import AUDIT_SOURCE, NIGHTLY_SOURCES, SOURCE_NAMES
from tests.integration.test_nightly import (
    ENABLED,
    INCIDENT_SOURCE,
    NIGHT1,
    NIGHT2,
    _refs,
    _requests_store,
    by_source,
    command,
    entries,
    fire,
    incident,
    put_audit,
    put_incidents,
    status,
    wait_all,
)

pytestmark = pytest.mark.integration


def _object(url: str) -> tuple[str, bytes, str]:
    path = unquote(urlsplit(url).path)
    key = path[path.index("nightly/") :]
    got = boto3.client("s3").get_object(Bucket=_refs()["ExportBucket"], Key=key)
    return key, got["Body"].read(), got["ContentType"]


def _table(body: bytes, folder: Path, name: str) -> list[dict]:
    path = folder / name
    path.write_bytes(body)
    table = pq.read_table(path)
    return table.to_pylist()


def test_a_parquet_tenants_night_is_typed_files_listed_and_signed_with_their_format(
    executing, monkeypatch, capsys, tmp_path
):
    tenant = "nightly-parquet"
    out = command(capsys, "enable", "--tenant", tenant, "--since", "2026-05-01T12:00:00Z", "--format", "parquet")
    assert out == f"nightly exports on for {tenant} (first window from 2026-05-01T12:00:00.000Z; parquet files)\n"
    assert status(capsys)[tenant]["format"] == "parquet"
    changed = incident(2, ENABLED - timedelta(days=3), ENABLED + timedelta(hours=2), name="=HYPERLINK(1)")
    new = incident(3, ENABLED + timedelta(hours=5), ENABLED + timedelta(hours=5))
    put_incidents(tenant, [changed, new])
    put_audit(tenant, [ENABLED + timedelta(hours=1), ENABLED + timedelta(hours=3)])

    real, crashed = nightly.export_source, []

    def crash_after_writing(stores, files, run):  # the worker dies once after writing its file: the step is retried
        result = real(stores, files, run)
        if run.source == AUDIT_SOURCE and not crashed:
            crashed.append(run.format)
            raise RuntimeError("worker lost after writing its file")
        return result

    monkeypatch.setattr(nightly, "export_source", crash_after_writing)
    fire(NIGHT1)
    assert [e["status"] for e in wait_all(120) if e["name"].endswith(f"-{tenant}")] == ["SUCCEEDED"]
    assert crashed == ["parquet"]

    found = by_source(entries(tenant), "2026-05-02")
    assert sorted(found) == sorted(SOURCE_NAMES)
    assert {entry["format"] for entry in found.values()} == {"parquet"}
    files = {}
    for source, entry in found.items():
        key, body, content_type = _object(entry["url"])
        assert key == f"nightly/{tenant}/2026-05-02/{NIGHTLY_SOURCES[source].slug}.parquet"
        assert content_type == "application/vnd.apache.parquet"
        assert f"{NIGHTLY_SOURCES[source].slug}-2026-05-02.parquet" in unquote(entry["url"])  # the download's name
        files[source] = _table(body, tmp_path, f"{NIGHTLY_SOURCES[source].slug}.parquet")
        assert len(files[source]) == entry["records"]
        assert hashlib.sha256(body).hexdigest() == entry["sha256"]

    incidents = files[INCIDENT_SOURCE]
    assert [row["id"] for row in incidents] == ["inc-0002", "inc-0003"]  # in change order, each once
    assert incidents[0]["name"] == "=HYPERLINK(1)"  # Parquet keeps the value (nothing opens it as a spreadsheet)
    assert incidents[0]["updated_at"] == ENABLED + timedelta(hours=2)  # a timestamp, not a string
    assert list(incidents[0]) == list(DATASETS[Dataset.INCIDENTS].columns)
    audit = files[AUDIT_SOURCE]
    assert list(audit[0]) == list(AUDIT_COLUMNS)
    assert [row["timestamp"] for row in audit] == [ENABLED + timedelta(hours=1), ENABLED + timedelta(hours=3)]
    assert all(isinstance(row["timestamp"], datetime) for row in audit)
    for source in SOURCE_NAMES:
        if source not in (INCIDENT_SOURCE, AUDIT_SOURCE):
            assert files[source] == [] and found[source]["records"] == 0  # a file with the columns, no row

    # one file per source (the retry rewrote its own), and the night's signed manifest naming the Parquet files
    prefix = f"nightly/{tenant}/2026-05-02/"
    s3 = boto3.client("s3")
    listed = s3.list_objects_v2(Bucket=_refs()["ExportBucket"], Prefix=prefix)["Contents"]
    names = sorted(item["Key"].removeprefix(prefix) for item in listed)
    assert names == sorted([f"{NIGHTLY_SOURCES[s].slug}.parquet" for s in SOURCE_NAMES] + ["manifest.json"])
    manifest = json.loads(s3.get_object(Bucket=_refs()["ExportBucket"], Key=prefix + "manifest.json")["Body"].read())
    assert manifest["format"] == "parquet" and manifest["signature"]
    signed = {(e["source"], e["name"], e["format"], e["sha256"], e["rows"]) for e in manifest["files"]}
    assert signed == {
        (source, f"{NIGHTLY_SOURCES[source].slug}-2026-05-02.parquet", "parquet", entry["sha256"], entry["records"])
        for source, entry in found.items()
    }
    command(capsys, "disable", "--tenant", tenant)  # the other tests fire nights for every tenant on


def test_switching_the_format_of_a_tenant_that_is_on_keeps_its_window(executing, capsys, tmp_path):
    tenant = "nightly-switch"
    command(capsys, "enable", "--tenant", tenant, "--since", "2026-05-01T12:00:00Z")
    put_incidents(tenant, [incident(1, ENABLED + timedelta(hours=1), ENABLED + timedelta(hours=1))])
    fire(NIGHT1)
    wait_all()
    out = command(capsys, "enable", "--tenant", tenant, "--format", "parquet")
    assert out == (
        f"nightly exports were already on for {tenant} (since 2026-05-01T12:00:00.000Z); parquet files from the next "
        "night on (were csv), same window\n"
    )
    again = command(capsys, "enable", "--tenant", tenant, "--format", "parquet")
    assert again.endswith("; nothing changed\n")
    config = _requests_store().get_config(tenant)
    assert config is not None and config.format == "parquet" and config.last_night == "2026-05-02"
    put_incidents(tenant, [incident(2, NIGHT1 + timedelta(hours=1), NIGHT1 + timedelta(hours=1))])
    fire(NIGHT2)
    wait_all()
    first, second = by_source(entries(tenant), "2026-05-02"), by_source(entries(tenant), "2026-05-03")
    assert first[INCIDENT_SOURCE]["format"] == "csv" and second[INCIDENT_SOURCE]["format"] == "parquet"
    # the second night follows the first (the overlap before its end), as it would have in CSV
    assert second[INCIDENT_SOURCE]["window_starts_at"] == "2026-05-02T01:30:00.000Z"
    _key, body, _type = _object(second[INCIDENT_SOURCE]["url"])
    assert [row["id"] for row in _table(body, tmp_path, "second.parquet")] == ["inc-0002"]
    command(capsys, "disable", "--tenant", tenant)  # the other tests fire nights for every tenant on


def test_a_night_started_without_a_format_by_an_older_dispatcher_writes_csv(executing, capsys, monkeypatch):
    # While a deploy rolls out, the dispatcher of the release before formats existed may start a night on the new
    # state machine: its input has no format. The state machine reads that as csv, as that dispatcher meant.
    start = StepFunctionsStarter.start
    sent: list[dict] = []

    def without_format(self, name, payload):
        sent.append({key: value for key, value in payload.items() if key != "format"})
        return start(self, name, sent[-1])

    monkeypatch.setattr(StepFunctionsStarter, "start", without_format)
    tenant = "nightly-older-dispatcher"
    command(capsys, "enable", "--tenant", tenant, "--since", "2026-05-01T12:00:00Z")
    put_incidents(tenant, [incident(1, ENABLED + timedelta(hours=1), ENABLED + timedelta(hours=1))])
    fire(NIGHT1)
    runs = [e for e in wait_all() if e["name"] == f"nightly-20260502-{tenant}"]
    assert [e["status"] for e in runs] == ["SUCCEEDED"]
    assert all("format" not in payload for payload in sent) and sent
    found = by_source(entries(tenant), "2026-05-02")
    assert {entry["format"] for entry in found.values()} == {"csv"}
    key, body, content_type = _object(found[INCIDENT_SOURCE]["url"])
    assert key.endswith(".csv") and content_type.startswith("text/csv")
    assert body.decode().splitlines()[1].startswith("inc-0001,")
    command(capsys, "disable", "--tenant", tenant)  # the other tests fire nights for every tenant on


def test_a_bad_format_is_refused_naming_the_option_and_changes_nothing(stack, capsys):
    tenant = "nightly-bad-format"
    with pytest.raises(SystemExit) as exited:
        nightly_command(
            ["--dynamodb-endpoint", "", "--table", _refs()["ExportRequestsTable"], "enable", "--tenant", tenant,
             "--format", "xlsx"]
        )  # fmt: skip
    assert exited.value.code == 2
    assert "--format must be one of csv, parquet, not 'xlsx'" in capsys.readouterr().err
    assert _requests_store().get_config(tenant) is None
