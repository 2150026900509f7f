"""Deterministic demo data: realistic incidents with their events, role assignments, impacts and retrospectives.

    python -m devtools.generate_incidents --scale 10     # against the local stack's DynamoDB (see --help)
    python -m devtools.generate_incidents --dry-run      # only count the rows per dataset

Incidents move through the nightly data export's milestones (started ... retrospective_completed) and carry the
incident API's fields
(project, asset, connection, alert policy, metrics, alert history). Each incident comes with its children as one
``IncidentBundle``; bundles stream in created_at order, one per stratum of the window (as ``devtools.generate`` does
for audit records), so any count fits in constant memory. The same seed, tenant, count and window always give the
same bundles, so tests can rebuild what was written.

All date-times are UTC with millisecond precision and fall in [start, end): milestones not reached before ``end``
are left unset, which leaves recent incidents open.

The words it uses (names, titles, texts, tags, weighted lists) are in devtools/data/incident_vocabulary.toml; how an
incident is drawn is in devtools/incident_generator/ (``incident`` puts one together).
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Iterator
from datetime import datetime

from devtools.generate import DEFAULT_SEED, DEMO_DAYS, demo_window
from devtools.incident_generator.basics import ceil_ms
from devtools.incident_generator.incident import build_bundle
from devtools.incident_generator.tenant import Tenant
from export_service.logic.incident_records import IncidentBundle
from export_service.models.incidents import Dataset

# tenant -> incidents at scale 1 (different sizes, so cross-tenant mistakes show up in counts)
DEMO_INCIDENTS: dict[str, int] = {"acme": 400, "globex": 250, "initech": 120}


def incident_bundles(
    tenant: str, count: int, start: datetime, end: datetime, seed: int = DEFAULT_SEED
) -> Iterator[IncidentBundle]:
    """``count`` incidents with their children, in created_at order over [start, end) (one per stratum, so exactly
    ``count``). Every date-time is UTC, whole milliseconds, at or after ``start`` and before ``end``."""
    lo, hi = ceil_ms(start), ceil_ms(end)
    if count < 0:
        raise ValueError("count must not be negative")
    if count and hi <= lo:
        raise ValueError("the window [start, end) must hold at least one millisecond")
    rng = random.Random(f"{seed}:{tenant}")
    context = Tenant.build(tenant, rng)
    span = hi - lo
    for index in range(count):
        created = lo + int((index + rng.random()) * span / count)
        yield build_bundle(context, rng, index, min(created, hi - 1), lo, hi)


def main() -> None:
    import boto3  # noqa: PLC0415 - only the command needs it

    from export_service.dal.incident_store import IncidentStore  # noqa: PLC0415
    from export_service.logic.incident_records import write_incident_bundles  # noqa: PLC0415

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--endpoint", default="http://127.0.0.1:8000", help="DynamoDB endpoint (local stack default)")
    parser.add_argument("--table", default="IncidentsTable", help="incidents table name")
    parser.add_argument("--scale", type=float, default=1.0, help="multiplies each tenant's incident count")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--days", type=int, default=DEMO_DAYS)
    parser.add_argument("--dry-run", action="store_true", help="only count the rows, write nothing")
    args = parser.parse_args()
    start, end = demo_window(days=args.days)
    store = None
    if not args.dry_run:
        store = IncidentStore(boto3.client("dynamodb", endpoint_url=args.endpoint, region_name="us-east-1"), args.table)
    for tenant, base in DEMO_INCIDENTS.items():
        bundles = incident_bundles(tenant, int(base * args.scale), start, end, args.seed)
        rows = _count_rows(bundles) if store is None else write_incident_bundles(store, tenant, bundles)
        print(f"{tenant}: " + ", ".join(f"{n:,} {name}" for name, n in rows.items()))


def _count_rows(bundles: Iterator[IncidentBundle]) -> dict[str, int]:
    counts = dict.fromkeys((dataset.value for dataset in Dataset), 0)
    for bundle in bundles:
        counts[Dataset.INCIDENTS] += 1
        counts[Dataset.INCIDENT_EVENTS] += len(bundle.events)
        counts[Dataset.INCIDENT_ROLE_ASSIGNMENTS] += len(bundle.role_assignments)
        counts[Dataset.INCIDENT_IMPACTS] += len(bundle.impacts)
        counts[Dataset.RETROSPECTIVES] += len(bundle.retrospectives)
        counts["alerts"] = counts.get("alerts", 0) + len(bundle.alerts)
    return counts


if __name__ == "__main__":
    main()
