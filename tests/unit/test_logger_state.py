"""Log keys appended for one invocation (job_id, tenant, night, source) never reach a later invocation's lines."""

from __future__ import annotations

import ast
import io
import json
from pathlib import Path

import pytest

from devtools.lambda_runtime import LocalLambdaContext
from export_service.observability import logger

pytestmark = pytest.mark.unit

FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"


def _inject_calls(tree: ast.AST) -> list[ast.expr]:
    found: list[ast.expr] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            for decorator in node.decorator_list:
                target = decorator.func if isinstance(decorator, ast.Call) else decorator
                if isinstance(target, ast.Attribute) and target.attr == "inject_lambda_context":
                    found.append(decorator)
    return found


@pytest.mark.parametrize("app", sorted(FUNCTIONS.glob("*/app.py")), ids=lambda path: path.parent.name)
def test_every_handler_clears_the_logger_state_per_invocation(app):
    calls = _inject_calls(ast.parse(app.read_text()))
    assert calls, f"{app}: the handler does not use logger.inject_lambda_context"
    for call in calls:
        keywords = {kw.arg: kw.value for kw in call.keywords} if isinstance(call, ast.Call) else {}
        value = keywords.get("clear_state")
        assert isinstance(value, ast.Constant), f"{app}: use inject_lambda_context(clear_state=True)"
        assert value.value is True, f"{app}: use inject_lambda_context(clear_state=True)"


def test_keys_appended_in_one_invocation_are_gone_in_the_next():
    @logger.inject_lambda_context(clear_state=True)
    def first(event, context):
        logger.append_keys(job_id="exp-1", tenant="acme", night="2026-06-01", source="text/csv")
        logger.info("first")

    @logger.inject_lambda_context(clear_state=True)
    def second(event, context):
        logger.info("second")

    stream = io.StringIO()
    previous = logger.registered_handler.setStream(stream)  # type: ignore[attr-defined]
    try:
        first({}, LocalLambdaContext("First"))
        second({}, LocalLambdaContext("Second"))
    finally:
        logger.registered_handler.setStream(previous)  # type: ignore[attr-defined]
    lines = {json.loads(line)["message"]: json.loads(line) for line in stream.getvalue().splitlines()}
    assert lines["first"]["job_id"] == "exp-1"
    for leaked in ("job_id", "tenant", "night", "source"):
        assert leaked not in lines["second"]
