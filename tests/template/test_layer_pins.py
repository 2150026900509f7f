"""Version pins: what the layer ships is what the tests run, pinned for the functions' runtime."""

from __future__ import annotations

import importlib.metadata

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from devtools.provision import local_refs
from devtools.template import ROOT, functions, load_template
from tests.template.template_support import _layer_pins, _requirement_lines

pytestmark = pytest.mark.template


DEV_REQUIREMENTS = ROOT / "requirements-dev.txt"
# The python3.11 Lambda runtime on x86_64 (Globals: Runtime python3.11, Architectures x86_64).
LAMBDA_MARKERS: dict[str, str] = {key: str(value) for key, value in default_environment().items()} | {
    "python_version": "3.11",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
    "os_name": "posix",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "platform_machine": "x86_64",
}


def _pinned(requirement: Requirement) -> str:
    (specifier,) = requirement.specifier
    return specifier.version


def test_the_layer_pins_every_runtime_dependency_of_what_it_ships():
    pins = _layer_pins()
    assert {"boto3", "botocore", "s3transfer", "urllib3", "aws-xray-sdk", "pydantic-core"} <= set(pins)
    problems = []
    for name, pin in pins.items():
        for text in importlib.metadata.requires(name) or []:
            dependency = Requirement(text)
            if dependency.marker and not any(
                dependency.marker.evaluate({**LAMBDA_MARKERS, "extra": extra}) for extra in {"", *pin.extras}
            ):
                continue
            dependency_name = canonicalize_name(dependency.name)
            if dependency_name not in pins:
                problems.append(f"{name} needs {dependency}, which is not pinned")
            elif not dependency.specifier.contains(_pinned(pins[dependency_name]), prereleases=True):
                problems.append(f"{name} needs {dependency}, pinned {_pinned(pins[dependency_name])}")
            elif not dependency.extras <= pins[dependency_name].extras:
                problems.append(f"{name} needs {dependency}, pinned without those extras")
    assert problems == []


def test_the_venv_runs_exactly_the_versions_the_layer_ships():
    pins = _layer_pins()
    installed = {name: importlib.metadata.version(name) for name in pins}
    assert installed == {name: _pinned(pin) for name, pin in pins.items()}, "out of date: run make setup"


def test_requirements_dev_installs_the_layer_pins_and_pins_none_of_those_itself():
    lines = _requirement_lines(DEV_REQUIREMENTS)
    assert "-r layers/shared/requirements.txt" in lines
    own = {canonicalize_name(Requirement(line).name) for line in lines if not line.startswith("-")}
    assert own & set(_layer_pins()) == set()


def test_the_layer_is_built_for_the_functions_runtime_and_functions_bring_no_packages_of_their_own():
    template = load_template()
    runtime = template["Globals"]["Function"]["Runtime"]
    layer = template["Resources"]["SharedLayer"]
    # built by layers/shared/Makefile (the packages for the runtime, and bytecode: /opt is read-only in Lambda, so
    # a layer of sources would be compiled again at every cold start)
    assert layer["Metadata"]["BuildMethod"] == "makefile"
    makefile = (ROOT / "layers" / "shared" / "Makefile").read_text()
    version = runtime.removeprefix("python")
    assert f"PYTHON ?= {runtime}" in makefile and f"--python-version {version}" in makefile
    assert "--platform manylinux2014_x86_64" in makefile and "compileall" in makefile
    assert layer["Properties"]["CompatibleRuntimes"] == [runtime]
    # A function's own packages would sit in /var/task, ahead of the layer on sys.path, unpinned by the layer's file.
    for spec in functions(local_refs()).values():
        assert _requirement_lines(spec.code_dir / "requirements.txt") == [], spec.logical_id
