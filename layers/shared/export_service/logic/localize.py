"""Locale and time zone for people: checked parameters, dates and numbers from Babel, words from gettext catalogs.

Only the words are ours (column headers and report labels: gettext catalogs read with Babel); every date, time,
offset and number is formatted by Babel from CLDR data, and time zones come from the IANA database (zoneinfo, with
the ``tzdata`` package so the Lambda runtime does not depend on the host's files). Babel is imported only when a
request asks for a locale or a time zone, so the default export path and the other functions' cold starts do not
pay for it.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from export_service.errors import InvalidParameterError

DEFAULT_LOCALE = "en"
DEFAULT_TIMEZONE = "UTC"
SUPPORTED_LOCALES: tuple[str, ...] = ("en", "de", "fr", "es")
_MAX_ZONE_CHARS = 64

# The report's words: a key per place in the PDF, and its English text, the gettext msgid. The other languages are
# gettext catalogs (``locales/<lang>/LC_MESSAGES/audit_report.po``, template ``locales/audit_report.pot``), read
# with Babel; a missing or fuzzy translation falls back to English, and a unit test keeps every catalog complete.
LABELS: dict[str, str] = {
    "title": "Audit log export",
    "tenant": "Tenant",
    "time_range": "Time range",
    "first_record": "first record",
    "timezone": "Time zone",
    "filters": "Filters",
    "no_filters": "none",
    "records": "Records",
    "no_records": "No records match.",
    "generated_at": "Generated at",
    "page": "Page {page} of {pages}",
    # table columns
    "col_time": "Time",
    "col_id": "Record ID",
    "col_event_type": "Event type",
    "col_sub_type": "Sub type",
    "col_action": "Action",
    "col_user": "User",
    "col_auditee": "Auditee ID",
    "col_source": "System source",
    "col_resource": "Resource",
    "col_checksum": "Checksum",
    "col_metadata": "Metadata",
}
CATALOG_DOMAIN = "audit_report"
LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"


def catalog_path(locale: str) -> Path:
    return LOCALES_DIR / locale / "LC_MESSAGES" / f"{CATALOG_DOMAIN}.po"


@functools.lru_cache(maxsize=len(SUPPORTED_LOCALES))
def translations(locale: str) -> Mapping[str, str]:
    """msgid -> translated text of the locale's catalog (English: none, the msgids are English)."""
    if locale == DEFAULT_LOCALE:
        return {}
    from babel.messages.pofile import read_po  # noqa: PLC0415

    with catalog_path(locale).open("rb") as handle:
        catalog = read_po(handle, locale=locale, domain=CATALOG_DOMAIN)
    return {
        str(message.id): str(message.string)
        for message in catalog
        if message.id and message.string and not message.fuzzy
    }


def parse_locale(value: str | None, parameter: str = "locale") -> str | None:
    """A supported two-letter language code, or None when not given; anything else is a 400."""
    if value is None:
        return None
    code = value.strip().lower()
    if code not in SUPPORTED_LOCALES:
        raise InvalidParameterError(
            f"query parameter '{parameter}' must be one of {', '.join(SUPPORTED_LOCALES)} "
            f"(a two-letter ISO 639-1 code), got '{value[:40]}'",
            parameter=parameter,
            supported=list(SUPPORTED_LOCALES),
        )
    return code


def parse_timezone(value: str | None, parameter: str = "timezone") -> str | None:
    """An IANA time zone name (``America/New_York``), or None when not given; an unknown zone is a 400."""
    if value is None:
        return None
    problem = InvalidParameterError(
        f"query parameter '{parameter}' must be an IANA time zone such as Europe/Berlin or America/New_York, "
        f"got '{value[:_MAX_ZONE_CHARS]}'",
        parameter=parameter,
    )
    name = value.strip()
    # Only names of the IANA database (zone files it verified): no path, no directory such as "America", and none
    # of the tz files that are not zones (localtime, posixrules, Factory).
    if not name or len(name) > _MAX_ZONE_CHARS or name not in _iana_zones():
        raise problem
    return name


@functools.lru_cache(maxsize=1)
def _iana_zones() -> frozenset[str]:
    from zoneinfo import available_timezones  # noqa: PLC0415

    return frozenset(available_timezones()) - {"localtime", "posixrules", "Factory"}


@functools.lru_cache(maxsize=32)
def _moment_pattern(locale: str) -> str:
    """CLDR's medium date-time pattern of the locale, with the UTC offset (``xxx``: +01:00) after the time."""
    from babel import Locale  # noqa: PLC0415 - only requests that ask for a locale or zone pay for Babel

    data = Locale.parse(locale)
    time_pattern = data.time_formats["medium"].pattern
    date_pattern = data.date_formats["medium"].pattern
    combined = str(data.datetime_formats["medium"])
    return combined.replace("{0}", f"{time_pattern} xxx").replace("{1}", date_pattern)


class Localizer:
    """Formats for one request: dates in its time zone with their offset, numbers and labels in its language."""

    def __init__(self, locale: str | None, timezone: str | None) -> None:
        from babel import Locale  # noqa: PLC0415

        self.locale = locale or DEFAULT_LOCALE
        self.timezone = timezone or DEFAULT_TIMEZONE
        self._zone = ZoneInfo(self.timezone)
        self._babel_locale = Locale.parse(self.locale)
        self._pattern = _moment_pattern(self.locale)

    def moment(self, instant: datetime | str) -> str:
        """``01.03.2026, 01:05:00 +01:00`` (de, Europe/Berlin) from a datetime or a stored ISO 8601 timestamp."""
        from babel.dates import format_datetime  # noqa: PLC0415

        when = datetime.fromisoformat(instant) if isinstance(instant, str) else instant
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        try:
            return format_datetime(when, self._pattern, tzinfo=self._zone, locale=self._babel_locale)
        except (OverflowError, ValueError):  # within a day of year 1 or 9999: the zone's time is not a datetime
            return when.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")

    def number(self, value: int) -> str:
        from babel.numbers import format_decimal  # noqa: PLC0415

        return format_decimal(value, locale=self._babel_locale)

    def label(self, key: str, **values: Any) -> str:
        english = LABELS[key]
        text = translations(self.locale).get(english, english)
        return text.format(**values) if values else text


def with_local_time(
    pages: Iterable[Sequence[Mapping[str, Any]]], localizer: Localizer, column: str, source: str = "timestamp"
) -> Iterator[list[dict[str, Any]]]:
    """The pages with ``column`` added to every record: its ``source`` time, formatted for people."""
    for page in pages:
        yield [{**record, column: localizer.moment(record[source])} for record in page]
