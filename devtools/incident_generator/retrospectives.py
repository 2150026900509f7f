"""An incident's retrospective (the nightly data export's retrospectives): questions answered, a summary, tags."""

from __future__ import annotations

from devtools.incident_generator.basics import DAY
from devtools.incident_generator.draft import Draft
from devtools.incident_generator.vocabulary import VOCABULARY as V
from export_service.models.incidents import Retrospective


def retrospective(draft: Draft, times: dict[str, int], number: str, name: str, title: str) -> Retrospective:
    rng, tenant = draft.rng, draft.tenant
    started = times["retrospective_started"]
    completed = times.get("retrospective_completed")
    updated = completed if completed is not None else draft.between(started, started + 3 * DAY)
    questions = [
        {
            "title": rng.choice(titles),
            "body": rng.choice(V.answers) if completed is not None or rng.random() < 0.5 else "",
            "question_type_id": type_id,
        }
        for type_id, titles in tenant.questions
        if rng.random() < 0.85
    ]
    details = V.retrospective_details.format(title=title, person=rng.choice(tenant.people).name)
    return Retrospective(
        **draft.row(started, updated),
        name=f"{number} retrospective: {name}",
        summary=draft.text(V.answers[:-1], 0.03),
        tags=rng.sample(V.retrospective_tags, rng.randint(0, 3)),
        additional_details="" if rng.random() < 0.4 else details,
        questions=questions,
    )
