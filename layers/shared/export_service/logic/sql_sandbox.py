"""One read-only SELECT over one catalog asset, in an embedded DuckDB that can reach nothing else.

How a query is confined, in order:
1. A fresh in-memory database per query, 1 thread, a memory limit, no spilling to disk (no temp directory), no
   extension auto-install or auto-load, no Python replacement scans.
2. The asset's Parquet file (downloaded by the caller into a private temporary file) is loaded into the in-memory
   table ``asset`` (and a view under the asset's table name); then ``enable_external_access`` is turned off (no file,
   network, ATTACH, COPY, INSTALL or LOAD) and ``lock_configuration`` on (no SET can turn it back).
3. The text must parse as exactly one statement, of type SELECT, that DuckDB can serialise as a SELECT (PRAGMA,
   DESCRIBE, SHOW, CALL, EXPLAIN ... are refused); every table it reads must be the asset or one of its own CTEs,
   and the only table functions allowed are ``range``, ``generate_series`` and ``unnest`` (``read_csv``, ``query``,
   ``duckdb_settings()`` ... are refused before anything runs).
4. It runs with a row cap (LIMIT cap + 1 on the relation: one row over the cap is refused, never truncated) and a
   time limit (a timer thread interrupts the connection).
Anything refused is a 400 with a message saying what to change; nothing a caller sends is a 5xx.
"""

from __future__ import annotations

import base64
import json
import re
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from export_service.errors import ExportServiceError
from export_service.timefmt import format_instant

ASSET_TABLE = "asset"
ALLOWED_TABLE_FUNCTIONS = frozenset({"range", "generate_series", "unnest"})
MAX_SQL_CHARS = 10_000
MAX_RESULT_CHARS = 50_000_000  # what one answer may carry (the rows' text), whatever the row count
SYSTEM_FUNCTIONS = frozenset({"current_setting", "getvariable", "current_database", "current_schema", "version"})
MEMORY_LIMIT = "512MB"
_LEADING_KEYWORD = re.compile(
    r"^(?:\s|--[^\n]*(?:\n|$)|/\*.*?\*/)*(?:\(\s*)*(?:SELECT|WITH|FROM|VALUES)\b", re.IGNORECASE | re.DOTALL
)
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


class InvalidSqlError(ExportServiceError):
    code = "INVALID_SQL"


class SqlTimeoutError(ExportServiceError):
    code = "SQL_TIME_LIMIT"


class SqlResultTooLargeError(ExportServiceError):
    code = "SQL_ROW_LIMIT"


@dataclass(frozen=True)
class SqlResult:
    columns: tuple[str, ...]
    rows: list[dict[str, str]]


def _refuse(message: str, parameter: str) -> InvalidSqlError:
    return InvalidSqlError(message, parameter=parameter)


def _connect() -> duckdb.DuckDBPyConnection:
    return duckdb.connect(
        ":memory:",
        config={
            "threads": 1,
            "memory_limit": MEMORY_LIMIT,
            "temp_directory": "",  # nothing spills to disk
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
            "allow_community_extensions": False,
            "python_enable_replacements": False,
        },
    )


def _walk(node: Any) -> Iterator[Mapping[str, Any]]:
    if isinstance(node, Mapping):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def _cte_names(tree: Any) -> set[str]:
    names: set[str] = set()
    for node in _walk(tree):
        cte_map = node.get("cte_map")
        if isinstance(cte_map, Mapping):
            names.update(str(entry.get("key", "")).lower() for entry in cte_map.get("map") or [])
    return names


def check_select(connection: duckdb.DuckDBPyConnection, sql: str, tables: Sequence[str], parameter: str) -> str:
    """The one SELECT statement of ``sql`` if it reads only ``tables``; raises InvalidSqlError otherwise."""
    if len(sql) > MAX_SQL_CHARS or "\x00" in sql:
        raise _refuse(f"the SQL must be at most {MAX_SQL_CHARS:,} characters of text", parameter)
    try:
        statements = connection.extract_statements(sql)
    except duckdb.Error as error:
        raise _refuse(f"the SQL does not parse: {_message(error)}", parameter) from None
    if len(statements) != 1:
        raise _refuse(f"send exactly one SELECT statement (got {len(statements)})", parameter)
    (statement,) = statements
    if statement.type != duckdb.StatementType.SELECT:
        raise _refuse(f"only a read-only SELECT may run (got {statement.type.name})", parameter)
    text = statement.query
    if not _LEADING_KEYWORD.match(text):  # DESCRIBE, SHOW, SUMMARIZE, PRAGMA ... parse as SELECTs too
        raise _refuse("only a read-only SELECT may run: start the query with SELECT, WITH, FROM or VALUES", parameter)
    (serialised,) = connection.execute("SELECT json_serialize_sql($sql)", {"sql": text}).fetchone() or ("{}",)
    tree = json.loads(serialised)
    if tree.get("error"):
        raise _refuse(f"only a read-only SELECT may run ({tree.get('error_message', 'not a SELECT')})", parameter)
    allowed = {table.lower() for table in tables} | _cte_names(tree)
    for node in _walk(tree):
        kind = node.get("type")
        if kind == "TABLE_FUNCTION":
            name = str((node.get("function") or {}).get("function_name", "")).lower()
            if name not in ALLOWED_TABLE_FUNCTIONS:
                raise _refuse(
                    f"table function '{name}' is not allowed: the query reads the asset only (table "
                    f"'{ASSET_TABLE}'); allowed table functions: {', '.join(sorted(ALLOWED_TABLE_FUNCTIONS))}",
                    parameter,
                )
        elif node.get("class") == "FUNCTION" and _system_function(str(node.get("function_name", ""))):
            raise _refuse(
                f"function '{node.get('function_name')}' reads the engine's own settings and is not allowed",
                parameter,
            )
        elif kind == "BASE_TABLE":
            name = str(node.get("table_name", ""))
            schema, catalog = str(node.get("schema_name", "")), str(node.get("catalog_name", ""))
            if (
                name.lower() not in allowed
                or schema.lower() not in ("", "main")
                or catalog.lower() not in ("", "memory")
            ):
                raise _refuse(
                    f"the query may read only the asset (table '{ASSET_TABLE}'), not '{name}'; files, other "
                    "tables and system catalogs are out of reach",
                    parameter,
                )
    return text


def _system_function(name: str) -> bool:
    lowered = name.lower()
    return lowered in SYSTEM_FUNCTIONS or lowered.startswith(("duckdb_", "pragma_"))


def _message(error: BaseException) -> str:
    return " ".join(str(error).split())[:400]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return format_instant(value)  # TIMESTAMP values are UTC (a naive value is read as UTC)
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, Decimal | int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, timedelta):
        return str(value)
    return json.dumps(value, default=str, ensure_ascii=False, separators=(",", ":"))


def _distinct(names: Sequence[str]) -> tuple[str, ...]:
    seen: dict[str, int] = {}
    result = []
    for name in names:
        count = seen.get(name, 0)
        seen[name] = count + 1
        result.append(name if count == 0 else f"{name}_{count + 1}")
    return tuple(result)


def run_select(
    parquet: Path,
    table_name: str,
    sql: str,
    *,
    params: Mapping[str, Any] | None = None,
    row_cap: int,
    time_limit: float,
    parameter: str = "query",
) -> SqlResult:
    """Run the caller's (or a validator's) SELECT over the asset in ``parquet``; ``params``: named parameters
    (``$start``...). Raises InvalidSqlError, SqlTimeoutError or SqlResultTooLargeError, each a 400."""
    connection = _connect()
    try:
        # identifiers are constants or checked above (_IDENTIFIER); the path is a parameter
        load = f"CREATE TABLE {ASSET_TABLE} AS SELECT * FROM read_parquet($path)"  # noqa: S608
        connection.execute(load, {"path": str(parquet)})
        tables = [ASSET_TABLE]
        if _IDENTIFIER.match(table_name) and table_name.lower() != ASSET_TABLE:
            connection.execute(f'CREATE VIEW "{table_name}" AS SELECT * FROM {ASSET_TABLE}')  # noqa: S608
            tables.append(table_name)
        connection.execute("SET enable_external_access = false")
        connection.execute("SET lock_configuration = true")
        text = check_select(connection, sql, tables, parameter)
        timer = threading.Timer(time_limit, connection.interrupt)
        timer.start()
        try:
            relation = connection.sql(text, params=dict(params) if params else None)
            if relation is None:  # not a query after all: check_select lets none through
                raise _refuse("only a read-only SELECT may run", parameter)
            columns = _distinct(relation.columns)
            fetched = relation.limit(row_cap + 1).fetchall()
        finally:
            timer.cancel()
    except duckdb.InterruptException:
        raise SqlTimeoutError(
            f"the query ran longer than the time limit of {time_limit:g} s; narrow it (WHERE, LIMIT, fewer joins)",
            parameter=parameter,
        ) from None
    except duckdb.OutOfMemoryException:
        raise SqlResultTooLargeError(
            f"the query needs more than the {MEMORY_LIMIT} memory limit; narrow it (WHERE, LIMIT, fewer joins)",
            parameter=parameter,
        ) from None
    except duckdb.Error as error:
        raise _refuse(f"the query failed: {_message(error)}", parameter) from None
    finally:
        connection.close()
    if len(fetched) > row_cap:
        raise SqlResultTooLargeError(
            f"the query returns more than {row_cap:,} rows; add a WHERE clause or a LIMIT (results are never "
            "truncated)",
            parameter=parameter,
            limit=row_cap,
        )
    rows, size = [], 0
    for row in fetched:
        cells = [_cell(value) for value in row]
        size += sum(len(cell) for cell in cells)
        if size > MAX_RESULT_CHARS:
            raise SqlResultTooLargeError(
                f"the query's result is larger than {MAX_RESULT_CHARS:,} characters; select fewer rows or columns",
                parameter=parameter,
            )
        rows.append(dict(zip(columns, cells, strict=True)))
    return SqlResult(columns, rows)
