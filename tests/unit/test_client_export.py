"""`exports export` without a network: the 200 path, and the 202 path polled to a file verified by its manifest."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from export_client.errors import ClientError, Exit
from export_client.exporting import ExportRequest, job_body, run_export, wait_for_job
from export_client.ui import Ui

from tests.unit.client_support import FakeStore

pytestmark = pytest.mark.unit

CSV = "id,name\r\n" + "".join(f'r{n},"a\r\nmulti-line, quoted ""cell"" {n}"\r\n' for n in range(50))
JOB_ID = "exp-20260601T120000-0123456789ab"


class SyncAnswer:
    def __init__(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.status_code, self._body, self.headers = status, body, headers
        self.closed = False
        self.raw = self

    def stream(self, size: int, decode_content: bool = True) -> Iterator[bytes]:
        assert not decode_content  # the client hashes the bytes as sent, then decodes them itself
        yield from (self._body[at : at + 5] for at in range(0, len(self._body), 5))

    def json(self) -> Any:
        return json.loads(self._body)

    def close(self) -> None:
        self.closed = True


class FakeApi:
    """GET on a sync route answers ``sync`` (200) or a 202; the job goes through ``states`` then succeeds."""

    endpoint = "https://api.example"

    def __init__(self, store: FakeStore, *, body: bytes = CSV.encode(), rows: int = 50, sync: SyncAnswer | None = None):
        self.store, self.sync = store, sync
        self.states = ["processing", "processing"]
        self.gets = 0
        self.started: list[dict[str, Any]] = []
        self.sha = store.put("audit.csv", body)
        manifest = {"format": "csv", "files": [{"sha256": self.sha, "bytes": len(body), "rows": rows}]}
        store.put("manifest.json", json.dumps(manifest).encode())
        self.size, self.rows = len(body), rows
        self.failed = False

    def request(self, method: str, path: str, **kwargs: Any) -> SyncAnswer:
        assert method == "GET" and path == "/v1/audit/export"
        self.requested = kwargs["params"]
        if self.sync is not None:
            return self.sync
        return SyncAnswer(202, json.dumps(self._job("processing")).encode(), {})

    def start_export(self, body: dict[str, Any]) -> dict[str, Any]:
        self.started.append(body)
        return self._job("queued")

    def job(self, job_id: str) -> dict[str, Any]:
        assert job_id == JOB_ID
        self.gets += 1
        state = self.states.pop(0) if self.states else ("failed" if self.failed else "succeeded")
        return self._job(state)

    def _job(self, state: str) -> dict[str, Any]:
        status: dict[str, Any] = {
            "state": state,
            "estimatedRecords": 50,
            "progress": {"partitionsDone": 1, "partitionsTotal": 3},
        }
        if state == "succeeded":
            status.update(
                downloadUrl=f"https://store/audit.csv?v={self.gets}",
                expiresAt="2999-01-01T00:00:00.000Z",
                records=self.rows,
                bytes=self.size,
                sha256=self.sha,
                manifestUrl="https://store/manifest.json",
            )
        if state == "failed":
            status["error"] = "the export failed (Boom)"
        meta = {"jobId": JOB_ID, "dataset": "audit", "format": "csv", "filename": "audit-2026-06-01.csv"}
        return {"metadata": {**meta, "createdAt": "", "expiresAt": ""}, "status": status}


def _run(api: FakeApi, store: FakeStore, out: Path | None, request: ExportRequest | None = None, **kw: Any):
    request = request or ExportRequest("audit", None, {"from": ["2026-03-01"]})
    return run_export(api, store, request, out, Ui(quiet=True), timeout=kw.pop("timeout", 60), poll=0.0, **kw)  # type: ignore[arg-type]


def test_a_202_is_polled_downloaded_and_verified_against_the_manifest(tmp_path):
    store = FakeStore()
    api = FakeApi(store)
    summary = _run(api, store, tmp_path / "audit.csv")
    assert (tmp_path / "audit.csv").read_bytes() == CSV.encode()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["audit.csv"]  # no temporary file left
    assert (summary.path, summary.verified, summary.rows, summary.job_id) == ("job", "manifest", 50, JOB_ID)
    assert summary.sha256 == hashlib.sha256(CSV.encode()).hexdigest()
    assert api.gets == 3  # polled until it succeeded
    assert api.requested == {"from": ["2026-03-01"]}
    document = summary.as_json()
    assert {"file", "rows", "bytes", "sha256", "verified", "path", "job_id", "resumes", "link_refreshes"} <= set(
        document
    )
    assert "match the job's manifest" in summary.line()


def test_an_output_folder_or_none_takes_the_services_file_name(tmp_path, monkeypatch):
    store = FakeStore()
    summary = _run(FakeApi(store), store, tmp_path)
    assert Path(summary.file) == tmp_path / "audit-2026-06-01.csv"
    monkeypatch.chdir(tmp_path / ".")
    (tmp_path / "here").mkdir()
    monkeypatch.chdir(tmp_path / "here")
    assert Path(_run(FakeApi(store), store, None).file) == tmp_path / "here" / "audit-2026-06-01.csv"


def test_an_interrupted_download_resumes_and_the_expired_link_is_renewed(tmp_path):
    store = FakeStore()
    api = FakeApi(store)
    store.files["audit.csv"].cuts = [100]
    store.files["audit.csv"].refuse = 0
    original = store.get

    def get(url, headers=None, **kwargs):  # the link expires after the first request started
        response = original(url, headers, **kwargs)
        if url.startswith("https://store/audit.csv") and len(store.requests) == 2:
            store.files["audit.csv"].refuse = 1
        return response

    store.get = get  # type: ignore[method-assign]
    summary = _run(api, store, tmp_path / "a.csv")
    assert (tmp_path / "a.csv").read_bytes() == CSV.encode()
    assert (summary.resumes, summary.link_refreshes) == (1, 1)
    ranges = [r for u, r in store.requests if "audit.csv" in u]
    assert ranges == [None, "bytes=100-", "bytes=100-"]


def test_a_corrupted_file_is_detected_and_never_saved(tmp_path):
    store = FakeStore()
    api = FakeApi(store)
    store.files["audit.csv"].corrupt = True
    with pytest.raises(ClientError) as raised:
        _run(api, store, tmp_path / "a.csv")
    assert raised.value.code is Exit.VERIFY
    assert "does not match the manifest" in raised.value.message and "SHA-256" in raised.value.message
    assert list(tmp_path.iterdir()) == []


def test_a_file_with_other_rows_than_the_manifest_says_is_refused(tmp_path):
    store = FakeStore()
    api = FakeApi(store, rows=51)
    with pytest.raises(ClientError) as raised:
        _run(api, store, tmp_path / "a.csv")
    assert raised.value.code is Exit.VERIFY
    assert "50 records instead of 51" in raised.value.message


def test_a_failed_job_and_a_job_that_takes_too_long(tmp_path):
    store = FakeStore()
    api = FakeApi(store)
    api.failed, api.states = True, []
    with pytest.raises(ClientError) as raised:
        _run(api, store, tmp_path / "a.csv")
    assert raised.value.code is Exit.JOB_FAILED and "Boom" in raised.value.message
    slow = FakeApi(store)
    slow.states = ["processing"] * 1000
    with pytest.raises(ClientError) as raised:
        wait_for_job(slow, slow._job("processing"), Ui(quiet=True), timeout=0.0, sleep=lambda _s: None)  # type: ignore[arg-type]
    assert raised.value.code is Exit.TIMEOUT
    assert f"exports jobs download {JOB_ID}" in raised.value.message


def test_job_and_parquet_requests_go_to_post_v1_exports(tmp_path):
    store = FakeStore()
    api = FakeApi(store)
    request = ExportRequest("audit", "parquet", {"from": ["2026-03-01"], "event_type": ["a", "b"]})
    assert job_body(request) == {
        "dataset": "audit",
        "format": "parquet",
        "from": "2026-03-01",
        "event_type": ["a", "b"],
    }
    _run(api, store, tmp_path / "x.csv", ExportRequest("audit", None, {}, as_job=True))
    assert api.started == [{"dataset": "audit"}]


def _digest_header(body: bytes) -> str:
    return f"sha-256=:{base64.b64encode(hashlib.sha256(body).digest()).decode()}:"


def test_a_200_answer_is_saved_counted_and_checked_against_repr_digest(tmp_path):
    body = CSV.encode()
    headers = {
        "Content-Disposition": 'attachment; filename="audit-2026-03-01_2026-04-01.csv"',
        "Repr-Digest": _digest_header(body),
    }
    store = FakeStore()
    api = FakeApi(store, sync=SyncAnswer(200, body, headers))
    summary = _run(api, store, tmp_path)
    assert Path(summary.file).name == "audit-2026-03-01_2026-04-01.csv"
    assert (summary.path, summary.verified, summary.rows, summary.bytes) == ("sync", "repr-digest", 50, len(body))
    assert api.sync is not None and api.sync.closed


def test_a_200_answer_that_does_not_match_its_digest_is_refused(tmp_path):
    body = CSV.encode()
    headers = {"Content-Disposition": 'attachment; filename="a.csv"', "Repr-Digest": _digest_header(body + b"x")}
    store = FakeStore()
    with pytest.raises(ClientError) as raised:
        _run(FakeApi(store, sync=SyncAnswer(200, body, headers)), store, tmp_path)
    assert raised.value.code is Exit.VERIFY
    assert list(tmp_path.iterdir()) == []


def test_a_gzip_encoded_200_is_decoded_its_digest_taken_as_sent_and_its_record_count_checked(tmp_path):
    body = CSV.encode()
    packed = gzip.compress(body)
    headers = {
        "Content-Disposition": 'attachment; filename="a.csv"',
        "Content-Encoding": "gzip",
        "Repr-Digest": _digest_header(packed),  # RFC 9530: of the representation, content coding included
        "X-Record-Count": "50",
    }
    store = FakeStore()
    summary = _run(FakeApi(store, sync=SyncAnswer(200, packed, headers)), store, tmp_path)
    assert (tmp_path / "a.csv").read_bytes() == body
    assert (summary.verified, summary.rows, summary.bytes) == ("repr-digest", 50, len(body))
    assert summary.sha256 == hashlib.sha256(body).hexdigest()  # the file's own digest, as saved
    assert summary.as_json()["content_encoding"] == "gzip"
    wrong = {**headers, "X-Record-Count": "51"}
    with pytest.raises(ClientError) as raised:
        _run(FakeApi(store, sync=SyncAnswer(200, packed, wrong)), store, tmp_path / "b.csv")
    assert raised.value.code is Exit.VERIFY and "50 records instead of 51" in raised.value.message
    assert not (tmp_path / "b.csv").exists()


def test_ctrl_c_during_a_job_says_how_to_collect_it(tmp_path):
    store = FakeStore()
    api = FakeApi(store)

    def interrupted(job_id: str) -> dict[str, Any]:
        raise KeyboardInterrupt

    api.job = interrupted  # type: ignore[method-assign]
    with pytest.raises(ClientError) as raised:
        _run(api, store, tmp_path / "a.csv")
    assert raised.value.code is Exit.INTERRUPTED
    assert f"exports jobs download {JOB_ID} -o {tmp_path / 'a.csv'}" in raised.value.message
