"""Query-string checks Powertools' validation does not make, and the error bodies every error maps to."""

from __future__ import annotations

import pytest

from export_service.api.query_guard import check_query_parameters, register_query_rules
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

pytestmark = pytest.mark.unit

ALLOWED = frozenset({"format", "from", "to", "range_start", "range_end", "action", "user", "namespace", "bom"})
PATH = "/test/guarded"
register_query_rules(PATH, ALLOWED)
register_query_rules("/test/repeatable", ALLOWED, repeatable={"action"})


@pytest.mark.parametrize("multi", [None, {}, {"format": ["csv"], "from": ["2026-03-01"], "user": ["a@b.c"]}])
def test_known_single_parameters_pass(multi):
    check_query_parameters(PATH, multi)


def test_unknown_parameter_is_named():
    with pytest.raises(UnknownParameterError) as caught:
        check_query_parameters(PATH, {"format": ["csv"], "tenant": ["globex"]})
    assert caught.value.to_body() == {
        "status": 400,
        "error": "UNKNOWN_PARAMETER",
        "message": "unknown query parameter 'tenant'; accepted: action, bom, format, from, namespace, range_end, "
        "range_start, to, user",
        "parameter": "tenant",
    }


def test_repeated_scalar_is_invalid():
    with pytest.raises(InvalidParameterError) as caught:
        check_query_parameters(PATH, {"from": ["2026-03-01", "2026-03-02"]})
    assert caught.value.to_body() == {
        "status": 400,
        "error": "INVALID_PARAMETER",
        "message": "query parameter 'from' was given 2 times",
        "parameter": "from",
    }


def test_repeatable_parameter_may_repeat():
    check_query_parameters("/test/repeatable", {"action": ["user.login", "user.logout"]})


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
