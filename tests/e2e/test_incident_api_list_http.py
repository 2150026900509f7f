"""The incident list over HTTP against the local stack: pages, filters and CSV, compared with an
independent computation over what the generator wrote."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
import requests

from tests.e2e.conftest import ACME, GLOBEX, Stack
from tests.e2e.incident_api_support import _expected, _get, _item, incident_truth
from tests.helpers import DOCUMENTED_INCIDENT_FIELDS

pytestmark = pytest.mark.e2e


SEED_FIELDS = DOCUMENTED_INCIDENT_FIELDS
_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")


@pytest.fixture(scope="module")
def truth() -> dict[str, dict[str, Any]]:
    return incident_truth()


def _walk(http: requests.Session, stack: Stack, token: str, limit: int, **params: Any) -> list[list[dict[str, Any]]]:
    pages = []
    cursor = None
    while True:
        query = {**params, "limit": str(limit), **({"cursor": cursor} if cursor else {})}
        response = _get(http, stack, "/v1/incidents", token, **query)
        assert response.status_code == 200, response.text
        pages.append(response.json())
        cursor = response.headers.get("X-Next-Cursor")
        if cursor is None:
            return pages
        assert len(pages) < 1000, "the walk does not end"


def test_walking_every_page_yields_each_incident_once_in_order(stack, http, truth):
    # Given acme's 400 incidents, when walked 37 at a time with no filter
    pages = _walk(http, stack, ACME, 37)
    # Then every page but the last is full, the last has no cursor, and together they are every incident once,
    # newest first, each equal to the generated incident
    want = [_item(i) for i in _expected(truth, "acme", {})]
    assert len(want) == 400
    assert [len(page) for page in pages] == [37] * 10 + [30]
    walked = [item for page in pages for item in page]
    assert len({item["id"] for item in walked}) == len(walked) == 400
    assert walked == want
    assert list(walked[0])[: len(SEED_FIELDS)] == SEED_FIELDS


def test_a_page_exactly_at_the_end_has_no_next_cursor(stack, http, truth):
    want = _expected(truth, "globex", {"severities": "HIGH"})
    pages = _walk(http, stack, GLOBEX, len(want), severities="HIGH")
    assert len(pages) == 1 and [i["id"] for i in pages[0]] == [i.id for i in want]


@pytest.mark.parametrize(
    "params",
    [
        {"severities": "HIGH,MEDIUM"},
        {"impacts": "LOW"},
        {"project_ids": "0,24"},
        {"connection_types": "SNOWFLAKE,GCS"},
        {"alert_policy_ids": "4,prebuilt_volume,12"},
        {"statuses": "OPEN"},
        {"tags": "PROD,pii"},
        {"text_to_search": "FRESHness"},  # policy names, case-insensitive
        {"text_to_search": "snowflake.sales_db"},  # source names
        {"from_time": "2026-04-01T00:00:00Z", "to_time": "2026-04-20T12:30:00.500Z"},
        {"severities": "HIGH", "statuses": "CLOSED", "project_ids": "0,7", "from_time": "2026-03-15"},
        {"impacts": "MEDIUM,HIGH", "tags": "T1", "text_to_search": "policy", "connection_types": "S3,BIGQUERY,GCS"},
    ],
)
def test_every_filter_matches_an_independent_computation(stack, http, truth, params):
    want = [_item(i) for i in _expected(truth, "acme", params)]
    assert want, "each case should select something"
    pages = _walk(http, stack, ACME, 50, **params)
    assert [item for page in pages for item in page] == want


def test_connection_ids_filter(stack, http, truth):
    ids = sorted({i.connection_id for i in truth["acme"]["incidents"]})[:2]
    params = {"connection_ids": ",".join(ids)}
    want = [_item(i) for i in _expected(truth, "acme", params)]
    assert 0 < len(want) < 400
    assert [item for page in _walk(http, stack, ACME, 1000, **params) for item in page] == want


def test_limit_may_change_between_pages(stack, http, truth):
    want = [i.id for i in _expected(truth, "acme", {"statuses": "CLOSED"})]
    first = _get(http, stack, "/v1/incidents", statuses="CLOSED", limit="5")
    second = _get(http, stack, "/v1/incidents", statuses="CLOSED", limit="20", cursor=first.headers["X-Next-Cursor"])
    assert [i["id"] for i in first.json() + second.json()] == want[:25]


def test_csv_list_has_every_match_with_cells_neutralised(stack, http, truth):
    params = {"severities": "HIGH", "from_time": "2026-03-10T00:00:00Z", "to_time": "2026-05-10T00:00:00Z"}
    response = _get(http, stack, "/v1/incidents", format="csv", **params)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/csv")
    assert response.headers["Content-Disposition"] == 'attachment; filename="incidents-2026-03-10_2026-05-10.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8"), newline="")))
    header, body = rows[0], rows[1:]
    assert header[: len(SEED_FIELDS)] == SEED_FIELDS
    want = []
    for incident in _expected(truth, "acme", params):
        item = _item(incident)
        cells = []
        for name in header:
            value = item[name]
            text = (
                json.dumps(value, separators=(",", ":"), ensure_ascii=False)
                if isinstance(value, list)
                else ("" if value is None else str(value))
            )
            cells.append("'" + text if text[:1] in _TRIGGERS else text)
        want.append(cells)
    assert body == want
