"""For tests/e2e/test_provable_exports_http.py: a tenant of its own with deliveries made on the local stack (a
synchronous answer with its manifest, an export job, six nights), the offline verifier run as an auditor runs it,
and the tampering an auditor's copy may suffer."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3

from tests.e2e.conftest import ROOT, Stack

TENANT = "proof-e2e"
KEY_ID, SECRET = "ak_proof_e2e", "proof-e2e-secret-0001"
TOKEN = f"{KEY_ID}.{SECRET}"
ENABLED = datetime(2026, 7, 1, tzinfo=UTC)
NIGHTS = [datetime(2026, 7, 2 + n, 2, 30, tzinfo=UTC) for n in range(6)]
QUEUE = "proof-e2e-events"


def aws(stack: Stack, service: str) -> Any:
    endpoint = stack.dynamodb_endpoint if service == "dynamodb" else stack.moto_endpoint
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )


def listen_for_events(stack: Stack) -> str:
    """A queue receiving the service's events from the default bus (a rule on its source), as a consumer sets up."""
    sqs, events = aws(stack, "sqs"), aws(stack, "events")
    queue = sqs.create_queue(QueueName=QUEUE)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name=QUEUE, EventPattern=json.dumps({"source": ["export-service"]}), EventBusName="default")
    events.put_targets(Rule=QUEUE, EventBusName="default", Targets=[{"Id": "queue", "Arn": arn}])
    return str(queue)


def received_events(stack: Stack, queue: str) -> list[dict[str, Any]]:
    sqs, found = aws(stack, "sqs"), []
    while True:
        messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
        if not messages:
            return found
        for message in messages:
            found.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])


def fire(stack: Stack, moment: datetime) -> None:
    """A night, as the schedule delivers it (python -m devtools.nightly fire --time ...)."""
    command = [sys.executable, "-m", "devtools.nightly", "--dynamodb-endpoint", stack.dynamodb_endpoint]
    command += ["--moto-endpoint", stack.moto_endpoint, "fire", "--time", moment.isoformat()]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]


def verifier(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The verifier as an auditor runs it: no AWS credentials or endpoints, nothing of the service on its path."""
    env = {name: value for name, value in os.environ.items() if not name.startswith(("AWS_", "EXPORT_SERVICE"))}
    env.pop("PYTHONPATH", None)
    command = [sys.executable, "-m", "export_client.verifier", *map(str, args)]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False)


# ---- tampering with a copy -----------------------------------------------------------------------------------------


def copy_of(source: Path, into: Path) -> Path:
    shutil.copytree(source, into)
    return into


def flip_one_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x20
    path.write_bytes(bytes(data))


def _lines(path: Path) -> tuple[bytes, list[bytes]]:
    data = path.read_bytes()
    ending = b"\r\n" if data.endswith(b"\r\n") else b"\n"
    return ending, data[: -len(ending)].split(ending)


def drop_a_row(path: Path) -> None:
    ending, lines = _lines(path)
    path.write_bytes(ending.join(lines[:2] + lines[3:]) + ending)


def add_a_row(path: Path) -> None:
    ending, lines = _lines(path)
    path.write_bytes(ending.join([*lines, lines[-1]]) + ending)


def reorder_two_rows(path: Path) -> None:
    ending, lines = _lines(path)
    lines[1], lines[2] = lines[2], lines[1]
    path.write_bytes(ending.join(lines) + ending)


def edit_a_record_and_its_checksum(path: Path) -> None:
    """Change an audit record of a CSV file and recompute its checksum, so the record verifies on its own."""
    from export_client.verifier.canonical import record_checksum  # noqa: PLC0415 - the auditor's own algorithm

    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))
    rows[1]["user"] = "someone.else@example.com"
    rows[1]["checksum"] = record_checksum(rows[1])
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8", newline="")


def resign(manifest_path: Path, *, claim_key: str | None = None) -> None:
    """Change the manifest (one more row) and sign it again with a key of the forger's (ECDSA P-256, the same
    algorithm); ``claim_key``: the key id the forged signature claims (default: the forger's own)."""
    from cryptography.hazmat.primitives import hashes  # noqa: PLC0415
    from cryptography.hazmat.primitives.asymmetric import ec  # noqa: PLC0415
    from export_client.verifier.canonical import canonical_json, manifest_digest  # noqa: PLC0415

    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["files"][0]["rows"] += 1
    forger = ec.generate_private_key(ec.SECP256R1())
    import base64  # noqa: PLC0415

    signature = forger.sign(manifest_digest(manifest), ec.ECDSA(hashes.SHA256()))
    manifest["signature"] = {
        "algorithm": "ECDSA_SHA_256",
        "keyId": claim_key or "arn:aws:kms:us-east-1:999999999999:key/forger",
        "value": base64.b64encode(signature).decode(),
    }
    manifest_path.write_bytes(canonical_json(manifest))


def night_name(moment: datetime) -> str:
    return moment.date().isoformat()


def nightly_window_records(count: int, start: datetime, end: datetime, seed: int) -> list[Any]:
    from devtools.generate import audit_records  # noqa: PLC0415

    return list(audit_records(TENANT, count, start, end - timedelta(minutes=1), seed=seed))
