"""docs/openapi.json is generated from the code and committed; this fails when someone forgot to regenerate it."""

import json

import pytest

from devtools.openapi import OPENAPI_PATH, generate
from devtools.template import api

pytestmark = pytest.mark.template


def test_committed_openapi_is_current():
    assert OPENAPI_PATH.read_text() == generate(), "stale: run .venv/bin/python -m devtools.openapi"


def test_openapi_documents_every_template_route():
    document = json.loads(generate())
    for route in api().routes:
        assert route.method.lower() in document["paths"][route.path]
