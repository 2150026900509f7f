"""The catalog generator: deterministic, one world with the incident generator, every column and kind present."""

from __future__ import annotations

from datetime import UTC, datetime

from devtools.catalog_generator import asset_rows, catalog_world
from devtools.generate_incidents import incident_bundles
from export_service.models.catalog import ACTIVITY_TYPES, ActorType

START, END = datetime(2026, 3, 3, tzinfo=UTC), datetime(2026, 6, 1, tzinfo=UTC)


def test_the_same_seed_gives_the_same_world_and_another_tenant_another():
    assert catalog_world("acme", START, END, 7) == catalog_world("acme", START, END, 7)
    assert catalog_world("acme", START, END, 7).sources != catalog_world("globex", START, END, 7).sources


def test_sources_are_the_incident_worlds_assets():
    world = catalog_world("acme", START, END, 7)
    incident_assets = {
        (b.incident.asset_id, b.incident.connection_id) for b in incident_bundles("acme", 60, START, END, 7)
    }
    catalog = {(s.asset_id, s.credential_id) for s in world.sources}
    assert incident_assets <= catalog
    assert {a.id for a in world.assets} == {s.asset_id for s in world.sources}
    assert all(a.credential_id == s.credential_id for a, s in zip(world.assets, world.sources, strict=True))


def test_every_activity_type_and_actor_type_and_deleted_resources_are_present():
    world = catalog_world("acme", START, END, 7)
    assert {a.activity_type for a in world.activities} == set(ACTIVITY_TYPES)
    assert {a.actor_type for a in world.activities} == set(ActorType)
    assert all(a.actor == "" for a in world.activities if a.actor_type is ActorType.SYSTEM)
    assert world.deleted_sources and world.deleted_validators
    live = {s.id for s in world.sources} | {v.id for v in world.validators}
    assert not live & ({s.id for s in world.deleted_sources} | {v.id for v in world.deleted_validators})
    assert all(START <= a.timestamp < END for a in world.activities)
    assert [a.timestamp for a in world.activities] == sorted(a.timestamp for a in world.activities)


def test_groups_hold_incidents_inside_the_window_and_assets_a_few_thousand_rows():
    world = catalog_world("globex", START, END, 7)
    assert world.groups and all(incidents for _, incidents in world.groups)
    for group, incidents in world.groups:
        assert all(START <= i.start_time < i.end_time <= END and i.group_id == group.id for i in incidents)
    for asset in world.assets[:3]:
        rows = asset_rows(asset, START, END, 7)
        assert len(rows) == asset.rows and 2000 <= asset.rows <= 4000
        assert rows == asset_rows(asset, START, END, 7)
