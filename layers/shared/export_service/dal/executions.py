"""Starts the export state machine (the only Step Functions call the service makes)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any


class StepFunctionsStarter:
    def __init__(self, client: Any, state_machine_arn: str) -> None:
        self._client = client
        self._arn = state_machine_arn

    def start(self, name: str, payload: Mapping[str, Any]) -> bool:
        """Start one execution named ``name``; a second start of the same name is a no-op, never a second run.
        Returns False when Step Functions refused the name (an execution of that name has ended). A start of a
        running execution with the same name and input is answered with that execution, so it returns True."""
        try:
            self._client.start_execution(stateMachineArn=self._arn, name=name, input=json.dumps(dict(payload)))
        except self._client.exceptions.ExecutionAlreadyExists:
            return False
        return True
