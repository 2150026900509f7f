"""Fakes for the client's unit tests: a file store that answers presigned GETs (Range, interruptions, expiry), and an
API with export jobs and a nightly listing. No network: the client's requests.Session is replaced by FakeStore."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import urllib3


class FakeRaw:
    def __init__(self, body: bytes, cut_after: int | None) -> None:
        self._body, self._cut = body, cut_after

    def stream(self, size: int, decode_content: bool = True) -> Iterator[bytes]:
        sent = 0
        for at in range(0, len(self._body), 7):
            piece = self._body[at : at + 7]
            if self._cut is not None and sent + len(piece) > self._cut:
                yield piece[: self._cut - sent]
                raise urllib3.exceptions.ProtocolError("Connection broken: IncompleteRead")
            sent += len(piece)
            yield piece
        if self._cut is not None:  # every byte sent, then the connection broke before the response completed
            raise urllib3.exceptions.ProtocolError("Connection broken: IncompleteRead")


class FakeResponse:
    def __init__(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None, cut: int | None = None):
        self.status_code, self.reason = status, "reason"
        self.headers = headers or {}
        self.raw = FakeRaw(body, cut)
        self._body = body

    def json(self) -> Any:
        return json.loads(self._body)

    def __enter__(self) -> FakeResponse:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


@dataclass
class StoredFile:
    body: bytes
    cuts: list[int] = field(default_factory=list)  # each request in turn is cut after this many bytes
    refuse: int = 0  # the next N requests answer 403 (an expired link)
    corrupt: bool = False  # a byte flipped in every answer
    ignores_range: bool = False


class FakeStore:
    """A file store reached through presigned URLs ``https://store/<name>?v=<n>``; records every request."""

    def __init__(self) -> None:
        self.files: dict[str, StoredFile] = {}
        self.requests: list[tuple[str, str | None]] = []  # (url, Range header)

    def put(self, name: str, body: bytes, **behaviour: Any) -> str:
        copied = {key: list(value) if isinstance(value, list) else value for key, value in behaviour.items()}
        self.files[name] = StoredFile(body, **copied)
        return hashlib.sha256(body).hexdigest()

    def get(self, url: str, headers: dict[str, str] | None = None, **_: Any) -> FakeResponse:
        headers = headers or {}
        self.requests.append((url, headers.get("Range")))
        name = url.split("//store/", 1)[1].split("?", 1)[0]
        stored = self.files.get(name)
        if stored is None:
            return FakeResponse(404)
        if stored.refuse:
            stored.refuse -= 1
            return FakeResponse(403, b"<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>")
        body = stored.body
        if stored.corrupt:
            body = bytes([body[0] ^ 1]) + body[1:]
        start = int(headers["Range"].split("=")[1].rstrip("-")) if "Range" in headers else 0
        cut = stored.cuts.pop(0) if stored.cuts else None
        if start and not stored.ignores_range:
            if start >= len(body):
                return FakeResponse(416)
            part = body[start:]
            content_range = f"bytes {start}-{len(body) - 1}/{len(body)}"
            return FakeResponse(206, part, {"Content-Length": str(len(part)), "Content-Range": content_range}, cut)
        return FakeResponse(200, body, {"Content-Length": str(len(body))}, cut)


def instant(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class FakeNightlyApi:
    """GET /v1/export-requests over nights of six sources, with pages of whole nights and fresh links per call."""

    endpoint = "https://api.example"
    SOURCES = (
        "text/csv+incident-20220525",
        "text/csv+incident_role_assignment-20220525",
        "text/csv+incident_event-20220525",
        "text/csv+incident_impact-20220525",
        "text/csv+retrospective-20220525",
        "text/csv+audit_event-20261122",
    )

    def __init__(self, store: FakeStore, now: datetime) -> None:
        self.store, self.now = store, now
        self.entries: list[dict[str, Any]] = []
        self.calls: list[tuple[str | None, int]] = []
        self.version = 0

    @staticmethod
    def entry(night: datetime, created: datetime, n: int, source: str, **fields: Any) -> dict[str, Any]:
        """The listing's entry of the ``n``-th source's file of a completed night (``fields``: records, sha256,
        name, and a format where there is one)."""
        return {
            "id": f"{night:%Y%m%d}-{n}",
            "created_at": instant(created),
            "window_starts_at": instant(night - timedelta(days=1, hours=1)),
            "window_ends_at": instant(night),
            "source": source,
            "status": "completed",
            **fields,
        }

    def add_night(self, night: datetime, created: datetime, rows: int = 2, **behaviour: Any) -> list[dict[str, Any]]:
        added = []
        for n, source in enumerate(self.SOURCES):
            name = f"{source.split('+')[1]}-{night:%Y-%m-%d}.csv"
            lines = ["id,created_at,updated_at"] + [
                f"{night:%Y%m%d}-{n}-{i},2026-01-01,2026-01-0{i % 9 + 1}" for i in range(rows)
            ]
            sha = self.store.put(name, ("\r\n".join(lines) + "\r\n").encode(), **behaviour)
            entry = self.entry(night, created, n, source, records=rows, sha256=sha, name=name)
            self.entries.append(entry)
            added.append(entry)
        return added

    def export_requests(self, newer_than: str | None, limit: int = 300) -> dict[str, Any]:
        self.calls.append((newer_than, limit))
        self.version += 1
        live = [e for e in self.entries if e["created_at"] > instant(self.now - timedelta(days=30))]
        after = [e for e in live if newer_than is None or e["created_at"] > newer_than]
        page, more = after[:limit], len(after) > limit
        if more:
            page = [e for e in page if e["created_at"] != after[limit]["created_at"]]
        data = [
            {
                **{k: v for k, v in e.items() if k != "name"},
                "url": f"https://store/{e['name']}?v={self.version}&response-content-disposition="
                f"attachment%3B%20filename%3D%22{e['name']}%22",
            }
            for e in page
        ]
        return {
            "data": data,
            "urls_expire_at": instant(self.now + timedelta(seconds=300)),
            "pagination": {
                "limit": limit,
                "has_more": more,
                "next_newer_than": page[-1]["created_at"] if more else None,
            },
        }
