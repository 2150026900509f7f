"""ISO 8601 parsing of caller input, and the one fixed-width timestamp format the service writes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from export_service.errors import InvalidParameterError
from export_service.timefmt import ceil_to_millisecond, format_instant, parse_instant

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-01T00:05:00Z", datetime(2026, 3, 1, 0, 5, tzinfo=UTC)),
        ("2026-03-01T00:05:00.000Z", datetime(2026, 3, 1, 0, 5, tzinfo=UTC)),
        ("2026-03-01T00:05:00.123456Z", datetime(2026, 3, 1, 0, 5, 0, 123456, tzinfo=UTC)),
        ("2026-03-01T02:05:00+02:00", datetime(2026, 3, 1, 0, 5, tzinfo=UTC)),
        ("2026-02-28T19:05:00-05:00", datetime(2026, 3, 1, 0, 5, tzinfo=UTC)),
        ("2026-03-01T00:05:00", datetime(2026, 3, 1, 0, 5, tzinfo=UTC)),
        ("2026-03-01", datetime(2026, 3, 1, tzinfo=UTC)),
        ("  2026-03-01T00:05:00Z ", datetime(2026, 3, 1, 0, 5, tzinfo=UTC)),
    ],
)
def test_parse_instant_returns_utc(text, expected):
    parsed = parse_instant(text, "from")
    assert parsed == expected
    assert parsed.tzinfo is UTC


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "yesterday",
        "2026-13-01",
        "2026-02-30",
        "2026-03-01T25:00:00Z",
        "2026-03-01T00:00:00+24:00",
        "+2026-03-01",
        "-1",
        "1741000000",
        "03/01/2026",
    ],
)
def test_parse_instant_rejects_garbage_naming_the_parameter(text):
    with pytest.raises(InvalidParameterError) as caught:
        parse_instant(text, "range_start")
    assert caught.value.parameter == "range_start"
    assert caught.value.message == (
        f"query parameter 'range_start' must be an ISO 8601 date-time such as 2026-03-01T00:00:00Z, got '{text}'"
    )
    assert caught.value.to_body()["error"] == "INVALID_PARAMETER"


@pytest.mark.parametrize("text", ["9999-12-31T23:00:00-05:00", "0001-01-01T00:00:00+01:00"])
def test_parse_instant_out_of_range_after_utc_conversion_is_a_parameter_error(text):
    # Valid ISO 8601 whose UTC equivalent falls outside datetime's range: still the caller's error (400),
    # never an unhandled OverflowError (which the API turns into a 500).
    with pytest.raises(InvalidParameterError) as caught:
        parse_instant(text, "to")
    assert caught.value.parameter == "to"


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (datetime(2026, 3, 1, tzinfo=UTC), "2026-03-01T00:00:00.000Z"),
        (datetime(2026, 3, 1, 0, 5, 7, 123456, tzinfo=UTC), "2026-03-01T00:05:07.123Z"),
        (datetime(2026, 3, 1, 0, 5, 7, 999999, tzinfo=UTC), "2026-03-01T00:05:07.999Z"),
        (datetime(2026, 3, 1, 2, 5, tzinfo=timezone(timedelta(hours=2))), "2026-03-01T00:05:00.000Z"),
        (datetime(999, 1, 2, 3, 4, 5, 6000, tzinfo=UTC), "0999-01-02T03:04:05.006Z"),
    ],
)
def test_format_instant_is_utc_with_milliseconds_fixed_width(moment, expected):
    assert format_instant(moment) == expected
    assert len(format_instant(moment)) == 24


def test_format_instant_text_sorts_as_time_does():
    moments = [datetime(2026, 3, 1, 0, 0, 0, us, tzinfo=UTC) for us in (9000, 10000, 100000, 999000)]
    assert sorted(format_instant(m) for m in reversed(moments)) == [format_instant(m) for m in moments]


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (datetime(2026, 3, 1, 0, 0, 0, 0, tzinfo=UTC), datetime(2026, 3, 1, 0, 0, 0, 0, tzinfo=UTC)),
        (datetime(2026, 3, 1, 0, 0, 0, 1000, tzinfo=UTC), datetime(2026, 3, 1, 0, 0, 0, 1000, tzinfo=UTC)),
        (datetime(2026, 3, 1, 0, 0, 0, 1, tzinfo=UTC), datetime(2026, 3, 1, 0, 0, 0, 1000, tzinfo=UTC)),
        (datetime(2026, 3, 1, 0, 0, 0, 1500, tzinfo=UTC), datetime(2026, 3, 1, 0, 0, 0, 2000, tzinfo=UTC)),
        (datetime(2026, 3, 1, 23, 59, 59, 999001, tzinfo=UTC), datetime(2026, 3, 2, tzinfo=UTC)),
    ],
)
def test_ceil_to_millisecond_rounds_lower_bounds_up(moment, expected):
    assert ceil_to_millisecond(moment) == expected
