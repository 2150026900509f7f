"""The error model in docs/openapi.json, generated from the code: every error answer is an object with ``status``
(the HTTP status, a number), ``error`` (a stable code), ``message`` and, when a parameter is to blame, ``parameter``.

The codes are those the code can answer with, by status: every ``ExportServiceError`` class the routes import (the
functions' answers) and every gateway response of template.yaml (API Gateway's own: 401, 429, 503 ...). Each
operation's error responses point at the schema of their status (``Error404``...), with the status and code enums
and minimum lengths, and every operation also declares what any route can answer: 401, 429 and 503 from the gateway,
500, and 413 where it takes a body. Powertools' own 422 "Validation Error" (never answered: validation is a 400) is
dropped."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from devtools.template import api

EVERY_ROUTE = {
    "401": "Missing, invalid or revoked API key, or credentials in two headers that disagree",
    "429": "Too many requests for the tenant (its usage plan's rate) or for the API (Retry-After)",
    "500": "Unexpected failure (logged with its trace; the answer never carries one)",
    "503": "A service the API needs (its database, the key store) did not answer in time: retry (Retry-After)",
}
WITH_BODY = {"413": "The body is larger than 256 KiB"}
RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before retrying",
        "schema": {"type": "integer", "minimum": 1},
    }
}
_POWERTOOLS_422 = "Validation Error"


def error_codes() -> dict[int, set[str]]:
    """HTTP status -> the error codes answered with it (the routes must be imported first)."""
    from export_service.errors import ExportServiceError  # noqa: PLC0415

    codes: dict[int, set[str]] = defaultdict(set)
    pending = list(ExportServiceError.__subclasses__())
    while pending:
        cls = pending.pop()
        pending += cls.__subclasses__()
        codes[int(cls.status)].add(str(cls.code))
    for kind, answer in api().gateway_responses.items():
        template = answer["ResponseTemplates"]["application/json"]
        body = json.loads(template.replace("$context.error.messageString", '"-"'))
        assert body["status"] == int(answer["StatusCode"]), kind
        codes[int(answer["StatusCode"])].add(str(body["error"]))
    return codes


def error_schema(status: int | None, codes: set[str]) -> dict[str, Any]:
    answered = f"answered with HTTP {status}" if status else "of every error answer"
    return {
        "type": "object",
        "description": f"The error model, {answered}. Some errors add fields of their own (e.g. matchedRecords and "
        "limit of EXPORT_TOO_LARGE, limit and maximum of TOO_MANY_JOBS and TOO_MANY_REQUESTS, datasets of an "
        "unknown dataset).",
        "required": ["status", "error", "message"],
        "properties": {
            "status": {"type": "integer", "description": "The HTTP status, as a number"}
            | ({"enum": [status]} if status else {"minimum": 400, "maximum": 599}),
            "error": {"type": "string", "minLength": 1, "enum": sorted(codes), "description": "A stable code"},
            "message": {"type": "string", "minLength": 1, "description": "What went wrong and what to fix"},
            "parameter": {
                "type": "string",
                "minLength": 1,
                "description": "The query parameter, path parameter, header or body field to fix (body: the body)",
            },
        },
        "additionalProperties": True,
    }


def add_error_model(document: dict[str, Any]) -> None:
    codes = error_codes()
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = error_schema(None, set().union(*codes.values()))
    for operations in document["paths"].values():
        for operation in operations.values():
            responses = operation["responses"]
            if responses.get("422", {}).get("description") == _POWERTOOLS_422:
                del responses["422"]
            for status, description in {**EVERY_ROUTE, **(WITH_BODY if "requestBody" in operation else {})}.items():
                responses.setdefault(status, {"description": description})
            for status, response in responses.items():
                if int(status) < 400:
                    continue
                name = f"Error{status}"
                if name not in schemas:
                    schemas[name] = error_schema(int(status), codes.get(int(status)) or set().union(*codes.values()))
                response["content"] = {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}}
                if status in ("429", "503"):
                    response["headers"] = dict(RETRY_AFTER)
            operation["responses"] = dict(sorted(responses.items()))
