"""The incident API's data side of an incident: its metrics, its alert history, and one alert per alert reference."""

from __future__ import annotations

import random
from datetime import datetime
from typing import Any

from devtools.incident_generator.basics import MINUTE, SECOND, base36, ceil_ms, random_id, stamp
from devtools.incident_generator.draft import Draft
from devtools.incident_generator.vocabulary import VOCABULARY as V
from export_service.models.alerts import Alert
from export_service.models.incidents import Incident

History = list[tuple[int, str, list[dict[str, str]]]]  # (ms, state, alert refs)


def metrics(rng: random.Random) -> list[dict[str, Any]]:
    return [
        {
            "metric_name": name,
            "metric_aggregation": aggregation,
            "display_metric_name": display,
            "segment": rng.choice(V.segments) if rng.random() < 0.3 else None,
            "rule": rng.choice(V.rules) if rng.random() < 0.15 else None,
            "attribute": rng.choice(V.attributes) if rng.random() < 0.5 else None,
        }
        for name, aggregation, display in rng.sample(V.metrics, rng.randint(1, 3))
    ]


def alert_history(
    draft: Draft, lo: int, alerts_until: int, reopen: tuple[int, int] | None, resolved: int | None
) -> tuple[History, list[int]]:
    """NEW at creation, ONGOING as alerts arrive, RESOLVED at resolution, maybe REOPENED; and the uploads (ms) the
    alert refs point at."""
    rng, created = draft.rng, draft.created
    uploads: list[int] = []

    def alert_refs(at: int) -> list[dict[str, str]]:
        refs = []
        for _ in range(rng.randint(1, 3)):
            uploads.append(max(lo, at - rng.randint(0, 30 * MINUTE)))
            violation = f"{rng.choice(V.violation_prefixes)}.{base36(rng, rng.randint(4, 9))}"
            refs.append({"metric_time": stamp(uploads[-1]), "violation_name": violation})
        return refs

    history: History = [(created, "NEW", alert_refs(created))]
    for at in sorted(draft.between(created, alerts_until) for _ in range(rng.choice((0, 1, 1, 2, 3)))):
        history.append((at, "ONGOING", alert_refs(at)))
    if reopen:
        history += [(reopen[0], "RESOLVED", []), (reopen[1], "REOPENED", alert_refs(reopen[1]))]
    if resolved is not None:
        history.append((resolved, "RESOLVED", []))
    return history, uploads


def alerts(incident: Incident) -> list[Alert]:
    """One alert per alert_ref of the incident's history: that upload (metric_time) of the incident's asset and
    that violation. Drawn from a generator seeded by the incident's id, so adding alerts changed nothing else."""
    rng = random.Random(f"alerts:{incident.id}")
    priority = incident.severity or "MEDIUM"
    table = [part for part in incident.source_name.replace("/", ".").split(".") if part][-1].upper()
    result = []
    for entry in incident.history:
        for ref in entry["alert_refs"]:
            metric_ms = ceil_ms(datetime.fromisoformat(ref["metric_time"]))
            created = metric_ms + rng.randint(5 * SECOND, 10 * MINUTE)
            metric = rng.choice(incident.metrics)
            observed = round(rng.uniform(0, 100), 4)
            threshold = round(rng.uniform(0, 100), 4)
            kind = V.alert_types[ref["violation_name"].split(".", 1)[0]]
            message = f"{metric['display_metric_name']} was {observed} ({kind}), outside the expected {threshold}"
            result.append(
                Alert(
                    type=kind,
                    source=incident.source_name,
                    asset_id=incident.asset_id,
                    attribute=metric["attribute"],
                    job_id=f"job-{random_id(rng)}",
                    create_time=stamp(created),
                    save_time=stamp(created + rng.randint(100, 10 * SECOND)),
                    violation_data={"metric_name": metric["metric_name"], "observed": observed, "threshold": threshold},
                    violation_name=ref["violation_name"],
                    notification_channels=rng.sample(V.channels, rng.randint(0, 2)),
                    is_notification_enabled=rng.random() < 0.8,
                    metric_time=ref["metric_time"],
                    is_notified=rng.random() < 0.6,
                    metric_value=observed,
                    policy_name=incident.alert_policy_name,
                    segment=metric["segment"],
                    priority=priority,
                    description={priority: [message]},
                    source_name=table,
                    source_type=incident.connection_type,
                    project_name=V.project_names[incident.project_id],
                    tags=list(incident.tags),
                )
            )
    return result
