"""Nightly export logic: the schedule's EventBridge event, as the sample and as devtools.nightly builds it."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel

from devtools.nightly import EVENT_PATH, schedule_event
from export_service.logic.nightly import night_of

pytestmark = pytest.mark.unit


def test_the_sample_schedule_event_is_an_eventbridge_event():
    raw = json.loads(EVENT_PATH.read_text())
    event = EventBridgeModel.model_validate(raw)
    assert event.source == "aws.scheduler"
    assert event.detail_type == "Scheduled Event"
    assert event.time == datetime(2026, 6, 2, 2, 30, tzinfo=UTC)
    assert night_of(event.time) == "2026-06-02"


def test_schedule_event_sets_the_time_and_a_fresh_id():
    raw = json.loads(EVENT_PATH.read_text())
    moment = datetime(2026, 6, 3, 2, 30, tzinfo=UTC)
    first, second = schedule_event(moment), schedule_event(moment)
    assert first["time"] == "2026-06-03T02:30:00Z"
    assert first["id"] != second["id"] and raw["id"] not in (first["id"], second["id"])
    assert str(uuid.UUID(first["id"])) == first["id"]
    assert {k: v for k, v in first.items() if k not in ("id", "time")} == {
        k: v for k, v in raw.items() if k not in ("id", "time")
    }
    event = EventBridgeModel.model_validate(first)
    assert event.time == moment
    assert night_of(event.time) == "2026-06-03"


def test_schedule_event_keeps_milliseconds_and_converts_to_utc():
    moment = datetime(2026, 6, 3, 4, 30, 0, 250000, tzinfo=timezone(timedelta(hours=2)))
    event = schedule_event(moment)
    assert event["time"] == "2026-06-03T02:30:00.250Z"
    assert EventBridgeModel.model_validate(event).time == moment
