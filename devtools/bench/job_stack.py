"""The stack the asynchronous export job runs on in the benchmark: moto's server in this process next to DynamoDB
Local (S3, Step Functions interpreting the template's state machine), with the state machine's tasks timed."""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import warnings
from dataclasses import dataclass
from typing import Any

import boto3

from devtools.bench.common import HOST, local_aws_environment
from devtools.dynamodb_local import free_port, wait_for_port
from devtools.provision import create_buckets, create_keys, create_tables, local_refs
from devtools.sfn_local import create_state_machines, enable_state_machine_execution, run_lambda_tasks_in_process
from devtools.template import ROOT, functions, load_template, resources
from export_service.api.deps import reset_dependencies

STATE_MACHINE = "ExportStateMachine"


@dataclass(frozen=True)
class TaskCall:
    """One Lambda task of the state machine, as moto's interpreter invoked it (in-process), timed."""

    function: str
    job_id: str
    began: float
    ended: float
    payload: dict[str, Any] | None  # what the task returned, when it did not fail
    error: str | None

    @property
    def seconds(self) -> float:
        return self.ended - self.began


class TaskTimer:
    """Times the state machine's tasks: wraps the in-process Lambda invoke that devtools.sfn_local installs in moto."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: list[TaskCall] = []

    def install(self) -> None:
        from moto.stepfunctions.parser.asl.component.state.exec.state_task import (  # noqa: PLC0415
            lambda_eval_utils,
        )

        inner = lambda_eval_utils._invoke_lambda_function

        def timed(parameters: dict[str, Any], region: str, state_credentials: Any) -> dict[str, Any]:
            began = time.perf_counter()
            response = inner(parameters, region, state_credentials)
            ended = time.perf_counter()
            raw = parameters.get("Payload")
            sent = json.loads(raw) if isinstance(raw, bytes | str) else raw or {}
            body = response.get("Payload")
            error = None
            if response.get("FunctionError"):
                error = f"{body.get('errorType')}: {body.get('errorMessage')}" if isinstance(body, dict) else str(body)
            call = TaskCall(
                function=str(parameters["FunctionName"]).rsplit(":", 1)[-1],
                job_id=str(sent.get("job_id", "")),
                began=began,
                ended=ended,
                payload=body if error is None and isinstance(body, dict) else None,
                error=error,
            )
            with self._lock:
                self._calls.append(call)
            return dict(response)

        lambda_eval_utils._invoke_lambda_function = timed  # type: ignore[assignment]

    def calls(self, job_id: str) -> list[TaskCall]:
        with self._lock:
            return [call for call in self._calls if call.job_id == job_id]


class JobStack:
    """moto's server in this process next to DynamoDB Local, started as devtools/local_stack.py starts it: S3, and Step
    Functions interpreting the template's state machine with its Lambda tasks invoked in-process (and timed)."""

    def __init__(self, dynamodb_endpoint: str) -> None:
        self.refs = local_refs()
        self.functions = functions(self.refs)
        self.timer = TaskTimer()
        self.moto_port = free_port()
        self.moto_url = f"http://{HOST}:{self.moto_port}"
        self.dynamodb_endpoint = dynamodb_endpoint
        self._moto: Any = None

    def start(self) -> None:
        from moto.server import ThreadedMotoServer  # noqa: PLC0415 - heavy import, only for the job part

        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request to moto
        warnings.filterwarnings("ignore", message="No application metrics to publish")  # Powertools, metrics off
        enable_state_machine_execution()
        run_lambda_tasks_in_process(self.functions)
        self.timer.install()
        self._moto = ThreadedMotoServer(ip_address=HOST, port=self.moto_port, verbose=False)
        self._moto.start()
        wait_for_port(self.moto_port)
        self._configure_environment()
        dynamodb = boto3.client("dynamodb")
        if not dynamodb.list_tables()["TableNames"]:  # the synchronous part, when it ran, created them already
            create_tables(dynamodb, self.refs)
        create_buckets(boto3.client("s3"), self.refs)
        create_keys(boto3.client("kms"), self.refs)  # the manifest signing key the Finish step signs with
        create_state_machines(boto3.client("stepfunctions"), self.refs)

    def _configure_environment(self) -> None:
        """The functions' environment from template.yaml (STATE_MACHINE_ARN, the bucket, the template's sync cap)."""
        for spec in self.functions.values():
            os.environ.update(spec.environment)
        os.environ.pop("MAX_RESPONSE_BYTES", None)  # lifted by the synchronous part
        os.environ.update(local_aws_environment(self.dynamodb_endpoint, self.moto_url))
        reset_dependencies()

    def execution_arn(self, job_id: str) -> str:
        """Executions are named after their job (start_job)."""
        return self.refs[STATE_MACHINE].replace(":stateMachine:", ":execution:") + f":{job_id}"

    def stop(self) -> None:
        if self._moto is not None:
            self._moto.stop()
            self._moto = None


def map_concurrency() -> int | None:
    """The Map state's MaxConcurrency in the template's state machine."""
    for machine in resources(load_template(), "AWS::Serverless::StateMachine").values():
        definition = json.loads((ROOT / machine["Properties"]["DefinitionUri"]).read_text())
        for state in definition["States"].values():
            if state.get("Type") == "Map":
                return int(state.get("MaxConcurrency", 0))
    return None
