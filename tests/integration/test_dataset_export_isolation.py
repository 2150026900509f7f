"""GET /v1/export/{dataset} through the real handler against moto: a tenant gets its own rows only."""

from __future__ import annotations

import json

import pytest

from tests.helpers import json_body
from tests.integration.dataset_export_support import DESC, _disposition, _error, _get, _ok, _rows, write_bundles
from tests.integration.incident_support import ALL_DATASETS, bundles, expected

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def data(stack) -> None:
    write_bundles(stack)


@pytest.mark.parametrize("dataset", ALL_DATASETS)
def test_globex_gets_only_globex_rows(data, dataset):
    rows = _rows(dataset, tenant="globex")
    assert rows == expected(bundles("globex"), dataset)
    assert rows
    assert not any("acme" in value for row in rows for value in row.values())


@pytest.mark.parametrize("dataset", ALL_DATASETS)
def test_globex_never_gets_acme_rows_even_naming_an_acme_incident(data, dataset):
    acme_values = {value for row in expected(bundles("acme"), dataset) for value in row.values() if len(value) > 3}
    acme_values -= {value for row in expected(bundles("globex"), dataset) for value in row.values()}
    for incident_id, params in (
        ("inc-acme-001", {"incident_id": "inc-acme-001"}),
        ("inc-acme-002", {"filter": json.dumps({"incident_id": "inc-acme-002"}), "sort": DESC}),
        ("inc-acme-004", {"incident_id": "inc-acme-004", "from": "2026-03-01T00:00:00Z", "to": "2026-03-05T00:00:00Z"}),
    ):
        response = _ok(dataset, {**params, "format": "json"}, tenant="globex")
        body = json_body(response)
        assert body["records"] == []
        assert body["metadata"]["totalRecords"] == 0
        assert body["metadata"]["filter"] == {"incident_id": incident_id}
        # the file is named by the id the caller gave, not by acme's incident number
        assert f"{dataset}-{incident_id}-" in _disposition(response)
        text = response["body"] + _disposition(response)
        assert not [value for value in acme_values - {incident_id} if value in text]


def test_the_request_cannot_name_a_tenant(data):
    _error(_get("incidents", {"tenantId": "globex"}), 400, "UNKNOWN_PARAMETER", "tenantId")
