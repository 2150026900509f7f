"""Output formats, written record by record: CSV (RFC 4180), the JSON envelope and JSON Lines."""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any, Protocol, TextIO


class ExportFormat(StrEnum):
    CSV = "csv"
    JSON = "json"
    JSONL = "jsonl"


CONTENT_TYPES: dict[ExportFormat, str] = {
    ExportFormat.CSV: "text/csv; charset=utf-8",
    ExportFormat.JSON: "application/json",
    ExportFormat.JSONL: "application/x-ndjson",
}

# A cell starting with one of these is run as a formula by Excel, LibreOffice or Google Sheets (OWASP CSV injection).
_FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")
UTF8_BOM = "\ufeff"


def neutralise_cell(value: str) -> str:
    """Prefix a would-be formula with an apostrophe so a spreadsheet shows it as text."""
    return "'" + value if value.startswith(_FORMULA_TRIGGERS) else value


def _dumps(record: Any) -> str:
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


class RecordWriter(Protocol):
    def write(self, record: Mapping[str, Any]) -> None: ...


class CsvWriter:
    def __init__(self, out: TextIO, columns: Sequence[str], *, bom: bool = False) -> None:
        self._columns = columns
        self._csv = csv.writer(out, lineterminator="\r\n")
        if bom:
            out.write(UTF8_BOM)
        self._csv.writerow(columns)

    def write(self, record: Mapping[str, Any]) -> None:
        self._csv.writerow([neutralise_cell(_cell(record.get(column))) for column in self._columns])


class JsonLinesWriter:
    def __init__(self, out: TextIO, columns: Sequence[str]) -> None:
        self._out = out
        self._columns = columns

    def write(self, record: Mapping[str, Any]) -> None:
        self._out.write(_dumps({column: record.get(column, "") for column in self._columns}))
        self._out.write("\n")


class JsonArrayWriter:
    """Writes the inside of the records array; ``wrap_envelope`` adds the envelope once the count is known."""

    def __init__(self, out: TextIO, columns: Sequence[str]) -> None:
        self._out = out
        self._columns = columns
        self._first = True

    def write(self, record: Mapping[str, Any]) -> None:
        if not self._first:
            self._out.write(",")
        self._first = False
        self._out.write(_dumps({column: record.get(column, "") for column in self._columns}))


def wrap_envelope(kind: str, metadata: Mapping[str, Any], records_json: str) -> str:
    """``{"apiVersion":"v1","kind":...,"metadata":{...},"records":[...]}`` around already-serialised records."""
    head = _dumps({"apiVersion": "v1", "kind": kind, "metadata": dict(metadata)})
    return head[:-1] + ',"records":[' + records_json + "]}"


def make_writer(fmt: ExportFormat, out: TextIO, columns: Sequence[str], *, bom: bool = False) -> RecordWriter:
    if fmt is ExportFormat.CSV:
        return CsvWriter(out, columns, bom=bom)
    if fmt is ExportFormat.JSONL:
        return JsonLinesWriter(out, columns)
    return JsonArrayWriter(out, columns)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return _dumps(value) if isinstance(value, dict | list) else str(value)
