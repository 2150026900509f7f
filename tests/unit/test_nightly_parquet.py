"""A tenant's nightly format: the setting and its validation, the dispatch that fixes it in the execution input, the
source step writing a Parquet file (typed columns, a fixed key, nothing left behind on failure), the commit, the
manifest and the listing naming the format. The same night in CSV is unchanged."""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow.parquet as pq
import pytest
from pydantic import ValidationError

from export_service.errors import InvalidParameterError
from export_service.logic.formats import CsvWriter
from export_service.logic.nightly import (
    PARQUET_CONTENT_TYPE,
    commit_night,
    dispatch,
    export_source,
    file_key,
    list_export_requests,
)
from export_service.logic.nightly_chain import NightPublisher, build_night_manifest
from export_service.models.api_keys import Permission, Principal
from export_service.models.audit import AUDIT_COLUMNS
from export_service.models.incidents import DATASETS, Dataset
from export_service.models.nightly import (
    AUDIT_SOURCE,
    NIGHTLY_SOURCES,
    SOURCE_NAMES,
    NightlyConfig,
    NightlyFormat,
    SourceInput,
    SourceResult,
    nightly_format,
)
from tests.unit.integrity_support import LocalSigner, MemoryBus, MemoryFiles
from tests.unit.nightly_support import ENABLED, NIGHT1, OVERLAP, FakeRequestStore, _commit_input, _config

pytestmark = pytest.mark.unit

INCIDENT_SOURCE = DATASETS[Dataset.INCIDENTS].source


# ---- the setting ---------------------------------------------------------------------------------------------------


def test_a_tenants_nightly_format_is_csv_unless_it_chose_parquet():
    assert _config().format is NightlyFormat.CSV
    assert _config(format="parquet").format is NightlyFormat.PARQUET
    assert NightlyConfig.model_validate({"tenant": "t", "enabled": True, "enabled_at": ENABLED}).format == "csv"


def test_a_bad_format_in_the_setting_is_refused_naming_the_field():
    with pytest.raises(ValidationError) as caught:
        _config(format="xlsx")
    assert [error["loc"] for error in caught.value.errors()] == [("format",)]


@pytest.mark.parametrize(("value", "fmt"), [(None, NightlyFormat.CSV), ("csv", "csv"), ("parquet", "parquet")])
def test_a_format_parameter_is_read_with_csv_as_the_default(value, fmt):
    assert nightly_format(value) is NightlyFormat(fmt)


@pytest.mark.parametrize("value", ["xlsx", "PARQUET", "", "json"])
def test_a_bad_format_parameter_is_an_error_naming_the_parameter_and_the_choices(value):
    with pytest.raises(InvalidParameterError) as caught:
        nightly_format(value, "--format")
    assert caught.value.parameter == "--format"
    assert caught.value.message == f"--format must be one of csv, parquet, not {value!r}"
    assert caught.value.to_body()["parameter"] == "--format"


def _run(**changes: Any) -> dict[str, Any]:
    return {
        "mode": "nightly",
        "tenant": "acme",
        "night": "2026-05-02",
        "enabled_at": "2026-05-01T12:00:00.000Z",
        "window_starts_at": "2026-05-01T12:00:00.000Z",
        "window_ends_at": "2026-05-02T02:30:00.000Z",
        "source": AUDIT_SOURCE,
        **changes,
    }


def test_a_source_step_takes_the_format_of_its_night_csv_when_the_input_names_none():
    assert SourceInput.model_validate(_run()).format is NightlyFormat.CSV  # an execution started before formats
    assert SourceInput.model_validate(_run(format="parquet")).format is NightlyFormat.PARQUET
    with pytest.raises(ValidationError) as caught:
        SourceInput.model_validate(_run(format="xml"))
    assert [error["loc"] for error in caught.value.errors()] == [("format",)]


# ---- the dispatch --------------------------------------------------------------------------------------------------


class Tenants(FakeRequestStore):
    def __init__(self, *configs: NightlyConfig) -> None:
        super().__init__()
        self.configs = {config.tenant: config for config in configs}

    def enabled_tenants(self) -> Iterator[NightlyConfig]:
        return iter(self.configs.values())

    def get_config(self, tenant: str) -> NightlyConfig | None:
        return self.configs.get(tenant)


class Starter:
    def __init__(self) -> None:
        self.started: dict[str, Mapping[str, Any]] = {}

    def start(self, name: str, payload: Mapping[str, Any]) -> bool:
        self.started[name] = payload
        return True


def test_the_dispatch_fixes_each_tenants_format_in_its_nights_execution_input():
    store = Tenants(_config(tenant="plain"), _config(tenant="typed", format="parquet"))
    starter = Starter()
    dispatch(store, starter, NIGHT1, OVERLAP)  # type: ignore[arg-type]
    assert starter.started["nightly-20260502-plain"]["format"] == "csv"
    assert starter.started["nightly-20260502-typed"]["format"] == "parquet"
    # every source step of the night is given the same format (the state machine's Map copies it to each)
    payload = starter.started["nightly-20260502-typed"]
    step = SourceInput.model_validate({**{k: v for k, v in payload.items() if k != "sources"}, "source": AUDIT_SOURCE})
    assert step.format is NightlyFormat.PARQUET


# ---- the source step -----------------------------------------------------------------------------------------------


class Upload:
    def __init__(self, files: Files, key: str, content_type: str) -> None:
        self.files, self.key, self.content_type = files, key, content_type
        self.body = bytearray()
        self.aborted = False

    def write(self, data: str | bytes) -> None:
        self.body += data.encode() if isinstance(data, str) else data

    @property
    def bytes(self) -> int:
        return len(self.body)

    def close(self) -> str:
        self.files.objects[self.key] = (bytes(self.body), self.content_type)
        return hashlib.sha256(self.body).hexdigest()

    def abort(self) -> None:
        self.aborted = True


class Files:
    def __init__(self) -> None:
        self.objects: dict[str, tuple[bytes, str]] = {}
        self.uploads: list[Upload] = []

    def upload(self, key: str, content_type: str) -> Upload:
        self.uploads.append(Upload(self, key, content_type))
        return self.uploads[-1]


class AuditPages:
    def __init__(self, pages: list[list[dict[str, str]]], fail_after: int | None = None) -> None:
        self.pages, self.fail_after = pages, fail_after

    def plan(self, tenant: str, start: datetime, end: datetime, filters: Mapping[str, str]) -> list[str]:
        return ["part-1"]

    def read_pages(self, part: str) -> Iterator[list[dict[str, str]]]:
        for number, page in enumerate(self.pages):
            if self.fail_after is not None and number >= self.fail_after:
                raise RuntimeError("DynamoDB went away")
            yield page


class Stores:
    def __init__(self, audit: AuditPages) -> None:
        self.audit, self.incidents = audit, None


def _audit_row(n: int) -> dict[str, str]:
    row = dict.fromkeys(AUDIT_COLUMNS, "")
    row.update(
        id=f"aud-{n:03d}",
        timestamp=f"2026-05-01T{12 + n // 60:02d}:{n % 60:02d}:07.250Z",
        action="=cmd|' /C calc'!A0" if n == 0 else "runbook.create",  # a formula: neutralised in CSV only
        user="a@example.com",
        checksum=f"{n:064x}",
        metadata='{"entity_id": "e-1"}',
    )
    if n % 2:
        del row["auditeeId"]  # an attribute the item does not have
    return row


PAGES = [[_audit_row(n) for n in range(page * 40, page * 40 + 40)] for page in range(3)]


def test_a_parquet_night_is_one_typed_file_at_a_fixed_parquet_key(tmp_path):
    files = Files()
    run = SourceInput.model_validate(_run(format="parquet"))
    result = export_source(Stores(AuditPages(PAGES)), files, run)  # type: ignore[arg-type]
    key = "nightly/acme/2026-05-02/audit_event-20261122.parquet"
    assert result.key == key == file_key("acme", "2026-05-02", NIGHTLY_SOURCES[AUDIT_SOURCE], NightlyFormat.PARQUET)
    body, content_type = files.objects[key]
    assert content_type == PARQUET_CONTENT_TYPE == "application/vnd.apache.parquet"
    assert (result.rows, result.bytes, result.sha256) == (120, len(body), hashlib.sha256(body).hexdigest())
    assert result.format is NightlyFormat.PARQUET
    (tmp_path / "night.parquet").write_bytes(body)
    table = pq.read_table(tmp_path / "night.parquet")
    assert table.schema.names == list(AUDIT_COLUMNS)
    types = {field.name: str(field.type) for field in table.schema}
    assert types["timestamp"] == "timestamp[us, tz=UTC]"
    assert {types[name] for name in AUDIT_COLUMNS if name != "timestamp"} == {"string"}  # JSON fields as strings
    rows = table.to_pylist()
    assert [row["id"] for row in rows] == [f"aud-{n:03d}" for n in range(120)]  # the order read, each row once
    assert rows[61]["timestamp"] == datetime(2026, 5, 1, 13, 1, 7, 250000, tzinfo=UTC)
    assert rows[0]["action"] == "=cmd|' /C calc'!A0"  # values as stored: Parquet is not opened by spreadsheets
    assert rows[0]["metadata"] == '{"entity_id": "e-1"}'
    assert rows[1]["auditeeId"] == rows[0]["auditeeId"] == ""  # absent or empty: an empty string, as the CSV's cell


def test_a_retried_parquet_step_rewrites_the_same_key_with_the_same_rows(tmp_path):
    files = Files()
    run = SourceInput.model_validate(_run(format="parquet"))
    first = export_source(Stores(AuditPages(PAGES)), files, run)  # type: ignore[arg-type]
    first_body = files.objects[first.key][0]
    second = export_source(Stores(AuditPages(PAGES)), files, run)  # type: ignore[arg-type]
    assert list(files.objects) == [first.key] and second.key == first.key and second.rows == first.rows
    for name, body in (("a", first_body), ("b", files.objects[second.key][0])):
        (tmp_path / f"{name}.parquet").write_bytes(body)
    assert pq.read_table(tmp_path / "a.parquet").equals(pq.read_table(tmp_path / "b.parquet"))


def test_a_parquet_night_without_changes_is_a_file_with_the_columns_and_no_row(tmp_path):
    files = Files()
    result = export_source(Stores(AuditPages([])), files, SourceInput.model_validate(_run(format="parquet")))  # type: ignore[arg-type]
    assert result.rows == 0
    (tmp_path / "empty.parquet").write_bytes(files.objects[result.key][0])
    table = pq.read_table(tmp_path / "empty.parquet")
    assert table.num_rows == 0 and table.schema.names == list(AUDIT_COLUMNS)


def test_a_parquet_step_that_fails_while_reading_aborts_its_upload_and_stores_nothing():
    files = Files()
    with pytest.raises(RuntimeError, match="DynamoDB went away"):
        export_source(
            Stores(AuditPages(PAGES, fail_after=2)), files, SourceInput.model_validate(_run(format="parquet"))
        )  # type: ignore[arg-type]
    assert files.objects == {} and [upload.aborted for upload in files.uploads] == [True]


def test_a_csv_night_is_written_as_before():
    files = Files()
    result = export_source(Stores(AuditPages(PAGES)), files, SourceInput.model_validate(_run()))  # type: ignore[arg-type]
    body, content_type = files.objects[result.key]
    assert result.key == "nightly/acme/2026-05-02/audit_event-20261122.csv" and result.format is NightlyFormat.CSV
    assert content_type == "text/csv; charset=utf-8"
    lines = body.decode("utf-8").split("\r\n")
    assert lines[0] == ",".join(AUDIT_COLUMNS) and len(lines) == 1 + 120 + 1  # the header, the rows, a final CRLF
    assert lines[1].split(",")[2] == "'=cmd|' /C calc'!A0"  # neutralised for spreadsheets, as always


# ---- the commit, the manifest, the listing -------------------------------------------------------------------------


def _files(fmt: NightlyFormat) -> list[SourceResult]:
    return [
        SourceResult(
            source=name,
            key=f"nightly/acme/2026-05-02/{NIGHTLY_SOURCES[name].slug}.{fmt.value}",
            rows=n,
            bytes=500 + n,
            sha256=f"{n:064x}",
            format=fmt,
        )
        for n, name in enumerate(SOURCE_NAMES)
    ]


class Presigner:
    def presign(self, key: str, filename: str | None = None, expires: int = 300) -> str:
        return f"https://signed.example/{key}?filename={filename}"


READER = Principal(
    tenant_id="acme",
    key_id="ak_reader",
    permissions=frozenset({Permission.EXPORTS_READ, Permission.AUDIT_READ, Permission.INCIDENTS_READ}),
)


class FirstNightStore(FakeRequestStore):
    """A tenant's first night: no chain head yet."""

    def get_chain(self, tenant: str) -> None:
        return None

    def commit(self, *args: Any, chain: dict[str, Any] | None = None) -> None:  # type: ignore[override]
        super().commit(*args)


def test_a_parquet_night_is_committed_signed_and_listed_with_its_format():
    store = FirstNightStore(_config(format="parquet"))
    files, bus = MemoryFiles(), MemoryBus()
    publisher = NightPublisher(files=files, signer=LocalSigner(), events=bus)
    result = commit_night(
        store,
        _commit_input(NIGHT1, ENABLED, files=_files(NightlyFormat.PARQUET)),
        NIGHT1 + timedelta(minutes=5),
        publisher,
    )
    assert result["state"] == "committed"
    ((_type, detail),) = bus.events
    assert detail["format"] == "parquet" and all(s["key"].endswith(".parquet") for s in detail["sources"])
    assert {item["format"] for item in store.items} == {"parquet"}
    manifest = json.loads(files.objects["nightly/acme/2026-05-02/manifest.json"])
    assert manifest["format"] == "parquet"
    assert [(entry["name"], entry["format"]) for entry in manifest["files"]] == [
        (f"{NIGHTLY_SOURCES[name].slug}-2026-05-02.parquet", "parquet") for name in SOURCE_NAMES
    ]
    listed = list_export_requests(store, Presigner(), READER, None, 300, NIGHT1 + timedelta(hours=1))["data"]
    assert {entry["format"] for entry in listed} == {"parquet"}
    audit = next(entry for entry in listed if entry["source"] == AUDIT_SOURCE)
    # the link names the file with its extension (the client saves it under that name)
    assert audit["url"].endswith("audit_event-20261122.parquet?filename=audit_event-20261122-2026-05-02.parquet")


def test_a_night_of_mixed_formats_is_refused_before_anything_is_committed():
    files = _files(NightlyFormat.CSV)
    files[0] = files[0].model_copy(update={"format": NightlyFormat.PARQUET})
    store = FakeRequestStore(_config())
    with pytest.raises(ValueError, match="share one format"):
        commit_night(store, _commit_input(NIGHT1, ENABLED, files=files), NIGHT1 + timedelta(minutes=5))
    with pytest.raises(ValueError, match="share one format"):
        build_night_manifest(_commit_input(NIGHT1, ENABLED, files=files), files, NIGHT1, "x", None, None)
    assert store.commits == []


def test_entries_committed_before_formats_existed_are_listed_as_csv():
    store = FakeRequestStore(_config())
    commit_night(store, _commit_input(NIGHT1, ENABLED, files=_files(NightlyFormat.CSV)), NIGHT1 + timedelta(minutes=5))
    for item in store.items:
        del item["format"]
    listed = list_export_requests(store, Presigner(), READER, None, 300, NIGHT1 + timedelta(hours=1))["data"]
    assert {entry["format"] for entry in listed} == {"csv"}
    assert all(entry["url"].endswith("-2026-05-02.csv") for entry in listed)


@pytest.mark.parametrize("given", [{}, {"format": "csv"}])
def test_a_csv_nights_bytes_are_the_csv_writers_whether_the_input_names_the_format_or_not(given):
    files = Files()
    result = export_source(Stores(AuditPages(PAGES)), files, SourceInput.model_validate(_run(**given)))  # type: ignore[arg-type]
    expected = io.StringIO()
    writer = CsvWriter(expected, AUDIT_COLUMNS)
    for page in PAGES:
        writer.write_many(page)
    assert files.objects[result.key][0] == expected.getvalue().encode("utf-8")
