"""The work on an incident, as events: teams, a runbook and its steps, task lists and tasks, tickets."""

from __future__ import annotations

from typing import Any

from devtools.incident_generator.basics import DAY, MINUTE, SECOND, random_id, weighted
from devtools.incident_generator.draft import Draft
from devtools.incident_generator.tenant import Person
from devtools.incident_generator.vocabulary import VOCABULARY as V


def _task(draft: Draft, first: int, last: int, summary: str, description: str, by: str) -> None:
    """A task created, then perhaps started and done."""
    task_id = random_id(draft.rng)
    at = first
    for operation, state in (("created", "open"), ("updated", "in_progress"), ("completed", "done")):
        if operation != "created" and draft.rng.random() < 0.4:
            break
        details = {
            "task_id": task_id,
            "task_summary": summary,
            "task_description": description,
            "operation": operation,
            "new_state": state,
        }
        at = draft.event(draft.between(at, last), "TaskUpdate", by, details)


def work(draft: Draft, commander: Person, early: int, activity_end: int, retro_started: int | None) -> int | None:
    """Teams, runbooks, task lists and tickets; returns the incident API's ticket id (None without a ticket)."""
    rng, tenant, created = draft.rng, draft.tenant, draft.created
    details: dict[str, Any]
    if rng.random() < 0.5:
        for team_name, team_id in rng.sample(tenant.teams, rng.choice((1, 1, 2))):
            details = {"team_id": team_id, "team_name": team_name}
            draft.event(draft.between(created, early), "TeamAssignment", commander.name, details)
    if rng.random() < 0.3:
        runbook_name, runbook_id, steps = rng.choice(tenant.runbooks)
        by = rng.choice((V.system, commander.name))
        details = {"runbook_id": runbook_id, "runbook_name": runbook_name}
        at = draft.event(draft.between(created, created + 5 * MINUTE), "RunbookAttachment", by, details)
        for step_name, step_id in steps[: rng.randint(1, len(steps))]:
            at += rng.randint(5 * SECOND, 10 * MINUTE)
            outcome = weighted(rng, V.step_outcomes).format(step=step_name, person=rng.choice(tenant.people).name)
            details = {
                "description": outcome,
                "step_execution_id": random_id(rng),
                "step_id": step_id,
                "step_name": step_name,
            }
            at = draft.event(at, "RunbookStepExecutionUpdate", V.system, details)
    if rng.random() < 0.2:
        list_name, list_id, tasks = rng.choice(tenant.task_lists)
        details = {"task_list_id": list_id, "task_list_name": list_name}
        at = draft.event(draft.between(created, early), "AddTaskList", commander.name, details)
        for summary, description in tasks[: rng.randint(1, len(tasks))]:
            _task(draft, at, activity_end, summary, description, commander.name)
    if rng.random() < 0.15:
        summary, description = rng.choice(V.loose_tasks)
        _task(draft, created, activity_end, summary, description, rng.choice(tenant.people).name)
    ticket_id = None
    if rng.random() < 0.4:
        ticket_id = rng.randint(1000, 9999)
        provider = f"OPS-{ticket_id}" if rng.random() < 0.6 else None
        details = {"ticket_id": random_id(rng), "ticket_type": "incident", "ticket_provider_id": provider}
        draft.event(
            draft.between(created, early), "TicketUpdate", rng.choice((V.ticket_system, commander.name)), details
        )
    if retro_started is not None and rng.random() < 0.5:
        for _ in range(rng.randint(1, 2)):
            provider = f"OPS-{rng.randint(1000, 9999)}" if rng.random() < 0.7 else None
            details = {"ticket_id": random_id(rng), "ticket_type": "follow_up", "ticket_provider_id": provider}
            at = draft.between(retro_started, retro_started + 2 * DAY)
            draft.event(at, "TicketUpdate", commander.name, details)
    return ticket_id
