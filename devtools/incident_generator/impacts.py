"""An incident's impacted components (the nightly data export's incident_impacts) and their ImpactUpdate events."""

from __future__ import annotations

from devtools.incident_generator.basics import HOUR, weighted
from devtools.incident_generator.draft import Draft
from devtools.incident_generator.tenant import Component, Person
from devtools.incident_generator.vocabulary import VOCABULARY as V
from export_service.models.incidents import IncidentImpact


def _impact_event(
    draft: Draft, at: int, by: str, update: str, component: Component, old: str | None, new: str | None
) -> None:
    details = {
        "update_type": update,
        "impacted_type": component.kind,
        "impacted_id": component.component_id,
        "old_condition_name": old,
        "new_condition_name": new,
    }
    draft.event(at, "ImpactUpdate", by, details)


def impacts(
    draft: Draft, primary: Component, severity: str, commander: Person, activity_end: int, resolved: int | None
) -> list[IncidentImpact]:
    """0-4 impacted components (usually the incident's own service first), milder or Operational over time."""
    rng, tenant, created = draft.rng, draft.tenant, draft.created
    count = int(weighted(rng, (("0", 15), ("1", 35), ("2", 28), ("3", 15), ("4", 7))))
    others = rng.sample([c for c in tenant.components if c is not primary], 4)
    rows = []
    for component in ([primary, *others] if rng.random() < 0.8 else others)[:count]:
        condition = weighted(rng, V.condition_by_severity[severity])
        at = updated = draft.between(created, min(activity_end, created + HOUR))
        by = rng.choice(tenant.people).name
        _impact_event(draft, at, by, "addition", component, None, condition)
        if rng.random() < 0.25 and condition != "Degraded Performance":
            updated = draft.between(at, activity_end)
            milder = V.conditions[V.conditions.index(condition) + 1]
            _impact_event(draft, updated, by, "update", component, condition, milder)
            condition = milder
        elif rng.random() < 0.03:
            _impact_event(draft, draft.between(at, activity_end), by, "no-op", component, condition, condition)
        if resolved is not None and rng.random() < 0.3:
            updated = resolved
            _impact_event(draft, resolved, commander.name, "update", component, condition, "Operational")
            condition = "Operational"
        rows.append(
            IncidentImpact(
                **draft.row(at, updated),
                impacted_id=component.component_id,
                impacted_type=component.kind,
                impacted_slug=component.slug,
                condition_name=condition,
            )
        )
    if rng.random() < 0.05:  # added by mistake, then removed: events, no row
        component = rng.choice(tenant.components)
        at = draft.between(created, activity_end)
        by = rng.choice(tenant.people).name
        _impact_event(draft, at, by, "addition", component, None, "Degraded Performance")
        _impact_event(draft, draft.between(at, activity_end), by, "removal", component, "Degraded Performance", None)
    rows.sort(key=lambda row: row.created_at)
    return rows
