"""What the authorizer reads keys with: built once per container from the environment alone (the table's name and
the fallback usage identifier, as config.py names them), without the validated Settings: the authorizer runs before
every request and loads no pydantic. Forgotten by ``reset_dependencies``."""

from __future__ import annotations

import os
from functools import lru_cache

from export_service.aws_clients import INTERACTIVE, aws_client
from export_service.dal.key_records import KeyRecords


@lru_cache(maxsize=1)
def key_records() -> KeyRecords:
    return KeyRecords(aws_client("dynamodb", INTERACTIVE), os.environ["API_KEYS_TABLE_NAME"])


def fallback_usage_key() -> str:
    return os.environ.get("FALLBACK_USAGE_KEY", "")
