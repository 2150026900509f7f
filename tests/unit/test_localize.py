"""Locale and time zone: parameter checks, and dates/numbers formatted for people (Babel, IANA zones)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from babel.messages.pofile import read_po

from export_service.errors import InvalidParameterError
from export_service.logic.localize import (
    LABELS,
    LOCALES_DIR,
    SUPPORTED_LOCALES,
    Localizer,
    catalog_path,
    parse_locale,
    parse_timezone,
    translations,
    with_local_time,
)

pytestmark = pytest.mark.unit

MOMENT = "2026-03-01T00:05:00.000Z"


@pytest.mark.parametrize(
    ("value", "expected"), [("en", "en"), ("de", "de"), ("FR", "fr"), (" es ", "es"), (None, None)]
)
def test_supported_locales_are_accepted(value, expected):
    assert parse_locale(value) == expected


@pytest.mark.parametrize("value", ["", "xx", "english", "de-DE", "pt", "zz_ZZ", "../en"])
def test_unknown_locale_is_a_400_naming_locale(value):
    with pytest.raises(InvalidParameterError) as caught:
        parse_locale(value)
    assert caught.value.parameter == "locale"
    assert "'locale'" in caught.value.message
    assert caught.value.details["supported"] == ["en", "de", "fr", "es"]


@pytest.mark.parametrize(
    "value", ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "America/Argentina/Salta"]
)
def test_iana_zones_are_accepted(value):
    assert parse_timezone(value) == value


@pytest.mark.parametrize(
    "value",
    ["", "Mars/Olympus_Mons", "America", "/etc/passwd", "../../etc/passwd", "Europe/Berlin/", "+01:00", "x" * 65],
)
def test_unknown_zone_is_a_400_naming_timezone(value):
    with pytest.raises(InvalidParameterError) as caught:
        parse_timezone(value)
    assert caught.value.parameter == "timezone"
    assert "'timezone'" in caught.value.message


@pytest.mark.parametrize(
    ("locale", "zone", "instant", "expected"),
    [
        ("de", "Europe/Berlin", MOMENT, "01.03.2026, 01:05:00 +01:00"),
        ("de", "Europe/Berlin", "2026-07-01T12:00:00.000Z", "01.07.2026, 14:00:00 +02:00"),  # summer time
        ("fr", "America/New_York", MOMENT, "28 févr. 2026, 19:05:00 -05:00"),  # the day before, locally
        ("en", "UTC", MOMENT, "Mar 1, 2026, 12:05:00\u202fAM +00:00"),
        ("en", "Asia/Kolkata", MOMENT, "Mar 1, 2026, 5:35:00\u202fAM +05:30"),
        ("es", "Europe/Berlin", MOMENT, "1 mar 2026, 1:05:00 +01:00"),
        (None, None, MOMENT, "Mar 1, 2026, 12:05:00\u202fAM +00:00"),  # defaults: en, UTC
    ],
)
def test_moments_are_in_the_zone_with_their_offset_in_the_locale_format(locale, zone, instant, expected):
    assert Localizer(locale, zone).moment(instant) == expected


def test_a_datetime_and_its_stored_text_format_the_same():
    localizer = Localizer("de", "Europe/Berlin")
    assert localizer.moment(datetime(2026, 3, 1, 0, 5, tzinfo=UTC)) == localizer.moment(MOMENT)


@pytest.mark.parametrize(("locale", "expected"), [("en", "5,000"), ("de", "5.000"), ("fr", "5\u202f000")])
def test_numbers_use_the_locale_grouping(locale, expected):
    assert Localizer(locale, None).number(5000) == expected


UNTRANSLATED_ON_PURPOSE = {("fr", "Action")}  # the same word in French


@pytest.mark.parametrize("locale", [code for code in SUPPORTED_LOCALES if code != "en"])
def test_every_label_is_translated_in_every_supported_language(locale):
    with catalog_path(locale).open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    messages = {message.id: message for message in catalog if message.id}
    assert set(messages) == set(LABELS.values())  # no label missing, no stale entry left behind
    for english in LABELS.values():
        assert messages[english].string.strip() and not messages[english].fuzzy, (locale, english)
        assert messages[english].string != english or (locale, english) in UNTRANSLATED_ON_PURPOSE
        for placeholder in ("{page}", "{pages}"):
            assert (placeholder in english) == (placeholder in messages[english].string), (locale, english)


def test_the_template_lists_every_label_once():
    with (LOCALES_DIR / "audit_report.pot").open("rb") as handle:
        template = read_po(handle)
    assert [message.id for message in template if message.id] == list(LABELS.values())


def test_english_is_the_msgids_and_needs_no_catalog():
    assert translations("en") == {}
    assert Localizer("en", None).label("col_checksum") == "Checksum"


def test_page_label_is_filled_in():
    assert Localizer("de", None).label("page", page=2, pages=7) == "Seite 2 von 7"
    assert Localizer("fr", None).label("col_checksum") == "Somme de contrôle"


def test_with_local_time_adds_one_column_and_keeps_the_rest():
    pages = [[{"id": "a", "timestamp": MOMENT}], [], [{"id": "b", "timestamp": "2026-07-01T12:00:00.000Z"}]]
    out = list(with_local_time(pages, Localizer("de", "Europe/Berlin"), "localTime"))
    assert out == [
        [{"id": "a", "timestamp": MOMENT, "localTime": "01.03.2026, 01:05:00 +01:00"}],
        [],
        [{"id": "b", "timestamp": "2026-07-01T12:00:00.000Z", "localTime": "01.07.2026, 14:00:00 +02:00"}],
    ]
