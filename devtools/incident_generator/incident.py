"""One incident with its children (an ``IncidentBundle``): what broke, its milestones and status changes, renames,
impacts, the work on it, the conversation, the incident API's alert history, the incident row, retrospective and alerts.

Every draw comes from the tenant's one random generator in a fixed order (alerts excepted: they have their own),
so the same seed gives the same bundles; reordering the draws changes the data.
"""

from __future__ import annotations

import random
from datetime import timedelta

from devtools.incident_generator.alerts import alert_history, alerts, metrics
from devtools.incident_generator.basics import MINUTE, duration, instant, random_id, stamp, weighted
from devtools.incident_generator.draft import Draft, lifecycle
from devtools.incident_generator.impacts import impacts
from devtools.incident_generator.retrospectives import retrospective
from devtools.incident_generator.roles import role_assignments
from devtools.incident_generator.tenant import Person, Tenant
from devtools.incident_generator.vocabulary import VOCABULARY as V
from devtools.incident_generator.work import work
from export_service.logic.incident_records import IncidentBundle
from export_service.models.incidents import MILESTONES, PRIORITIES, SEVERITIES, Incident, IncidentEvent


def _milestone_events(
    draft: Draft, times: dict[str, int], started_by: str, commander: Person
) -> tuple[list[int], tuple[int, int] | None]:
    """Status and milestone events; returns when the incident itself changed, and a close-and-reopen (if any)."""
    rng, created = draft.rng, draft.created
    resolved = times.get("resolved")
    changes = [created]
    draft.event(created, "IncidentStatus", started_by, {"new_status": "OPEN"})
    reached = [milestone for milestone in MILESTONES if milestone in times]
    changes += times.values()
    for step in range(1, len(reached)):
        at = times[reached[step]]
        if at < created or (step + 1 < len(reached) and times[reached[step + 1]] == at):
            continue  # before the incident was opened, or set together with the next one: one bulk update
        first = step
        while first > 1 and times[reached[first - 1]] == at:
            first -= 1
        by = V.system if rng.random() < 0.2 else commander.name
        if reached[step] == "acknowledged" and started_by in dict(V.integrations):
            by = started_by
        details = {"original_milestone": reached[first - 1], "current_milestone": reached[step]}
        draft.event(at, "BulkMilestoneUpdate", by, details)
    reopen: tuple[int, int] | None = None
    if resolved is not None and rng.random() < 0.06:
        before = max(at for m, at in times.items() if MILESTONES.index(m) < MILESTONES.index("resolved"))
        if resolved - before > 4 * MINUTE:
            closed = before + (resolved - before) // 4
            reopen = (closed, closed + (resolved - closed) // 3)
            draft.event(closed, "IncidentStatus", commander.name, {"new_status": "CLOSED"})
            draft.event(reopen[1], "IncidentStatus", rng.choice(draft.tenant.people).name, {"new_status": "OPEN"})
            draft.event(reopen[1], "Note", commander.name, {"body": V.reopen_note})
            changes += reopen
    if resolved is not None:
        draft.event(resolved, "IncidentStatus", commander.name, {"new_status": "CLOSED"})
    return changes, reopen


def _field_changes(
    draft: Draft, commander: Person, early: int, activity_end: int, final: dict[str, str], title: str
) -> list[int]:
    """Severity, priority and name changes (the incident keeps the ``final`` values); returns when they happened."""
    rng, created = draft.rng, draft.created
    earlier_names = tuple(name.format(title=title) for name in V.earlier_names)
    changes = []
    for column, before_values, chance in (
        ("severity", ("", *SEVERITIES), 0.18),
        ("priority", PRIORITIES, 0.08),
        ("name", earlier_names, 0.05),
    ):
        if rng.random() < chance:
            initial = rng.choice([value for value in before_values if value != final[column]])
            change = {
                "operation": "updated",
                "resource_type": "incident",
                "resource_id": draft.incident_id,
                "fields": {column: {"from": initial, "to": final[column]}},
            }
            limit = early if column != "name" else activity_end
            changes.append(draft.event(draft.between(created, limit), "GenericResourceChange", commander.name, change))
    return changes


def _conversation(draft: Draft, commander: Person, activity_end: int, values: dict[str, str]) -> None:
    """Notes, chat and status page updates, up to the incident's size."""
    rng = draft.rng
    target = min(25, int(rng.triangular(8, 26, 13)))
    for _ in range(max(rng.randint(0, 2), target - len(draft.events))):
        at = draft.between(draft.created, activity_end)
        person = rng.choice(draft.tenant.people)
        edited = at + rng.randint(MINUTE, 30 * MINUTE) if rng.random() < 0.1 else None
        kind = weighted(rng, (("Note", 35), ("ChatMessage", 40), ("GeneralUpdate", 25)))
        if kind == "Note":
            draft.event(at, kind, person.name, {"body": draft.text(V.notes, 0.05, **values)}, edited)
        elif kind == "ChatMessage":
            draft.event(at, kind, person.name, {"chat_user_id": person.chat_id})
        else:
            update = {"description": draft.text(V.general_updates, 0.02, **values)}
            draft.event(at, kind, commander.name, update, edited)


def build_bundle(tenant: Tenant, rng: random.Random, index: int, created: int, lo: int, hi: int) -> IncidentBundle:
    draft = Draft(rng, tenant, created, hi, random_id(rng))
    people = tenant.people

    # What broke: a service (named after it) or a data asset (the incident API: policy, source, metrics).
    severity = weighted(rng, V.severity_weights)
    priority = weighted(rng, V.priority_by_severity[severity])
    asset = rng.choice(tenant.assets)
    policy_id, policy_name = rng.choice(V.alert_policies)
    incident_metrics = metrics(rng)
    is_data = rng.random() < 0.4
    slug, title = V.data_service if is_data else rng.choice(V.services)
    if rng.random() < 0.01:
        name = rng.choice(V.hostile_names)
    elif is_data:
        name = rng.choice(V.data_titles).format(source=asset.source_name)
    else:
        name = f"{title} {rng.choice(V.symptoms)}"
    if is_data:
        started_by = V.data_monitor
    elif rng.random() < 0.3:
        started_by = weighted(rng, V.integrations[:3])
    else:
        started_by = rng.choice(people).name
    commander = rng.choice(people)

    times = lifecycle(rng, created, lo, hi, severity)
    resolved = times.get("resolved")
    last_milestone = max(times.values())
    # Until when people work on it: its resolution, or (still open) a while after its last milestone.
    activity_end = resolved if resolved is not None else draft.clamp(last_milestone + duration(rng, 180, 1.0, 2880))
    early = draft.clamp(times.get("acknowledged", created + 10 * MINUTE))
    assignments = role_assignments(draft, commander, early, activity_end)

    # ``changes``: when the incident itself changed (its updated_at).
    changes, reopen = _milestone_events(draft, times, started_by, commander)
    final = {"severity": severity, "priority": priority, "name": name}
    changes += _field_changes(draft, commander, early, activity_end, final, title)
    impact_rows = impacts(draft, tenant.services[slug], severity, commander, activity_end, resolved)
    ticket_id = work(draft, commander, early, activity_end, times.get("retrospective_started"))
    values = {"slug": slug, "title": title}
    _conversation(draft, commander, activity_end, values)
    alerts_until = reopen[0] if reopen else times.get("mitigated", activity_end)
    history, uploads = alert_history(draft, lo, alerts_until, reopen, resolved)
    changes += [at for at, _, _ in history]

    updated = max(changes)
    number = f"INC-{tenant.number_base + index + 1}"
    description = draft.text(
        V.data_descriptions if is_data else V.service_descriptions,
        0.02,
        policy=policy_name,
        source=asset.source_name,
        metric=incident_metrics[0]["display_metric_name"],
        **values,
    )
    incident = Incident(
        id=draft.incident_id,
        account_id=tenant.account_id,
        organization_id=tenant.organization_id,
        created_at=instant(created),
        updated_at=instant(updated),
        number=number,
        name=name,
        severity=severity,
        priority=priority,
        **{f"{milestone}_at": instant(at) for milestone, at in times.items()},
        opened_at=instant(created),
        started_by=started_by,
        active_duration=timedelta(milliseconds=(resolved if resolved is not None else updated) - times["started"]),
        status="CLOSED" if resolved is not None else "OPEN",
        impact=weighted(rng, V.impact_weights),
        project_id=int(weighted(rng, V.projects)),
        tags=sorted(rng.sample(V.tags, rng.choice((0, 1, 1, 2, 2, 3))), key=V.tags.index),
        asset_id=asset.asset_id,
        connection_type=asset.connection_type,
        connection_id=asset.connection_id,
        alert_policy_id=policy_id,
        alert_policy_name=policy_name,
        source_name=asset.source_name,
        description=description,
        ticket_id=ticket_id,
        last_upload_timestamp=instant(max(uploads)),
        metrics=incident_metrics,
        history=[{"timestamp": stamp(at), "state": state, "alert_refs": refs} for at, state, refs in history],
    )
    retrospectives = [retrospective(draft, times, number, name, title)] if "retrospective_started" in times else []
    events = [
        IncidentEvent(**draft.row(at, edited_at), created_by_name=by, type=kind, event_details=details)
        for at, _, kind, by, details, edited_at in sorted(draft.events, key=lambda event: (event[0], event[1]))
    ]
    return IncidentBundle(incident, events, assignments, impact_rows, retrospectives, alerts(incident))
