"""docs/api.md is rendered from docs/openapi.json and committed; these fail when someone forgot to regenerate it.

Cheap: it reads the committed OpenAPI file (test_openapi.py checks that file against the code), nothing is imported
from the layer.
"""

import json
import re

import pytest

from devtools.api_docs import API_DOCS_PATH, generate, plain
from devtools.openapi import OPENAPI_PATH
from devtools.template import ROOT

pytestmark = pytest.mark.template

# The newcomer's page and the hand-written docs name behaviours; only decisions.md maps them to source documents.
BEHAVIOUR_NAMED_DOCS = (
    "README.md",
    "docs/api.md",
    "docs/guide.md",
    "docs/nightly.md",
    "docs/incident-api.md",
    "docs/benchmark.md",
)
SOURCE_REFERENCE = re.compile(r"\bseed \d|\bissue #\d", re.IGNORECASE)


def test_committed_api_docs_are_current():
    assert API_DOCS_PATH.read_text() == generate(), "stale: run make docs (or .venv/bin/python -m devtools.api_docs)"


def test_api_docs_show_every_route_parameter_and_response():
    text = API_DOCS_PATH.read_text()
    for path, operations in json.loads(OPENAPI_PATH.read_text())["paths"].items():
        for method, operation in operations.items():
            heading = f"### `{method.upper()} {path}`"
            assert heading in text
            section = text.split(heading, 1)[1].split("\n### ", 1)[0]
            for parameter in operation.get("parameters", []):
                assert f"| `{parameter['name']}` | {parameter['in']} |" in section, (path, parameter["name"])
            for status, response in operation["responses"].items():
                assert f"| {status} |" in section and plain(response["description"]).split()[0] in section


@pytest.mark.parametrize("name", BEHAVIOUR_NAMED_DOCS)
def test_docs_name_behaviours_not_source_documents(name):
    found = SOURCE_REFERENCE.findall((ROOT / name).read_text())
    assert not found, f"{name} names {found}: name the behaviour instead (docs/decisions.md maps them)"


def test_readme_stays_a_five_minute_read():
    assert len((ROOT / "README.md").read_bytes()) <= 10_240, "move reference material into docs/"
