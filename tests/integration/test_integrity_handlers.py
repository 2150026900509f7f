"""Integrity on the real handlers against moto (KMS included): a synchronous answer's Repr-Digest and row count,
manifest=true's signed manifest of that exact answer, the export actions in the audit log (and the 503 when one
cannot be written), the public keys' route and a key rotation, a job's signed manifest and completion events."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import re
import time
from datetime import UTC, datetime
from datetime import time as day_time
from urllib.parse import unquote, urlsplit

import boto3
import pytest
from export_client.verifier.keys import check_signature, load_keys

from devtools.lambda_runtime import rest_proxy_event
from devtools.provision import local_refs
from export_service.dal.audit_store import AuditStore
from export_service.logic.export_audit import SYSTEM_SOURCE
from tests.helpers import authorizer_context, load_event, response_header, with_authorizer, with_query
from tests.integration.support import call, export

pytestmark = pytest.mark.integration
BOUNDS = {"from": "2026-03-02T00:00:00Z", "to": "2026-03-03T00:00:00Z"}


def _object(url: str, prefix: str) -> bytes:
    path = urlsplit(url).path
    key = unquote(path[path.index(prefix) :])
    return boto3.client("s3").get_object(Bucket=local_refs()["ExportBucket"], Key=key)["Body"].read()


def _sent(response: dict) -> bytes:
    """The body's bytes as the answer carries them (a binary body leaves Lambda base64-encoded)."""
    body = response["body"]
    return base64.b64decode(body) if response.get("isBase64Encoded") else body.encode("utf-8")


def _file(response: dict) -> bytes:
    """The file a client saves: the body, decoded when it was sent gzip-encoded (the sample request accepts gzip)."""
    sent = _sent(response)
    return gzip.decompress(sent) if response_header(response, "Content-Encoding") == "gzip" else sent


def _keys(tmp_path) -> object:
    event = rest_proxy_event(
        method="GET",
        path="/v1/manifest-keys",
        resource="/v1/manifest-keys",
        authorizer=authorizer_context("acme", "ak_any", "INCIDENTS_READ"),
    )
    response = call("ManifestKeysFunction", event)
    assert response["statusCode"] == 200, response["body"]
    path = tmp_path / "keys.json"
    path.write_text(response["body"])
    return response, load_keys(path)


def _export_actions(tenant: str = "acme") -> list[dict]:
    store = AuditStore(boto3.client("dynamodb"), local_refs()["AuditTable"])
    days = store.bounds(tenant)
    parts = store.plan(
        tenant,
        datetime.combine(days[1], day_time.min, tzinfo=UTC),
        datetime.combine(days[1], day_time.max, tzinfo=UTC),
        {},
    )
    return [row for part in parts for row in store.read(part) if row["systemSource"] == SYSTEM_SOURCE]


def test_a_synchronous_answer_carries_its_digest_and_row_count(stack):
    response = export(with_query(load_event("audit_export_get"), BOUNDS))
    assert response["statusCode"] == 200
    digest = base64.b64encode(hashlib.sha256(_sent(response)).digest()).decode()
    assert response_header(response, "Repr-Digest") == f"sha-256=:{digest}:"
    assert response_header(response, "X-Record-Count") == "80"
    assert response_header(response, "Link") is None  # a manifest only on request
    assert re.fullmatch(r"sync-\d{8}T\d{6}-[0-9a-f]{12}", response_header(response, "Export-Id") or "")


def test_manifest_true_links_the_signed_manifest_of_that_exact_answer(stack, tmp_path):
    response = export(with_query(load_event("audit_export_get"), {**BOUNDS, "format": "jsonl", "manifest": "true"}))
    assert response["statusCode"] == 200
    link = re.fullmatch(r'<(.+)>; rel="describedby"; type="application/json"', response_header(response, "Link"))
    assert link and "X-Amz-Expires=300" in link.group(1)
    manifest = json.loads(_object(link.group(1), "manifests/"))
    body = _file(response)
    [entry] = manifest["files"]
    assert entry == {
        "name": "audit-2026-03-02_2026-03-03.jsonl",
        "sha256": hashlib.sha256(body).hexdigest(),
        "bytes": len(body),
        "rows": 80,
        "format": "jsonl",
        "checksummedRecords": True,
    }
    assert manifest["exportType"] == "sync" and manifest["exportId"] == response_header(response, "Export-Id")
    assert manifest["tenant"] == "acme" and manifest["dataset"] == "audit"
    assert manifest["filter"] == {"format": "jsonl", "from": BOUNDS["from"], "to": BOUNDS["to"]}  # not "manifest"
    assert manifest["range"] == {"from": "2026-03-02T00:00:00.000Z", "to": "2026-03-03T00:00:00.000Z"}
    _response, keys = _keys(tmp_path)
    key_id, failure = check_signature(manifest, keys, "manifest")
    assert failure is None and key_id == local_refs()["ManifestSigningKey.Arn"]


def test_every_answered_export_is_in_the_tenants_audit_log_with_the_keys_id(stack):
    before = {row["id"] for row in _export_actions()}
    response = export(with_query(load_event("audit_export_get"), {**BOUNDS, "action": "user.login"}))
    assert response["statusCode"] == 200
    [record] = [row for row in _export_actions() if row["id"] not in before]
    assert record["user"] == record["auditeeId"] == "ak_acme_audit_reader"
    assert record["action"] == "export.sync" and record["eventType"] == "export" and record["resource"] == "audit"
    metadata = json.loads(record["metadata"])
    assert json.loads(metadata["filter"]) == {**BOUNDS, "action": "user.login"}
    assert metadata["records"] == response_header(response, "X-Record-Count")
    assert metadata["export_id"] == response_header(response, "Export-Id")
    from export_service.logic.checksum import verify_checksum  # noqa: PLC0415

    assert verify_checksum(record)


def test_an_export_whose_audit_record_cannot_be_written_is_not_served(stack, monkeypatch):
    def unreachable(self, tenant, record):
        raise ConnectionError("the audit table is unreachable")

    monkeypatch.setattr(AuditStore, "append", unreachable)
    response = export(with_query(load_event("audit_export_get"), BOUNDS))
    assert response["statusCode"] == 503
    body = json.loads(response["body"])
    assert body["error"] == "AUDIT_UNAVAILABLE" and "id" not in response["body"]


def test_an_incidents_only_key_is_refused_before_anything_is_audited(stack):
    before = len(_export_actions())
    event = with_authorizer(load_event("audit_export_get"), authorizer_context("acme", "ak_x", "INCIDENTS_READ"))
    assert export(event)["statusCode"] == 403
    assert len(_export_actions()) == before


def test_the_keys_route_serves_the_signing_keys_public_half_cached(stack, tmp_path):
    response, keys = _keys(tmp_path)
    body = json.loads(response["body"])
    assert body["kind"] == "ManifestKeyList" and body["signingAlgorithm"] == "ECDSA_SHA_256"
    [key] = body["keys"]
    assert key["keyId"] == local_refs()["ManifestSigningKey.Arn"] and key["status"] == "current"
    assert key["keySpec"] == "ECC_NIST_P256" and key["publicKey"].startswith("-----BEGIN PUBLIC KEY-----")
    der = boto3.client("kms").get_public_key(KeyId=key["keyId"])["PublicKey"]
    assert base64.b64encode(der).decode() in key["publicKey"].replace("\n", "")
    assert response_header(response, "Cache-Control") == "private, max-age=3600"
    assert list(keys) == [key["keyId"]]


def test_after_a_rotation_manifests_of_the_old_and_the_new_key_both_verify(stack, tmp_path, monkeypatch):
    """The rotation docs/verify.md describes: a manifest signed by the key in use before (here a key made for the
    test, signing outside any function), the template's key signing now, the old one published as retired."""
    kms = boto3.client("kms")
    old = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["Arn"]
    current = local_refs()["ManifestSigningKey.Arn"]
    from export_service.dal.signing import KmsSigner  # noqa: PLC0415
    from export_service.logic.manifest import file_entry, new_manifest, sign_manifest  # noqa: PLC0415

    entry = file_entry("audit-2026-03-01.csv", sha256="ab" * 32, size=1, rows=0, fmt="csv")
    earlier = sign_manifest(
        new_manifest(
            export_id="sync-old",
            export_type="sync",
            tenant="acme",
            dataset="audit",
            fmt="csv",
            filter_={},
            start=None,
            end=None,
            created_at=datetime(2026, 3, 1, tzinfo=UTC),
            files=[entry],
        ),
        KmsSigner(kms, old),
    )
    monkeypatch.setenv("MANIFEST_RETIRED_KEY_IDS", old)
    from export_service.api.deps import reset_dependencies  # noqa: PLC0415
    from export_service.api.routes.manifest_keys import key_list  # noqa: PLC0415

    reset_dependencies()
    key_list.cache_clear()
    try:
        now = export(with_query(load_event("audit_export_get"), {**BOUNDS, "manifest": "true"}))
        response, keys = _keys(tmp_path)
    finally:
        key_list.cache_clear()
    assert [(k["keyId"], k["status"]) for k in json.loads(response["body"])["keys"]] == [
        (current, "current"),
        (old, "retired"),
    ]
    later = json.loads(_object(re.match(r"<(.+)>", response_header(now, "Link")).group(1), "manifests/"))
    assert check_signature(earlier, keys, "earlier") == (old, None)
    assert check_signature(later, keys, "later") == (current, None)


def test_manifest_applies_to_file_answers_only(stack):
    event = rest_proxy_event(
        method="GET",
        path="/v1/incidents",
        resource="/v1/incidents",
        query={"manifest": ["true"]},
        authorizer=authorizer_context("acme", "ak_x", "INCIDENTS_READ"),
    )
    response = call("ListIncidentsFunction", event)
    assert response["statusCode"] == 400 and json.loads(response["body"])["parameter"] == "manifest"


def _job_call(function: str, method: str, path: str, resource: str, body: dict | None = None, **params) -> dict:
    event = rest_proxy_event(
        method=method,
        path=path,
        resource=resource,
        headers={"Content-Type": ["application/json"]} if body else None,
        body=json.dumps(body) if body else None,
        authorizer=authorizer_context("acme", "ak_acme_jobs", "AUDIT_READ,EXPORTS_READ,EXPORTS_WRITE"),
        **params,
    )
    return call(function, event)


def test_a_job_writes_a_signed_manifest_audits_its_start_and_its_link_and_sends_its_event(executing, tmp_path):
    sqs, events = boto3.client("sqs"), boto3.client("events")
    queue = sqs.create_queue(QueueName="job-events")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="export-jobs", EventPattern=json.dumps({"source": ["export-service"]}))
    events.put_targets(Rule="export-jobs", Targets=[{"Id": "q", "Arn": arn}])
    before = {row["id"] for row in _export_actions()}
    started = _job_call(
        "StartExportFunction",
        "POST",
        "/v1/exports",
        "/v1/exports",
        {"dataset": "audit", "format": "csv", "from": "2026-03-01", "to": "2026-03-02"},
    )
    assert started["statusCode"] == 202
    job_id = json.loads(started["body"])["metadata"]["jobId"]
    deadline = time.monotonic() + 60
    while True:
        status = _job_call(
            "GetExportFunction",
            "GET",
            f"/v1/exports/{job_id}",
            "/v1/exports/{jobId}",
            path_parameters={"jobId": job_id},
        )
        body = json.loads(status["body"])
        if body["status"]["state"] in ("succeeded", "failed") or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert body["status"]["state"] == "succeeded", body
    manifest = json.loads(_object(body["status"]["manifestUrl"], "exports/"))
    _response, keys = _keys(tmp_path)
    assert check_signature(manifest, keys, "m")[1] is None
    assert manifest["exportType"] == "job" and manifest["jobId"] == manifest["exportId"] == job_id
    assert manifest["files"][0]["sha256"] == body["status"]["sha256"]
    actions = [row for row in _export_actions() if row["id"] not in before]
    assert sorted(row["action"] for row in actions) == ["export.job_started", "export.link_minted"]
    assert {json.loads(row["metadata"])["job_id"] for row in actions} == {job_id}
    received = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
    details = [json.loads(message["Body"]) for message in received]
    [event] = [d for d in details if d["detail-type"] == "Export Job Succeeded" and d["detail"]["jobId"] == job_id]
    assert event["detail"]["manifestKey"].endswith(f"{job_id}/manifest.json")
    assert event["detail"]["records"] == body["status"]["records"]
