"""The audit export as a PDF report for people, drawn with fpdf2 and the DejaVu font shipped here.

Layout (A4 landscape, millimetres): the first page starts with the title, tenant, time range, time zone, filters,
record count and generation time; every page has the table's column headers at its top and a footer with the
generation time and "page n of N". Each record takes two text lines: its main fields, then its checksum and metadata.

Rows are drawn one at a time with ``FPDF.text`` as the pages of records arrive (fpdf2's table helper keeps every row
until the end and lays text out character by character: about 6 ms a row, 30 s for 5,000, past API Gateway's 29 s);
fpdf2 keeps the document itself in memory until it is written, which the 5,000-record cap bounds (218 pages).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from export_service.logic.localize import Localizer

MAX_PDF_RECORDS = 5000  # the audit-event export: a PDF export holds at most 5,000 events
FONT_DIR = Path(__file__).resolve().parent.parent / "fonts"
_FONT = "DejaVu"
# C0 and C1 controls, soft hyphen, the Arabic letter mark, zero-width and bidi marks, overrides and isolates,
# line and paragraph separators, word joiner and invisible operators, the byte-order mark
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\xad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]+")
_MOST_CHARS = 300  # a cell is one line: longer text is cut before it is measured (measuring is per character)
_MOST_FILTER_CHARS = 600  # the filters' line on the first page

# Geometry (mm)
_PAGE_W, _PAGE_H, _MARGIN = 297.0, 210.0, 10.0
_LINE = 3.2  # between the two lines of a record
_ROW = 7.6  # one record
_TABLE_BOTTOM = _PAGE_H - 14.0  # last baseline a record's second line may use
_FOOTER_Y = _PAGE_H - 7.0
# Columns of a record's first line: (label key, record field, width); 277 mm in all.
_COLUMNS: tuple[tuple[str, str, float], ...] = (
    ("col_time", "timestamp", 40.0),
    ("col_id", "id", 31.0),
    ("col_event_type", "eventType", 25.0),
    ("col_sub_type", "subType", 18.0),
    ("col_action", "action", 31.0),
    ("col_user", "user", 46.0),
    ("col_auditee", "auditeeId", 25.0),
    ("col_source", "systemSource", 28.0),
    ("col_resource", "resource", 33.0),
)
# The second line starts under the record id: the checksum, then the metadata.
_CHECKSUM_X, _CHECKSUM_W = _MARGIN + 40.0, 100.0
_METADATA_X = _CHECKSUM_X + _CHECKSUM_W + 2.0
_METADATA_W = _PAGE_W - _MARGIN - _METADATA_X


class PdfOverflow(Exception):  # noqa: N818 - internal signal, turned into ExportTooLargeError by the caller
    pass


@dataclass(frozen=True)
class PdfReport:
    """What the first page says about the export."""

    tenant: str
    start: datetime | None  # None: from the tenant's first record
    end: datetime
    filters: Sequence[tuple[str, str]]
    generated_at: datetime


def _table_top() -> float:
    return _MARGIN + 4.0


def render_audit_pdf(
    pages: Iterable[Sequence[Mapping[str, Any]]],
    report: PdfReport,
    localizer: Localizer,
    max_records: int = MAX_PDF_RECORDS,
) -> tuple[bytes, int]:
    """The PDF and its record count; raises PdfOverflow past ``max_records`` rather than truncate."""
    from fpdf import FPDF  # noqa: PLC0415 - only PDF requests load fpdf2

    generated = localizer.moment(report.generated_at)

    class _Document(FPDF):
        def footer(self) -> None:
            self.set_font(_FONT, "", 7)
            self.set_text_color(90)
            self.text(_MARGIN, _FOOTER_Y, f"{localizer.label('generated_at')}: {generated}")
            # a cell, not text(): fpdf2 fills in the page count ("{nb}") only in cells
            self.set_xy(_PAGE_W / 2, _FOOTER_Y - 2.5)
            self.cell(_PAGE_W / 2 - _MARGIN, 3.5, localizer.label("page", page=self.page_no(), pages="{nb}"), align="R")
            self.set_text_color(0)

    pdf = _Document(orientation="L", unit="mm", format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_margins(_MARGIN, _MARGIN, _MARGIN)
    pdf.add_font(_FONT, "", str(FONT_DIR / "DejaVuSansCondensed.ttf"))
    pdf.add_font(_FONT, "B", str(FONT_DIR / "DejaVuSansCondensed-Bold.ttf"))
    title = localizer.label("title")
    pdf.set_title(f"{title}: {report.tenant}")
    pdf.set_author("export-service")
    pdf.set_lang(localizer.locale)
    pdf.set_creation_date(report.generated_at)
    pdf.add_page()
    count_at = _first_page(pdf, report, localizer, title, generated)
    y = _table_header(pdf, localizer, pdf.get_y())
    written = 0
    for page in pages:
        for record in page:
            written += 1
            if written > max_records:
                raise PdfOverflow()
            if y + _LINE > _TABLE_BOTTOM:
                pdf.add_page()
                y = _table_header(pdf, localizer, _table_top())
            _record(pdf, localizer, record, y)
            y += _ROW
    if written == 0:
        pdf.set_font(_FONT, "", 9)
        pdf.text(_MARGIN, y + 2.0, localizer.label("no_records"))
    # The count is known once the records are drawn: write it on the first page now.
    last = pdf.page
    pdf.page = 1
    pdf.set_font(_FONT, "B", 9)
    pdf.text(*count_at, localizer.number(written))
    pdf.page = last
    return bytes(pdf.output()), written


def _first_page(pdf: Any, report: PdfReport, localizer: Localizer, title: str, generated: str) -> tuple[float, float]:
    """Title and the report's facts; returns where the record count goes (written once it is known)."""
    pdf.set_font(_FONT, "B", 16)
    pdf.text(_MARGIN, _MARGIN + 6.0, title)
    start = localizer.moment(report.start) if report.start else localizer.label("first_record")
    facts = (
        ("tenant", report.tenant),
        ("time_range", f"{start} – {localizer.moment(report.end)}"),
        ("timezone", localizer.timezone),
        ("generated_at", generated),
    )
    y = _MARGIN + 14.0
    for key, value in facts:
        _fact(pdf, localizer.label(key), value, y)
        y += 5.0
    filters = [f"{name} = {value}" for name, value in report.filters] or [localizer.label("no_filters")]
    _fact(pdf, localizer.label("filters"), "", y)
    pdf.set_font(_FONT, "", 9)
    pdf.set_xy(_MARGIN + 35.0, y - 3.4)
    text = _CONTROL.sub(" ", "; ".join(filters))
    if len(text) > _MOST_FILTER_CHARS:  # keep the first page's facts, count and table on the page
        text = text[:_MOST_FILTER_CHARS] + " …"
    pdf.multi_cell(_PAGE_W - 2 * _MARGIN - 35.0, 4.2, text)
    y = max(y + 5.0, pdf.get_y() + 3.8)
    _fact(pdf, localizer.label("records"), "", y)
    pdf.set_y(y + 4.0)
    return _MARGIN + 35.0, y


def _fact(pdf: Any, label: str, value: str, y: float) -> None:
    pdf.set_font(_FONT, "B", 9)
    pdf.text(_MARGIN, y, f"{label}:")
    pdf.set_font(_FONT, "", 9)
    if value:
        pdf.text(_MARGIN + 35.0, y, _CONTROL.sub(" ", value))


def _table_header(pdf: Any, localizer: Localizer, top: float) -> float:
    """The column headers at ``top``; returns the baseline of the first record."""
    pdf.set_font(_FONT, "B", 7)
    x = _MARGIN
    for key, _field, width in _COLUMNS:
        pdf.text(x, top + _LINE, _fit(pdf, localizer.label(key), width - 1.0))
        x += width
    pdf.text(_CHECKSUM_X, top + 2 * _LINE, localizer.label("col_checksum"))
    pdf.text(_METADATA_X, top + 2 * _LINE, localizer.label("col_metadata"))
    pdf.set_draw_color(120)
    pdf.line(_MARGIN, top + 2 * _LINE + 1.4, _PAGE_W - _MARGIN, top + 2 * _LINE + 1.4)
    pdf.set_draw_color(215)
    pdf.set_font(_FONT, "", 7)
    return top + 2 * _LINE + 1.4 + 3.6


def _record(pdf: Any, localizer: Localizer, record: Mapping[str, Any], y: float) -> None:
    x = _MARGIN
    for _key, field, width in _COLUMNS:
        value = str(record.get(field) or "")
        if field == "timestamp" and value:
            value = localizer.moment(value)
        pdf.text(x, y, _fit(pdf, value, width - 1.0))
        x += width
    pdf.set_text_color(70)
    pdf.text(_CHECKSUM_X, y + _LINE, _fit(pdf, str(record.get("checksum") or ""), _CHECKSUM_W))
    pdf.text(_METADATA_X, y + _LINE, _fit(pdf, str(record.get("metadata") or ""), _METADATA_W))
    pdf.set_text_color(0)
    pdf.line(_MARGIN, y + _LINE + 1.3, _PAGE_W - _MARGIN, y + _LINE + 1.3)


def _fit(pdf: Any, text: str, width: float) -> str:
    """The text on one line within ``width``: control characters as spaces, cut with an ellipsis when too long."""
    text = _CONTROL.sub(" ", text[: _MOST_CHARS + 1])
    if pdf.get_string_width(text) <= width:
        return text
    lo, hi = 0, len(text)
    while lo < hi:  # the longest prefix that fits with the ellipsis
        mid = (lo + hi + 1) // 2
        if pdf.get_string_width(text[:mid] + "…") <= width:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo] + "…"
