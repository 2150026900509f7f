"""docs/openapi.json declares the error model of every error answer, from the code: the status as an integer, the
codes as an enum, minimum lengths, and what every route may answer (401, 429, 500, 503)."""

from __future__ import annotations

import json

import pytest

from devtools.openapi import generate
from devtools.openapi_errors import error_codes

pytestmark = pytest.mark.template


@pytest.fixture(scope="module")
def document() -> dict:
    return json.loads(generate())


def test_every_error_response_is_the_error_model_of_its_status(document):
    schemas = document["components"]["schemas"]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for status in ("401", "429", "500", "503"):
                assert status in operation["responses"], (method, path, status)
            for status, response in operation["responses"].items():
                if int(status) < 400:
                    continue
                (content,) = response["content"].values()
                name = content["schema"]["$ref"].rsplit("/", 1)[-1]
                schema = schemas[name]
                assert schema["required"] == ["status", "error", "message"], name
                properties = schema["properties"]
                assert properties["status"] == {
                    "type": "integer",
                    "enum": [int(status)],
                    "description": properties["status"]["description"],
                }
                assert properties["error"]["enum"] and properties["error"]["minLength"] == 1, name
                assert properties["message"]["minLength"] == 1 and properties["parameter"]["minLength"] == 1
                if status in ("429", "503"):
                    assert response["headers"]["Retry-After"]["schema"] == {"type": "integer", "minimum": 1}


def test_the_codes_are_those_the_code_answers(document):
    codes = error_codes()
    schemas = document["components"]["schemas"]
    assert {"SERVICE_UNAVAILABLE"} <= codes[503] and {"TOO_MANY_REQUESTS", "TOO_MANY_JOBS"} <= codes[429]
    assert {"INVALID_PARAMETER", "UNKNOWN_PARAMETER", "INVALID_RANGE"} <= codes[400]
    assert {"PAYLOAD_TOO_LARGE"} <= codes[413] and {"IDEMPOTENCY_KEY_REUSED"} <= codes[422]
    assert codes[500] == {"INTERNAL_ERROR"} and codes[401] == {"UNAUTHORIZED"}
    for status, found in codes.items():
        name = f"Error{status}"
        if name in schemas:
            assert schemas[name]["properties"]["error"]["enum"] == sorted(found)
    every = set().union(*codes.values())
    assert set(schemas["Error"]["properties"]["error"]["enum"]) == every
