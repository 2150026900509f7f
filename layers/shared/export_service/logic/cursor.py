"""Opaque, signed page cursors: HMAC-SHA256 over the position, bound to the tenant and the query's fingerprint."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json

from pydantic import BaseModel, ValidationError

from export_service.errors import InvalidParameterError

VERSION = 1
MAX_CURSOR_CHARS = 2048


class CursorPosition(BaseModel):
    """Where the next page starts: strictly after the item (pk, sk), in a walk whose range ends at ``end``."""

    pk: str
    sk: str
    end: str  # the range's end frozen at the first page (ISO 8601), so "now" does not move under a walk


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: bytes, body: str) -> str:
    return _b64(hmac.new(key, body.encode("ascii"), hashlib.sha256).digest())


def seal_cursor(key: bytes, tenant: str, fingerprint: str, position: CursorPosition) -> str:
    payload = {"v": VERSION, "t": tenant, "q": fingerprint, **position.model_dump()}
    body = _b64(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode("utf-8"))
    return f"{body}.{_mac(key, body)}"


def open_cursor(key: bytes, token: str, tenant: str, fingerprint: str) -> CursorPosition:
    """The position in a cursor this service signed for this tenant and query; 400 naming 'cursor' otherwise."""
    body, _, signature = token.partition(".")
    if (
        len(token) > MAX_CURSOR_CHARS
        or not token.isascii()  # what _mac and compare_digest need; this service's cursors are base64url
        or not signature
        or not hmac.compare_digest(_mac(key, body), signature)
    ):
        raise InvalidParameterError(
            "query parameter 'cursor' is not a cursor this API issued (altered or truncated); start again without it",
            parameter="cursor",
        )
    try:
        payload = json.loads(_unb64(body))
        position = CursorPosition.model_validate(payload)
    except (ValueError, binascii.Error, ValidationError):
        raise InvalidParameterError("query parameter 'cursor' is malformed", parameter="cursor") from None
    if payload.get("v") != VERSION or payload.get("t") != tenant or payload.get("q") != fingerprint:
        raise InvalidParameterError(
            "query parameter 'cursor' belongs to another query: send the same filters and time range as the request "
            "that returned it (only 'limit' may change)",
            parameter="cursor",
        )
    return position
