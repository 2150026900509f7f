"""API keys: the three header forms, hashing, minting, authenticating and authorising."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from export_service.errors import ForbiddenError, UnauthorizedError
from export_service.logic.api_keys import (
    KEY_ID_PATTERN,
    authenticate,
    hash_secret,
    mint_api_key,
    principal_from_context,
    principal_to_context,
    read_credentials,
    require_permission,
)
from export_service.models.api_keys import ApiKey, Permission, Principal
from tests.unit.fakes import FakeKeyStore

pytestmark = pytest.mark.unit

KEY_ID = "ak_acme_audit_reader"
SECRET = "S3cretS3cretS3cret"
SECRET_HASH = "sha256:a4690b46c8bc12343ff27ef0898997aea5c29a6c338b1b4f7aa98f0f0dcb80ec"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _store(**overrides) -> tuple[FakeKeyStore, str]:
    key, token = mint_api_key("acme", [Permission.AUDIT_READ], NOW, name="BI loader", key_id=KEY_ID, secret=SECRET)
    return FakeKeyStore(key.model_copy(update=overrides)), token


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": f"{KEY_ID}:{SECRET}"},
        {"Authorization": f"Bearer {KEY_ID}.{SECRET}"},
        {"apikey": f"{KEY_ID}.{SECRET}"},
        {"authorization": f"bearer {KEY_ID}.{SECRET}"},
        {"AUTHORIZATION": f"BEARER   {KEY_ID}.{SECRET}  "},
        {"ApiKey": f"{KEY_ID}.{SECRET}"},
        {"APIKEY": f" {KEY_ID}.{SECRET} "},
        {"Authorization": f"Bearer {KEY_ID}:{SECRET}"},
        {"apikey": f"{KEY_ID}:{SECRET}"},
        {"Accept": "text/csv", "Authorization": None, "apikey": f"{KEY_ID}.{SECRET}"},
        # the same credentials in two headers agree
        {"Authorization": f"Bearer {KEY_ID}.{SECRET}", "apikey": f"{KEY_ID}.{SECRET}"},
        {"Authorization": f"{KEY_ID}:{SECRET}", "apikey": f"{KEY_ID}.{SECRET}"},
        {"Authorization": "", "apikey": f"{KEY_ID}.{SECRET}"},
    ],
)
def test_read_credentials_accepts_each_header_form(headers):
    assert read_credentials(headers) == (KEY_ID, SECRET)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Accept": "text/csv"},
        {"Authorization": ""},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer "},
        {"Authorization": "Basic YWxhZGRpbjpvcGVuc2VzYW1l"},
        {"Authorization": f"{KEY_ID}"},
        {"Authorization": f"Bearer {KEY_ID}."},
        {"Authorization": f"{KEY_ID}:"},
        {"Authorization": f"ak_x:{SECRET}"},
        {"Authorization": f"key_acme:{SECRET}"},
        {"apikey": f"{SECRET}"},
        {"Authorization": None},
        {"X-Api-Key": f"{KEY_ID}.{SECRET}"},
        # credentials that disagree: a valid one beside an invalid or different one is no credential
        {"Authorization": "Bearer ak_wrong.other-secret-0000000", "apikey": f"{KEY_ID}.{SECRET}"},
        {"Authorization": "Bearer not-a-token", "apikey": f"{KEY_ID}.{SECRET}"},
        {"Authorization": "Basic YWxhZGRpbjpvcGVuc2VzYW1l", "apikey": f"{KEY_ID}.{SECRET}"},
        {"Authorization": f"Bearer {KEY_ID}.{SECRET}", "apikey": "garbage"},
        {"Authorization": f"Bearer {KEY_ID}.{SECRET}x", "apikey": f"{KEY_ID}.{SECRET}"},
    ],
)
def test_read_credentials_rejects_malformed_headers(headers):
    assert read_credentials(headers) is None


def test_hash_secret_is_prefixed_sha256_hex():
    assert hash_secret(SECRET) == SECRET_HASH


def test_mint_with_given_id_and_secret():
    key, token = mint_api_key(
        "acme", [Permission.AUDIT_READ, Permission.EXPORTS_READ], NOW, name="BI", key_id=KEY_ID, secret=SECRET
    )
    assert token == f"{KEY_ID}.{SECRET}"
    assert key == ApiKey(
        key_id=KEY_ID,
        tenant_id="acme",
        secret_hash=SECRET_HASH,
        permissions=frozenset({Permission.AUDIT_READ, Permission.EXPORTS_READ}),
        name="BI",
        created_at="2026-03-01T12:00:00.000Z",
    )
    assert SECRET not in key.model_dump_json()


def test_minted_token_round_trips_through_authenticate_in_every_header_form():
    # Given a freshly minted key (random id and secret) of which only the hash is stored
    key, token = mint_api_key("globex", [Permission.AUDIT_READ], NOW)
    key_id, secret = token.split(".")
    assert KEY_ID_PATTERN.match(key_id)
    assert key.secret_hash == hash_secret(secret)
    assert secret not in key.model_dump_json()
    store = FakeKeyStore(key)
    expected = Principal(tenant_id="globex", key_id=key_id, permissions=frozenset({Permission.AUDIT_READ}))
    # Then each header form authenticates as the key's tenant
    for headers in ({"Authorization": f"{key_id}:{secret}"}, {"Authorization": f"Bearer {token}"}, {"apikey": token}):
        assert authenticate(headers, store) == expected


def test_minted_secrets_are_unique():
    tokens = {mint_api_key("acme", [], NOW)[1] for _ in range(20)}
    assert len(tokens) == 20


@pytest.mark.parametrize(
    ("key_id", "secret"),
    [
        ("acme-key", SECRET),
        ("ak_x", SECRET),
        (KEY_ID, "short"),
        (KEY_ID, "has.a.dot-0000000"),
        (KEY_ID, "colon:0000000000"),
    ],
)
def test_mint_rejects_bad_ids_and_secrets(key_id, secret):
    with pytest.raises(ValueError, match=r"key id|secret"):
        mint_api_key("acme", [], NOW, key_id=key_id, secret=secret)


def test_key_tenant_id_is_validated():
    with pytest.raises(ValidationError):
        mint_api_key("Acme Corp", [], NOW, key_id=KEY_ID, secret=SECRET)


def test_authenticate_rejects_wrong_secret():
    store, _ = _store()
    with pytest.raises(UnauthorizedError, match=r"^invalid or revoked API key$") as caught:
        authenticate({"apikey": f"{KEY_ID}.{SECRET}x"}, store)
    assert caught.value.status == 401


def test_authenticate_rejects_unknown_key():
    store, _ = _store()
    with pytest.raises(UnauthorizedError, match=r"^invalid or revoked API key$"):
        authenticate({"apikey": f"ak_someone_else.{SECRET}"}, store)


def test_authenticate_rejects_revoked_key():
    store, token = _store(revoked_at="2026-03-02T00:00:00.000Z")
    with pytest.raises(UnauthorizedError, match=r"^invalid or revoked API key$"):
        authenticate({"Authorization": f"Bearer {token}"}, store)


def test_authenticate_rejects_missing_key():
    store, _ = _store()
    with pytest.raises(UnauthorizedError, match=r"^missing or malformed API key$"):
        authenticate({"Accept": "text/csv"}, store)


def test_require_permission():
    principal = Principal(tenant_id="acme", key_id=KEY_ID, permissions=frozenset({Permission.INCIDENTS_READ}))
    require_permission(principal, Permission.INCIDENTS_READ)
    with pytest.raises(ForbiddenError, match=r"^this API key lacks the AUDIT_READ permission$") as caught:
        require_permission(principal, Permission.AUDIT_READ)
    assert caught.value.to_body() == {
        "status": 403,
        "error": "FORBIDDEN",
        "message": "this API key lacks the AUDIT_READ permission",
    }


def test_principal_context_round_trip():
    principal = Principal(
        tenant_id="acme", key_id=KEY_ID, permissions=frozenset({Permission.EXPORTS_READ, Permission.AUDIT_READ})
    )
    context = principal_to_context(principal)
    assert context == {"tenantId": "acme", "keyId": KEY_ID, "permissions": "AUDIT_READ,EXPORTS_READ"}
    # API Gateway adds principalId (and integrationLatency) next to the context it passes on
    assert principal_from_context({**context, "principalId": KEY_ID, "integrationLatency": 12}) == principal


def test_principal_without_permissions_round_trips():
    principal = Principal(tenant_id="acme", key_id=KEY_ID)
    assert principal_to_context(principal)["permissions"] == ""
    assert principal_from_context(principal_to_context(principal)) == principal


def test_principal_from_context_ignores_unknown_permission_names():
    context = {"tenantId": "acme", "keyId": KEY_ID, "permissions": "AUDIT_READ,ROOT,audit_read"}
    assert principal_from_context(context).permissions == frozenset({Permission.AUDIT_READ})


@pytest.mark.parametrize(
    "context",
    [None, {}, {"principalId": KEY_ID}, {"tenantId": "acme"}, {"keyId": KEY_ID}, {"tenantId": "", "keyId": KEY_ID}],
)
def test_principal_from_missing_context_is_unauthorized(context):
    with pytest.raises(UnauthorizedError, match=r"^request was not authorised$"):
        principal_from_context(context)
