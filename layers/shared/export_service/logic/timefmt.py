"""ISO 8601 parsing of caller input and the one timestamp format the service writes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from export_service.errors import InvalidParameterError


def parse_instant(value: str, parameter: str) -> datetime:
    """Parse an ISO 8601 date or date-time; a value without an offset is taken as UTC."""
    text = value.strip()
    problem = InvalidParameterError(
        f"query parameter '{parameter}' must be an ISO 8601 date-time such as 2026-03-01T00:00:00Z, got '{value}'",
        parameter=parameter,
    )
    if not text or text[0] in "+-":
        raise problem
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise problem from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def format_instant(moment: datetime) -> str:
    """UTC with millisecond precision, fixed width, so the text sorts as the time does."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def ceil_to_millisecond(moment: datetime) -> datetime:
    """Round a lower bound up, so truncation to milliseconds never widens a range."""
    remainder = moment.microsecond % 1000
    return moment if remainder == 0 else moment + timedelta(microseconds=1000 - remainder)


def utc_now() -> datetime:
    return datetime.now(UTC)
