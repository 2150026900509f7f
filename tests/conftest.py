"""Shared test set-up.

Lambda sets a function's environment before it imports the code, and Powertools' Metrics reads its namespace at
import time. The template's Powertools settings are therefore put in place before any test imports the layer.

IAM: moto and DynamoDB Local allow every call, so the session records which AWS calls each function's handler makes
(devtools/lambda_runtime.py; the local stack and the other subprocesses inherit $EXPORT_SERVICE_IAM_CALL_LOG and
append to the same file) and, when it finishes, checks them against the template's policies (tests/iam/check.py).
A call the template does not allow fails the run, whichever tests were selected.
"""

from __future__ import annotations

import os
import tempfile
import time
import traceback
from pathlib import Path

import pytest

from devtools.lambda_runtime import CALL_LOG_ENV, read_call_log, record_calls_from_environment
from devtools.provision import local_refs
from devtools.template import functions

for _name, _value in functions(local_refs())["AuditExportFunction"].environment.items():
    if _name.startswith("POWERTOOLS_"):
        os.environ.setdefault(_name, _value)

_CALL_LOG = pytest.StashKey[Path]()
_IAM_LINES = pytest.StashKey[tuple[bool, list[str]]]()


def pytest_configure(config: pytest.Config) -> None:
    handle, name = tempfile.mkstemp(prefix="iam-calls-", suffix=".jsonl")
    os.close(handle)
    config.stash[_CALL_LOG] = Path(name)
    os.environ[CALL_LOG_ENV] = name  # this process and every subprocess started from now on record into it
    record_calls_from_environment()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    began = time.monotonic()
    try:
        from tests.iam.check import check_calls  # noqa: PLC0415 - samtranslator only when there is something to check

        report = check_calls(read_call_log(session.config.stash[_CALL_LOG]))
        failed, lines = report.failed, report.lines()
    except Exception:  # the check itself broke: that fails the run too, never passes it silently
        failed, lines = True, ["the IAM check could not run:", *traceback.format_exc().splitlines()]
    lines.append(f"(IAM check took {time.monotonic() - began:.2f}s)")
    session.config.stash[_IAM_LINES] = (failed, lines)
    if failed and session.exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    failed, lines = config.stash.get(_IAM_LINES, (False, []))
    if lines:
        terminalreporter.section("IAM check", red=failed, green=not failed, bold=failed)
        for line in lines:
            terminalreporter.write_line(line)


def pytest_unconfigure(config: pytest.Config) -> None:
    path = config.stash.get(_CALL_LOG, None)
    if path is not None:
        path.unlink(missing_ok=True)
        if os.environ.get(CALL_LOG_ENV) == str(path):
            del os.environ[CALL_LOG_ENV]
