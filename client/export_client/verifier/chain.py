"""A folder of nightly downloads as a chain: per tenant, the nights' manifests in sequence, each naming the SHA-256
and signature of the previous night's manifest. A missing night, a replaced manifest, a duplicated or reordered
night each break it, and are named."""

from __future__ import annotations

import itertools
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from export_client.verifier.canonical import manifest_file_sha256
from export_client.verifier.report import Failure

_NIGHT_IN_NAME = re.compile(r"(\d{4}-\d{2}-\d{2})")


@dataclass(frozen=True)
class Night:
    path: Path
    manifest: dict[str, Any]

    @property
    def tenant(self) -> str:
        return str(self.manifest.get("tenant"))

    @property
    def night(self) -> str:
        return str(self.manifest.get("night"))

    @property
    def sequence(self) -> int:
        return int(self.manifest["chain"]["sequence"])

    @property
    def previous(self) -> Mapping[str, Any] | None:
        previous = self.manifest["chain"].get("previous")
        return previous if isinstance(previous, Mapping) else None


def check_chain(
    nights: Sequence[Night], *, partial: bool = False, through: str | None = None
) -> tuple[list[str], list[Failure]]:
    """What held (one line per tenant) and what broke."""
    held: list[str] = []
    failures: list[Failure] = []
    by_tenant: dict[str, list[Night]] = defaultdict(list)
    for night in nights:
        by_tenant[night.tenant].append(night)
    for tenant, mine in sorted(by_tenant.items()):
        before = len(failures)
        failures += _placement(mine)
        ordered = sorted(mine, key=lambda n: (n.sequence, n.night))
        failures += _duplicates(tenant, ordered)
        first = ordered[0]
        if (first.sequence != 1 or not first.manifest["chain"].get("first")) and not partial:
            missing = first.previous["night"] if first.previous else "?"
            failures.append(
                Failure(
                    f"{tenant} night {missing}",
                    "chain",
                    f"missing: the folder's first night {first.night} (sequence {first.sequence}) chains to it "
                    f"and is not the first night (pass --partial to start from {first.night})",
                )
            )
        for earlier, later in itertools.pairwise(ordered):
            failures += _link(tenant, earlier, later)
        last = ordered[-1]
        if through is not None and last.night < through:
            failures.append(
                Failure(f"{tenant} nights after {last.night}", "chain", f"missing: the folder ends before {through}")
            )
        if len(failures) == before:
            held.append(
                f"{tenant}: {len(ordered)} nights {first.night} .. {last.night} (sequence {first.sequence}.."
                f"{last.sequence}), each chained to the night before"
                + (" (partial start)" if first.sequence > 1 else "")
            )
    return held, failures


def _placement(nights: Sequence[Night]) -> list[Failure]:
    """A manifest file named after one night holding another night's manifest was moved: a reorder."""
    failures = []
    for night in nights:
        named = _NIGHT_IN_NAME.search(night.path.name)
        if named and named.group(1) != night.night:
            failures.append(
                Failure(
                    str(night.path),
                    "chain",
                    f"reordered: the file is named for night {named.group(1)} but holds night {night.night}'s manifest",
                )
            )
    return failures


def _duplicates(tenant: str, ordered: Sequence[Night]) -> list[Failure]:
    failures = []
    seen: dict[int, Night] = {}
    for night in ordered:
        other = seen.get(night.sequence)
        if other is not None:
            failures.append(
                Failure(
                    f"{tenant} sequence {night.sequence}",
                    "chain",
                    f"replaced: two manifests hold this place ({other.path.name}: night {other.night}, "
                    f"{night.path.name}: night {night.night})",
                )
            )
        seen[night.sequence] = night
    return failures


def _link(tenant: str, earlier: Night, later: Night) -> list[Failure]:
    if later.sequence == earlier.sequence:
        return []  # reported as a duplicate
    previous = later.previous or {}
    if later.sequence > earlier.sequence + 1:
        gap = later.sequence - earlier.sequence - 1
        more = f" and {gap - 1} night(s) before it" if gap > 1 else ""
        return [
            Failure(
                f"{tenant} night {previous.get('night', '?')}",
                "chain",
                f"missing{more}: night {later.night} (sequence {later.sequence}) chains to it; the folder goes from "
                f"night {earlier.night} (sequence {earlier.sequence}) to night {later.night}",
            )
        ]
    failures = []
    if later.night <= earlier.night:
        failures.append(
            Failure(
                f"{tenant} night {later.night}",
                "chain",
                f"reordered: sequence {later.sequence} is night {later.night}, not after night {earlier.night}",
            )
        )
    signature = (earlier.manifest.get("signature") or {}).get("value")
    if (
        previous.get("night") != earlier.night
        or previous.get("manifestSha256") != manifest_file_sha256(earlier.manifest)
        or previous.get("signature") != signature
    ):
        failures.append(
            Failure(
                f"{tenant} night {earlier.night} ({earlier.path.name})",
                "chain",
                f"replaced: night {later.night}'s manifest chains to night {previous.get('night')} with manifest "
                f"SHA-256 {str(previous.get('manifestSha256'))[:16]}…, this one is "
                f"{manifest_file_sha256(earlier.manifest)[:16]}…",
            )
        )
    return failures
