"""A tenant's stable vocabulary: its people, roles, teams, runbooks, task lists, components and data assets."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass

from devtools.incident_generator.basics import base36, stable_id
from devtools.incident_generator.vocabulary import VOCABULARY as V


@dataclass(frozen=True)
class Person:
    name: str
    user_id: str
    chat_id: str


@dataclass(frozen=True)
class Asset:
    asset_id: str
    connection_type: str
    connection_id: str
    source_name: str


@dataclass(frozen=True)
class Component:
    kind: str  # service, functionality or environment
    slug: str
    component_id: str


def source_name(rng: random.Random, tenant: str, kind: str, table: str) -> str:
    """An incident API source name: the connection type, then the table's path in it."""
    if kind == "SNOWFLAKE":
        return f"SNOWFLAKE.{rng.choice(V.snowflake_databases)}.PUBLIC.{table}"
    if kind == "BIGQUERY":
        return f"BIGQUERY.{tenant}-analytics.{rng.choice(V.bigquery_datasets)}.{table.lower()}"
    if kind == "POSTGRES":
        return f"POSTGRES.{rng.choice(V.postgres_databases)}.public.{table.lower()}"
    if kind == "DATABRICKS":
        return f"DATABRICKS.main.{rng.choice(V.databricks_schemas)}.{table.lower()}"
    bucket = "datalake" if kind == "S3" else "raw-events"
    return f"{kind}.{tenant}-{bucket}/{table.lower()}/"


@dataclass(frozen=True)
class Tenant:
    """A tenant's stable vocabulary: people, roles, teams, runbooks, components, assets."""

    name: str
    account_id: str
    organization_id: str
    people: tuple[Person, ...]
    roles: tuple[tuple[str, str], ...]  # (name, id)
    teams: tuple[tuple[str, str], ...]
    runbooks: tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...]  # (name, id, ((step, step id), ...))
    task_lists: tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...]
    questions: tuple[tuple[str, tuple[str, ...]], ...]  # (question type id, titles)
    services: dict[str, Component]
    components: tuple[Component, ...]
    assets: tuple[Asset, ...]
    number_base: int

    @classmethod
    def build(cls, tenant: str, rng: random.Random) -> Tenant:
        people = []
        for index, first in enumerate(V.first_names):
            name = f"{first} {V.last_names[(index * 5 + len(tenant)) % len(V.last_names)]}"
            user_id = stable_id(tenant, "user", name)
            people.append(Person(name, user_id, "U" + uuid.UUID(user_id).hex[:10].upper()))
        components = [Component("service", slug, stable_id(tenant, "service", slug)) for slug, _ in V.services]
        components += [Component("functionality", s, stable_id(tenant, "functionality", s)) for s in V.functionalities]
        components += [Component("environment", s, stable_id(tenant, "environment", s)) for s in V.environments]
        assets = []
        for _ in range(24):
            kind = rng.choice(V.connection_types)
            source = source_name(rng, tenant, kind, rng.choice(V.tables))
            connection = f"conn-{100 + V.connection_types.index(kind) * 10 + rng.randint(0, 2)}"
            assets.append(Asset(base36(rng, 12), kind, connection, source))
        return cls(
            name=tenant,
            account_id=stable_id(tenant, "account", tenant),
            organization_id=stable_id(tenant, "organization", tenant),
            people=tuple(people),
            roles=tuple((role, stable_id(tenant, "role", role)) for role in V.roles),
            teams=tuple((team, stable_id(tenant, "team", team)) for team in V.teams),
            runbooks=tuple(
                (
                    name,
                    stable_id(tenant, "runbook", name),
                    tuple((step, stable_id(tenant, "runbook-step", f"{name}/{step}")) for step in steps),
                )
                for name, steps in V.runbooks
            ),
            task_lists=tuple((name, stable_id(tenant, "task-list", name), tasks) for name, tasks in V.task_lists),
            questions=tuple((stable_id(tenant, "question", key), titles) for key, titles in V.questions),
            services={c.slug: c for c in components if c.kind == "service"},
            components=tuple(components),
            assets=tuple(assets),
            number_base=rng.randrange(1000, 2000),
        )
