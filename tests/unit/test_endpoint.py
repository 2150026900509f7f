"""An endpoint's declaration, and what the resolver checks against it before Powertools validates: caller,
permission, unknown or repeated parameters, body media type; and the error bodies every error maps to."""

from __future__ import annotations

import base64

import pytest
from pydantic import Field

from export_service.api.endpoint import Endpoint, UnsupportedMediaTypeError, admit, check_query, resource_of
from export_service.errors import (
    ExportServiceError,
    ExportTooLargeError,
    ForbiddenError,
    InvalidParameterError,
    InvalidRangeError,
    NotFoundError,
    UnauthorizedError,
    UnknownParameterError,
)
from export_service.models.api_keys import Permission
from export_service.models.export import QueryModel
from tests.helpers import load_event

pytestmark = pytest.mark.unit


class Parameters(QueryModel):
    format: str | None = None
    from_: str | None = Field(None, alias="from")
    to: str | None = None
    range_start: str | None = None
    range_end: str | None = None
    action: list[str] | None = None  # a list: may repeat
    user: str | None = None
    namespace: str | None = None
    bom: bool = False


ENDPOINT = Endpoint(None, Parameters)


def test_the_declaration_names_parameters_by_alias_and_lists_as_repeatable():
    assert ENDPOINT.parameters == {
        "format",
        "from",
        "to",
        "range_start",
        "range_end",
        "action",
        "user",
        "namespace",
    } | {"bom"}
    assert ENDPOINT.repeatable == {"action"}
    assert Endpoint(Permission.AUDIT_READ).parameters == frozenset()
    assert resource_of("/v1/exports/<jobId>") == "/v1/exports/{jobId}"


@pytest.mark.parametrize("multi", [None, {}, {"format": ["csv"], "from": ["2026-03-01"], "user": ["a@b.c"]}])
def test_known_single_parameters_pass(multi):
    check_query(multi, ENDPOINT)


def test_unknown_parameter_is_named():
    with pytest.raises(UnknownParameterError) as caught:
        check_query({"format": ["csv"], "tenant": ["globex"]}, ENDPOINT)
    assert caught.value.to_body() == {
        "status": 400,
        "error": "UNKNOWN_PARAMETER",
        "message": "unknown query parameter 'tenant'; accepted: action, bom, format, from, namespace, range_end, "
        "range_start, to, user",
        "parameter": "tenant",
    }


def test_repeated_scalar_is_invalid():
    with pytest.raises(InvalidParameterError) as caught:
        check_query({"from": ["2026-03-01", "2026-03-02"]}, ENDPOINT)
    assert caught.value.to_body() == {
        "status": 400,
        "error": "INVALID_PARAMETER",
        "message": "query parameter 'from' was given 2 times",
        "parameter": "from",
    }


def test_repeatable_parameter_may_repeat():
    check_query({"action": ["user.login", "user.logout"]}, ENDPOINT)


def _event(context: dict | None, query: dict | None = None, body: str | None = None, content_type: str = ""):
    from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent  # noqa: PLC0415

    raw = load_event("audit_export_get")
    raw["requestContext"]["authorizer"] = context
    raw["multiValueQueryStringParameters"] = query
    raw["headers"] = {"Content-Type": content_type} if content_type else {}
    raw["body"], raw["isBase64Encoded"] = (base64.b64encode(body.encode()).decode(), True) if body else (None, False)
    return APIGatewayProxyEvent(raw)


READER = {"tenantId": "acme", "keyId": "ak_acme_reader", "permissions": "AUDIT_READ"}
AUDIT = Endpoint(Permission.AUDIT_READ, Parameters)


def test_who_calls_is_checked_before_what_they_send():
    bad = {"tenant": ["globex"]}
    with pytest.raises(UnauthorizedError):
        admit(_event(None, bad, "x", "text/plain"), AUDIT)
    with pytest.raises(ForbiddenError):
        admit(_event({**READER, "permissions": "INCIDENTS_READ"}, bad, "x", "text/plain"), AUDIT)
    with pytest.raises(UnknownParameterError):
        admit(_event(READER, bad, "x", "text/plain"), AUDIT)
    with pytest.raises(UnsupportedMediaTypeError) as caught:
        admit(_event(READER, None, "x", "text/plain"), AUDIT)
    assert (caught.value.status, caught.value.parameter) == (415, "body")
    principal = admit(_event(READER, {"from": ["2026-03-01"]}, '{"a": 1}', "Application/JSON; charset=utf-8"), AUDIT)
    assert (principal.tenant_id, principal.permissions) == ("acme", {Permission.AUDIT_READ})


def test_any_valid_key_passes_an_endpoint_without_a_permission_and_a_non_utf8_body_is_named():
    from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent  # noqa: PLC0415

    nobody = {**READER, "permissions": ""}
    assert admit(_event(nobody), Endpoint(None)).permissions == frozenset()
    raw = _event(READER).raw_event
    raw.update(body=base64.b64encode(b"\xff\xfe").decode(), isBase64Encoded=True, headers={})
    with pytest.raises(InvalidParameterError) as caught:
        admit(APIGatewayProxyEvent(raw), Endpoint(None))
    assert caught.value.parameter == "body"


@pytest.mark.parametrize(
    ("error_type", "status", "code"),
    [
        (ExportServiceError, 400, "BAD_REQUEST"),
        (InvalidParameterError, 400, "INVALID_PARAMETER"),
        (UnknownParameterError, 400, "UNKNOWN_PARAMETER"),
        (InvalidRangeError, 400, "INVALID_RANGE"),
        (ExportTooLargeError, 400, "EXPORT_TOO_LARGE"),
        (UnauthorizedError, 401, "UNAUTHORIZED"),
        (ForbiddenError, 403, "FORBIDDEN"),
        (NotFoundError, 404, "NOT_FOUND"),
    ],
)
def test_error_bodies(error_type, status, code):
    assert error_type("what to fix").to_body() == {"status": status, "error": code, "message": "what to fix"}
    assert error_type("what to fix", parameter="to", matchedRecords=3).to_body() == {
        "status": status,
        "error": code,
        "message": "what to fix",
        "parameter": "to",
        "matchedRecords": 3,
    }


@pytest.mark.parametrize(
    ("multi", "want"),
    [
        # as a query string carries metadata[entity_id=<id>]: split at its first "="
        (
            {"metadata[entity_id": ["497f6eca]"], "locale": ["en"]},
            {"metadata[entity_id]": ["497f6eca"], "locale": ["en"]},
        ),
        ({"metadata[entity_id]": ["497f6eca"]}, None),  # the ordinary form is left alone
        ({"metadata[entity_id": ["497f[6eca]"]}, None),  # not one bracket: left for the parameter check to refuse
        ({"filter": ['{"a":["x]"]}']}, None),
    ],
)
def test_a_bracket_holding_its_own_value_is_read_as_the_bracketed_parameter(multi, want):
    from export_service.api.app import bracket_assignments  # noqa: PLC0415

    event = {"multiValueQueryStringParameters": multi, "queryStringParameters": {k: v[-1] for k, v in multi.items()}}
    changed = bracket_assignments(event)
    if want is None:
        assert changed is event
    else:
        assert changed["multiValueQueryStringParameters"] == want
        assert changed["queryStringParameters"] == {name: values[-1] for name, values in want.items()}


def test_a_tenant_path_segment_other_than_the_keys_is_not_found_before_the_permission_check():
    from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent  # noqa: PLC0415

    raw = _event({**READER, "permissions": ""}).raw_event
    raw["pathParameters"] = {"tenant": "globex"}
    with pytest.raises(NotFoundError):
        admit(APIGatewayProxyEvent(raw), AUDIT)
    raw["pathParameters"] = {"tenant": "acme"}
    with pytest.raises(ForbiddenError):  # its own tenant: then the permission is checked
        admit(APIGatewayProxyEvent(raw), AUDIT)
