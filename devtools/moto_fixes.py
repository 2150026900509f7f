"""Fidelity fixes to moto's server for the local stack (it emulates S3; where it differs from S3, S3 wins).

moto 5.2.5 takes a presigned URL's ``response-content-disposition`` override for a signed ``content-disposition``
header when the object is missing, and answers 403 SignatureDoesNotMatch. S3 answers 404 there (when the signer
may list the bucket), which is what a link to an expunged nightly report must return.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

_SIGNED_METADATA = {
    "content-disposition": "Content-Disposition",
    "content-encoding": "Content-Encoding",
    "content-language": "Content-Language",
    "content-length": "Content-Length",
    "content-md5": "Content-MD5",
    "content-type": "Content-Type",
}


def _invalid_headers(self: object, url: str, headers: dict[str, str]) -> bool:
    """moto's check, with the parameter name matched whole (``response-content-disposition`` is not it)."""
    for url_key, header_key in _SIGNED_METADATA.items():
        found = re.search(r"[?&]" + url_key + "=(.+?)(&.+$|$)", url)
        if found and (header_key not in headers or unquote(found.group(1)) != headers[header_key]):
            return True
    return False


def apply() -> None:
    from moto.s3.responses import S3Response  # noqa: PLC0415

    S3Response._invalid_headers = _invalid_headers  # type: ignore[method-assign]
