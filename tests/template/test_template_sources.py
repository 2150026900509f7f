"""template.yaml is assembled from template/*.yaml (devtools/assemble_template.py) and must equal the assembly;
every file people edit, those sources included, stays under 500 lines."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from devtools.assemble_template import SOURCES, TARGET, assemble, main, source_files
from devtools.template import ROOT, _CfnLoader, load_template

pytestmark = pytest.mark.template

MAX_LINES = 500
# Written by tools from other files, and checked against them by tests: template.yaml (here), the OpenAPI document
# and the API reference (tests/template/test_openapi.py, test_api_docs.py).
GENERATED = {"template.yaml", "docs/openapi.json", "docs/api.md"}
SECTIONS = {
    "AWSTemplateFormatVersion",
    "Transform",
    "Description",
    "Parameters",
    "Conditions",
    "Globals",
    "Resources",
    "Outputs",
}


def _parse(path: Path) -> dict:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_CfnLoader)  # a SafeLoader subclass


def test_template_yaml_is_the_assembly_of_its_sources():
    text = TARGET.read_text(encoding="utf-8")
    assert text == assemble(source_files()), "run make template"
    assert main(["--check"]) == 0
    # each section once, in order: a source that reopens a closed section would silently replace it in YAML
    keys = [line.split(":", 1)[0] for line in text.splitlines() if line[:1].isalpha()]
    assert len(keys) == len(set(keys)) and set(keys) <= SECTIONS, keys


def test_each_source_is_a_template_fragment_under_the_line_limit():
    files = source_files()
    assert len(files) >= 10 and files[0].name.startswith("01-")
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert text.count("\n") <= MAX_LINES, f"{path.name}: split it"
        assert set(_parse(path)) <= SECTIONS, path.name


def test_every_resource_is_declared_in_exactly_one_source():
    owners: dict[str, list[str]] = {}
    for path in source_files():
        for logical_id in _parse(path).get("Resources") or {}:
            owners.setdefault(logical_id, []).append(path.name)
    assert {name: files for name, files in owners.items() if len(files) > 1} == {}
    assert set(owners) == set(load_template()["Resources"])


def test_the_assembly_drops_only_the_repeated_section_key(tmp_path):
    (tmp_path / "01-a.yaml").write_text('AWSTemplateFormatVersion: "2010-09-09"\nResources:\n  A:\n    Type: X\n')
    (tmp_path / "02-b.yaml").write_text("Resources:\n  # b\n  B:\n    Type: Y\n")
    (tmp_path / "03-c.yaml").write_text("Outputs:\n  O:\n    Value: v\n")
    text = assemble(sorted(tmp_path.glob("*.yaml")))
    body = text.split("\n", 1)[1]
    assert body == (
        'AWSTemplateFormatVersion: "2010-09-09"\nResources:\n  A:\n    Type: X\n  # b\n  B:\n    Type: Y\n'
        "Outputs:\n  O:\n    Value: v\n"
    )
    assert set(yaml.safe_load(text)["Resources"]) == {"A", "B"}


def test_no_hand_written_file_in_the_repository_is_over_500_lines():
    tracked = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True, text=True
    ).stdout.split("\0")
    long = {}
    for name in filter(None, tracked):
        path = ROOT / name
        if name in GENERATED or not path.is_file():
            continue
        try:
            lines = path.read_text(encoding="utf-8").count("\n")
        except UnicodeDecodeError:
            continue  # fonts and other binary assets
        if lines > MAX_LINES:
            long[name] = lines
    assert long == {}
    assert SOURCES.is_dir() and (ROOT / "template.yaml") == TARGET
