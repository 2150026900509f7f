"""``exports export``: from the request to a verified file on disk, over the synchronous answer (200) or a job (202).

200: the body is streamed into a temporary file, its records counted (and its SHA-256 checked against a
``Repr-Digest`` header when the service sends one), then renamed. 202 (or ``--job``): the job is polled with a
progress bar, its file downloaded through presigned links (renewed when they expire, resumed with Range after an
interruption), checked against the job's manifest (SHA-256, bytes, rows) and renamed into place.
"""

from __future__ import annotations

import hashlib
import re
import time
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

import requests
import urllib3

from export_client.api import Api, Params, network_error
from export_client.download import (
    Link,
    Transfer,
    discard,
    fetch,
    matching_part,
    parse_instant,
    part_path,
    promote,
    write_sidecar,
)
from export_client.errors import ClientError, Exit
from export_client.ui import ByteProgress, Stopwatch, Ui, human_bytes
from export_client.verify import Facts, count_rows, facts, format_of, mismatches, repr_digest_sha256, sha256_of

ASYNC_ONLY_FORMATS = frozenset({"parquet"})  # formats only an export job writes


@dataclass
class Summary:
    """The one-line (or ``--json``) result of an export."""

    file: str
    rows: int | None
    bytes: int
    sha256: str
    verified: str  # what the file was checked against: "manifest", "repr-digest" or "rows" (counted only)
    path: str  # "sync" (the 200 answer) or "job"
    seconds: float
    job_id: str | None = None
    resumes: int = 0
    link_refreshes: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        document = asdict(self)
        document.pop("extra")
        return {**document, **self.extra}

    def line(self) -> str:
        rows = f"{self.rows:,} records" if self.rows is not None else "records not counted"
        checked = {
            "manifest": "SHA-256, bytes and records match the job's manifest",
            "repr-digest": "SHA-256 matches the answer's Repr-Digest",
            "rows": "records counted",
        }[self.verified]
        via = f"job {self.job_id}" if self.job_id else "synchronous answer"
        return (
            f"{self.file}: {rows}, {human_bytes(self.bytes)}, sha256 {self.sha256[:16]}…; {checked} "
            f"({via}, {self.seconds:.1f} s)"
        )


def route_for(dataset: str) -> str:
    """The synchronous route of a dataset (the incident list's file is its list route with format=csv)."""
    return {"audit": "/v1/audit/export", "incident-list": "/v1/incidents"}.get(dataset, f"/v1/export/{dataset}")


def _filename_from(response: requests.Response) -> str | None:
    found = re.search(r'filename="?([^";]+)"?', response.headers.get("Content-Disposition", ""))
    return Path(found.group(1)).name if found else None


def target_path(output: Path | None, server_name: str) -> Path:
    """``-o FILE`` as given; ``-o DIR`` or nothing: the service's file name in that folder (or here)."""
    if output is None:
        return Path.cwd() / server_name
    if output.is_dir():
        return output / server_name
    return output


class JobLinks:
    """A job's download link, renewed by asking for the job again (each GET presigns a fresh link)."""

    def __init__(self, api: Api, job: Mapping[str, Any]) -> None:
        self._api = api
        self._job = job

    @property
    def job(self) -> Mapping[str, Any]:
        return self._job

    def current(self) -> Link:
        status = self._job["status"]
        return Link(status["downloadUrl"], parse_instant(status.get("expiresAt")))

    def refresh(self) -> Link:
        self._job = self._api.job(self._job["metadata"]["jobId"])
        if self._job["status"].get("state") != "succeeded":
            raise ClientError(Exit.REJECTED, f"job {self._job['metadata']['jobId']} is no longer downloadable")
        return self.current()


def wait_for_job(
    api: Api,
    job: Mapping[str, Any],
    ui: Ui,
    *,
    timeout: float,
    poll: float = 1.0,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """Poll GET /v1/exports/{jobId} until the job succeeds (returned) or fails (raised)."""
    job_id = job["metadata"]["jobId"]
    began = time.monotonic()
    interval = poll
    current = dict(job)
    with ui.job(job_id) as bar:
        while True:
            status = current["status"]
            progress = status.get("progress") or {}
            bar.update(
                status["state"],
                int(progress.get("partitionsDone") or 0),
                int(progress.get("partitionsTotal") or 0),
                int(status.get("estimatedRecords") or 0),
            )
            if status["state"] == "succeeded":
                return current
            if status["state"] == "failed":
                raise ClientError(Exit.JOB_FAILED, f"export job {job_id} failed: {status.get('error') or 'no reason'}")
            if time.monotonic() - began > timeout:
                raise ClientError(
                    Exit.TIMEOUT,
                    f"export job {job_id} is still {status['state']} after {timeout:.0f} s; "
                    f"collect it later with: exports jobs download {job_id} -o FILE",
                )
            sleep(interval)
            interval = min(interval * 1.5, 5.0)
            current = api.job(job_id)


def manifest_of(session: requests.Session, job: Mapping[str, Any]) -> dict[str, Any]:
    url = job["status"].get("manifestUrl")
    if not url:
        raise ClientError(Exit.VERIFY, f"job {job['metadata']['jobId']} has no manifest to check its file against")
    try:
        response = session.get(url, timeout=(10, 60))
    except requests.RequestException as error:
        raise network_error("the file store", error) from None
    if response.status_code != 200:
        raise ClientError(Exit.NETWORK, f"the job's manifest could not be read: HTTP {response.status_code}")
    try:
        manifest = response.json()
    except ValueError:
        raise ClientError(Exit.VERIFY, "the job's manifest is not JSON") from None
    return dict(manifest)


def download_job(
    api: Api, session: requests.Session, job: Mapping[str, Any], output: Path | None, ui: Ui, stopwatch: Stopwatch
) -> Summary:
    """Download a succeeded job's file and check it against the manifest before it takes its final name."""
    job_id = job["metadata"]["jobId"]
    manifest = manifest_of(session, job)
    files = manifest.get("files") or []
    if len(files) != 1:
        raise ClientError(Exit.VERIFY, f"the manifest of job {job_id} lists {len(files)} files, 1 expected")
    entry, status = files[0], job["status"]
    claims = {"sha256": status.get("sha256"), "bytes": status.get("bytes"), "rows": status.get("records")}
    if (entry["sha256"], entry["bytes"], entry["rows"]) != (claims["sha256"], claims["bytes"], claims["rows"]):
        raise ClientError(Exit.VERIFY, f"job {job_id}: its status and its manifest disagree ({claims} vs {entry})")
    final = target_path(output, job["metadata"]["filename"])
    part = part_path(final)
    identity = {"jobId": job_id, "sha256": entry["sha256"], "bytes": entry["bytes"]}
    links = JobLinks(api, job)
    transfer = Transfer()
    for attempt in (1, 2):
        resumed = matching_part(part, identity)
        if resumed:
            ui.note(f"resuming {final.name} from byte {part.stat().st_size:,}")
        write_sidecar(part, identity)
        with ui.download(final.name) as bar:
            done = fetch(links, part, session=session, expected_bytes=int(entry["bytes"]), progress=bar)
        transfer.resumes += done.resumes
        transfer.refreshes += done.refreshes
        got = facts(part, str(manifest.get("format") or format_of(final.name)))
        problems = mismatches(got, sha256=entry["sha256"], size=int(entry["bytes"]), rows=int(entry["rows"]))
        if not problems:
            promote(part, final)
            return Summary(
                file=str(final),
                rows=got.rows if got.rows is not None else int(entry["rows"]),
                bytes=got.bytes,
                sha256=got.sha256,
                verified="manifest",
                path="job",
                seconds=stopwatch.seconds,
                job_id=job_id,
                resumes=transfer.resumes,
                link_refreshes=transfer.refreshes,
            )
        discard(part)
        if attempt == 1 and (resumed or transfer.resumes):
            ui.warn(f"{final.name} did not verify after a resumed download ({'; '.join(problems)}); downloading again")
            continue
        raise ClientError(
            Exit.VERIFY, f"{final.name} does not match the manifest of job {job_id}: {'; '.join(problems)}; not saved"
        )
    raise AssertionError("unreachable")


def _received(response: requests.Response, out: BinaryIO, progress: ByteProgress) -> str:
    """Write the answer's body, decoded, to ``out``; returns the SHA-256 of the bytes as sent (RFC 9530's
    ``Repr-Digest`` covers the content coding: of the gzip bytes, for a gzip-encoded answer)."""
    encoding = response.headers.get("Content-Encoding", "identity").strip().lower()
    if encoding not in ("identity", "gzip"):
        raise ClientError(Exit.NETWORK, f"the answer is {encoding}-encoded; only gzip was accepted")
    inflate = zlib.decompressobj(wbits=zlib.MAX_WBITS | 16) if encoding == "gzip" else None
    sent = hashlib.sha256()
    for chunk in response.raw.stream(256 * 1024, decode_content=False):
        sent.update(chunk)
        progress.advance(len(chunk))
        out.write(inflate.decompress(chunk) if inflate else chunk)
    if inflate:
        out.write(inflate.flush())
        if not inflate.eof:
            raise ClientError(Exit.NETWORK, "the gzip-encoded answer ended early")
    return sent.hexdigest()


def save_answer(response: requests.Response, output: Path | None, ui: Ui, stopwatch: Stopwatch) -> Summary:
    """A 200 answer streamed to disk (decoded if it came gzip-encoded), counted, checked against the answer's
    ``Repr-Digest`` and ``X-Record-Count`` when it has them, and renamed into place."""
    final = target_path(output, _filename_from(response) or "export")
    part = part_path(final)
    discard(part)
    fmt = format_of(final.name) or format_of(_filename_from(response) or "")
    length = response.headers.get("Content-Length")
    try:
        with ui.download(final.name) as bar, part.open("wb") as out:
            bar.start(int(length) if length and length.isdigit() else None, 0)
            sent = _received(response, out, bar)
    except (requests.RequestException, urllib3.exceptions.HTTPError, zlib.error) as error:
        discard(part)
        raise network_error("the service", error) from None
    except ClientError:
        discard(part)
        raise
    finally:
        response.close()
    digest, size = sha256_of(part)
    got = Facts(sha256=digest, bytes=size, rows=count_rows(part, fmt))
    expected = repr_digest_sha256(response.headers.get("Repr-Digest"))
    count = response.headers.get("X-Record-Count", "")
    problems = mismatches(
        Facts(sent, size, got.rows), sha256=expected, size=None, rows=int(count) if count.isdigit() else None
    )
    if problems:
        discard(part)
        raise ClientError(Exit.VERIFY, f"{final.name} does not match the answer's Repr-Digest: {'; '.join(problems)}")
    promote(part, final)
    return Summary(
        file=str(final),
        rows=got.rows,
        bytes=size,
        sha256=digest,
        verified="repr-digest" if expected else "rows",
        path="sync",
        seconds=stopwatch.seconds,
        extra={"content_encoding": response.headers.get("Content-Encoding", "identity")},
    )


@dataclass(frozen=True)
class ExportRequest:
    dataset: str
    fmt: str | None
    params: Mapping[str, Sequence[str]]  # every filter, as the synchronous route takes it
    as_job: bool = False  # --job: POST /v1/exports even when the answer would fit


def job_body(request: ExportRequest) -> dict[str, Any]:
    """The POST /v1/exports body for the same parameters (one value: a string; several: a list)."""
    body: dict[str, Any] = {"dataset": request.dataset}
    if request.fmt:
        body["format"] = request.fmt
    for name, values in request.params.items():
        body[name] = values[0] if len(values) == 1 else list(values)
    return body


def run_export(
    api: Api,
    session: requests.Session,
    request: ExportRequest,
    output: Path | None,
    ui: Ui,
    *,
    timeout: float,
    poll: float = 1.0,
) -> Summary:
    stopwatch = Stopwatch()
    if request.as_job or (request.fmt or "") in ASYNC_ONLY_FORMATS:
        job = api.start_export(job_body(request))
    else:
        params: dict[str, Sequence[str]] = dict(request.params)
        if request.fmt or request.dataset == "incident-list":  # the list's file is its CSV (else JSON pages)
            params["format"] = [request.fmt or "csv"]
        query: Params = params
        response = api.request("GET", route_for(request.dataset), params=query, stream=True)
        if response.status_code == 200:
            return save_answer(response, output, ui, stopwatch)
        if response.status_code != 202:
            response.close()
            raise ClientError(Exit.FAILURE, f"unexpected answer HTTP {response.status_code}")
        job = response.json()
        ui.note(f"the export is too large for one answer: job {job['metadata']['jobId']} started")
    job_id = job["metadata"]["jobId"]
    try:
        job = wait_for_job(api, job, ui, timeout=timeout, poll=poll)
        return download_job(api, session, job, output, ui, stopwatch)
    except KeyboardInterrupt:  # the job goes on; what was downloaded is kept for a resume
        where = f" -o {output}" if output else ""
        raise ClientError(
            Exit.INTERRUPTED, f"interrupted; the job goes on: collect it with exports jobs download {job_id}{where}"
        ) from None


def collect_job(
    api: Api, session: requests.Session, job_id: str, output: Path | None, ui: Ui, *, timeout: float
) -> Summary:
    """``exports jobs download``: wait for an existing job, then download (resuming a file left by an earlier run)."""
    stopwatch = Stopwatch()
    job = wait_for_job(api, api.job(job_id), ui, timeout=timeout)
    return download_job(api, session, job, output, ui, stopwatch)


def utc_now() -> datetime:
    return datetime.now(UTC)
