"""The REQUEST authorizer's decision: an Allow policy for the whole API, carrying the principal as context."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from export_service.errors import UnauthorizedError
from export_service.logic.api_keys import mint_api_key
from export_service.logic.authorizer import authorize
from export_service.models.api_keys import Permission
from tests.unit.fakes import FakeKeyStore

pytestmark = pytest.mark.unit

METHOD_ARN = "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/prod/GET/v1/audit/export"
KEY_ID = "ak_acme_audit_reader"
SECRET = "Qm9yZWFsaXMtYWNtZS1yZWFkZXItMjAyNg"


@pytest.fixture
def keys() -> FakeKeyStore:
    key, _ = mint_api_key(
        "acme",
        [Permission.AUDIT_READ, Permission.INCIDENTS_READ],
        datetime(2026, 3, 1, tzinfo=UTC),
        key_id=KEY_ID,
        secret=SECRET,
    )
    return FakeKeyStore(key)


def test_authorize_allows_the_whole_api_and_passes_the_principal(keys):
    decision = authorize({"Authorization": f"Bearer {KEY_ID}.{SECRET}"}, METHOD_ARN, keys)
    assert decision == {
        "principalId": KEY_ID,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Action": "execute-api:Invoke",
                    "Effect": "Allow",
                    "Resource": ["arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/prod/*/*"],
                }
            ],
        },
        "context": {"tenantId": "acme", "keyId": KEY_ID, "permissions": "AUDIT_READ,INCIDENTS_READ"},
    }
    # API Gateway accepts only flat string/number/boolean context values
    assert all(isinstance(value, str) for value in decision["context"].values())


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": f"Bearer {KEY_ID}.wrong-secret-000000"}, {"apikey": f"ak_unknown.{SECRET}"}]
)
def test_authorize_refuses_bad_keys(keys, headers):
    with pytest.raises(UnauthorizedError):
        authorize(headers, METHOD_ARN, keys)


def test_another_stage_and_region_get_their_own_wildcard(keys):
    arn = "arn:aws:execute-api:eu-west-1:123456789012:abc123/v1/POST/v1/exports"
    decision = authorize({"apikey": f"{KEY_ID}.{SECRET}"}, arn, keys)
    assert decision["policyDocument"]["Statement"][0]["Resource"] == [
        "arn:aws:execute-api:eu-west-1:123456789012:abc123/v1/*/*"
    ]
