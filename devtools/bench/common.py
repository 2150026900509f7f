"""The benchmark's shared harness: output, the local AWS environment, handler events, timed calls, tracing, tables."""

from __future__ import annotations

import gc
import itertools
import os
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import boto3

from devtools.lambda_runtime import invoke, rest_proxy_event
from devtools.template import FunctionSpec

MIB = 1024 * 1024
HOST = "127.0.0.1"
USER_AGENT = {"User-Agent": ["devtools.bench"]}

T = TypeVar("T")


def log(message: str) -> None:
    print(message, flush=True)


def load_average() -> str:
    """The machine's 1, 5 and 15 minute load averages: figures from a shared machine are read beside them."""
    return "/".join(f"{value:.2f}" for value in os.getloadavg())


def local_aws_environment(dynamodb_endpoint: str, moto_url: str | None = None) -> dict[str, str]:
    """Local credentials and endpoints for boto3 and quiet Powertools: what every section runs its handlers with."""
    environment = {
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL_DYNAMODB": dynamodb_endpoint,
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }
    if moto_url is not None:
        environment["AWS_ENDPOINT_URL"] = moto_url
    return environment


def handler_event(
    method: str,
    resource: str,
    tenant: str,
    permission: str,
    *,
    path: str | None = None,
    query: Mapping[str, Sequence[str]] | None = None,
    headers: Mapping[str, Sequence[str]] | None = None,
    body: str | None = None,
    path_parameters: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A REST proxy event with the authorizer context of a bench key holding ``permission`` for ``tenant``."""
    authorizer = {"tenantId": tenant, "keyId": "ak_bench", "permissions": permission, "principalId": "ak_bench"}
    return rest_proxy_event(
        method=method,
        path=path or resource,
        resource=resource,
        path_parameters=path_parameters,
        headers=headers,
        query=query,
        body=body,
        authorizer=authorizer,
    )


def timed_invoke(
    spec: FunctionSpec, event: dict[str, Any], *, status: int = 200, what: str | None = None
) -> tuple[float, dict[str, Any]]:
    """Invoke the handler; the seconds the call took and its response, which must have ``status``."""
    began = time.perf_counter()
    response: dict[str, Any] = invoke(spec, event)
    elapsed = time.perf_counter() - began
    if response.get("statusCode") != status:
        name = what or spec.logical_id
        raise RuntimeError(f"{name} answered {response.get('statusCode')}: {str(response.get('body'))[:500]}")
    return elapsed, response


def traced_peak(call: Callable[[], object], *, collect: bool = True) -> int:
    """The tracemalloc peak of one call, in bytes (a pass of its own: tracing slows the call down)."""
    if collect:
        gc.collect()
    tracemalloc.start()
    try:
        call()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def dynamodb_clients(count: int) -> list[Any]:
    """A DynamoDB client per loading thread: boto3's default session is not thread-safe."""
    return [boto3.client("dynamodb") for _ in range(count)]


def load_in_chunks(
    items: Iterator[T],
    chunk: int,
    clients: Sequence[Any],
    writer: Callable[[Any], Callable[[list[T]], int]],
    on_written: Callable[[int], None] | None = None,
) -> int:
    """Write ``items`` from a thread per client, each taking ``chunk`` items at a time from the one iterator and
    writing them with ``writer(client)``; returns how many items were written."""
    lock = threading.Lock()

    def next_chunk() -> list[T]:
        with lock:
            return list(itertools.islice(items, chunk))

    def worker(client: Any) -> int:
        write = writer(client)
        written = 0
        while batch := next_chunk():
            wrote = write(batch)
            written += wrote
            if on_written is not None:
                on_written(wrote)
        return written

    with ThreadPoolExecutor(max_workers=len(clients)) as pool:
        return sum(pool.map(worker, clients))


def render(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain text table, cells right-aligned."""
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    lines = ["  ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True)) for row in (header, *rows)]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)
