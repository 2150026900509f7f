"""The REQUEST authorizer (functions/authorizer/app.py) against the moto key table."""

from __future__ import annotations

import pytest

from tests.helpers import load_event, with_headers
from tests.integration.support import (
    ACME_INCIDENTS_ONLY,
    ACME_READER,
    ACME_REVOKED,
    GLOBEX_READER,
    authorize,
    specs,
)

pytestmark = pytest.mark.integration

RESOURCE = "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/prod/*/*"
AUTH_HEADERS = ("Authorization", "apikey")


def _event(headers: dict[str, str | None]) -> dict:
    return with_headers(load_event("authorizer_request"), headers, drop=AUTH_HEADERS)


def _allow(principal: str, context: dict[str, str]) -> dict:
    return {
        "principalId": principal,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": [RESOURCE]}],
        },
        "context": context,
        # keys minted without a tenant usage key are metered under the stack's fallback identifier
        "usageIdentifierKey": specs()["AuthorizerFunction"].environment["FALLBACK_USAGE_KEY"],
    }


def test_sample_event_is_allowed(stack):
    assert authorize(load_event("authorizer_request")) == _allow(
        ACME_READER.key_id, {"tenantId": "acme", "keyId": ACME_READER.key_id, "permissions": "AUDIT_READ"}
    )


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": f"{GLOBEX_READER.key_id}:{GLOBEX_READER.secret}"},
        {"Authorization": f"Bearer {GLOBEX_READER.token}"},
        {"apikey": GLOBEX_READER.token},
        {"authorization": f"bearer {GLOBEX_READER.token}"},
        {"APIKEY": GLOBEX_READER.token},
    ],
    ids=["key-colon-secret", "bearer", "apikey", "lowercase-authorization", "uppercase-apikey"],
)
def test_each_header_form_is_allowed_with_tenant_and_permissions(stack, headers):
    assert authorize(_event(headers)) == _allow(
        GLOBEX_READER.key_id,
        {"tenantId": "globex", "keyId": GLOBEX_READER.key_id, "permissions": "AUDIT_READ,EXPORTS_READ"},
    )


def test_a_key_without_audit_read_is_still_authenticated(stack):
    # Authentication only; the route answers 403 for a missing permission.
    decision = authorize(_event({"apikey": ACME_INCIDENTS_ONLY.token}))
    assert decision["context"] == {
        "tenantId": "acme",
        "keyId": ACME_INCIDENTS_ONLY.key_id,
        "permissions": "INCIDENTS_READ",
    }


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": f"Bearer {ACME_READER.key_id}.{ACME_READER.secret}x"},
        {"Authorization": f"{ACME_READER.key_id}:{GLOBEX_READER.secret}"},
        {"apikey": f"ak_nobody_knows_me.{ACME_READER.secret}"},
        {"Authorization": f"Bearer {ACME_REVOKED.token}"},
        {"apikey": ACME_REVOKED.token},
        {},
        {"Authorization": ""},
        {"Authorization": "Basic YWxhZGRpbjpvcGVuc2VzYW1l"},
        {"Authorization": f"Bearer {ACME_READER.key_id}"},
        {"X-Api-Key": ACME_READER.token},
        {"apikey": GLOBEX_READER.token, "Authorization": "Bearer not-a-key"},
        {"apikey": GLOBEX_READER.token, "Authorization": f"Bearer {ACME_READER.token}"},
    ],
    ids=[
        "wrong-secret",
        "other-keys-secret",
        "unknown-key",
        "revoked-bearer",
        "revoked-apikey",
        "no-header",
        "empty",
        "basic-auth",
        "no-secret",
        "wrong-header-name",
        "valid-apikey-invalid-authorization",
        "apikey-and-authorization-of-two-keys",
    ],
)
def test_bad_keys_raise_unauthorized_for_api_gateway(stack, headers):
    # API Gateway answers 401 (the UNAUTHORIZED gateway response) only for exactly Exception("Unauthorized").
    with pytest.raises(Exception) as caught:
        authorize(_event(headers))
    assert type(caught.value) is Exception
    assert str(caught.value) == "Unauthorized"


def test_event_without_any_headers_is_unauthorized(stack):
    event = load_event("authorizer_request")
    event["headers"] = None
    event["multiValueHeaders"] = None
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        authorize(event)
