"""Time units, ids and random draws shared by the incident generator's modules (times are ms since the epoch)."""

from __future__ import annotations

import math
import random
import uuid
from datetime import UTC, datetime, timedelta

from devtools.incident_generator.vocabulary import Weights
from export_service.timefmt import format_instant

NAMESPACE = uuid.uuid5(uuid.NAMESPACE_DNS, "demo.export-service.example")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
SECOND = 1000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR
BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"


def weighted(rng: random.Random, options: Weights) -> str:
    return rng.choices([name for name, _ in options], weights=[weight for _, weight in options])[0]


def stable_id(tenant: str, kind: str, name: str) -> str:
    """An id that stays the same for a tenant's role, user, team ... whatever the seed."""
    return str(uuid.uuid5(NAMESPACE, f"{tenant}/{kind}/{name}"))


def random_id(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def base36(rng: random.Random, length: int) -> str:
    return "".join(rng.choice(BASE36) for _ in range(length))


def ceil_ms(moment: datetime) -> int:
    """Milliseconds since the epoch, rounded up (so a bound is never widened)."""
    if moment.tzinfo is None:
        raise ValueError("start and end must be timezone-aware")
    delta = moment - EPOCH
    micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    return -(-micros // 1000)


def instant(ms: int) -> datetime:
    return EPOCH + timedelta(milliseconds=ms)


def stamp(ms: int) -> str:
    return format_instant(instant(ms))


def duration(rng: random.Random, median_minutes: float, sigma: float, cap_minutes: float) -> int:
    """A log-normal duration in ms: most near the median, a long tail up to the cap."""
    minutes = min(rng.lognormvariate(math.log(median_minutes), sigma), cap_minutes)
    return max(SECOND, int(minutes * MINUTE))
