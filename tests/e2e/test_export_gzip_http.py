"""Synchronous exports with Accept-Encoding: gzip over HTTP: the same file, compressed, through the gateway's binary
path, with its Repr-Digest taken over the bytes sent; and the client saving it decoded and verified."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json

import pytest
import requests

from tests.e2e.client_support import run_exports
from tests.e2e.conftest import ACME, GLOBEX, Stack

pytestmark = pytest.mark.e2e

BOUNDS = {"from": "2026-04-01T00:00:00Z", "to": "2026-05-01T00:00:00Z"}  # demo data only: the same file every time


def _same_file(packed: bytes, plain: bytes) -> None:
    """The decoded body is the plain one (a JSON envelope's exportedAt aside: the two answers were made apart)."""
    decoded = gzip.decompress(packed)
    if decoded.startswith(b'{"apiVersion"'):
        first, second = json.loads(decoded), json.loads(plain)
        first["metadata"].pop("exportedAt")
        second["metadata"].pop("exportedAt")
        assert first == second
    else:
        assert decoded == plain


def _get(http: requests.Session, url: str, token: str, encoding: str, **params: str) -> requests.Response:
    response = http.get(
        url, params=params, headers={"apikey": token, "Accept-Encoding": encoding}, timeout=120, stream=True
    )
    response.raw.decode_content = False
    return response


@pytest.mark.parametrize("fmt", ["csv", "json", "jsonl"])
def test_the_audit_export_answers_gzip_when_accepted_and_the_same_file_decoded(stack: Stack, http, fmt):
    plain = _get(http, stack.export_url, GLOBEX, "identity", format=fmt, **BOUNDS)
    packed = _get(http, stack.export_url, GLOBEX, "gzip, deflate", format=fmt, **BOUNDS)
    assert plain.status_code == packed.status_code == 200
    plain_body, packed_body = plain.raw.read(), packed.raw.read()
    assert "Content-Encoding" not in plain.headers
    assert packed.headers["Content-Encoding"] == "gzip" and packed.headers["Vary"] == "Accept-Encoding"
    assert packed.headers["Content-Type"] == plain.headers["Content-Type"]
    assert packed.headers["Content-Disposition"] == plain.headers["Content-Disposition"]
    _same_file(packed_body, plain_body)
    assert len(packed_body) * 3 < len(plain_body)
    digest = base64.b64encode(hashlib.sha256(packed_body).digest()).decode()
    assert packed.headers["Repr-Digest"] == f"sha-256=:{digest}:"  # of the representation as sent
    assert packed.headers["X-Record-Count"] == plain.headers["X-Record-Count"]


def test_a_dataset_export_compresses_about_tenfold(stack: Stack, http):
    url = f"{stack.url}/v1/export/incident-events"
    plain = _get(http, url, ACME, "identity", format="json", **BOUNDS)
    packed = _get(http, url, ACME, "gzip", format="json", **BOUNDS)
    assert plain.status_code == packed.status_code == 200, plain.text
    plain_body, packed_body = plain.raw.read(), packed.raw.read()
    _same_file(packed_body, plain_body)
    assert len(packed_body) * 6 < len(plain_body)


def test_gzip_refused_with_q_0_is_not_used(stack: Stack, http):
    response = _get(http, stack.export_url, GLOBEX, "gzip;q=0, identity", **BOUNDS)
    assert response.status_code == 200 and "Content-Encoding" not in response.headers


def test_the_client_saves_a_gzip_answer_decoded_and_verified(stack: Stack, http, tmp_path):
    run = run_exports(stack.url, GLOBEX, "export", "audit", "--from", BOUNDS["from"], "--to", BOUNDS["to"], "--json",
                      "-o", "a.csv", cwd=tmp_path)  # fmt: skip
    assert run.code == 0, run.stderr
    summary = run.json
    assert (summary["path"], summary["content_encoding"], summary["verified"]) == ("sync", "gzip", "repr-digest")
    plain = _get(http, stack.export_url, GLOBEX, "identity", **BOUNDS).raw.read()
    assert (tmp_path / "a.csv").read_bytes() == plain
    assert summary["sha256"] == hashlib.sha256(plain).hexdigest()
