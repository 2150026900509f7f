"""Writes a generated catalog world: items into the catalog table, each asset's rows as a Parquet file (written by
DuckDB) into the catalog bucket under ``catalog/<tenant>/``.

    python -m devtools.catalog_loader --dynamodb-endpoint http://127.0.0.1:8000 --moto-endpoint http://127.0.0.1:5000
"""

from __future__ import annotations

import argparse
import csv
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from devtools.catalog_generator import ASSET_COLUMNS, CatalogWorld, asset_rows, catalog_world
from export_service.dal.asset_files import AssetFiles, asset_key
from export_service.dal.catalog_store import CatalogStore
from export_service.models.catalog import CatalogAsset


def write_parquet(rows: list[tuple[object, ...]], path: Path) -> None:
    """The rows (``ASSET_COLUMNS``) as a Parquet file, typed as the columns say (DuckDB reads a CSV, writes Parquet)."""
    import duckdb  # noqa: PLC0415 - the SQL layer's engine, only where assets are written

    text = path.with_suffix(".csv")
    with text.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        for row in rows:
            writer.writerow(value.isoformat(sep=" ") if isinstance(value, datetime) else value for value in row)
    columns = ", ".join(f"'{column.name}': '{column.type}'" for column in ASSET_COLUMNS)
    connection = duckdb.connect(":memory:")
    try:
        source = f"read_csv('{text}', header = false, columns = {{{columns}}})"
        # our own temporary paths and constant column types, never caller input
        connection.execute(f"COPY (SELECT * FROM {source}) TO '{path}' (FORMAT parquet)")  # noqa: S608
    finally:
        connection.close()
        text.unlink()


def load_world(
    world: CatalogWorld, store: CatalogStore, files: AssetFiles, start: datetime, end: datetime, seed: int
) -> dict[str, int]:
    tenant = world.tenant
    assets: list[tuple[CatalogAsset, str]] = []
    with tempfile.TemporaryDirectory(prefix="catalog-assets-") as folder:
        for asset in world.assets:
            path = Path(folder) / f"{asset.id}.parquet"
            write_parquet(asset_rows(asset, start, end, seed), path)
            key = asset_key(tenant, asset.id)
            files.upload(path, key)
            assets.append((asset, key))
    return {
        "sources": store.put_sources(tenant, world.sources),
        "validators": store.put_validators(tenant, world.validators),
        "assets": store.put_assets(tenant, assets),
        "incident groups and incidents": store.put_groups(tenant, world.groups),
        "activities": store.put_activities(tenant, world.activities),
        "asset rows": sum(asset.rows for asset in world.assets),
    }


def load_catalog(
    dynamodb: Any, s3: Any, table: str, bucket: str, tenant: str, start: datetime, end: datetime, seed: int
) -> dict[str, int]:
    """Generate the tenant's catalog over [start, end) and write it."""
    world = catalog_world(tenant, start, end, seed)
    return load_world(world, CatalogStore(dynamodb, table), AssetFiles(s3, bucket), start, end, seed)


def main() -> None:
    import boto3  # noqa: PLC0415

    from devtools.generate import DEFAULT_SEED, DEMO_DAYS, DEMO_TENANTS, demo_window  # noqa: PLC0415
    from devtools.provision import local_refs  # noqa: PLC0415

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dynamodb-endpoint", default="http://127.0.0.1:8000")
    parser.add_argument("--moto-endpoint", default="http://127.0.0.1:5000")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--days", type=int, default=DEMO_DAYS)
    args = parser.parse_args()
    refs = local_refs()
    session = boto3.Session(region_name="us-east-1", aws_access_key_id="local", aws_secret_access_key="local")  # noqa: S106
    dynamodb = session.client("dynamodb", endpoint_url=args.dynamodb_endpoint)
    s3 = session.client("s3", endpoint_url=args.moto_endpoint)
    start, end = demo_window(days=args.days)
    for tenant in DEMO_TENANTS:
        counts = load_catalog(dynamodb, s3, refs["CatalogTable"], refs["CatalogBucket"], tenant, start, end, args.seed)
        print(f"{tenant}: " + ", ".join(f"{count:,} {name}" for name, count in counts.items()))


if __name__ == "__main__":
    main()
