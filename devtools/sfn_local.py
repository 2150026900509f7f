"""Runs the template's state machine in moto's ASL interpreter, its Lambda tasks executed in-process.

moto's Lambda runs code in Docker, which these machines lack; its Step Functions interpreter calls Lambda through
``lambda_eval_utils._invoke_lambda_function``. Replacing that one function with an in-process call of the task's
handler (the payload arrives as a dict, as in Lambda) runs the real ASL file with the real handlers.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from devtools.lambda_runtime import invoke
from devtools.template import ROOT, FunctionSpec, load_template, resolve, resources

log = logging.getLogger("sfn-local")


def enable_state_machine_execution() -> None:
    """moto's switch for interpreting the ASL (instead of answering StartExecution with canned results)."""
    from moto.core.config import default_user_config  # noqa: PLC0415

    default_user_config["stepfunctions"] = {"execute_state_machine": True}


def run_lambda_tasks_in_process(functions: Mapping[str, FunctionSpec]) -> None:
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import (  # noqa: PLC0415
        lambda_eval_utils,
    )

    def _invoke(parameters: dict[str, Any], region: str, state_credentials: Any) -> dict[str, Any]:
        name = str(parameters["FunctionName"]).rsplit(":", 1)[-1]
        raw = parameters.get("Payload")
        payload = json.loads(raw) if isinstance(raw, bytes | str) else raw
        try:
            result = invoke(functions[name], payload or {})
        except Exception as error:  # what Lambda reports for an unhandled error in the function
            log.warning("task %s failed: %s: %s", name, type(error).__name__, error)
            return {
                "StatusCode": 200,
                "FunctionError": "Unhandled",
                "Payload": {"errorType": type(error).__name__, "errorMessage": str(error)},
            }
        return {"StatusCode": 200, "Payload": json.loads(json.dumps(result))}

    lambda_eval_utils._invoke_lambda_function = _invoke  # type: ignore[assignment]


def create_state_machines(sfn: Any, refs: Mapping[str, str]) -> list[str]:
    """Create the template's state machines from their ASL files, with DefinitionSubstitutions applied."""
    created = []
    for logical_id, resource in resources(load_template(), "AWS::Serverless::StateMachine").items():
        props = resource["Properties"]
        definition = (ROOT / props["DefinitionUri"]).read_text()
        for key, value in props.get("DefinitionSubstitutions", {}).items():
            definition = definition.replace("${" + key + "}", str(resolve(value, dict(refs))))
        response = sfn.create_state_machine(
            name=logical_id, definition=definition, roleArn="arn:aws:iam::123456789012:role/local-state-machine"
        )
        created.append(response["stateMachineArn"])
    return created
