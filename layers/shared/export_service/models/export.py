"""What every export request shares: the one format enum, and the base of the models that declare an endpoint's
query parameters once (for the route, its OpenAPI, the parameter check and the job that re-runs the request)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal, Self, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, model_validator

from export_service.errors import InvalidParameterError


class ExportFormat(StrEnum):
    """Every file an export can be: the tabular formats, the audit log's PDF report (synchronous only) and Parquet
    (typed columns; written by export jobs only)."""

    CSV = "csv"
    JSON = "json"
    JSONL = "jsonl"
    PDF = "pdf"
    PARQUET = "parquet"


class Face(StrEnum):
    """Which API's shapes a path answers in: the product's own, or a drop-in path of an API users already call."""

    PRODUCT = ""
    RUNBOOK_AUDIT = "runbook-audit"  # /api/v1/audit/export
    AUDIT_SENTINEL = "audit-sentinel"  # /v5/audit-sentinel/events/export
    INCIDENT_BACKEND = "incident-backend"  # /api/backend/{tenant}/...
    DATA_EXPORT = "data-export"  # /v1/integrations/data_export/...
    CATALOG_EXPORT = "catalog-export"  # /api/export/v1/<resource>: the data-observability catalog's CSV exports

    @property
    def tags(self) -> list[str]:
        """The OpenAPI tag of the drop-in paths of this face."""
        return [f"compatible: {self.value}"] if self.value else []


# What a dataset without a report (and every export job) produces.
TabularFormat = Literal["csv", "json", "jsonl"]
TABULAR_FORMATS = (ExportFormat.CSV, ExportFormat.JSON, ExportFormat.JSONL)
# What an export job writes: the tabular formats, and Parquet (the CSV's rows with typed columns)
JobFormat = Literal["csv", "json", "jsonl", "parquet"]


class QueryModel(BaseModel):
    """An endpoint's query parameters. Field aliases are the parameter names; a list field may be repeated (or given
    comma-separated); every other parameter once. Values arrive as text from a query string or as JSON values from
    a job's body, so numbers are accepted where text is expected."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True, coerce_numbers_to_str=True)

    @model_validator(mode="before")
    @classmethod
    def _one_value_of_a_list(cls, data: Any) -> Any:
        """A list parameter given one value (a JSON body's ``"severities": "HIGH"``) is a list of that value."""
        if not isinstance(data, dict):
            return data
        lists = cls.repeatable_names()
        return {
            name: [value] if name in lists and isinstance(value, str | int) else value for name, value in data.items()
        }

    @classmethod
    def parameter_names(cls) -> frozenset[str]:
        return frozenset(field.alias or name for name, field in cls.model_fields.items())

    @classmethod
    def repeatable_names(cls) -> frozenset[str]:
        return frozenset(field.alias or name for name, field in cls.model_fields.items() if _is_list(field.annotation))

    def parameters(self) -> dict[str, Any]:
        """The request as the parameters it was given (what a job stores, and validates with this model again at
        every step)."""
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True, exclude_none=True)

    def with_end(self, end: str) -> Self:
        """The same request with the end of its range fixed at ``end`` unless it gives one (a job's steps then read
        the same rows however long it runs). A model without a range returns itself."""
        return self


class ManifestOption(QueryModel):
    """The parameter every synchronous file export shares: ``manifest=true`` asks for the signed manifest of the very
    answer it gets. Not a parameter of the rows: left out of ``parameters()``, so a job never stores it."""

    manifest: bool = Field(
        False,
        description="true: also store the signed manifest of this exact answer (SHA-256, bytes and rows of the file, "
        "tenant, dataset, format, filter, range) and link it in the `Link` header (rel=describedby, presigned "
        "for 300 s). Every file answer carries `Repr-Digest` (sha-256) and `X-Record-Count` either way",
    )

    def parameters(self) -> dict[str, Any]:
        return {name: value for name, value in super().parameters().items() if name != "manifest"}


def _is_list(annotation: Any) -> bool:
    if get_origin(annotation) is list:
        return True
    return any(get_origin(arg) is list for arg in get_args(annotation))


def pick_one(*candidates: tuple[str, str | None]) -> tuple[str, str] | None:
    """The one given of synonymous parameters (``from``/``range_start``), as (name, value); two at once are
    ambiguous (400 naming the second)."""
    given = [(name, value) for name, value in candidates if value is not None]
    if len(given) > 1:
        raise InvalidParameterError(f"give either '{given[0][0]}' or '{given[1][0]}', not both", parameter=given[1][0])
    return given[0] if given else None
