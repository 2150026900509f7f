"""The sample Step Functions task payloads in events/ parse with the task handlers' models and match the ASL."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from devtools.template import ROOT
from export_service.logic.job_steps import JobContext, run_fail
from export_service.models.jobs import FailInput, FinishInput, JobRef, PartInput
from tests.helpers import load_event

pytestmark = pytest.mark.unit

ASL = json.loads((ROOT / "statemachine" / "export_job.asl.json").read_text())


@pytest.mark.parametrize(
    ("name", "model"),
    [
        ("export_job_plan", JobRef),
        ("export_job_part", PartInput),
        ("export_job_finish", FinishInput),
        ("export_job_fail", FailInput),
    ],
)
def test_sample_payloads_parse_with_the_handler_models(name, model):
    parsed = model.model_validate(load_event(name))
    assert parsed.job_id.startswith("exp-") and parsed.tenant == "acme"


def test_the_asl_passes_what_the_models_need():
    states = ASL["States"]
    assert set(states["Plan"]["Parameters"]["Payload"]) == {"job_id.$", "tenant.$"}
    assert set(states["Finish"]["Parameters"]["Payload"]) == {"job_id.$", "tenant.$", "results.$"}
    assert set(states["RecordFailure"]["Parameters"]["Payload"]) == {"job_id.$", "tenant.$", "error.$"}
    # Each Map item is one of the plan's chunks, passed whole to the part worker: it carries PartInput's fields
    assert states["ExportParts"]["ItemsPath"] == "$.chunks"
    part = states["ExportParts"]["ItemProcessor"]["States"]["ExportPart"]
    assert part["Parameters"]["Payload.$"] == "$"
    assert set(PartInput.model_fields) == set(load_event("export_job_part"))


def test_an_aws_error_is_recorded_without_its_text():
    recorded: dict = {}

    class Jobs:
        def update(self, tenant, job_id, fields):
            recorded.update(fields)

    event = FailInput.model_validate(load_event("export_job_fail"))
    now = datetime(2026, 3, 19, tzinfo=UTC)
    run_fail(JobContext(stores=None, jobs=Jobs(), files=None), event.tenant, event.job_id, event.error, now)  # type: ignore[arg-type]
    assert recorded["state"] == "failed"
    assert recorded["error"].startswith("the export failed (RuntimeError)")
    assert "arn:aws" not in recorded["error"] and "123456789012" not in recorded["error"]


def test_nightly_task_payloads_parse_with_the_handler_models_and_match_the_asl():
    from export_service.models.nightly import SOURCE_NAMES, CommitInput, SourceInput  # noqa: PLC0415

    source = SourceInput.model_validate(load_event("nightly_source"))
    commit = CommitInput.model_validate(load_event("nightly_commit"))
    assert source.tenant == commit.tenant == "acme" and source.night == commit.night == "2026-06-02"
    assert sorted(result.source for result in commit.files) == sorted(SOURCE_NAMES)
    states = ASL["States"]
    # the Map's ItemSelector builds exactly SourceInput's fields; the commit's payload exactly CommitInput's
    assert {name.removesuffix(".$") for name in states["NightlySources"]["ItemSelector"]} == set(
        SourceInput.model_fields
    )
    assert {name.removesuffix(".$") for name in states["NightlyCommit"]["Parameters"]["Payload"]} == set(
        CommitInput.model_fields
    )
    assert set(load_event("nightly_source")) == set(SourceInput.model_fields)
