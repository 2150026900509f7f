"""The `exports` command end to end: the local stack over HTTP, the installed command in a subprocess.

In the end-to-end stack the synchronous limit is 5,000 records: acme's 6,000 audit records answer 202 and become a
job, globex's 4,000 fit one answer. Every export is itself audited, so a tenant's audit log grows past its demo
records as the session exports: the files hold the demo records first (they are older), then those.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tests.e2e.client_support import faulty_proxy, run_exports
from tests.e2e.conftest import ACME, ACME_INCIDENTS_ONLY, GLOBEX, Stack

pytestmark = pytest.mark.e2e

FILE = ".csv"  # the path of a job's file in the bucket (API paths and the manifest do not end so)


def _ids(path: Path) -> list[str]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [row["id"] for row in csv.DictReader(handle)]


def _holds_the_demo_records(path: Path, demo: list[dict[str, str]], rows: int) -> None:
    ids = _ids(path)
    assert len(ids) == rows and len(set(ids)) == rows
    assert ids[: len(demo)] == [record["id"] for record in demo]


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_a_202_export_ends_as_a_file_verified_against_the_manifest(stack: Stack, expected, tmp_path):
    run = run_exports(stack.url, ACME, "export", "audit", "-o", str(tmp_path / "audit.csv"), cwd=tmp_path)
    assert run.code == 0, run.stderr
    assert "too large for one answer: job exp-" in run.stderr  # the 202, told
    assert "parts" in run.stderr and "records" in run.stderr  # the job's progress bar
    assert run.stdout.count("\n") == 1  # one summary line
    assert "match the job's manifest" in run.stdout
    rows = int(run.stdout.split(": ")[1].split(" records")[0].replace(",", ""))
    _holds_the_demo_records(tmp_path / "audit.csv", expected["acme"], rows)
    assert _leftovers(tmp_path) == []
    job_id = run.stdout.split("(job ")[1].split(",")[0]

    listed = run_exports(stack.url, ACME, "jobs", "list", "--json", cwd=tmp_path)
    assert listed.code == 0 and job_id in {job["metadata"]["jobId"] for job in listed.json}
    shown = run_exports(stack.url, ACME, "jobs", "show", job_id, cwd=tmp_path)
    assert shown.code == 0 and "succeeded" in shown.stdout and f"records    {rows:,}" in shown.stdout
    again = run_exports(stack.url, ACME, "jobs", "download", job_id, "-o", str(tmp_path), "--json", cwd=tmp_path)
    assert again.code == 0, again.stderr
    assert again.json["rows"] == rows and again.json["verified"] == "manifest"
    assert Path(again.json["file"]).parent == tmp_path  # a folder: the job's own file name


def test_an_answer_that_fits_is_saved_from_the_200(stack: Stack, expected, tmp_path):
    run = run_exports(stack.url, GLOBEX, "export", "audit", "--json", "-o", str(tmp_path), cwd=tmp_path)
    assert run.code == 0, run.stderr
    summary = run.json
    assert (summary["path"], summary["job_id"]) == ("sync", None)
    assert Path(summary["file"]).name.startswith("audit-") and run.stderr == ""  # --json: no progress
    _holds_the_demo_records(Path(summary["file"]), expected["globex"], summary["rows"])


def test_a_download_interrupted_midway_resumes_with_range(stack: Stack, tmp_path):
    with faulty_proxy() as proxy:
        proxy.faults.append((FILE, "cut:300000"))
        run = run_exports(stack.url, ACME, "export", "audit", "--json", "-o", "a.csv", proxy=proxy, cwd=tmp_path)
    assert run.code == 0, run.stderr
    assert run.json["resumes"] == 1 and run.json["rows"] >= 6000 and run.json["verified"] == "manifest"
    assert proxy.ranges(".csv") == [None, "bytes=300000-"]
    assert _leftovers(tmp_path) == []


def test_a_link_that_expired_during_the_download_is_renewed_and_the_download_resumes(stack: Stack, tmp_path):
    with faulty_proxy() as proxy:
        # the first request is cut; the resume with the same link is refused as expired, as S3 refuses it
        proxy.faults += [(FILE, "cut:500000"), (FILE, "expire")]
        run = run_exports(stack.url, ACME, "export", "audit", "--json", "-o", "a.csv", proxy=proxy, cwd=tmp_path)
    assert run.code == 0, run.stderr
    assert run.json["link_refreshes"] == 1 and run.json["resumes"] == 1 and run.json["rows"] >= 6000
    assert proxy.ranges(".csv") == [None, "bytes=500000-", "bytes=500000-"]
    csv_gets = [(path, status) for method, path, _, status in proxy.log if method == "GET" and path.endswith(".csv")]
    assert [status for _, status in csv_gets] == [200, 403, 206]
    job_polls = [path for method, path, _, _ in proxy.log if method == "GET" and path.startswith("/v1/exports/")]
    assert len(job_polls) >= 2  # the fresh link came from asking for the job again


def test_a_corrupted_file_is_detected_and_not_saved(stack: Stack, tmp_path):
    with faulty_proxy() as proxy:
        proxy.always[FILE] = "flip"
        run = run_exports(stack.url, ACME, "export", "audit", "-o", "a.csv", proxy=proxy, cwd=tmp_path)
    assert run.code == 7, (run.stdout, run.stderr)
    assert "does not match the manifest" in run.stderr and "SHA-256" in run.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_refusals_exit_with_their_documented_codes(stack: Stack, tmp_path):
    forbidden = run_exports(stack.url, ACME_INCIDENTS_ONLY, "export", "audit", "-o", "a.csv", cwd=tmp_path)
    assert forbidden.code == 4 and "403" in forbidden.stderr
    bad = run_exports(stack.url, ACME, "export", "audit", "from=yesterday", "--json", cwd=tmp_path)
    assert bad.code == 5 and bad.json["exit"] == 5 and "from" in bad.json["error"]
    unknown = run_exports(stack.url, "ak_nobody.secret", "jobs", "list", cwd=tmp_path)
    assert unknown.code == 4
    assert list(tmp_path.iterdir()) == []
