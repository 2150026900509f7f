"""Export job logic without AWS: validation, frozen parameters, chunking, filenames."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from export_service.dal.query import QueryPartition
from export_service.errors import InvalidParameterError
from export_service.logic.datasets import export_spec
from export_service.logic.export_jobs import JobSpec, build_job, chunk, frozen_parameters, job_query, new_job_id
from export_service.models.api_keys import Permission, Principal
from export_service.models.export import ExportFormat

pytestmark = pytest.mark.unit
NOW = datetime(2026, 3, 19, 16, 0, tzinfo=UTC)
ACME_ALL = Principal(tenant_id="acme", key_id="ak_acme_all", permissions=frozenset(Permission))


def build_job_spec(tenant: str, dataset: str, fmt: ExportFormat, params: dict, now: datetime) -> JobSpec:
    """A job's parameters validated by its dataset's query model, and the request they make."""
    spec = export_spec(dataset)
    return build_job(tenant, spec, fmt, job_query(spec, fmt, params), now)


def _part(n: int) -> QueryPartition:
    return QueryPartition(index=None, pk_attr="pk", pk=f"p{n}", sk_lo="a", sk_hi="b")


def test_an_open_range_is_frozen_at_creation():
    spec = build_job_spec("acme", "audit", ExportFormat.CSV, {"from": "2026-03-01"}, NOW)
    assert frozen_parameters(spec) == {"from": "2026-03-01", "format": "csv", "to": "2026-03-19T16:00:00.000Z"}


@pytest.mark.parametrize(
    "params",
    [
        {"to": "2026-03-10"},
        {"range_end": "2026-03-10"},
        {"to_time": "2026-03-10"},
        {"filter": json.dumps({"range": {"end": "2026-03-10T00:00:00Z"}})},
    ],
)
def test_a_given_end_is_kept(params):
    spec = build_job_spec("acme", "incidents", ExportFormat.CSV, params, NOW)
    assert frozen_parameters(spec) == {**params, "format": "csv"}


def test_a_tag_named_end_does_not_count_as_a_range_end():
    params = {"filter": json.dumps({"tags": ["end"]})}
    spec = build_job_spec("acme", "incidents", ExportFormat.CSV, params, NOW)
    assert frozen_parameters(spec)["to"] == "2026-03-19T16:00:00.000Z"


@pytest.mark.parametrize(
    ("dataset", "params", "parameter"),
    [
        ("nope", {}, "dataset"),
        ("audit", {"severities": "HIGH"}, "severities"),
        ("audit", {"from": ["a", "b"]}, "from"),
        ("audit", {"bom": "maybe"}, "bom"),
        ("incidents", {"project_ids": [True]}, "project_ids"),
        ("incidents", {"sort": json.dumps({"field": "name"})}, "sort"),
        ("audit", {"locale": "xx"}, "locale"),
        ("audit", {"timezone": "Nowhere/City"}, "timezone"),
        ("audit", {"metadata[customer]": "x"}, "metadata[customer]"),
        ("audit", {"metadata": {"customer": "x"}}, "metadata[customer]"),
        ("audit", {"metadata": "entity_id=x"}, "metadata"),
        ("audit", {"event_type": [{"a": 1}]}, "event_type"),
        ("audit", {"file_type": "pdf"}, "file_type"),
        ("incidents", {"locale": "de"}, "locale"),
    ],
)
def test_job_parameters_are_validated_like_the_sync_endpoint(dataset, params, parameter):
    with pytest.raises(InvalidParameterError) as caught:
        build_job_spec("acme", dataset, ExportFormat.CSV, params, NOW)
    assert caught.value.parameter == parameter


@pytest.mark.parametrize(("count", "files"), [(0, 1), (1, 1), (31, 31), (32, 32), (33, 17), (1000, 32)])
def test_chunks_keep_order_and_stay_few(count, files):
    parts = [_part(n) for n in range(count)]
    groups = chunk(parts)
    assert len(groups) == files
    assert [p for group in groups for p in group] == parts


def test_job_ids_sort_by_creation_and_differ():
    first, second = new_job_id(NOW), new_job_id(NOW)
    assert first.startswith("exp-20260319T160000-") and first != second
    assert new_job_id(datetime(2026, 3, 20, tzinfo=UTC)) > first


@pytest.mark.parametrize(
    ("raw", "want"), [("false", False), ("0", False), ("off", False), ("true", True), ("on", True)]
)
def test_bom_is_parsed_like_the_sync_endpoint(raw, want):
    assert build_job_spec("acme", "audit", ExportFormat.CSV, {"bom": raw}, NOW).request.bom is want


def test_an_audit_filter_value_cannot_outgrow_a_dynamodb_key():
    with pytest.raises(InvalidParameterError) as caught:
        build_job_spec("acme", "audit", ExportFormat.CSV, {"user": "u" * 257}, NOW)
    assert caught.value.parameter == "user"


@pytest.mark.parametrize("job_id", ["x", "exp-" + "9" * 2000, "../../other-tenant", "exp-20260319T160000-ZZZZZZZZZZZZ"])
def test_a_malformed_job_id_is_not_found_without_touching_the_store(job_id):
    from export_service.errors import NotFoundError  # noqa: PLC0415
    from export_service.logic.job_steps import JobContext, get_job  # noqa: PLC0415

    class NoStore:
        def get(self, tenant, job_id):
            raise AssertionError("the store must not be asked")

    with pytest.raises(NotFoundError):
        get_job(JobContext(stores=None, jobs=NoStore(), files=None), ACME_ALL, job_id, NOW)  # type: ignore[arg-type]


def test_an_audit_job_carries_audit_event_filters_and_the_local_time_column():
    params = {
        "event_type": ["incident", "runbook"],
        "sub_type": "resolved,executed",
        "auditee_id": "usr_1",
        "metadata": {"tag": "database"},
        "metadata[entity_id]": "e-1",
        "locale": "DE",
        "timezone": "Europe/Berlin",
    }
    spec = build_job_spec("acme", "audit", ExportFormat.JSONL, params, NOW)
    request = spec.request
    assert request.any_of == {
        "eventType": ["incident", "runbook"],
        "subType": ["resolved", "executed"],
        "auditeeId": ["usr_1"],
    }
    assert request.metadata == {"tag": "database", "entity_id": "e-1"}
    assert (request.locale, request.timezone) == ("de", "Europe/Berlin")
    assert spec.columns[-1] == "localTime"
    # the frozen parameters that every step rebuilds the job from give the same filters and columns
    again = build_job_spec("acme", "audit", ExportFormat.JSONL, frozen_parameters(spec), NOW).request
    assert isinstance(again, type(request))
    assert (again.any_of, again.metadata, again.locale, again.timezone, again.end) == (
        request.any_of,
        request.metadata,
        request.locale,
        request.timezone,
        request.end,
    )
    assert again.columns == spec.columns


def test_an_audit_job_without_locale_or_zone_has_the_default_columns():
    spec = build_job_spec("acme", "audit", ExportFormat.CSV, {"event_type": "incident"}, NOW)
    assert "localTime" not in spec.columns


def test_an_incident_list_job_is_validated_as_the_list_and_frozen_with_its_own_end_name():
    params = {"severities": "HIGH,MEDIUM", "statuses": ["OPEN"], "from_time": "2026-03-01"}
    spec = build_job_spec("acme", "incident-list", ExportFormat.CSV, params, NOW)
    assert spec.spec.kind == "IncidentList" and spec.columns[0] == "id"
    assert spec.request.query.severities == ["HIGH", "MEDIUM"] and spec.request.query.statuses == ["OPEN"]
    # the list's end is to_time ("to" is not one of its parameters): a retried step reads the same incidents
    frozen = frozen_parameters(spec)
    assert frozen == {"severities": ["HIGH,MEDIUM"], "statuses": ["OPEN"], "from_time": "2026-03-01"} | {
        "to_time": "2026-03-19T16:00:00.000Z"
    }
    assert build_job_spec("acme", "incident-list", ExportFormat.CSV, frozen, NOW).request.end == NOW


@pytest.mark.parametrize(
    ("params", "parameter"),
    [({"from": "2026-03-01"}, "from"), ({"severities": "SEVERE"}, "severities"), ({"project_ids": "x"}, "project_ids")],
)
def test_an_incident_list_job_refuses_what_the_list_refuses(params, parameter):
    with pytest.raises(InvalidParameterError) as error:
        build_job_spec("acme", "incident-list", ExportFormat.CSV, params, NOW)
    assert error.value.parameter == parameter


# ---- who may see a job ---------------------------------------------------------------------------------------


def _key(key_id: str, *held: Permission) -> Principal:
    return Principal(tenant_id="acme", key_id=key_id, permissions=frozenset(held))


def _job(dataset: str, created_by: str | None = "ak_owner", recorded: str | None = None) -> dict[str, object]:
    job: dict[str, object] = {"job_id": "exp-20260319T160000-0123456789ab", "dataset": dataset}
    if created_by is not None:
        job["created_by"] = created_by
    if recorded is not None:
        job["read_permission"] = recorded
    return job


@pytest.mark.parametrize(
    ("dataset", "key", "visible"),
    [
        # the dataset's read permission is needed on every path, EXPORTS_READ adds other keys' jobs
        ("audit", _key("ak_other", Permission.EXPORTS_READ), False),
        ("audit", _key("ak_other", Permission.EXPORTS_READ, Permission.INCIDENTS_READ), False),
        ("audit", _key("ak_other", Permission.EXPORTS_READ, Permission.AUDIT_READ), True),
        ("audit", _key("ak_other", Permission.AUDIT_READ), False),
        ("audit", _key("ak_owner", Permission.AUDIT_READ), True),  # the key that asked collects its job
        ("audit", _key("ak_owner", Permission.EXPORTS_WRITE, Permission.EXPORTS_READ), False),
        ("incidents", _key("ak_owner", Permission.INCIDENTS_READ), True),
        ("incident-list", _key("ak_other", Permission.EXPORTS_READ, Permission.INCIDENTS_READ), True),
        ("incident-events", _key("ak_other", Permission.EXPORTS_READ, Permission.AUDIT_READ), False),
    ],
)
def test_a_job_is_seen_with_its_datasets_read_permission_and_by_other_keys_with_exports_read(dataset, key, visible):
    from export_service.errors import ForbiddenError  # noqa: PLC0415
    from export_service.logic.job_steps import may_see_job, require_job_access  # noqa: PLC0415

    job = _job(dataset)
    assert may_see_job(job, key) is visible
    if not visible:
        with pytest.raises(ForbiddenError) as caught:
            require_job_access(job, key)
        assert caught.value.status == 403 and caught.value.parameter == "jobId"


def test_a_jobs_recorded_permission_wins_and_an_unowned_old_job_needs_exports_read():
    from export_service.logic.job_steps import may_see_job  # noqa: PLC0415

    reader = _key("ak_owner", Permission.INCIDENTS_READ)
    assert not may_see_job(_job("incidents", recorded="AUDIT_READ"), reader)
    assert not may_see_job(_job("incidents", created_by=None), reader)  # recorded before keys were recorded
    assert may_see_job(
        _job("incidents", created_by=None), _key("ak_x", Permission.INCIDENTS_READ, Permission.EXPORTS_READ)
    )


def test_starting_a_job_needs_the_datasets_read_permission_before_anything_is_read_or_recorded():
    from export_service.errors import ForbiddenError  # noqa: PLC0415
    from export_service.logic.job_steps import JobContext, start_requested_job  # noqa: PLC0415

    class Untouched:
        def __getattr__(self, name: str) -> object:
            raise AssertionError(f"nothing may be read or written ({name})")

    ctx = JobContext(stores=Untouched(), jobs=Untouched(), files=Untouched(), starter=Untouched())  # type: ignore[arg-type]
    writer = _key("ak_writer", Permission.EXPORTS_WRITE, Permission.EXPORTS_READ, Permission.INCIDENTS_READ)
    with pytest.raises(ForbiddenError) as caught:
        start_requested_job(ctx, writer, "audit", ExportFormat.CSV, {}, NOW)
    assert "AUDIT_READ" in caught.value.message
    with pytest.raises(InvalidParameterError) as unknown:  # an unknown dataset is named before any permission
        start_requested_job(ctx, writer, "payroll", ExportFormat.CSV, {}, NOW)
    assert unknown.value.parameter == "dataset"
