"""A model of an export job of 100,000,000 records on AWS, from what the benchmark measured here: a part worker's
throughput and the bytes a record takes in the file and on the wire.

    .venv/bin/python -m devtools.bench.scale_model --worker-rate 9000 --file-bytes 383 --wire-bytes 660

The job on AWS (the plan of docs/scale.md): the plan written to S3, a Distributed Map
reading it (ItemReader) and running ``parts`` part workers, ``concurrency`` at a time; each part streams its rows to
S3; Finish stitches the parts inside S3 (UploadPartCopy) and reads them once for the file's SHA-256. Prices:
us-east-1, on-demand, as published in 2025 (they change; the constants below say which).
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass

# us-east-1 list prices (2025)
DYNAMODB_PER_MILLION_RRU = 0.125  # on-demand read request units (after the November 2024 price cut)
LAMBDA_PER_GB_SECOND = 0.0000166667  # x86_64
LAMBDA_PER_MILLION_REQUESTS = 0.20
SFN_STANDARD_PER_1000_TRANSITIONS = 0.025
SFN_EXPRESS_PER_MILLION_REQUESTS = 1.00  # the Distributed Map's child executions, run as Express workflows
S3_PUT_PER_1000 = 0.005  # PUT, COPY, POST (multipart parts and copies)
S3_GET_PER_1000 = 0.0004
S3_STORAGE_PER_GB_MONTH = 0.023
INTERNET_OUT_PER_GB = 0.09  # the caller downloading the file from S3 over the internet (first 10 TB a month)

# AWS limits the plan runs within
DYNAMODB_TABLE_MAX_RRU_PER_S = 40_000  # an on-demand table's default maximum read throughput (a quota, raisable)
RRU_BYTES = 4096  # an eventually consistent Query reads 2 x 4 KB per read request unit
MAX_MAP_CONCURRENCY = 10_000  # Distributed Map
WORKER_GB = 2.0  # ExportPartFunction's MemorySize (about 1.2 vCPU)
S3_HASH_BYTES_PER_S = 200e6  # Finish reading the parts (parallel ranged GETs) into one SHA-256: a conservative rate


@dataclass(frozen=True)
class Prediction:
    records: int
    parts: int
    concurrency: int
    rate: float  # records per second of the whole job while its parts run
    read_limit: float  # the table's read throughput, in records per second
    part_seconds: float
    wall_seconds: float
    finish_seconds: float
    costs: dict[str, float]

    @property
    def cost(self) -> float:
        return sum(self.costs.values())


def predict(
    records: int,
    worker_rate: float,
    file_bytes: float,
    wire_bytes: float,
    rows_per_part: int = 1_000_000,
    concurrency: int = 100,
    plan_seconds: float = 10.0,
    retention_days: int = 30,
) -> Prediction:
    """``worker_rate``: records a second one part worker exports (measured alone here); ``file_bytes``: a record's
    bytes in the file; ``wire_bytes``: its bytes in a Query response (DynamoDB's JSON). The workers share the table's
    read throughput: the job runs at the lesser of their sum and the table's limit."""
    parts = math.ceil(records / rows_per_part)
    running = min(concurrency, parts, MAX_MAP_CONCURRENCY)
    # a read request unit reads 8 KB (eventually consistent): items' stored size is close to their wire size
    read_limit = DYNAMODB_TABLE_MAX_RRU_PER_S * 2 * RRU_BYTES / wire_bytes
    rate = min(running * worker_rate, read_limit)
    part_seconds = rows_per_part / min(worker_rate, read_limit / running)
    file_size = records * file_bytes
    finish_seconds = file_size / S3_HASH_BYTES_PER_S
    wall = plan_seconds + records / rate + finish_seconds
    gb = file_size / 1e9
    worker_seconds = parts * part_seconds  # waiting on a throttled table is billed too
    upload_parts = math.ceil(file_size / (8 * 1024 * 1024))
    costs = {
        "DynamoDB reads": records * wire_bytes / (2 * RRU_BYTES) / 1e6 * DYNAMODB_PER_MILLION_RRU,
        "Lambda (part workers)": worker_seconds * WORKER_GB * LAMBDA_PER_GB_SECOND
        + parts * LAMBDA_PER_MILLION_REQUESTS / 1e6,
        "Lambda (finish)": finish_seconds * WORKER_GB * LAMBDA_PER_GB_SECOND,
        "Step Functions": (parts * SFN_EXPRESS_PER_MILLION_REQUESTS / 1e6)
        + 20 * SFN_STANDARD_PER_1000_TRANSITIONS / 1000,
        "S3 requests": (upload_parts + parts) * S3_PUT_PER_1000 / 1000
        + (parts + file_size / (8 * 1024 * 1024)) * S3_GET_PER_1000 / 1000,
        f"S3 storage ({retention_days} days, file + parts for a day)": gb
        * S3_STORAGE_PER_GB_MONTH
        * (retention_days / 30 + 1 / 30),
        "download to the caller (internet)": gb * INTERNET_OUT_PER_GB,
    }
    return Prediction(records, parts, running, rate, read_limit, part_seconds, wall, finish_seconds, costs)


def report(prediction: Prediction, worker_rate: float, file_bytes: float, wire_bytes: float) -> str:
    p = prediction
    lines = [
        f"model: {p.records:,} records on AWS (us-east-1), from a part worker measured here at "
        f"{worker_rate:,.0f} rec/s, {file_bytes:.0f} B a record in the file, {wire_bytes:.0f} B on the wire:",
        f"  {p.parts:,} parts of {p.records // p.parts:,} records, {p.concurrency} at once: the job reads "
        f"{p.rate:,.0f} rec/s (the table's default read limit allows {p.read_limit:,.0f}); a part takes "
        f"{p.part_seconds:.0f} s",
        f"  wall time about {p.wall_seconds / 60:.1f} min (plan 10 s, parts {p.records / p.rate / 60:.1f} min, "
        f"finish {p.finish_seconds / 60:.1f} min: {p.records * file_bytes / 1e9:.1f} GB hashed)",
        f"  cost about ${p.cost:,.2f}: "
        + ", ".join(f"{name} ${value:,.2f}" for name, value in sorted(p.costs.items(), key=lambda item: -item[1])),
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.bench.scale_model", description=__doc__)
    parser.add_argument("--records", type=int, default=100_000_000)
    parser.add_argument("--worker-rate", type=float, required=True, help="records/s of one part worker, measured")
    parser.add_argument("--file-bytes", type=float, default=383.0, help="bytes a record takes in the CSV file (383)")
    parser.add_argument("--wire-bytes", type=float, default=660.0, help="bytes an item takes in a Query answer (660)")
    parser.add_argument("--rows-per-part", type=int, default=1_000_000)
    parser.add_argument("--concurrency", type=int, default=100, help="Distributed Map MaxConcurrency (100)")
    args = parser.parse_args(argv)
    prediction = predict(
        args.records, args.worker_rate, args.file_bytes, args.wire_bytes, args.rows_per_part, args.concurrency
    )
    print(report(prediction, args.worker_rate, args.file_bytes, args.wire_bytes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
