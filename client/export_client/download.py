"""Downloading a presigned link into a temporary file: resumed with HTTP Range after an interruption, the link renewed
from the API when it expires (or is about to), and the file moved under its final name only once it is verified.

A link lives 300 s. S3 checks a link when a request starts, so a download that started in time runs to its end; an
interrupted one resumes with a new request, which may need a new link. S3 answers an expired link with 403
(AccessDenied, "Request has expired"; 400 for some credential errors): the downloader then asks its ``LinkSource``
for a fresh link, at most ``MAX_REFRESHES`` times in a row without a byte of progress.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import requests
import urllib3

from export_client.api import CONNECT_TIMEOUT, network_error
from export_client.errors import ClientError, Exit
from export_client.ui import ByteProgress

CHUNK = 256 * 1024
READ_TIMEOUT = 60.0
MAX_INTERRUPTIONS = 8  # resumes in a row without progress before giving up
MAX_REFRESHES = 3  # fresh links in a row refused before giving up
EXPIRY_MARGIN = timedelta(seconds=15)  # a link closer than this to its expiry is renewed before a request
_INTERRUPTED = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    urllib3.exceptions.ProtocolError,
    urllib3.exceptions.ReadTimeoutError,
)


@dataclass(frozen=True)
class Link:
    url: str
    expires_at: datetime | None = None


class LinkSource(Protocol):
    """Where a file's link comes from: the one in hand, and a fresh one from the API."""

    def current(self) -> Link: ...

    def refresh(self) -> Link: ...


@dataclass
class Transfer:
    """How a download went: the bytes it has, how many requests resumed it, how many fresh links it needed."""

    bytes: int = 0
    resumes: int = 0
    refreshes: int = 0


def parse_instant(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def part_path(final: Path) -> Path:
    """The temporary file beside the final one (same file system, so the rename is atomic)."""
    return final.with_name(f".{final.name}.part")


def _expired(response: requests.Response) -> bool:
    """S3's answers to a link that is past its time (or whose signature no longer holds)."""
    return response.status_code in (400, 403)


def _content_range_start(response: requests.Response) -> int | None:
    found = re.match(r"bytes (\d+)-", response.headers.get("Content-Range", ""))
    return int(found.group(1)) if found else None


def fetch(
    source: LinkSource,
    part: Path,
    *,
    session: requests.Session,
    expected_bytes: int | None,
    progress: ByteProgress,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    sleep: Callable[[float], None] = time.sleep,
) -> Transfer:
    """Download into ``part`` (appending to what it already holds) until it is complete."""
    link = source.current()
    transfer = Transfer()
    interruptions = refused = 0
    while True:
        have = part.stat().st_size if part.exists() else 0
        if expected_bytes is not None and have > expected_bytes:
            part.unlink()  # not a prefix of this file: start again
            have = 0
        if expected_bytes is not None and have == expected_bytes and have > 0:
            transfer.bytes = have
            progress.start(expected_bytes, have)
            return transfer
        if link.expires_at is not None and link.expires_at - now() < EXPIRY_MARGIN:
            link = source.refresh()
            transfer.refreshes += 1
        headers = {"Accept-Encoding": "identity"}  # the object's own bytes: they are what the digest covers
        if have:
            headers["Range"] = f"bytes={have}-"
        before = have
        try:
            with session.get(link.url, headers=headers, stream=True, timeout=(CONNECT_TIMEOUT, READ_TIMEOUT)) as r:
                if _expired(r):
                    refused += 1
                    if refused > MAX_REFRESHES:
                        raise ClientError(
                            Exit.NETWORK,
                            f"the file store refused {refused} fresh links in a row (HTTP {r.status_code})",
                        )
                    link = source.refresh()
                    transfer.refreshes += 1
                    continue
                if r.status_code == 404:
                    raise ClientError(
                        Exit.REJECTED, "the file is gone (HTTP 404): files are deleted 30 days after they are made"
                    )
                if r.status_code == 416 and have:  # nothing after what we have: complete
                    transfer.bytes = have
                    return transfer
                if r.status_code >= 400:
                    raise ClientError(Exit.NETWORK, f"the download failed: HTTP {r.status_code} {r.reason}")
                refused = 0
                mode = "ab"
                if r.status_code != 206 or _content_range_start(r) not in (have, None):
                    mode, have = "wb", 0  # the store sent the whole file (or another range): start over
                length = r.headers.get("Content-Length")
                total = have + int(length) if length and length.isdigit() else expected_bytes
                progress.start(total, have)
                with part.open(mode) as out:
                    for chunk in r.raw.stream(CHUNK, decode_content=False):
                        out.write(chunk)
                        progress.advance(len(chunk))
                    out.flush()
                    os.fsync(out.fileno())
            size = part.stat().st_size
            if expected_bytes is None or size >= expected_bytes:
                transfer.bytes = size
                return transfer
            raise requests.exceptions.ChunkedEncodingError(f"the body ended after {size} of {expected_bytes} bytes")
        except _INTERRUPTED as error:
            if part.exists() and part.stat().st_size > before:
                interruptions = 0  # progress was made: the budget is for interruptions in a row
            interruptions += 1
            if interruptions > MAX_INTERRUPTIONS:
                raise network_error("the file store", error) from None
            transfer.resumes += 1
            sleep(min(2.0 ** (interruptions - 1) * 0.25, 8.0))


def write_sidecar(part: Path, identity: dict[str, Any]) -> None:
    """What a temporary file is a prefix of, so that a later run resumes it only for the same file."""
    sidecar = part.with_name(part.name + ".json")
    sidecar.write_text(json.dumps(identity, sort_keys=True), encoding="utf-8")


def matching_part(part: Path, identity: dict[str, Any]) -> bool:
    """True when ``part`` was left by an interrupted download of the same file (it is resumed), else clear it."""
    sidecar = part.with_name(part.name + ".json")
    try:
        same = json.loads(sidecar.read_text(encoding="utf-8")) == json.loads(json.dumps(identity, sort_keys=True))
    except (OSError, ValueError):
        same = False
    if not same:
        discard(part)
    return same and part.exists()


def discard(part: Path) -> None:
    for path in (part, part.with_name(part.name + ".json")):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def promote(part: Path, final: Path) -> None:
    """Move the verified file under its final name (atomic: never half a file under that name)."""
    os.replace(part, final)
    with contextlib.suppress(FileNotFoundError):
        part.with_name(part.name + ".json").unlink()
    with contextlib.suppress(OSError):  # make the rename durable where the platform allows it
        descriptor = os.open(final.parent, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
