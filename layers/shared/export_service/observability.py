"""The module-level Logger, Tracer and Metrics every function shares, and the signals an operator reads.

Metrics go to one namespace (POWERTOOLS_METRICS_NAMESPACE, ExportService), as CloudWatch embedded metric format
lines in the function's log:

| metric | unit | dimensions | when |
|---|---|---|---|
| ``RowsExported``, ``BytesExported`` | Count, Bytes | ``Format`` | a synchronous answer, a job's file, a nightly file |
| ``ExportJobDuration`` | Seconds | ``Format`` | a job succeeded (from its start to its file and manifest) |
| ``SyncExportsHandedToJob`` | Count | | a synchronous export too large to answer inline became a job (202) |
| ``RequestsRejected`` | Count | ``Reason`` | an error answer of a route function, by its ``error`` code (4xx and 5xx) |
| ``ExportJobsStopped`` | Count | ``Status`` | a job whose execution timed out, was aborted or failed elsewhere |
| ``NightlyNotCommitted`` | Count | | tenants whose night was not committed by the deadline check |

Answers API Gateway gives itself (401 from the authorizer, 429 of the usage plan) are in API Gateway's own metrics
(``4XXError``, ``Count`` by stage). ``phase`` puts the read, format and upload phases of an export in X-Ray
subsegments (``## read``, ``## format``, ``## upload``)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, TypeVar

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.metrics.functions import is_metrics_disabled

__all__ = ["MetricUnit", "count_rejection", "emit", "logger", "metrics", "phase", "record_export", "tracer"]

if TYPE_CHECKING:
    from aws_lambda_powertools import Tracer

Handler = TypeVar("Handler", bound=Callable[..., Any])


def tracing_disabled() -> bool:
    """POWERTOOLS_TRACE_DISABLED, read as Powertools reads it."""
    return os.environ.get("POWERTOOLS_TRACE_DISABLED", "false").strip().lower() in ("1", "true", "yes", "on")


class LazyTracer:
    """Powertools' Tracer, built only where tracing is on. Importing the X-Ray SDK costs hundreds of milliseconds of
    cold start (Powertools imports it even for a disabled Tracer), so where POWERTOOLS_TRACE_DISABLED is set (the
    authorizer and the API's functions, template.yaml: Lambda's active tracing still records their segments) it is
    never imported; the workers, whose invocations run for minutes, trace their phases as subsegments."""

    def __init__(self) -> None:
        self._tracer: Tracer | None = None

    @property
    def real(self) -> Tracer:
        if self._tracer is None:
            from aws_lambda_powertools import Tracer  # noqa: PLC0415 - only where tracing is on

            self._tracer = Tracer()
        return self._tracer

    @property
    def provider(self) -> Any:
        return self.real.provider

    def capture_lambda_handler(self, handler: Handler) -> Handler:
        """Powertools' capture_lambda_handler where tracing is on (decided at import: Lambda sets the environment
        first), else the handler itself."""
        if tracing_disabled():
            return handler
        return self.real.capture_lambda_handler(handler)  # type: ignore[return-value]


logger = Logger()
tracer = LazyTracer()
metrics = Metrics()


def phase(name: str) -> AbstractContextManager[Any]:
    """An X-Ray subsegment ``## <name>`` around one phase of an export: ``read``, ``format`` or ``upload`` (nothing
    where tracing is off)."""
    if tracing_disabled():
        return contextlib.nullcontext()
    return tracer.provider.in_subsegment(f"## {name}")  # type: ignore[no-any-return]


def emit(name: str, unit: MetricUnit, value: float, **dimensions: str) -> None:
    """One metric with its own dimensions, published at once (POWERTOOLS_METRICS_DISABLED: not at all)."""
    if is_metrics_disabled():
        return
    with single_metric(name=name, unit=unit, value=value) as metric:
        for key, item in dimensions.items():
            metric.add_dimension(name=key, value=item)


def record_export(fmt: str, rows: int, size: int) -> None:
    emit("RowsExported", MetricUnit.Count, rows, Format=fmt)
    emit("BytesExported", MetricUnit.Bytes, size, Format=fmt)


def count_rejection(reason: str) -> None:
    emit("RequestsRejected", MetricUnit.Count, 1, Reason=reason)
