"""Debug records and sample data over HTTP: rows checked against DuckDB run here over the generator's rows, the
two-permission rule, the asset's credential, and a hostile-SQL set that is all refused or bounded, never a 5xx."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from pathlib import Path

import duckdb
import pytest
import requests

from devtools.catalog_generator import asset_rows
from devtools.catalog_loader import write_parquet
from devtools.generate import DEFAULT_SEED, demo_window
from export_service.models.api_keys import Permission
from tests.e2e.catalog_support import key, read_csv, world
from tests.e2e.conftest import ANCHOR, DAYS, Stack
from tests.hostile_sql import HOSTILE

pytestmark = pytest.mark.e2e
ACME_PAIR = {"Authorization": "ak_demo_acme:demo-acme-secret-0001"}


def _asset(tenant: str = "acme", index: int = 0):
    return world(tenant).assets[index]


def _sample(http: requests.Session, stack: Stack, query: str, headers=ACME_PAIR, **extra: str) -> requests.Response:
    asset = _asset()
    params = {"assetId": asset.id, "credentialId": asset.credential_id, "query": query, **extra}
    return http.get(f"{stack.url}/api/export/v1/sample-data", params=params, headers=headers, timeout=60)


def _text(value: object) -> str:
    """A generated or locally computed value as the CSV writes it: TIMESTAMP values are UTC; a cell a spreadsheet
    would run as a formula (a negative amount) is prefixed with an apostrophe."""
    if value is None:
        return ""
    text = f"{value:%Y-%m-%dT%H:%M:%S}.{value.microsecond // 1000:03d}Z" if isinstance(value, datetime) else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def test_sample_data_returns_the_assets_rows(stack: Stack, http: requests.Session):
    asset = _asset()
    response = _sample(http, stack, "SELECT * FROM asset ORDER BY id")
    assert response.status_code == 200, response.text
    assert response.headers["Content-Disposition"].startswith(f'attachment; filename="sample-data-{asset.table_name}')
    header, rows = read_csv(response.text)
    assert header == [column.name for column in asset.columns]
    start, end = demo_window(ANCHOR, DAYS)
    expected = [
        dict(zip(header, (_text(v) for v in row), strict=True)) for row in asset_rows(asset, start, end, DEFAULT_SEED)
    ]
    assert rows == expected and len(rows) == asset.rows >= 2000


def test_debug_records_are_the_validators_query_over_its_assets_window(
    stack: Stack, http: requests.Session, tmp_path: Path
):
    w = world("acme")
    validators = {v.id: v for v in w.validators}
    sources = {s.id: s for s in w.sources}
    assets = {a.id: a for a in w.assets}
    start, end = demo_window(ANCHOR, DAYS)
    checked = 0
    for group, incidents in w.groups[:6]:
        incident = incidents[0]
        validator = validators[group.validator_id]
        asset = assets[sources[validator.source_id].asset_id]
        response = http.get(
            f"{stack.url}/api/export/v1/incident-debug-records", params={"incidentId": incident.id}, headers=ACME_PAIR,
            timeout=60,
        )  # fmt: skip
        assert response.status_code == 200, response.text
        assert f"incident-debug-records-{incident.id}-" in response.headers["Content-Disposition"]
        header, rows = read_csv(response.text)
        path = tmp_path / f"{asset.id}.parquet"
        write_parquet(asset_rows(asset, start, end, DEFAULT_SEED), path)
        connection = duckdb.connect()
        connection.execute("CREATE TABLE asset AS SELECT * FROM read_parquet($path)", {"path": str(path)})
        params = {
            "start": incident.start_time.replace(tzinfo=None),
            "end": incident.end_time.replace(tzinfo=None),
            "segment": incident.segment,
        }
        result = connection.execute(validator.debug_sql, params)
        names = [d[0] for d in result.description]
        expected = [
            dict(zip(names, ("" if v is None else _text(v) for v in row), strict=True)) for row in result.fetchall()
        ]
        assert header == names and rows == expected
        checked += 1
    assert checked == 6


def test_debug_records_need_both_write_permissions(stack: Stack, http: requests.Session):
    incident = world("acme").groups[0][1][0]
    url = f"{stack.url}/api/export/v1/incident-debug-records?incidentId={incident.id}"
    both = key(stack, "ak_cat_debug_both", "acme", Permission.INCIDENTS_WRITE, Permission.SQL_EXECUTION_WRITE)
    assert http.get(url, headers=both, timeout=60).status_code == 200
    for held in (Permission.INCIDENTS_WRITE, Permission.SQL_EXECUTION_WRITE, Permission.INCIDENTS_READ):
        one = key(stack, f"ak_cat_debug_{held.value.lower()}", "acme", held)
        refused = http.get(url, headers=one, timeout=60)
        assert refused.status_code == 403, refused.text
        assert refused.json()["error"] == "FORBIDDEN"
    globex = {"Authorization": "ak_demo_globex:demo-globex-secret-0001"}
    assert http.get(url, headers=globex, timeout=60).status_code == 404  # another tenant's incident does not exist


def test_sample_data_needs_catalog_assets_read_and_the_assets_credential(stack: Stack, http: requests.Session):
    reader = key(stack, "ak_cat_assets_reader", "acme", Permission.CATALOG_ASSETS_READ)
    assert _sample(http, stack, "SELECT 1", headers=reader).status_code == 200
    other = key(stack, "ak_cat_no_assets", "acme", Permission.SOURCES_READ, Permission.SQL_EXECUTION_WRITE)
    assert _sample(http, stack, "SELECT 1", headers=other).status_code == 403
    wrong = _sample(http, stack, "SELECT 1", credentialId=_asset(index=1).credential_id + "-x")
    assert wrong.status_code == 403 and wrong.json()["parameter"] == "credentialId"
    globex_asset = _asset("globex")
    response = http.get(
        f"{stack.url}/api/export/v1/sample-data",
        params={"assetId": globex_asset.id, "credentialId": globex_asset.credential_id, "query": "SELECT 1"},
        headers=ACME_PAIR,
        timeout=60,
    )
    assert (response.status_code in (403, 404) and "assetId" in response.text) or response.status_code == 404


@pytest.mark.parametrize("query", HOSTILE)
def test_hostile_sql_is_refused_or_bounded_never_a_5xx(stack: Stack, http: requests.Session, query: str):
    response = _sample(http, stack, query)
    assert response.status_code in (400, 403), (query, response.status_code, response.text[:300])
    body = response.json()
    assert body["error"] in ("INVALID_SQL", "SQL_TIME_LIMIT", "SQL_ROW_LIMIT", "INVALID_PARAMETER", "FORBIDDEN"), body
    assert "Traceback" not in response.text and "/tmp/asset-" not in response.text
    # the asset is still whole and readable afterwards
    after = _sample(http, stack, "SELECT count(*) AS n FROM asset")
    assert list(csv.reader(io.StringIO(after.text)))[1] == [str(_asset().rows)]
