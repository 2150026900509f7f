"""Shared test set-up.

Lambda sets a function's environment before it imports the code, and Powertools' Metrics reads its namespace at
import time. The template's Powertools settings are therefore put in place before any test imports the layer.
"""

from __future__ import annotations

import os

from devtools.provision import local_refs
from devtools.template import functions

for _name, _value in functions(local_refs())["AuditExportFunction"].environment.items():
    if _name.startswith("POWERTOOLS_"):
        os.environ.setdefault(_name, _value)
