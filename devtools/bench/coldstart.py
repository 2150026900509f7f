"""Cold start: the handler module imported in fresh interpreters, as a Lambda cold start does, and its big imports."""

from __future__ import annotations

import re
import subprocess
import sys

from devtools.template import ROOT, FunctionSpec

_IMPORT_SNIPPET = """
import importlib.util, sys, time
began = time.perf_counter()
sys.path.insert(0, {layer!r})
spec = importlib.util.spec_from_file_location("app", {path!r})
module = importlib.util.module_from_spec(spec)
sys.modules["app"] = module
spec.loader.exec_module(module)
print(time.perf_counter() - began, len(sys.modules))
"""
_IMPORTTIME = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|( +)(\S+)$")


def cold_import(spec: FunctionSpec, runs: int = 3) -> list[str]:
    """Import the handler module in fresh interpreters (as a Lambda cold start does); report times and big imports."""
    module_file = spec.handler.rpartition(".")[0]
    code = _IMPORT_SNIPPET.format(layer=str(ROOT / "layers" / "shared"), path=str(spec.code_dir / f"{module_file}.py"))
    times: list[float] = []
    modules = 0
    for _ in range(runs):
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        seconds, count = done.stdout.split()
        times.append(float(seconds))
        modules = int(count)
    traced = subprocess.run([sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True)
    shallow: list[tuple[int, str]] = []  # imports at most three levels below the handler module's own
    for line in traced.stderr.splitlines():
        match = _IMPORTTIME.match(line)
        if match and len(match.group(3)) <= 5:
            shallow.append((int(match.group(2)), match.group(4)))
    biggest = sorted(shallow, reverse=True)[:8]
    return [
        f"handler module import, fresh interpreter: best {min(times) * 1000:.0f} ms of {runs} "
        f"(first {times[0] * 1000:.0f} ms), {modules} modules in sys.modules",
        "largest imports (-X importtime, cumulative ms; nested ones are part of the ones above them):",
        *(f"  {micros / 1000:6.0f}  {name}" for micros, name in biggest),
    ]
