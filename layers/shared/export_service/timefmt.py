"""ISO 8601 parsing of caller input and the one timestamp format the service writes (used by every layer)."""

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
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        # An offset can push a valid local time out of datetime's range once converted to UTC.
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        raise problem from None


def format_instant(moment: datetime) -> str:
    """UTC with millisecond precision, fixed width, so the text sorts as the time does."""
    # A naive value is UTC, as parse_instant reads it (astimezone would take it as the host's local time).
    m = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    # Not strftime: "%Y" is not zero-padded before year 1000 on Linux.
    return (
        f"{m.year:04d}-{m.month:02d}-{m.day:02d}T"
        f"{m.hour:02d}:{m.minute:02d}:{m.second:02d}.{m.microsecond // 1000:03d}Z"
    )


def ceil_to_millisecond(moment: datetime) -> datetime:
    """Round a lower bound up, so truncation to milliseconds never widens a range."""
    remainder = moment.microsecond % 1000
    if remainder == 0:
        return moment
    try:
        return moment + timedelta(microseconds=1000 - remainder)
    except OverflowError:  # within a millisecond of the end of time: nothing can be stored after it anyway
        return moment.replace(microsecond=moment.microsecond - remainder)


def utc_now() -> datetime:
    return datetime.now(UTC)


def format_duration(duration: timedelta) -> str:
    """ISO 8601 duration in hours, minutes and seconds (``PT26H3M7S``; ``PT0S`` for zero), as the nightly data export's
    active_duration. Hours are not folded into days, whose length is ambiguous across DST changes."""
    seconds = max(0, int(duration.total_seconds()))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    text = "".join(f"{value}{unit}" for value, unit in ((hours, "H"), (minutes, "M"), (secs, "S")) if value)
    return "PT" + (text or "0S")
