"""A file against its manifest entry (bytes, SHA-256, rows), and audit records against their own checksums. Files
are read in bounded memory (a JSON envelope's records excepted: read whole to recompute their checksums)."""

from __future__ import annotations

import base64
import binascii
import csv
import json
import re
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from export_client.verifier.canonical import record_checksum
from export_client.verifier.report import Failure, InputError
from export_client.verify import count_rows, sha256_of

csv.field_size_limit(sys.maxsize)
_NEUTRALISED = ("'=", "'+", "'-", "'@", "'\t", "'\r", "'\n")  # CSV cells a spreadsheet would run, prefixed with '


def check_file(path: Path, entry: Mapping[str, Any], where: str) -> tuple[str, list[Failure]]:
    """What matched (for the report) and what did not."""
    digest, size = sha256_of(path)
    fmt = str(entry.get("format") or path.suffix.lstrip("."))
    failures = []
    if size != int(entry["bytes"]):
        failures.append(Failure(where, "bytes", f"{size:,} bytes, the manifest says {int(entry['bytes']):,}"))
    if digest != str(entry["sha256"]):
        failures.append(Failure(where, "sha256", f"{digest}, the manifest says {entry['sha256']}"))
    rows = _rows(path, fmt, where)
    if rows is not None and rows != int(entry["rows"]):
        failures.append(Failure(where, "rows", f"{rows:,} rows, the manifest says {int(entry['rows']):,}"))
    shown = f"{size:,} bytes, sha256 {digest[:16]}…, " + (
        f"{rows:,} rows" if rows is not None else "rows not countable"
    )
    return shown, failures


def _rows(path: Path, fmt: str, where: str) -> int | None:
    try:
        return count_rows(path, fmt)
    except Exception as error:  # the client's ClientError for a file its format cannot read
        raise InputError(f"{where}: {getattr(error, 'message', error)}") from None


def check_headers(path: Path, headers: Path, where: str) -> tuple[str, list[Failure]]:
    """A saved response's ``Repr-Digest`` (RFC 9530) and ``X-Record-Count`` (curl -D) against the file."""
    text = headers.read_text(encoding="latin-1")
    found = dict(
        (name.strip().lower(), value.strip())
        for name, _, value in (line.partition(":") for line in text.splitlines())
        if value
    )
    failures: list[Failure] = []
    digest, _size = sha256_of(path)
    match = re.search(r"sha-256=:([A-Za-z0-9+/=]+):", found.get("repr-digest", ""))
    encoding = found.get("content-encoding", "identity").lower()
    if encoding not in ("", "identity"):
        # RFC 9530: Repr-Digest covers the representation as sent, here the encoded bytes, not the saved file
        return f"Repr-Digest not comparable (the answer was {encoding}-encoded; the manifest is)", failures
    if match is None:
        failures.append(Failure(where, "repr-digest", f"{headers.name} has no Repr-Digest with sha-256"))
    else:
        try:
            said = base64.b64decode(match.group(1), validate=True).hex()
        except binascii.Error:
            said = "(not base64)"
        if said != digest:
            failures.append(Failure(where, "repr-digest", f"the file's sha-256 is {digest}, Repr-Digest says {said}"))
    count = found.get("x-record-count")
    return f"Repr-Digest{' and X-Record-Count ' + count if count else ''} from {headers.name}", failures


def _unneutralised(row: Mapping[str, str]) -> dict[str, str]:
    return {name: value[1:] if value.startswith(_NEUTRALISED) else value for name, value in row.items()}


def records(path: Path, fmt: str) -> Iterator[tuple[int, dict[str, Any], bool]]:
    """(row number, record, from CSV) for every record of a csv, jsonl or json (envelope) file."""
    if fmt == "csv":
        with path.open(encoding="utf-8-sig", newline="") as handle:
            for number, row in enumerate(csv.DictReader(handle), start=1):
                yield number, dict(row), True
    elif fmt == "jsonl":
        with path.open(encoding="utf-8") as handle:
            number = 0
            for line in handle:
                if line.strip():
                    number += 1
                    yield number, json.loads(line), False
    elif fmt == "json":
        document = json.loads(path.read_text(encoding="utf-8-sig"))
        for number, record in enumerate(document.get("records") or [], start=1):
            yield number, record, False
    else:
        raise InputError(f"{path.name}: audit records can be checked in csv, json or jsonl, not {fmt!r}")


def check_records(path: Path, fmt: str, where: str, most: int = 20) -> tuple[int, list[Failure]]:
    """Recompute every record's checksum; a CSV cell neutralised for spreadsheets (a leading ') is read back first.
    Returns how many records were checked and the first ``most`` failures."""
    failures: list[Failure] = []
    count = 0
    try:
        for number, record, from_csv in records(path, fmt):
            count += 1
            if not isinstance(record, dict) or None in record or None in record.values():
                if len(failures) < most:
                    failures.append(Failure(f"{where} row {number}", "checksum", "the row does not match the header"))
                continue
            claimed = str(record.get("checksum") or "")
            if record_checksum(record) == claimed:
                continue
            if from_csv and record_checksum(_unneutralised(record)) == claimed:
                continue
            if len(failures) < most:
                what = (
                    f"checksum {claimed or '(none)'} does not match the record (recomputed {record_checksum(record)})"
                )
                failures.append(Failure(f"{where} row {number} (id {record.get('id', '?')})", "checksum", what))
    except (ValueError, csv.Error, UnicodeDecodeError) as error:
        failures.append(Failure(f"{where} row {count + 1}", "checksum", f"the record cannot be read: {error}"))
    return count, failures
