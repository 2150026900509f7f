"""The synchronous exports' handlers with Accept-Encoding: gzip (moto, sample events): a base64 gzip body that decodes
to the plain answer, and the 200-or-202 decision made on the compressed size."""

from __future__ import annotations

import base64
import gzip
import hashlib

from export_service.api.deps import reset_dependencies
from tests.helpers import load_event, response_header, with_headers, with_query
from tests.integration.support import export

GZIP = {"Accept-Encoding": "gzip, deflate, br"}


def _event(accept: dict[str, str | None], **params: str) -> dict:
    return with_headers(with_query(load_event("audit_export_get"), params, replace=False), accept)


def test_a_gzip_answer_decodes_to_the_plain_answer_with_the_same_headers(stack):
    for fmt in ("csv", "jsonl"):
        plain = export(_event({}, format=fmt))
        packed = export(_event(GZIP, format=fmt))
        assert plain["statusCode"] == packed["statusCode"] == 200
        assert not plain.get("isBase64Encoded") and response_header(plain, "Content-Encoding") is None
        assert packed["isBase64Encoded"] is True and response_header(packed, "Content-Encoding") == "gzip"
        assert response_header(packed, "Vary") == response_header(plain, "Vary") == "Accept-Encoding"
        sent = base64.b64decode(packed["body"])
        assert gzip.decompress(sent).decode("utf-8") == plain["body"]
        for name in ("Content-Type", "Content-Disposition", "X-Record-Count"):
            assert response_header(packed, name) == response_header(plain, name), name
        digest = base64.b64encode(hashlib.sha256(sent).digest()).decode()
        assert response_header(packed, "Repr-Digest") == f"sha-256=:{digest}:"


def test_gzip_refused_or_absent_means_a_plain_answer(stack):
    for accept in ({"Accept-Encoding": "gzip;q=0"}, {"Accept-Encoding": "identity"}, {"Accept-Encoding": None}):
        response = export(_event(accept))
        assert response["statusCode"] == 200 and response_header(response, "Content-Encoding") is None, accept
    pdf = export(_event(GZIP, format="pdf"))  # a PDF is never compressed
    assert pdf["statusCode"] == 200 and response_header(pdf, "Content-Encoding") is None


def test_the_decision_uses_the_size_sent(stack, monkeypatch):
    plain_size = len(export(_event({}, format="json"))["body"])
    packed_size = len(export(_event(GZIP, format="json"))["body"])  # base64, as Lambda returns it
    assert packed_size * 2 < plain_size
    monkeypatch.setenv("MAX_RESPONSE_BYTES", str((plain_size + packed_size) // 2))
    reset_dependencies()
    assert export(_event({}, format="json"))["statusCode"] == 202  # too large uncompressed: a job
    assert export(_event(GZIP, format="json"))["statusCode"] == 200  # compressed it fits: the file
