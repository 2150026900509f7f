"""The catalog assets' rows: one Parquet file per asset under ``catalog/<tenant>/`` in the catalog bucket."""

from __future__ import annotations

from pathlib import Path
from typing import Any

PREFIX = "catalog"


def asset_key(tenant: str, asset_id: str) -> str:
    return f"{PREFIX}/{tenant}/{asset_id}.parquet"


class AssetFiles:
    def __init__(self, client: Any, bucket: str) -> None:
        self._client = client
        self.bucket = bucket

    def download(self, key: str, path: Path) -> None:
        """The object at ``key`` into the local file ``path`` (streamed, bounded memory)."""
        body = self._client.get_object(Bucket=self.bucket, Key=key)["Body"]
        with path.open("wb") as out:
            while chunk := body.read(1024 * 1024):
                out.write(chunk)

    def upload(self, path: Path, key: str) -> None:
        with path.open("rb") as data:
            self._client.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=data,
                ContentType="application/vnd.apache.parquet",
                ServerSideEncryption="AES256",
            )
