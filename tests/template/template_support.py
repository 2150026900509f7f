"""Shared by the template tests: a value as a list, and the layer's pins (layers/shared/requirements.txt)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from devtools.template import ROOT

LAYER_REQUIREMENTS = ROOT / "layers" / "shared" / "requirements.txt"


def _listed(value: object) -> list:
    return value if isinstance(value, list) else [value]


def _requirement_lines(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")]


@lru_cache(maxsize=1)
def _layer_pins() -> dict[str, Requirement]:
    pins: dict[str, Requirement] = {}
    for line in _requirement_lines(LAYER_REQUIREMENTS):
        requirement = Requirement(line)
        assert [spec.operator for spec in requirement.specifier] == ["=="], f"not pinned with ==: {line}"
        assert requirement.marker is None and requirement.url is None, line
        name = canonicalize_name(requirement.name)
        assert name not in pins, f"{name} is pinned twice"
        pins[name] = requirement
    return pins
