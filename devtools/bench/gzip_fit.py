"""Rows that fit one synchronous answer, without and with gzip (Accept-Encoding: gzip), per dataset and format.

    .venv/bin/python -m devtools.bench.gzip_fit                    # MAX_RESPONSE_BYTES 5,000,000, limit 10,000
    .venv/bin/python -m devtools.bench.gzip_fit --formats csv --datasets audit,incident-events

A synchronous answer is 200 when its body fits a Lambda response as Lambda returns it: the text JSON-escaped
(``lambda_payload_size``), or a gzip body base64-encoded. The rows are the demo generator's, rendered by the
service's own writers (logic/formats.py) and compressed as the service compresses them (gzip level 6, the
engine's ``gzip_body``); the size is measured exactly at every 250th row. The table gives, per dataset and format,
the bytes a row takes, the compression ratio, the rows that fit by size alone without and with gzip, and what one
answer carries once the record limit (SYNC_EXPORT_LIMIT, 10,000; the audit export keeps it) applies too.
"""

from __future__ import annotations

import argparse
import base64
import io
import itertools
import zlib
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from devtools.generate import audit_records
from devtools.generate_incidents import incident_bundles
from export_service.logic.audit_records import seal_audit_record
from export_service.logic.export_engine import GZIP_RAW_FACTOR, lambda_payload_size
from export_service.logic.formats import envelope_parts, make_writer
from export_service.logic.incident_records import export_row
from export_service.models.audit import AUDIT_COLUMNS
from export_service.models.export import ExportFormat
from export_service.models.incidents import DATASETS, Dataset

STEP = 250
START, END = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 7, 1, tzinfo=UTC)
CHILDREN = {
    Dataset.INCIDENT_EVENTS: "events",
    Dataset.INCIDENT_ROLE_ASSIGNMENTS: "role_assignments",
    Dataset.INCIDENT_IMPACTS: "impacts",
    Dataset.RETROSPECTIVES: "retrospectives",
}


def rows_of(dataset: str) -> tuple[Sequence[str], Iterator[Mapping[str, Any]]]:
    """The dataset's columns and an endless supply of its demo rows (the generator, batch after batch)."""
    if dataset == "audit":
        batches = (audit_records("bench", 20_000, START, END, seed) for seed in itertools.count(1))
        return AUDIT_COLUMNS, (seal_audit_record(r).model_dump() for batch in batches for r in batch)
    kind = Dataset(dataset)
    bundles = (b for seed in itertools.count(1) for b in incident_bundles("bench", 2_000, START, END, seed))
    if kind is Dataset.INCIDENTS:
        return DATASETS[kind].columns, (export_row(kind, b.incident) for b in bundles)
    return DATASETS[kind].columns, (export_row(kind, m) for b in bundles for m in getattr(b, CHILDREN[kind]))


def fit(dataset: str, fmt: ExportFormat, max_bytes: int, most: int) -> dict[str, float]:
    """Rows that fit ``max_bytes`` plain and gzip-compressed, measured at every STEP rows (at most ``most`` rows)."""
    columns, rows = rows_of(dataset)
    text = io.StringIO()
    writer = make_writer(fmt, text, columns)
    head, tail = (
        envelope_parts("Export", {"totalRecords": 0, "format": fmt.value}) if fmt is ExportFormat.JSON else ("", "")
    )
    deflate = zlib.compressobj(6, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    packed = len(deflate.compress(head.encode()))
    plain_size = lambda_payload_size(head + tail)  # the JSON envelope around the records (or nothing)
    plain_fit = gzip_fit = count = 0
    raw_bytes = 0
    while count < most:
        batch = list(itertools.islice(rows, STEP))
        if fmt is ExportFormat.JSON and count:
            text.write(",")
        writer.write_many(batch)
        chunk = text.getvalue()
        text.seek(0)
        text.truncate()
        count += len(batch)
        raw_bytes += len(chunk.encode())
        plain_size += lambda_payload_size(chunk) - 2
        packed += len(deflate.compress(chunk.encode()))
        probe = deflate.copy()
        sent = len(base64.b64encode(b"x" * (packed + len(probe.flush())))) + 2  # gzip sent base64-encoded
        if plain_size <= max_bytes:
            plain_fit = count
        if sent <= max_bytes and raw_bytes <= max_bytes * GZIP_RAW_FACTOR:
            gzip_fit = count
        else:
            break
    return {
        "bytes_per_row": raw_bytes / max(count, 1),
        "ratio": raw_bytes / max(sent - 2, 1) * 4 / 3,
        "plain": plain_fit,
        "gzip": gzip_fit,
        "capped": count >= most,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", default="audit,incidents,incident-events,retrospectives")
    parser.add_argument("--formats", default="csv,json,jsonl")
    parser.add_argument("--max-response-bytes", type=int, default=5_000_000)
    parser.add_argument("--limit", type=int, default=10_000, help="the synchronous record limit (SYNC_EXPORT_LIMIT)")
    parser.add_argument("--most", type=int, default=200_000, help="stop counting at this many rows")
    args = parser.parse_args(argv)
    print(f"rows per synchronous answer: MAX_RESPONSE_BYTES {args.max_response_bytes:,}, record limit {args.limit:,}")
    print(f"{'dataset':<16} {'format':<6} {'B/row':>6} {'gzip x':>6} {'fit plain':>10} {'fit gzip':>10} "
          f"{'answer plain':>12} {'answer gzip':>12}")  # fmt: skip
    for dataset in args.datasets.split(","):
        for name in args.formats.split(","):
            result = fit(dataset, ExportFormat(name), args.max_response_bytes, args.most)
            more = "+" if result["capped"] else ""
            plain, packed = int(result["plain"]), int(result["gzip"])
            print(
                f"{dataset:<16} {name:<6} {result['bytes_per_row']:>6.0f} {result['ratio']:>6.1f} {plain:>10,} "
                f"{packed:>9,}{more or ' '} {min(plain, args.limit):>12,} {min(packed, args.limit):>12,}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
