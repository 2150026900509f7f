"""build_audit_request: the time bounds and their synonyms (from/to, the audit-event export's range_start/range_end)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from export_service.api.endpoint import Endpoint, check_query
from export_service.errors import InvalidParameterError, InvalidRangeError, UnknownParameterError
from export_service.logic.audit_export import AuditExportRequest, build_audit_request
from export_service.models.audit import AuditExportQuery
from export_service.models.export import ExportFormat

pytestmark = pytest.mark.unit

NOW = datetime(2026, 3, 19, 16, 0, tzinfo=UTC)


def _build(
    start: str | None = None,
    end: str | None = None,
    *,
    range_start: str | None = None,
    range_end: str | None = None,
    filters: dict | None = None,
) -> AuditExportRequest:
    params = {"from": start, "to": end, "range_start": range_start, "range_end": range_end, **(filters or {})}
    query = AuditExportQuery.model_validate({name: value for name, value in params.items() if value is not None})
    return build_audit_request("acme", query, NOW)


def test_from_and_to():
    request = _build("2026-03-01T00:00:00Z", "2026-03-02T12:30:00+02:00")
    assert request == AuditExportRequest(
        tenant_id="acme",
        fmt=ExportFormat.CSV,
        start=datetime(2026, 3, 1, tzinfo=UTC),
        end=datetime(2026, 3, 2, 10, 30, tzinfo=UTC),
        bounded=True,
        filters={},
        bom=False,
    )


def test_range_start_and_range_end_are_synonyms():
    assert _build(range_start="2026-03-01T00:00:00Z", range_end="2026-03-02T00:00:00Z") == _build(
        "2026-03-01T00:00:00Z", "2026-03-02T00:00:00Z"
    )
    # mixing one of each is fine too
    assert _build("2026-03-01", range_end="2026-03-02").end == datetime(2026, 3, 2, tzinfo=UTC)


@pytest.mark.parametrize(
    ("kwargs", "parameter"),
    [
        ({"start": "2026-03-01", "range_start": "2026-03-01"}, "range_start"),
        ({"end": "2026-03-02", "range_end": "2026-03-03"}, "range_end"),
    ],
)
def test_both_synonyms_at_once_is_a_400_naming_the_parameter(kwargs, parameter):
    with pytest.raises(InvalidParameterError) as caught:
        _build(**kwargs)
    body = caught.value.to_body()
    assert body["status"] == 400
    assert body["error"] == "INVALID_PARAMETER"
    assert body["parameter"] == parameter
    assert parameter in body["message"]


def test_from_after_to_is_an_invalid_range():
    with pytest.raises(InvalidRangeError) as caught:
        _build("2026-03-02T00:00:00Z", "2026-03-01T00:00:00Z")
    assert caught.value.to_body() == {
        "status": 400,
        "error": "INVALID_RANGE",
        "message": "'from' (2026-03-02T00:00:00.000Z) is after 'to' (2026-03-01T00:00:00.000Z)",
        "parameter": "from",
    }


def test_range_start_after_range_end_names_the_synonyms():
    with pytest.raises(InvalidRangeError) as caught:
        _build(range_start="2026-03-02", range_end="2026-03-01")
    assert caught.value.parameter == "range_start"
    assert (
        caught.value.message
        == "'range_start' (2026-03-02T00:00:00.000Z) is after 'range_end' (2026-03-01T00:00:00.000Z)"
    )


def test_from_in_the_future_without_to_is_after_now():
    with pytest.raises(InvalidRangeError, match=r"^'from' \(2026-03-20T00:00:00.000Z\) is after 'to' \("):
        _build("2026-03-20")


def test_equal_bounds_are_a_valid_instant_range():
    request = _build("2026-03-01T00:05:00Z", "2026-03-01T00:05:00Z")
    assert request.start == request.end == datetime(2026, 3, 1, 0, 5, tzinfo=UTC)


def test_to_defaults_to_now():
    only_from = _build("2026-03-01")
    assert only_from.end == NOW
    assert only_from.bounded is True
    unbounded = _build()
    assert (unbounded.start, unbounded.end, unbounded.bounded) == (None, NOW, False)
    only_to = _build(end="2026-03-02")
    assert (only_to.start, only_to.bounded) == (None, True)


def test_lower_bound_is_rounded_up_to_the_millisecond():
    assert _build("2026-03-01T00:00:00.0001Z").start == datetime(2026, 3, 1, 0, 0, 0, 1000, tzinfo=UTC)


@pytest.mark.parametrize(
    ("kwargs", "parameter"),
    [
        ({"start": "2026-03-01T00:00:00 UTC"}, "from"),
        ({"end": "tomorrow"}, "to"),
        ({"range_start": "2026/03/01"}, "range_start"),
        ({"range_end": ""}, "range_end"),
    ],
)
def test_malformed_bounds_name_the_parameter_given(kwargs, parameter):
    with pytest.raises(InvalidParameterError) as caught:
        _build(**kwargs)
    assert caught.value.parameter == parameter


def test_empty_filters_are_dropped():
    request = _build(filters={"action": "user.login", "user": None, "namespace": ""})
    assert request.filters == {"action": "user.login"}


def _audit_event(
    lists: dict | None = None, metadata: dict | None = None, locale: str | None = None, timezone: str | None = None
) -> AuditExportRequest:
    params: dict = {"file_type": "pdf", "range_start": "2026-03-01", "range_end": "2026-03-02"}
    params |= {"namespace": "production", "locale": locale, "timezone": timezone, **(lists or {})}
    params |= {f"metadata[{key}]": value for key, value in (metadata or {}).items()}
    query = AuditExportQuery.model_validate({name: value for name, value in params.items() if value is not None})
    return build_audit_request("acme", query, NOW)


def test_audit_event_lists_metadata_locale_and_zone():
    request = _audit_event(
        lists={"event_type": ["incident", "runbook,user", " incident "], "sub_type": [], "auditee_id": None},
        metadata={"entity_id": "e-1", "tag": None, "workflow_step": ""},
        locale="FR",
        timezone="America/New_York",
    )
    assert request.fmt is ExportFormat.PDF
    assert request.any_of == {"eventType": ["incident", "runbook", "user"]}  # split, trimmed, deduplicated
    assert request.metadata == {"entity_id": "e-1"}
    assert (request.locale, request.timezone, request.localized) == ("fr", "America/New_York", True)
    assert request.columns[-1] == "localTime"
    assert request.applied_filters() == [
        ("namespace", "production"),
        ("event_type", "incident, runbook, user"),
        ("metadata[entity_id]", "e-1"),
    ]


def test_without_locale_or_zone_the_columns_are_the_default_ones():
    request = _audit_event()
    assert not request.localized
    assert "localTime" not in request.columns


def test_an_undocumented_metadata_key_is_an_unknown_parameter_named():
    with pytest.raises(UnknownParameterError) as caught:
        check_query({"metadata[customer]": ["x"]}, Endpoint(None, AuditExportQuery))
    assert caught.value.parameter == "metadata[customer]"
    assert "'metadata[customer]'" in caught.value.message and "metadata[entity_id]" in caught.value.message


@pytest.mark.parametrize(
    ("kwargs", "parameter"),
    [
        ({"metadata": {"tag": "x" * 257}}, "metadata[tag]"),
        ({"lists": {"event_type": [",".join(f"t{i}" for i in range(51))]}}, "event_type"),
        ({"lists": {"system_source": ["s" * 257]}}, "system_source"),
        ({"locale": "pt"}, "locale"),
        ({"timezone": "Europe/Nowhere"}, "timezone"),
    ],
)
def test_bad_audit_event_values_name_their_parameter(kwargs, parameter):
    with pytest.raises(InvalidParameterError) as caught:
        _audit_event(**kwargs)
    assert caught.value.parameter == parameter
    assert f"'{parameter}'" in caught.value.message
