"""Secrets Manager: the service's own secrets (the cursor signing key), read once per cold start by the caller."""

from __future__ import annotations

from typing import Any


def read_secret(client: Any, secret_id: str) -> str:
    """The secret's current string value."""
    return str(client.get_secret_value(SecretId=secret_id)["SecretString"])
