"""Deterministic demo data for the data-observability catalog, in the same world as the incident generator.

The catalog's sources are the incident world's data assets (``devtools/incident_generator/tenant.py``): a source
is named after the asset's source path (the incident API's ``source_name``) and connects through the asset's
connection (its credential: ``connection_id``, of type ``connection_type``); the catalog asset it points at has the
asset's id (the incident API's ``asset_id``, the alert filters' ``sources``). Validators are bound to those sources,
each routed by
one of the incident world's alert policies; incident groups are their incidents grouped. People are the incident
world's people (emails made from their names).

The same seed, tenant and window always give the same world, so tests rebuild what the local stack wrote. Every
time falls in [start, end). Deleted sources and validators exist only in the activities, under the names they had.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from devtools.incident_generator.basics import stable_id
from devtools.incident_generator.tenant import Asset, Tenant
from devtools.incident_generator.vocabulary import VOCABULARY as V
from export_service.models.catalog import (
    UNSEGMENTED,
    Activity,
    ActorType,
    AssetColumn,
    CatalogAsset,
    CatalogIncident,
    GroupStatus,
    IncidentGroup,
    Level,
    Source,
    Validator,
    ValidatorType,
)

NAMESPACES = (("production", 55), ("staging", 30), ("development", 15))
API_KEY_NAMES = ("dbt-cloud-sync", "terraform-provisioner", "airflow-loader")
TAGS = ("pii", "finance", "critical", "tier-1", "marketing", "ops")
WINDOWS = {"Daily tumbling window": timedelta(days=1), "Hourly tumbling window": timedelta(hours=1)}
SEGMENTATION = "By region"
ASSET_COLUMNS = (
    AssetColumn(name="id", type="BIGINT"),
    AssetColumn(name="created_at", type="TIMESTAMP"),
    AssetColumn(name="region", type="VARCHAR"),
    AssetColumn(name="status", type="VARCHAR"),
    AssetColumn(name="amount", type="DECIMAL(12,2)"),
    AssetColumn(name="quantity", type="INTEGER"),
    AssetColumn(name="email", type="VARCHAR"),
)
_WHERE = "created_at >= $start AND created_at < $end AND ($segment = '' OR region = $segment)"
# A validator's debug query: what explains its incident, over the asset, for the incident's window and segment.
_DEBUG_PARTS = {
    ValidatorType.VOLUME: ("region, count(*) AS row_count", "GROUP BY region ORDER BY region"),
    ValidatorType.FRESHNESS: ("max(created_at) AS last_row_at, count(*) AS rows_in_window", ""),
    ValidatorType.NUMERIC: ("id, created_at, region, amount", "ORDER BY amount DESC, id LIMIT 50"),
    ValidatorType.NUMERIC_ANOMALY: ("id, created_at, region, amount", "ORDER BY amount, id LIMIT 50"),
    ValidatorType.CATEGORICAL: ("status, count(*) AS row_count", "GROUP BY status ORDER BY status"),
    ValidatorType.SQL: ("id, created_at, region, email, quantity", "AND quantity > 8 ORDER BY id"),
}
DEBUG_SQL = {
    kind: " ".join(part for part in ("SELECT", columns, "FROM asset WHERE", _WHERE, tail) if part)
    for kind, (columns, tail) in _DEBUG_PARTS.items()
}
STATUSES = ("pending", "paid", "shipped", "refunded", "cancelled")


@dataclass
class CatalogWorld:
    tenant: str
    sources: list[Source] = field(default_factory=list)
    validators: list[Validator] = field(default_factory=list)
    groups: list[tuple[IncidentGroup, list[CatalogIncident]]] = field(default_factory=list)
    assets: list[CatalogAsset] = field(default_factory=list)
    activities: list[Activity] = field(default_factory=list)
    deleted_sources: list[Source] = field(default_factory=list)
    deleted_validators: list[Validator] = field(default_factory=list)


def email(tenant: str, name: str) -> str:
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii").lower()
    first, _, last = plain.partition(" ")
    return f"{first}.{''.join(ch for ch in last if ch.isalnum())}@{tenant}.example"


def _weighted(rng: random.Random, options: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([name for name, _ in options], weights=[weight for _, weight in options])[0]


def _ms(moment: datetime) -> datetime:
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


class _Builder:
    def __init__(self, tenant: str, start: datetime, end: datetime, seed: int) -> None:
        self.tenant, self.start, self.end = tenant, start, end
        self.rng = random.Random(f"{seed}:{tenant}:catalog")
        self.context = Tenant.build(tenant, random.Random(f"{seed}:{tenant}"))  # the incident world's tenant
        self.people = [email(tenant, person.name) for person in self.context.people]
        self.world = CatalogWorld(tenant)
        self.count = 0

    def at(self, lo: datetime, hi: datetime) -> datetime:
        hi = min(hi, self.end - timedelta(seconds=1))
        lo = min(max(lo, self.start), hi)
        return _ms(lo + (hi - lo) * self.rng.random())

    def actor(self, system: float = 0.0) -> tuple[ActorType, str]:
        draw = self.rng.random()
        if draw < system:
            return ActorType.SYSTEM, ""
        if draw < system + (1 - system) * 0.25:
            return ActorType.API_KEY, self.rng.choice(API_KEY_NAMES)
        return ActorType.USER, self.rng.choice(self.people)

    def activity(self, when: datetime, kind: str, name: str, entity_id: str, description: str, **context: str) -> None:
        actor_type, actor = context.pop("actor_type", None), context.pop("actor", "")
        if actor_type is None:
            actor_type, actor = self.actor()
        self.count += 1
        self.world.activities.append(
            Activity(
                id=stable_id(self.tenant, "activity", str(self.count)),
                timestamp=when,
                activity_type=kind,
                entity_name=name,
                entity_id=entity_id,
                actor_type=ActorType(actor_type),
                actor=actor,
                description=description,
                **context,
            )
        )

    # ---- sources, their credentials and assets ---------------------------------------------------------
    def source(self, asset: Asset, index: int, deleted: bool) -> Source:
        rng = self.rng
        created = self.at(self.start + timedelta(minutes=10), self.start + (self.end - self.start) * 0.15)
        table = asset.source_name.rstrip("/").replace("/", ".").split(".")[-1] or f"table_{index}"
        final_name = asset.source_name if not deleted else f"legacy {table.lower()} ({asset.connection_type.lower()})"
        renamed = not deleted and rng.random() < 0.2
        first_name = f"{table.lower()} ({asset.connection_type.lower()})" if renamed else final_name
        source = Source(
            id=stable_id(self.tenant, "source", f"{asset.asset_id}/{deleted}"),
            name=final_name,
            namespace=_weighted(rng, NAMESPACES),
            owner=rng.choice(self.people) if rng.random() < 0.85 else "",
            tags=tuple(sorted(rng.sample(TAGS, rng.choice((0, 1, 1, 2, 3))), key=TAGS.index)),
            credential_id=asset.connection_id,
            credential_type=asset.connection_type,
            asset_id=asset.asset_id,
            created_at=created,
        )
        ns = {"namespace": source.namespace, "source_id": source.id}
        actor_type, actor = self.actor()
        credential = f"{asset.connection_type.lower()} credential {asset.connection_id}"
        self.activity(
            created - timedelta(minutes=2), "CREDENTIAL_CREATED", credential, asset.connection_id,
            f"created credential {asset.connection_id} ({asset.connection_type})",
            actor_type=actor_type, actor=actor, source_name=first_name, **ns,
        )  # fmt: skip
        self.activity(
            created, "SOURCE_CREATED", first_name, source.id, f"created source '{first_name}'",
            actor_type=actor_type, actor=actor, source_name=first_name, **ns,
        )  # fmt: skip
        if not deleted:
            self.activity(
                created + timedelta(minutes=1), "CATALOG_ASSET_DISCOVERED", table, asset.asset_id,
                f"discovered table {table} ({len(ASSET_COLUMNS)} columns)",
                actor_type=ActorType.SYSTEM, source_name=first_name, **ns,
            )  # fmt: skip
        if renamed:
            when = self.at(created + timedelta(days=1), created + timedelta(days=20))
            self.activity(
                when, "SOURCE_UPDATED", final_name, source.id, f"renamed source '{first_name}' to '{final_name}'",
                source_name=final_name, **ns,
            )  # fmt: skip
        if not deleted and rng.random() < 0.3:
            self.activity(
                self.at(created + timedelta(days=5), self.end), "CREDENTIAL_ROTATED", credential,
                asset.connection_id, f"rotated the secret of credential {asset.connection_id}",
                source_name=final_name, **ns,
            )  # fmt: skip
        if not deleted and rng.random() < 0.25:
            self.activity(
                self.at(created + timedelta(days=3), self.end), "CATALOG_ASSET_SCHEMA_CHANGED", table,
                asset.asset_id, f"column 'email' of {table} changed type from TEXT to VARCHAR",
                actor_type=ActorType.SYSTEM, source_name=final_name, **ns,
            )  # fmt: skip
        if not deleted:
            self.world.assets.append(
                CatalogAsset(
                    id=asset.asset_id,
                    name=asset.source_name,
                    table_name=table,
                    credential_id=asset.connection_id,
                    columns=ASSET_COLUMNS,
                    rows=rng.randint(2000, 4000),
                    created_at=created + timedelta(minutes=1),
                )
            )
        return source

    # ---- validators --------------------------------------------------------------------------------------
    def validator(self, source: Source, number: int, deleted: bool) -> Validator:
        rng = self.rng
        kind = ValidatorType(rng.choice(list(ValidatorType)))
        segmented = rng.random() < 0.4
        created = self.at(source.created_at + timedelta(hours=1), source.created_at + timedelta(days=10))
        table = source.name.rstrip("/").replace("/", ".").split(".")[-1].lower()
        validator = Validator(
            id=stable_id(self.tenant, "validator", f"{source.id}/{number}/{deleted}"),
            name=f"{kind.value.lower()}_{table}_{number}",
            namespace=source.namespace,
            source_id=source.id,
            segmentation=SEGMENTATION if segmented else UNSEGMENTED,
            window=rng.choice(tuple(WINDOWS)),
            type=kind,
            owner=rng.choice(self.people) if rng.random() < 0.8 else "",
            tags=tuple(sorted(rng.sample(TAGS, rng.choice((0, 1, 2))), key=TAGS.index)),
            created_at=created,
            debug_sql=DEBUG_SQL[kind],
            alert_policy_id=rng.choice(V.alert_policies)[0],
        )
        context = {
            "namespace": source.namespace,
            "source_id": source.id,
            "source_name": source.name,
            "validator_id": validator.id,
            "validator_name": validator.name,
        }
        name = validator.name
        self.activity(created, "VALIDATOR_CREATED", name, validator.id, f"created {kind.value} validator", **context)
        if rng.random() < 0.3:
            when = self.at(created + timedelta(days=1), self.end)
            self.activity(when, "VALIDATOR_UPDATED", name, validator.id, "changed the threshold", **context)
        if rng.random() < 0.25:
            actor_type, actor = self.actor(system=0.6)
            self.activity(
                self.at(created, created + timedelta(hours=2)), "VALIDATOR_BACKFILLED", name, validator.id,
                "backfilled 30 days of metrics", actor_type=actor_type, actor=actor, **context,
            )  # fmt: skip
        return validator

    def delete(self, kind: str, entity: Source | Validator, after: datetime, **context: str) -> datetime:
        when = self.at(after + timedelta(days=2), self.end - timedelta(days=1))
        label = "source" if kind == "SOURCE_DELETED" else "validator"
        actor_type, actor = ActorType.USER, self.rng.choice(self.people)
        self.activity(
            when, kind, entity.name, entity.id, f"deleted {label} '{entity.name}'",
            actor_type=actor_type, actor=actor, namespace=entity.namespace, **context,
        )  # fmt: skip
        return when

    # ---- incident groups ----------------------------------------------------------------------------------
    def groups(self, validator: Validator, source: Source) -> None:
        rng = self.rng
        step = WINDOWS[validator.window]
        context = {
            "namespace": validator.namespace,
            "source_id": source.id,
            "source_name": source.name,
            "validator_id": validator.id,
            "validator_name": validator.name,
        }
        for number in range(rng.choice((0, 1, 1, 2, 2, 3, 4))):
            first = self.at(validator.created_at + timedelta(days=1), self.end - timedelta(days=2))
            first = first.replace(minute=0, second=0, microsecond=0)
            if step >= timedelta(days=1):
                first = first.replace(hour=0)
            group_id = stable_id(self.tenant, "incident-group", f"{validator.id}/{number}")
            incidents = []
            moment = first
            for index in range(rng.randint(1, 9)):
                if moment + step >= self.end:
                    break
                incidents.append(
                    CatalogIncident(
                        id=stable_id(self.tenant, "incident", f"{group_id}/{index}"),
                        group_id=group_id,
                        severity=Level(rng.choices(("HIGH", "MEDIUM", "LOW"), weights=(2, 3, 4))[0]),
                        start_time=moment,
                        end_time=moment + step,
                        segment=rng.choice(V.segments) if validator.segmentation != UNSEGMENTED else "",
                    )
                )
                moment += step * rng.randint(1, 3)
            if not incidents:
                continue
            created = incidents[0].end_time + timedelta(minutes=rng.randint(1, 30))
            last = incidents[-1].start_time
            recent = self.end - last < timedelta(days=10)
            if recent:
                path = rng.choice(((), ("INVESTIGATING",), ("INVESTIGATING", "FIXING")))
            else:
                path = (*rng.choice(((), ("INVESTIGATING",))), rng.choice(("RESOLVED", "RESOLVED", "NOT_AN_ANOMALY")))
            worst = min((incident.severity for incident in incidents), key=("HIGH", "MEDIUM", "LOW").index)
            owner = rng.choice(self.people) if rng.random() < 0.75 else ""
            muted = last + timedelta(days=7) if rng.random() < 0.12 else None
            group = IncidentGroup(
                id=group_id,
                validator_id=validator.id,
                status=GroupStatus(path[-1] if path else "TRIAGE"),
                priority=worst,
                owner=owner,
                created_at=min(created, self.end - timedelta(seconds=1)),
                muted_until=muted,
            )
            name = validator.name
            self.activity(
                group.created_at, "INCIDENT_GROUP_CREATED", name, group_id,
                f"opened an incident group ({incidents[0].severity.value})",
                actor_type=ActorType.SYSTEM, **context,
            )  # fmt: skip
            when = group.created_at
            if owner:
                when = self.at(when, when + timedelta(hours=4))
                self.activity(when, "INCIDENT_GROUP_UPDATED", name, group_id, f"assigned to {owner}", **context)
            previous = "TRIAGE"
            for status in path:
                when = self.at(when + timedelta(minutes=5), when + timedelta(days=2))
                actor = rng.choice(self.people)
                self.activity(
                    when, "INCIDENT_GROUP_STATUS_CHANGED", name, group_id, f"status {previous} -> {status}",
                    actor_type=ActorType.USER, actor=actor, **context,
                )  # fmt: skip
                previous = status
            if muted is not None:
                self.activity(
                    self.at(last, last + timedelta(hours=6)), "INCIDENT_GROUP_MUTED", name, group_id,
                    f"muted until {muted:%Y-%m-%d}", **context,
                )  # fmt: skip
            self.world.groups.append((group, incidents))

    def build(self) -> CatalogWorld:
        assets = self.context.assets
        deleted_assets = {2, 9}  # two of the assets get a second source, later deleted
        for index, asset in enumerate(assets):
            source = self.source(asset, index, deleted=False)
            self.world.sources.append(source)
            for number in range(self.rng.randint(1, 3)):
                validator = self.validator(source, number, deleted=False)
                self.world.validators.append(validator)
                self.groups(validator, source)
            if index in (5, 14):  # a validator later deleted from a live source
                gone = self.validator(source, 9, deleted=True)
                self.delete("VALIDATOR_DELETED", gone, gone.created_at, source_id=source.id, source_name=source.name)
                self.world.deleted_validators.append(gone)
            if index in deleted_assets:
                old = self.source(asset, index, deleted=True)
                gone = self.validator(old, 0, deleted=True)
                when = self.delete("VALIDATOR_DELETED", gone, gone.created_at, source_id=old.id, source_name=old.name)
                self.delete("SOURCE_DELETED", old, when, source_id=old.id, source_name=old.name)
                self.world.deleted_sources.append(old)
                self.world.deleted_validators.append(gone)
        self.world.activities.sort(key=lambda activity: (activity.timestamp, activity.id))
        return self.world


def catalog_world(tenant: str, start: datetime, end: datetime, seed: int) -> CatalogWorld:
    """The tenant's catalog over [start, end): sources, validators, incident groups, assets and activities."""
    return _Builder(tenant, start, end, seed).build()


def asset_rows(asset: CatalogAsset, start: datetime, end: datetime, seed: int) -> list[tuple[object, ...]]:
    """The asset's rows (``ASSET_COLUMNS``), in id order; created_at spread over [start, end)."""
    rng = random.Random(f"{seed}:{asset.id}:rows")
    span = (end - start).total_seconds()
    rows: list[tuple[object, ...]] = []
    for number in range(1, asset.rows + 1):
        created = start + timedelta(seconds=int(span * (number - 1 + rng.random()) / asset.rows))
        rows.append(
            (
                number,
                created.replace(tzinfo=None),
                rng.choice(V.segments),
                rng.choice(STATUSES),
                f"{rng.uniform(-20, 900):.2f}",
                rng.randint(1, 10),
                f"customer{rng.randint(1, 999)}@example.com",
            )
        )
    return rows
