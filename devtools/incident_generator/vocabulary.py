"""The incident generator's vocabulary, read once from devtools/data/incident_vocabulary.toml (lists as tuples)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

VOCABULARY_PATH = Path(__file__).resolve().parent.parent / "data" / "incident_vocabulary.toml"

Weights = tuple[tuple[str, int], ...]  # (value, weight) pairs
Pairs = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Vocabulary:
    """The file's keys, one field each (an unknown or missing key fails the load)."""

    first_names: tuple[str, ...]
    last_names: tuple[str, ...]
    integrations: Weights
    system: str
    data_monitor: str
    ticket_system: str
    roles: tuple[str, ...]
    teams: tuple[str, ...]
    severity_weights: Weights
    impact_weights: Weights
    projects: Weights
    tags: tuple[str, ...]
    services: Pairs
    data_service: tuple[str, str]
    functionalities: tuple[str, ...]
    environments: tuple[str, ...]
    symptoms: tuple[str, ...]
    data_titles: tuple[str, ...]
    earlier_names: tuple[str, ...]
    conditions: tuple[str, ...]
    service_descriptions: tuple[str, ...]
    data_descriptions: tuple[str, ...]
    connection_types: tuple[str, ...]
    tables: tuple[str, ...]
    snowflake_databases: tuple[str, ...]
    bigquery_datasets: tuple[str, ...]
    postgres_databases: tuple[str, ...]
    databricks_schemas: tuple[str, ...]
    alert_policies: Pairs
    metrics: tuple[tuple[str, str, str], ...]
    segments: tuple[str, ...]
    rules: tuple[str, ...]
    attributes: tuple[str, ...]
    violation_prefixes: tuple[str, ...]
    channels: tuple[str, ...]
    runbooks: tuple[tuple[str, tuple[str, ...]], ...]
    step_outcomes: Weights
    task_lists: tuple[tuple[str, Pairs], ...]
    loose_tasks: Pairs
    notes: tuple[str, ...]
    general_updates: tuple[str, ...]
    reopen_note: str
    questions: tuple[tuple[str, tuple[str, ...]], ...]
    answers: tuple[str, ...]
    retrospective_tags: tuple[str, ...]
    retrospective_details: str
    hostile_text: tuple[str, ...]
    hostile_names: tuple[str, ...]
    priority_by_severity: dict[str, Weights]
    condition_by_severity: dict[str, Weights]
    retrospective_chance: dict[str, float]
    alert_types: dict[str, str]
    project_names: dict[int, str]

    @classmethod
    def load(cls, path: Path = VOCABULARY_PATH) -> Vocabulary:
        values = _frozen(tomllib.loads(path.read_text(encoding="utf-8")))
        values["project_names"] = {int(key): name for key, name in values["project_names"].items()}
        return cls(**values)


def _frozen(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_frozen(item) for item in value)
    if isinstance(value, dict):
        return {key: _frozen(item) for key, item in value.items()}
    return value


VOCABULARY = Vocabulary.load()
