"""The incident filters, validated once for the list, its export, the distribution and the summary."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from export_service.dal.incident_store import IncidentQuery
from export_service.errors import InvalidParameterError, InvalidRangeError
from export_service.logic.dataset_export import list_filter, split_values
from export_service.models.incident_api import IncidentFilterParams
from export_service.models.incidents import IMPACTS, SEVERITIES, STATUSES
from export_service.timefmt import ceil_to_millisecond, format_instant, parse_instant

# name -> accepted values (None: free text, or integers for project_ids)
INCIDENT_FILTERS: dict[str, tuple[str, ...] | None] = {
    "project_ids": None,
    "connection_types": None,
    "alert_policy_ids": None,
    "severities": SEVERITIES,
    "impacts": IMPACTS,
    "connection_ids": None,
    "statuses": STATUSES,
    "tags": None,
}
# Free-text lists are each an IN of their own in one FilterExpression (4 KB at most): 50 values each keeps the
# worst case well under it.
_MOST = {"connection_types": 50, "alert_policy_ids": 50, "connection_ids": 50}
MAX_SEARCH_CHARS = 128


class IncidentFilter(BaseModel):
    """A validated request: the tenant, the store's filters and the created_at range (both ends inclusive)."""

    model_config = ConfigDict(frozen=True)

    tenant_id: str
    query: IncidentQuery
    start: datetime | None
    end: datetime
    end_given: bool

    @property
    def bounded(self) -> bool:
        """Whether the caller gave a time bound (else an export's file is named after today)."""
        return self.start is not None or self.end_given

    def fingerprint(self) -> str:
        """What identifies the query (not the page): a cursor is valid only for the same fingerprint."""
        document = {
            "query": self.query.model_dump(exclude_defaults=True),
            "start": format_instant(self.start) if self.start else None,
            "end": format_instant(self.end) if self.end_given else None,
        }
        return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()


def _search(text: str | None) -> str | None:
    if text is None or not text.strip():
        return None
    if len(text) > MAX_SEARCH_CHARS:
        raise InvalidParameterError(
            f"query parameter 'text_to_search' is longer than {MAX_SEARCH_CHARS} characters", parameter="text_to_search"
        )
    if any(ord(char) < 32 for char in text):
        raise InvalidParameterError(
            "query parameter 'text_to_search' must not contain control characters (tab, newline ...)",
            parameter="text_to_search",
        )
    return text.strip().lower()


def build_incident_filter(tenant_id: str, params: IncidentFilterParams, now: datetime) -> IncidentFilter:
    lists, from_time, to_time = params.lists(), params.from_time, params.to_time
    chosen: dict[str, Any] = {}
    for name in INCIDENT_FILTERS:
        values = split_values(lists.get(name))
        if values is not None:
            chosen[name] = list_filter(name, values, f"query parameter '{name}'", INCIDENT_FILTERS, _MOST.get(name))
    start = ceil_to_millisecond(parse_instant(from_time, "from_time")) if from_time is not None else None
    end = parse_instant(to_time, "to_time") if to_time is not None else now
    if start is not None and start > end:
        raise InvalidRangeError(
            f"'from_time' ({format_instant(start)}) is after 'to_time' ({format_instant(end)})", parameter="from_time"
        )
    return IncidentFilter(
        tenant_id=tenant_id,
        query=IncidentQuery(**chosen, search=_search(params.text_to_search)),
        start=start,
        end=end,
        end_given=to_time is not None,
    )
