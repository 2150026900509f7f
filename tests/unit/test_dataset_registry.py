"""The dataset registry names every spec without importing it, and each name gives the spec of that name."""

import os
import subprocess
import sys

from devtools.template import ROOT
from export_service.logic.catalog_export import CATALOG_EXPORTS
from export_service.logic.datasets import CATALOG_DATASETS, DATASET_NAMES, EXPORTS, INCIDENT_DATASETS, export_spec
from export_service.models.incidents import Dataset


def test_the_names_are_the_specs_names() -> None:
    assert tuple(dataset.value for dataset in Dataset) == INCIDENT_DATASETS
    assert tuple(CATALOG_EXPORTS) == CATALOG_DATASETS
    assert list(EXPORTS) == list(DATASET_NAMES) and len(EXPORTS) == len(DATASET_NAMES)
    for name in DATASET_NAMES:
        assert export_spec(name).name == name == EXPORTS[name].name


def test_the_audit_datasets_load_no_incident_or_catalog_models() -> None:
    code = (
        "import sys; from export_service.logic.datasets import AUDIT_EXPORT, EXPORTS; EXPORTS['audit']; "
        "print(sorted(m for m in sys.modules if m.endswith(('models.incidents', 'models.catalog', 'incident_api'))))"
    )
    environment = {**os.environ, "PYTHONPATH": str(ROOT / "layers" / "shared")}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=environment)
    assert done.stdout.strip() == "[]"
