"""The SqlLayer: DuckDB pinned exactly, installed by the tests at that version, built for the functions' runtime and
attached only to the functions that run SQL and to the export job workers that write Parquet."""

from __future__ import annotations

import importlib.metadata

import pytest
from packaging.requirements import Requirement

from devtools.template import ROOT, load_template, resources
from tests.template.template_support import _requirement_lines

pytestmark = pytest.mark.template

SQL_REQUIREMENTS = ROOT / "layers" / "sql" / "requirements.txt"
SQL_FUNCTIONS = {"IncidentDebugRecordsFunction", "SampleDataFunction"}
PARQUET_WRITERS = {"ExportPartFunction", "ExportFinishFunction", "NightlySourceFunction"}  # format=parquet


def test_duckdb_is_pinned_exactly_with_no_dependency_left_unpinned():
    (line,) = _requirement_lines(SQL_REQUIREMENTS)
    requirement = Requirement(line)
    assert requirement.name == "duckdb" and [spec.operator for spec in requirement.specifier] == ["=="]
    assert importlib.metadata.requires("duckdb") in (None, [])  # nothing else to ship or pin
    assert importlib.metadata.version("duckdb") == str(requirement.specifier)[2:], "out of date: run make setup"
    assert "-r layers/sql/requirements.txt" in _requirement_lines(ROOT / "requirements-dev.txt")


def test_the_sql_layer_is_built_for_the_runtime_and_only_sql_functions_and_parquet_writers_carry_it():
    template = load_template()
    runtime = template["Globals"]["Function"]["Runtime"]
    layer = template["Resources"]["SqlLayer"]
    assert layer["Metadata"]["BuildMethod"] == runtime and layer["Properties"]["CompatibleRuntimes"] == [runtime]
    assert runtime == "python3.11"  # duckdb 1.2.2's manylinux2014 wheel: see docs/decisions.md before changing either
    carriers = {
        name
        for name, fn in resources(template, "AWS::Serverless::Function").items()
        if {"Ref": "SqlLayer"} in fn["Properties"].get("Layers", [])
    }
    assert carriers == SQL_FUNCTIONS | PARQUET_WRITERS


def test_the_parquet_writers_have_room_in_tmp_for_the_spool_and_the_file():
    # A Parquet file is written from a JSON Lines spool in /tmp (logic/parquet_files.py): Lambda's default 512 MB
    # would cap a nightly source or a job part at about half a million rows.
    functions = resources(load_template(), "AWS::Serverless::Function")
    sizes = {name: functions[name]["Properties"].get("EphemeralStorage", {}).get("Size") for name in PARQUET_WRITERS}
    assert sizes == dict.fromkeys(PARQUET_WRITERS, 10240)
