"""The SQL sandbox on its own: what runs, what is refused (a hostile set of more than 30 statements), the caps."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from export_service.logic.sql_sandbox import (
    InvalidSqlError,
    SqlResultTooLargeError,
    SqlTimeoutError,
    run_select,
)
from tests.hostile_sql import HOSTILE


@pytest.fixture(scope="module")
def parquet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("asset") / "asset.parquet"
    connection = duckdb.connect()
    connection.execute(
        "COPY (SELECT range + 1 AS id, TIMESTAMP '2026-03-01' + range * INTERVAL 1 MINUTE AS created_at, "
        "CASE WHEN range % 3 = 0 THEN 'EU' ELSE 'USA' END AS region, (range * 1.25 - 10)::DECIMAL(12,2) AS amount "
        f"FROM range(3000)) TO '{path}' (FORMAT parquet)"
    )
    return path


def _run(parquet: Path, sql: str, **kwargs: object):
    options = {"row_cap": 2000, "time_limit": 1.0, **kwargs}
    return run_select(parquet, "orders", sql, **options)  # type: ignore[arg-type]


def test_a_select_over_the_asset_runs_with_text_cells(parquet: Path):
    result = _run(parquet, "SELECT * FROM asset ORDER BY id LIMIT 2")
    assert result.columns == ("id", "created_at", "region", "amount")
    assert result.rows[0] == {"id": "1", "created_at": "2026-03-01T00:00:00.000Z", "region": "EU", "amount": "-10.00"}
    assert _run(parquet, "SELECT count(*) AS n FROM orders").rows == [{"n": "3000"}]  # the asset's own table name
    cte = "WITH eu AS (SELECT * FROM asset WHERE region = 'EU') SELECT count(*) AS n FROM eu"
    assert _run(parquet, cte).rows == [{"n": "1000"}]


def test_named_parameters_bind_the_window_and_segment(parquet: Path):
    sql = "SELECT count(*) AS n FROM asset WHERE created_at >= $start AND created_at < $end AND region = $segment"
    params = {"start": datetime(2026, 3, 1), "end": datetime(2026, 3, 1, 0, 30), "segment": "EU"}
    assert _run(parquet, sql, params=params).rows == [{"n": "10"}]


@pytest.mark.parametrize("sql", [query for query in HOSTILE if query])
def test_hostile_sql_is_refused_or_bounded(parquet: Path, sql: str):
    with pytest.raises((InvalidSqlError, SqlTimeoutError, SqlResultTooLargeError)) as refused:
        _run(parquet, sql)
    assert refused.value.status == 400 and refused.value.parameter == "query"
    assert _run(parquet, "SELECT count(*) AS n FROM asset").rows == [{"n": "3000"}]


def test_the_row_cap_refuses_rather_than_truncates_and_the_timer_interrupts(parquet: Path):
    with pytest.raises(SqlResultTooLargeError) as refused:
        _run(parquet, "SELECT * FROM asset", row_cap=2999)
    assert "2,999" in refused.value.message
    assert len(_run(parquet, "SELECT * FROM asset", row_cap=3000).rows) == 3000
    with pytest.raises(SqlTimeoutError):
        _run(parquet, "SELECT count(*) FROM asset a, asset b, asset c", time_limit=0.3)


def test_the_engine_is_locked_after_loading(parquet: Path):
    with pytest.raises(InvalidSqlError) as refused:
        _run(parquet, "SELECT * FROM read_parquet($p)", params={"p": str(parquet)})
    assert "read_parquet" in refused.value.message
