"""The nightly commit deadline: the dispatcher, called by the NightlyCommitDeadline schedule (events/
nightly_deadline.json), names the tenants with nightly exports on whose night was not committed and publishes how
many in NightlyNotCommitted, which NightlyNotCommittedAlarm watches."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from devtools.provision import local_refs
from export_service.dal.export_request_store import ExportRequestStore
from export_service.logic.nightly_watch import late_tenants
from export_service.models.nightly import NightlyConfig
from export_service.observability import logger
from tests.helpers import load_event
from tests.integration.support import call

pytestmark = pytest.mark.integration

CHECK = datetime(2026, 6, 2, 6, 30, tzinfo=UTC)  # the sample event's time: 4 h after the 02:30 night


def _config(tenant: str, enabled_at: datetime, watermark: datetime | None, enabled: bool = True) -> NightlyConfig:
    return NightlyConfig(tenant=tenant, enabled=enabled, enabled_at=enabled_at, watermark=watermark)


def test_late_tenants_are_those_due_without_a_night_in_the_last_day():
    long_ago = CHECK - timedelta(days=30)
    configs = [
        _config("committed", long_ago, CHECK - timedelta(hours=4)),  # tonight's window ended 02:30: on time
        _config("missed", long_ago, CHECK - timedelta(hours=28)),  # last night was yesterday's
        _config("never", long_ago, None),  # enabled a month ago, never committed
        _config("new", CHECK - timedelta(hours=5), None),  # enabled this morning: not due yet
        _config("off", long_ago, None, enabled=False),
    ]
    assert late_tenants(configs, CHECK) == ["missed", "never"]


def _enable(tenant: str, enabled_at: datetime, watermark: datetime | None) -> None:
    store = ExportRequestStore(boto3.client("dynamodb"), local_refs()["ExportRequestsTable"])
    store.enable(tenant, enabled_at)
    if watermark is not None:
        boto3.client("dynamodb").update_item(
            TableName=local_refs()["ExportRequestsTable"],
            Key={"pk": {"S": f"T#{tenant}"}, "sk": {"S": "CONFIG"}},
            UpdateExpression="SET watermark = :w",
            ExpressionAttributeValues={":w": {"S": watermark.isoformat().replace("+00:00", "Z")}},
        )


def test_the_deadline_check_names_late_tenants_and_publishes_their_count(stack, capsys):
    _enable("deadline-ok", CHECK - timedelta(days=10), CHECK - timedelta(hours=4))
    _enable("deadline-late", CHECK - timedelta(days=10), CHECK - timedelta(hours=28))
    stream = io.StringIO()
    previous = logger.registered_handler.setStream(stream)  # type: ignore[attr-defined]
    try:
        result = call("NightlyDispatchFunction", load_event("nightly_deadline"))
    finally:
        logger.registered_handler.setStream(previous)  # type: ignore[attr-defined]
    assert "deadline-late" in result["late"] and "deadline-ok" not in result["late"]
    out = capsys.readouterr().out
    blobs = [json.loads(line) for line in out.splitlines() if '"NightlyNotCommitted"' in line and '"_aws"' in line]
    assert blobs and blobs[-1]["NightlyNotCommitted"] == [float(len(result["late"]))]
    assert blobs[-1]["service"] == "export-service"
    lines = [json.loads(line) for line in stream.getvalue().splitlines() if "not committed by the deadline" in line]
    assert lines and "deadline-late" in lines[-1]["tenants"]
