"""The SAM template through the SAM CLI: valid (sam validate --lint) and buildable (sam build)."""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name

from devtools.template import ROOT
from tests.template.template_support import _layer_pins

pytestmark = pytest.mark.template


SAM = str(Path(ROOT, ".venv", "bin", "sam")) if Path(ROOT, ".venv", "bin", "sam").exists() else shutil.which("sam")
ENV = {**os.environ, "SAM_CLI_TELEMETRY": "0"}


def test_sam_validate_lint():
    result = subprocess.run(
        [SAM, "validate", "--lint"], check=False, cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_sam_build_packages_functions_and_layer(tmp_path):
    build_dir = tmp_path / "build"
    result = subprocess.run(
        [SAM, "build", "--build-dir", str(build_dir), "--cache-dir", str(tmp_path / "cache")],
        check=False,
        cwd=ROOT,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    layer = build_dir / "SharedLayer" / "python"
    assert (layer / "export_service" / "api" / "routes" / "audit_export.py").is_file()
    assert (layer / "aws_lambda_powertools").is_dir()
    assert (layer / "pydantic").is_dir()
    assert (layer / "export_service" / "fonts" / "DejaVuSansCondensed.ttf").is_file()
    assert (layer / "export_service" / "locales" / "de" / "LC_MESSAGES" / "audit_report.po").is_file()
    assert (layer / "fpdf").is_dir() and (layer / "babel").is_dir() and (layer / "tzdata").is_dir()
    # compiled bytecode beside every module (Lambda's /opt is read-only: sources would be compiled at each cold start)
    modules = [path for path in layer.rglob("*.py") if "site-packages" not in path.parts]
    compiled = {path.parent.parent / (path.name.split(".")[0] + ".py") for path in layer.rglob("__pycache__/*.pyc")}
    assert modules and set(modules) <= compiled
    for name in ("AuthorizerFunction", "AuditExportFunction", "DatasetExportFunction", "ExportPartFunction"):
        assert (build_dir / name / "app.py").is_file()
    # The layer ships exactly the pinned distributions at the pinned versions, nothing unpinned besides.
    shipped = {}
    for dist_info in layer.glob("*.dist-info"):
        metadata = importlib.metadata.PathDistribution(dist_info).metadata
        shipped[canonicalize_name(metadata["Name"])] = metadata["Version"]
    assert shipped == {name: str(pin.specifier)[2:] for name, pin in _layer_pins().items()}
    # the SqlLayer ships DuckDB alone, at its pin, as a manylinux2014 build (the python3.11 runtime's glibc 2.26)
    sql_layer = build_dir / "SqlLayer" / "python"
    (dist_info,) = sql_layer.glob("*.dist-info")
    metadata = importlib.metadata.PathDistribution(dist_info).metadata
    assert (metadata["Name"], metadata["Version"]) == ("duckdb", "1.2.2")
    assert "manylinux2014_x86_64" in (dist_info / "WHEEL").read_text()
