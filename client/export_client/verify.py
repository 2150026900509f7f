"""Checking a file on disk: its SHA-256 and size, and its records counted by format, all read in bounded memory."""

from __future__ import annotations

import base64
import binascii
import codecs
import csv
import hashlib
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from export_client.errors import ClientError, Exit

CHUNK = 1 << 20
csv.field_size_limit(sys.maxsize)


@dataclass(frozen=True)
class Facts:
    """What a file is: its digest, its size and its record count (None: not counted for this format)."""

    sha256: str
    bytes: int
    rows: int | None


def sha256_of(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def format_of(name: str) -> str:
    """The format from a file name's extension (``csv``, ``json``, ``jsonl``, ``parquet``, ``pdf``, or ``""``)."""
    suffix = Path(name).suffix.lower().lstrip(".")
    return suffix if suffix in {"csv", "json", "jsonl", "parquet", "pdf"} else ""


def count_csv(path: Path) -> int:
    """Records of an RFC 4180 file with a header row (quoted cells may hold line breaks); a UTF-8 BOM is skipped."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = sum(1 for _ in csv.reader(handle))
    return max(rows - 1, 0)


def count_jsonl(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(1 for line in handle if line.strip())


_OUTSIDE = re.compile(r'["\[\]{}]')
_INSIDE = re.compile(r'["\\]')


def count_json_envelope(path: Path) -> int:
    """Objects directly inside the envelope's ``records`` array (the only array directly in the top-level object),
    counted by a streaming scan: the file is never loaded whole."""
    stack: list[str] = []
    in_string = escaped = False
    records = 0
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            text = decoder.decode(chunk)
            at = 0
            while at < len(text):
                if escaped:
                    escaped, at = False, at + 1
                    continue
                if in_string:
                    found = _INSIDE.search(text, at)
                    if found is None:
                        break
                    at = found.end()
                    if found.group() == "\\":
                        escaped = True
                    else:
                        in_string = False
                    continue
                found = _OUTSIDE.search(text, at)
                if found is None:
                    break
                at, char = found.end(), found.group()
                if char == '"':
                    in_string = True
                elif char in "[{":
                    if char == "{" and stack == ["{", "["]:
                        records += 1
                    stack.append(char)
                elif stack:
                    stack.pop()
    return records


class _Compact:
    """Just enough of Thrift's compact protocol to read a Parquet footer's ``FileMetaData.num_rows`` (field 3)."""

    def __init__(self, data: bytes) -> None:
        self._data, self._at = data, 0

    def _byte(self) -> int:
        value = self._data[self._at]
        self._at += 1
        return value

    def _varint(self) -> int:
        shift = result = 0
        while True:
            byte = self._byte()
            result |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return result
            shift += 7

    def _zigzag(self) -> int:
        value = self._varint()
        return (value >> 1) ^ -(value & 1)

    def _skip(self, kind: int) -> None:
        if kind in (1, 2):  # booleans: in the field header
            return
        if kind == 3:
            self._at += 1
        elif kind in (4, 5, 6):
            self._varint()
        elif kind == 7:
            self._at += 8
        elif kind == 8:
            length = self._varint()  # read before moving: ``self._at += self._varint()`` would add to the old position
            self._at += length
        elif kind in (9, 10):
            header = self._byte()
            size = header >> 4 if header >> 4 != 15 else self._varint()
            for _ in range(size):
                self._skip_element(header & 0x0F)
        elif kind == 11:
            size = self._varint()
            types = self._byte() if size else 0
            for _ in range(size):
                self._skip_element(types >> 4)
                self._skip_element(types & 0x0F)
        elif kind == 12:
            self._fields(stop_at=None)
        else:
            raise ValueError(f"unknown Thrift type {kind}")

    def _skip_element(self, kind: int) -> None:
        if kind in (1, 2):  # a boolean inside a list or map takes a byte
            self._at += 1
        else:
            self._skip(kind)

    def _fields(self, stop_at: int | None) -> int | None:
        field = 0
        while True:
            header = self._byte()
            kind = header & 0x0F
            if kind == 0:
                return None
            delta = header >> 4
            field = field + delta if delta else self._zigzag()
            if field == stop_at and kind == 6:
                return self._zigzag()
            self._skip(kind)

    def num_rows(self) -> int:
        rows = self._fields(stop_at=3)
        if rows is None:
            raise ValueError("no num_rows in the footer")
        return rows


def count_parquet(path: Path) -> int:
    """The row count a Parquet file's footer states (FileMetaData.num_rows), read without a Parquet library."""
    with path.open("rb") as handle:
        handle.seek(0, 2)
        size = handle.tell()
        if size < 12:
            raise ValueError("too short for a Parquet file")
        handle.seek(size - 8)
        tail = handle.read(8)
        length = int.from_bytes(tail[:4], "little")
        if tail[4:] != b"PAR1" or length > size - 12:
            raise ValueError("no Parquet footer")
        handle.seek(size - 8 - length)
        return _Compact(handle.read(length)).num_rows()


def count_rows(path: Path, fmt: str) -> int | None:
    """The file's record count for the tabular formats and Parquet; None for others (a PDF: checked by digest)."""
    try:
        if fmt == "parquet":
            return count_parquet(path)
        if fmt == "csv":
            return count_csv(path)
        if fmt == "jsonl":
            return count_jsonl(path)
        if fmt == "json":
            return count_json_envelope(path)
    except (UnicodeDecodeError, csv.Error, ValueError, IndexError) as error:
        raise ClientError(Exit.VERIFY, f"{path.name} is not a readable {fmt} file: {error}") from None
    return None


def facts(path: Path, fmt: str) -> Facts:
    digest, size = sha256_of(path)
    return Facts(sha256=digest, bytes=size, rows=count_rows(path, fmt))


def repr_digest_sha256(header: str | None) -> str | None:
    """The hex SHA-256 of an RFC 9530 ``Repr-Digest: sha-256=:<base64>:`` header, if it carries one."""
    if not header:
        return None
    found = re.search(r"sha-256=:([A-Za-z0-9+/=]+):", header)
    if not found:
        return None
    try:
        return base64.b64decode(found.group(1), validate=True).hex()
    except binascii.Error:
        return None


def mismatches(got: Facts, *, sha256: str | None, size: int | None, rows: int | None) -> list[str]:
    """What differs between the file and what the service said it is (empty: it matches)."""
    problems = []
    if sha256 is not None and got.sha256 != sha256:
        problems.append(f"SHA-256 {got.sha256} instead of {sha256}")
    if size is not None and got.bytes != size:
        problems.append(f"{got.bytes:,} bytes instead of {size:,}")
    if rows is not None and got.rows is not None and got.rows != rows:
        problems.append(f"{got.rows:,} records instead of {rows:,}")
    return problems
