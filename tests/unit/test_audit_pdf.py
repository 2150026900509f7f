"""The PDF report, read back with pypdf: pages, repeated headers, labels in the locale, every record and checksum."""

from __future__ import annotations

import io
import math
import re
from datetime import UTC, datetime

import pytest
from fpdf import FPDF
from pypdf import PdfReader

from devtools.generate import audit_records
from export_service.errors import InvalidParameterError
from export_service.logic.audit_pdf import PdfOverflow, PdfReport, render_audit_pdf
from export_service.logic.audit_records import seal_audit_record
from export_service.logic.localize import Localizer, parse_timezone

pytestmark = pytest.mark.unit

START, END = datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC)
GENERATED = datetime(2026, 4, 2, 8, 30, tzinfo=UTC)
# The layout's capacity (README): 17 records on the first page (filters on one line), 23 on each following page.
FIRST_PAGE, PER_PAGE = 17, 23


def _records(count: int) -> list[dict[str, str]]:
    return [seal_audit_record(r).model_dump() for r in audit_records("acme", count, START, END)]


def _render(records: list[dict[str, str]], locale: str | None, zone: str | None, **kwargs: int) -> PdfReader:
    pages = [records[i : i + 100] for i in range(0, len(records), 100)]
    report = PdfReport("acme", START, END, [("event_type", "runbook, incident"), ("metadata[tag]", "db")], GENERATED)
    body, written = render_audit_pdf(pages, report, Localizer(locale, zone), **kwargs)
    assert written == len(records)
    assert body.startswith(b"%PDF-")
    return PdfReader(io.BytesIO(body))


def _expected_pages(count: int) -> int:
    return 1 if count <= FIRST_PAGE else 1 + math.ceil((count - FIRST_PAGE) / PER_PAGE)


@pytest.mark.parametrize("count", [0, 1, FIRST_PAGE, FIRST_PAGE + 1, FIRST_PAGE + PER_PAGE, 300])
def test_page_count_follows_the_layout(count):
    reader = _render(_records(count), "en", None)
    assert len(reader.pages) == _expected_pages(count)


def test_german_report_has_its_labels_filters_range_and_every_record():
    records = _records(120)
    reader = _render(records, "de", "Europe/Berlin")
    pages = [page.extract_text() for page in reader.pages]
    first = pages[0]
    # Title, tenant, range (in the zone, with offsets), zone, filters and count, in German
    assert "Audit-Protokoll-Export" in first
    assert "Mandant: acme" in first
    assert "Zeitraum: 01.03.2026, 01:00:00 +01:00 – 01.04.2026, 02:00:00 +02:00" in first
    assert "Zeitzone: Europe/Berlin" in first
    assert "Filter: event_type = runbook, incident; metadata[tag] = db" in first
    assert "Erstellt am: 02.04.2026, 10:30:00 +02:00" in first
    assert "Datensätze:" in first and "120" in first
    # Every page repeats the column headers and numbers itself
    for number, text in enumerate(pages, start=1):
        assert "Zeit Datensatz-ID Ereignistyp Untertyp Aktion Benutzer" in text
        assert "Prüfsumme Metadaten" in text
        assert f"Seite {number} von {len(pages)}" in text
    # Every record appears once, in order, with its checksum and its local time
    found = [match for text in pages for match in re.findall(r"audit-\d{8}-\d{6}", text)]
    assert found == [r["id"] for r in records]
    everything = "\n".join(pages)
    for record in records:
        assert record["checksum"] in everything
    first_time = Localizer("de", "Europe/Berlin").moment(records[0]["timestamp"])
    assert first_time.startswith("01.03.2026, ") and first_time in first


def _footer(page) -> list[str]:
    """The page's text drawn below the table (under 14 mm from the bottom edge), left to right."""
    found: list[tuple[float, str]] = []

    def visit(text, cm, tm, font, size):
        if text.strip() and tm[5] * cm[3] + cm[5] < 14 / 25.4 * 72:
            found.append((tm[4] * cm[0] + cm[4], text.strip()))

    page.extract_text(visitor_text=visit)
    return [text for _x, text in sorted(found)]


@pytest.mark.parametrize(
    ("locale", "zone", "generated", "numbering"),
    [
        ("de", "Europe/Berlin", "Erstellt am: 02.04.2026, 10:30:00 +02:00", "Seite {n} von {total}"),
        ("fr", "America/New_York", "Généré le: 2 avr. 2026, 04:30:00 -04:00", "Page {n} sur {total}"),
        ("es", "Asia/Tokyo", "Generado el: 2 abr 2026, 17:30:00 +09:00", "Página {n} de {total}"),
    ],
)
def test_every_page_has_the_generation_time_and_its_number_in_the_footer(locale, zone, generated, numbering):
    reader = _render(_records(60), locale, zone)
    total = len(reader.pages)
    assert total == _expected_pages(60) == 3
    for n, page in enumerate(reader.pages, start=1):
        assert _footer(page) == [generated, numbering.format(n=n, total=total)], f"page {n}"
        # Plain extraction agrees: the first page says it among its facts and in its footer, the others once
        assert page.extract_text().count(generated) == (2 if n == 1 else 1), f"page {n}"


@pytest.mark.parametrize(
    ("locale", "title", "headers", "page"),
    [
        ("en", "Audit log export", "Time Record ID Event type Sub type Action User", "Page 1 of 1"),
        (
            "fr",
            "Export du journal d'audit",
            "Heure ID d'enregistrement Type d'événement Sous-type Action",
            "Page 1 sur 1",
        ),
        (
            "es",
            "Exportación del registro de auditoría",
            "Hora ID de registro Tipo de evento Subtipo Acción",
            "Página 1 de 1",
        ),
    ],
)
def test_other_languages(locale, title, headers, page):
    text = _render(_records(5), locale, "America/New_York").pages[0].extract_text()
    assert title in text
    assert headers in text
    assert page in text


def test_no_records_says_so():
    text = _render([], "fr", None).pages[0].extract_text()
    assert "Aucun enregistrement trouvé." in text


def test_more_records_than_the_cap_is_refused_not_truncated():
    with pytest.raises(PdfOverflow):
        _render(_records(11), "en", None, max_records=10)
    assert len(_render(_records(10), "en", None, max_records=10).pages) == 1


def test_control_characters_and_long_values_stay_on_their_line():
    record = _records(1)[0] | {"resource": "line one\nline two\tand a very long tail " * 4, "metadata": "{}"}
    text = _render([record], "en", None).pages[0].extract_text()
    assert "line one line two and" in text
    assert "…" in text  # cut to its column, not spilled over the next one


@pytest.mark.parametrize(
    ("start", "end", "zone"),
    [
        (datetime(1, 1, 1, tzinfo=UTC), END, "America/New_York"),  # before year 1 in that zone
        (START, datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC), "Asia/Tokyo"),  # after 9999 in that zone
    ],
)
def test_bounds_at_the_ends_of_time_are_printed_in_utc_not_a_crash(start, end, zone):
    report = PdfReport("acme", start, end, [], GENERATED)
    body, written = render_audit_pdf([_records(2)], report, Localizer("de", zone))
    text = PdfReader(io.BytesIO(body)).pages[0].extract_text()
    assert written == 2
    edge = start if start.year == 1 else end
    assert edge.isoformat(timespec="milliseconds").replace("+00:00", "Z") in text


def test_invisible_reordering_characters_are_removed_and_huge_values_are_cut_before_measuring(monkeypatch):
    measured: list[int] = []
    measure = FPDF.get_string_width

    def spy(self, text, *args, **kwargs):
        measured.append(len(text))
        return measure(self, text, *args, **kwargs)

    monkeypatch.setattr(FPDF, "get_string_width", spy)
    invisible = "\u202e\u202c\u200b\u0085\u00ad\u061c\u2028\u2066\ufeff"
    record = _records(1)[0] | {"user": f"evil{invisible}@example.com", "resource": "x" * 200_000}
    text = _render([record], "en", None).pages[0].extract_text()
    assert not set(invisible) & set(text)
    assert "evil @example.com" in text
    assert "x" * 400 not in text  # cut to its column ...
    assert measured and max(measured) <= 301  # ... and to 300 characters before any measuring


def test_a_long_filter_list_keeps_the_first_page_facts_and_table_on_the_page():
    filters = [("event_type", ", ".join(f"type-{n:04d}-{'y' * 40}" for n in range(200)))]
    report = PdfReport("acme", START, END, filters, GENERATED)
    body, written = render_audit_pdf([_records(3)], report, Localizer("en", None))
    assert written == 3
    first = PdfReader(io.BytesIO(body)).pages[0].extract_text()
    assert " …" in first  # the filters were cut ...
    for record in _records(3):
        assert record["id"] in first  # ... and the table still starts on page 1


@pytest.mark.parametrize("zone", ["localtime", "posixrules", "Factory"])
def test_tz_files_that_are_not_iana_zones_are_refused(zone):

    with pytest.raises(InvalidParameterError) as error:
        parse_timezone(zone)
    assert error.value.parameter == "timezone"
