"""Where the endpoint and the key come from: flags, then environment variables, then a profile of the config file.

The file (``~/.config/exports/config.toml``, or ``$EXPORTS_CONFIG``) holds named profiles and is written with mode
600; ``exports configure`` prompts for the key so it never lands in shell history::

    [profiles.default]
    endpoint = "http://127.0.0.1:3000"
    key = "ak_demo_acme.demo-acme-secret-0001"
"""

from __future__ import annotations

import json
import os
import stat
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from export_client.errors import ClientError, Exit

ENV_ENDPOINT = "EXPORTS_ENDPOINT"
ENV_KEY = "EXPORTS_KEY"
ENV_PROFILE = "EXPORTS_PROFILE"
ENV_CONFIG = "EXPORTS_CONFIG"
DEFAULT_PROFILE = "default"


def config_path() -> Path:
    if os.environ.get(ENV_CONFIG):
        return Path(os.environ[ENV_CONFIG]).expanduser()
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "exports" / "config.toml"


@dataclass(frozen=True)
class Settings:
    endpoint: str
    key: str
    profile: str
    key_from: str  # where the key came from (flag, environment, profile file): said in errors, never the key


def read_profiles(path: Path) -> dict[str, dict[str, Any]]:
    if not path.exists():
        return {}
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise ClientError(Exit.CONFIG, f"cannot read the config file {path}: {error}") from None
    profiles = document.get("profiles", {})
    if not isinstance(profiles, dict) or not all(isinstance(v, dict) for v in profiles.values()):
        raise ClientError(Exit.CONFIG, f"{path}: [profiles.<name>] tables expected")
    return profiles


def loose_permissions(path: Path) -> bool:
    """True when others than the owner may read or write the file (it holds a secret)."""
    return path.exists() and bool(path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO))


def resolve(endpoint: str | None, key: str | None, profile: str | None, *, path: Path | None = None) -> Settings:
    """Flags win over the environment, which wins over the profile file."""
    path = path or config_path()
    name = profile or os.environ.get(ENV_PROFILE) or DEFAULT_PROFILE
    profiles = read_profiles(path)
    if profile and name not in profiles:
        raise ClientError(Exit.CONFIG, f"no profile '{name}' in {path} (run: exports configure --profile {name})")
    stored = profiles.get(name, {})
    endpoint = endpoint or os.environ.get(ENV_ENDPOINT) or stored.get("endpoint")
    if key:
        key_from = "--key"
    elif os.environ.get(ENV_KEY):
        key, key_from = os.environ[ENV_KEY], f"${ENV_KEY}"
    else:
        key, key_from = stored.get("key"), f"profile '{name}' of {path}"
    if not endpoint:
        raise ClientError(Exit.CONFIG, f"no endpoint: run `exports configure`, set ${ENV_ENDPOINT}, or pass --endpoint")
    if not key:
        raise ClientError(Exit.CONFIG, f"no API key: run `exports configure` (it prompts for it) or set ${ENV_KEY}")
    return Settings(endpoint=str(endpoint).rstrip("/"), key=str(key), profile=name, key_from=key_from)


def _toml_string(value: str) -> str:
    return json.dumps(value, ensure_ascii=True)  # a JSON string with ASCII escapes is a valid TOML basic string


def write_profile(name: str, endpoint: str, key: str, *, path: Path | None = None) -> Path:
    """Add or replace one profile, keeping the others; the file is written whole, atomically, with mode 600."""
    path = path or config_path()
    profiles = read_profiles(path)
    profiles[name] = {**profiles.get(name, {}), "endpoint": endpoint.rstrip("/"), "key": key}
    lines = ["# exports client profiles (exports configure). Holds API keys: keep it mode 600.", ""]
    for profile, values in profiles.items():
        lines.append(f"[profiles.{_toml_string(profile)}]")
        lines.extend(f"{field} = {_toml_string(str(value))}" for field, value in values.items())
        lines.append("")
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_name(f".{path.name}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines))
    os.chmod(temporary, 0o600)
    os.replace(temporary, path)
    return path
