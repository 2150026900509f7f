"""Developer tools: the local stack, the key tool, the demo data generator and the benchmark."""

import sys
from pathlib import Path

# The shared layer's code, on the import path as Lambda mounts it (/opt/python) for the functions.
_LAYER = str(Path(__file__).resolve().parent.parent / "layers" / "shared")
if _LAYER not in sys.path:
    sys.path.insert(0, _LAYER)
