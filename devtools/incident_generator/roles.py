"""An incident's role assignments (the nightly data export's incident_role_assignments) and their RoleUpdate events."""

from __future__ import annotations

from devtools.incident_generator.basics import duration, random_id, weighted
from devtools.incident_generator.draft import Draft
from devtools.incident_generator.tenant import Person
from export_service.models.incidents import IncidentRoleAssignment


def role_assignments(draft: Draft, commander: Person, early: int, activity_end: int) -> list[IncidentRoleAssignment]:
    """1-4 roles (always an incident commander); now and then a handoff: the first holder is unassigned."""
    rng, tenant = draft.rng, draft.tenant
    count = int(weighted(rng, (("1", 35), ("2", 35), ("3", 20), ("4", 10))))
    roles = [tenant.roles[0], *rng.sample(tenant.roles[1:], count - 1)]
    rows = []
    for index, (role_name, role_id) in enumerate(roles):
        holder = commander if index == 0 else rng.choice(tenant.people)
        at = draft.between(draft.created, early if index == 0 else activity_end)
        spans = [(holder, at, at)]
        if rng.random() < 0.12:
            handoff = draft.clamp(at + duration(rng, 90, 1.0, 1440))
            if handoff > at:
                successor = rng.choice([person for person in tenant.people if person is not holder])
                spans = [(holder, at, handoff), (successor, handoff, handoff)]
        for person, since, until in spans:
            row_id = random_id(rng)
            details = {
                "role_assignment_id": row_id,
                "incident_role_name": role_name,
                "operation": "assign",
                "assigned_user_id": person.user_id,
                "assigned_user_name": person.name,
            }
            draft.event(since, "RoleUpdate", commander.name, details)
            if until > since:
                draft.event(until, "RoleUpdate", commander.name, {**details, "operation": "unassign"})
            rows.append(
                IncidentRoleAssignment(
                    **draft.row(since, until, row_id),
                    status="unassigned" if until > since else "assigned",
                    incident_role_id=role_id,
                    incident_role_name=role_name,
                    assigned_user_id=person.user_id,
                    assigned_user_name=person.name,
                )
            )
    rows.sort(key=lambda row: row.created_at)
    return rows
