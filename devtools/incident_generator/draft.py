"""One incident under construction (its events, in the order they happen) and the milestones it reaches."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from devtools.incident_generator.basics import MINUTE, duration, instant, random_id
from devtools.incident_generator.tenant import Tenant
from devtools.incident_generator.vocabulary import VOCABULARY as V
from export_service.models.incidents import MILESTONES


@dataclass
class Draft:
    """One incident under construction; times are ms since the epoch, all clamped to [created, hi)."""

    rng: random.Random
    tenant: Tenant
    created: int
    hi: int
    incident_id: str
    events: list[tuple[int, int, str, str, dict[str, Any], int]] = field(default_factory=list)

    def clamp(self, ms: int) -> int:
        return min(max(ms, self.created), self.hi - 1)

    def between(self, first: int, last: int) -> int:
        first, last = self.clamp(first), self.clamp(last)
        return first if last <= first else self.rng.randint(first, last)

    def event(self, ms: int, kind: str, by: str, details: dict[str, Any], updated: int | None = None) -> int:
        at = self.clamp(ms)
        self.events.append((at, len(self.events), kind, by, details, at if updated is None else self.clamp(updated)))
        return at

    def text(self, options: Sequence[str], chance: float, **values: str) -> str:
        if self.rng.random() < chance:
            return self.rng.choice(V.hostile_text)
        return self.rng.choice(options).format(**values)

    def row(self, created: int, updated: int, row_id: str | None = None) -> dict[str, Any]:
        """The fields every child row of the incident has; a fresh random id unless ``row_id``."""
        return {
            "id": random_id(self.rng) if row_id is None else row_id,
            "account_id": self.tenant.account_id,
            "organization_id": self.tenant.organization_id,
            "created_at": instant(created),
            "updated_at": instant(updated),
            "incident_id": self.incident_id,
        }


def lifecycle(rng: random.Random, created: int, lo: int, hi: int, severity: str) -> dict[str, int]:
    """Milestone times in ms, only those reached before ``hi`` (later ones are left out)."""
    detected = max(lo, created - (rng.randint(0, 3 * MINUTE) if rng.random() < 0.4 else 0))
    started = max(lo, detected - (duration(rng, 12, 1.0, 360) if rng.random() < 0.7 else 0))
    times = {"started": started, "detected": detected}
    pace = {"HIGH": 0.7, "MEDIUM": 1.0, "LOW": 1.8, "": 1.4}[severity]
    false_alarm = rng.random() < 0.06  # straight from investigating to resolved
    stall = rng.choice(MILESTONES[2:7]) if rng.random() < 0.04 else None  # forgotten: stays open for good
    retro = rng.random() < V.retrospective_chance[severity]
    retro_done = rng.random() < 0.8
    steps = (  # (milestone, median minutes, sigma, cap minutes) after the previous one
        ("acknowledged", 4 * pace, 0.9, 240),
        ("investigating", 3 * pace, 1.0, 120),
        ("identified", 40 * pace, 1.0, 1440),
        ("mitigated", 30 * pace, 1.0, 1440),
        ("resolved", 90 * pace, 1.1, 4320),
        ("retrospective_started", 3 * 1440, 0.5, 14 * 1440),
        ("retrospective_completed", 5 * 1440, 0.6, 30 * 1440),
    )
    moment = created
    for name, median, sigma, cap in steps:
        if name == stall or (name == "retrospective_started" and not retro):
            break
        if name == "retrospective_completed" and not retro_done:
            break
        if false_alarm and name in ("identified", "mitigated"):
            continue
        at_once = name in ("investigating", "identified", "mitigated") and rng.random() < 0.2  # a bulk update
        moment += 0 if at_once else duration(rng, median, sigma, cap)
        if moment >= hi:
            break
        times[name] = moment
    return times
