"""Output formats, written record by record: CSV (RFC 4180), the JSON envelope and JSON Lines."""

from __future__ import annotations

import csv
import functools
import io
import json
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from json.encoder import encode_basestring  # type: ignore[attr-defined]  # the C encoder _dumps uses
from typing import Any, Protocol, TextIO

from export_service.models.export import ExportFormat

CONTENT_TYPES: dict[ExportFormat, str] = {
    ExportFormat.CSV: "text/csv; charset=utf-8",
    ExportFormat.JSON: "application/json",
    ExportFormat.JSONL: "application/x-ndjson",
    ExportFormat.PDF: "application/pdf",
    ExportFormat.PARQUET: "application/vnd.apache.parquet",
}

# A cell starting with one of these is run as a formula by Excel, LibreOffice or Google Sheets (OWASP CSV injection).
_TRIGGER_CHARS = frozenset("=+-@\t\r\n")
UTF8_BOM = "\ufeff"


def neutralise_cell(value: str) -> str:
    """Prefix a would-be formula with an apostrophe so a spreadsheet shows it as text."""
    return "'" + value if value and value[0] in _TRIGGER_CHARS else value


def _dumps(record: Any) -> str:
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


@functools.lru_cache(maxsize=16)
def _object_template(columns: tuple[str, ...]) -> str:
    """``{"<column>":%s,...}``: a record of string cells is one ``%`` of its encoded values (what ``_dumps`` writes)."""
    return "{" + ",".join(encode_basestring(column).replace("%", "%%") + ":%s" for column in columns) + "}"


def _objects(columns: Sequence[str], records: Sequence[Mapping[str, Any]]) -> list[str]:
    """Each record as the JSON object ``_dumps({column: value or ""})`` writes, in column order. Records whose cells
    are all strings (the exported attributes are) take a path without an encoder call per record."""
    template = _object_template(tuple(columns))
    cells = _cells(tuple(columns))
    texts = []
    for record in records:
        try:
            values = cells(record)  # every column present (the common case), read in C
        except KeyError:
            values = tuple(record.get(column, "") for column in columns)
        try:
            texts.append(template % tuple(map(encode_basestring, values)))
        except TypeError:  # a cell that is not a string (a number, a map, None): the general encoder
            texts.append(_dumps(dict(zip(columns, values, strict=True))))
    return texts


@functools.lru_cache(maxsize=16)
def _cells(columns: tuple[str, ...]) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
    """The record's cells in column order, as a tuple (``itemgetter`` of one column gives the cell alone)."""
    getter = operator.itemgetter(*columns)
    return (lambda record: (getter(record),)) if len(columns) == 1 else getter


_AFTER_A_LINE = re.compile("\n[=+\\-@\t\r\n]")  # a cell of a column joined by "\n" that starts with a trigger


def _quoted(value: str) -> str:
    """A cell as ``csv.writer`` (QUOTE_MINIMAL, "\\r\\n" lines) writes it: quoted when it holds , " CR or LF."""
    if "," in value or '"' in value or "\r" in value or "\n" in value:
        return '"' + value.replace('"', '""') + '"'
    return value


def _csv_page(columns: Sequence[str], records: Sequence[Mapping[str, Any]]) -> str | None:
    """The records as ``csv.writer`` writes their neutralised cells, built a column at a time; None (the general
    path) unless every record is a dict with every column as a string, and for a single column (where ``csv`` quotes
    an empty row). Each column is checked at once, in C, on its cells joined by "\\n": a formula trigger at a cell's
    start, and a character that needs quoting; only a column that has one is mapped cell by cell (the metadata's
    JSON, say). It is csv.writer's own output, which a randomised test compares it with."""
    if len(columns) < 2 or not records or set(map(type, records)) != {dict}:  # a Mapping may answer [] unlike .get
        return None
    try:
        rows = list(map(_cells(tuple(columns)), records))
    except KeyError:
        return None
    cells = []
    for cells_of_column in zip(*rows, strict=True):
        column = cells_of_column
        try:
            joined = "\n".join(column)
        except TypeError:  # a cell that is not a string
            return None
        if joined[:1] in _TRIGGER_CHARS or _AFTER_A_LINE.search(joined):
            column = tuple(map(neutralise_cell, column))
            joined = "\n".join(column)
        if '"' in joined or "," in joined or "\r" in joined or joined.count("\n") != len(column) - 1:
            column = tuple(map(_quoted, column))
        cells.append(column)
    return "\r\n".join(map(",".join, zip(*cells, strict=True))) + "\r\n"


class RecordWriter(Protocol):
    def write(self, record: Mapping[str, Any]) -> None: ...

    def write_many(self, records: Sequence[Mapping[str, Any]]) -> None: ...


class CsvWriter:
    def __init__(self, out: TextIO, columns: Sequence[str], *, bom: bool = False, header: bool = True) -> None:
        self._columns = columns
        self._out = out
        self._csv = csv.writer(out, lineterminator="\r\n")
        if bom:
            out.write(UTF8_BOM)
        if header:
            self._csv.writerow(columns)

    def write(self, record: Mapping[str, Any]) -> None:
        self.write_many((record,))

    def write_many(self, records: Sequence[Mapping[str, Any]]) -> None:
        text = _csv_page(self._columns, records)
        if text is not None:
            self._out.write(text)
            return
        # The general path, a cell at a time (the common case, a string that is not a formula, inline).
        columns = self._columns
        rows = []
        for record in records:
            row = []
            for column in columns:
                value = record.get(column)
                if value.__class__ is not str:
                    value = _cell(value)
                row.append("'" + value if value and value[0] in _TRIGGER_CHARS else value)
            rows.append(row)
        self._csv.writerows(rows)


class JsonLinesWriter:
    def __init__(self, out: TextIO, columns: Sequence[str]) -> None:
        self._out = out
        self._columns = columns

    def write(self, record: Mapping[str, Any]) -> None:
        self.write_many((record,))

    def write_many(self, records: Sequence[Mapping[str, Any]]) -> None:
        self._out.write("".join(line + "\n" for line in _objects(self._columns, records)))


class JsonArrayWriter:
    """Writes the inside of the records array; ``wrap_envelope`` adds the envelope once the count is known."""

    def __init__(self, out: TextIO, columns: Sequence[str]) -> None:
        self._out = out
        self._columns = columns
        self._first = True

    def write(self, record: Mapping[str, Any]) -> None:
        self.write_many((record,))

    def write_many(self, records: Sequence[Mapping[str, Any]]) -> None:
        if not records:
            return
        text = ",".join(_objects(self._columns, records))
        self._out.write(text if self._first else "," + text)
        self._first = False


def envelope_parts(kind: str, metadata: Mapping[str, Any]) -> tuple[str, str]:
    """The text before and after the records of ``{"apiVersion":"v1","kind":...,"metadata":{...},"records":[...]}``."""
    head = _dumps({"apiVersion": "v1", "kind": kind, "metadata": dict(metadata)})
    return head[:-1] + ',"records":[', "]}"


def wrap_envelope(kind: str, metadata: Mapping[str, Any], records_json: str) -> str:
    """The JSON envelope around already-serialised records."""
    head, tail = envelope_parts(kind, metadata)
    return head + records_json + tail


def csv_header(columns: Sequence[str], *, bom: bool = False) -> str:
    out = io.StringIO()
    CsvWriter(out, columns, bom=bom)
    return out.getvalue()


def make_writer(
    fmt: ExportFormat, out: TextIO, columns: Sequence[str], *, bom: bool = False, header: bool = True
) -> RecordWriter:
    """``header=False``: the body of a part file (no CSV header or BOM; JSON records without brackets)."""
    if fmt is ExportFormat.PDF:
        raise ValueError("a PDF is a report with its own renderer, not a stream of records")
    if fmt is ExportFormat.PARQUET:
        raise ValueError("a Parquet file is written by export jobs (logic/parquet_files.py), not as text")
    if fmt is ExportFormat.CSV:
        return CsvWriter(out, columns, bom=bom and header, header=header)
    if fmt is ExportFormat.JSONL:
        return JsonLinesWriter(out, columns)
    return JsonArrayWriter(out, columns)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return _dumps(value) if isinstance(value, dict | list) else str(value)
