"""EventBridge access: completion events of export jobs and nightly exports, put on the configured bus."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

EVENT_SOURCE = "export-service"


class EventsNotPublishedError(RuntimeError):
    pass


class EventBus:
    def __init__(self, client: Any, bus_name: str) -> None:
        self._client = client
        self.bus_name = bus_name

    def put(self, detail_type: str, detail: Mapping[str, Any]) -> None:
        """One event; raises when EventBridge did not take it (the step fails and is retried)."""
        response = self._client.put_events(
            Entries=[
                {
                    "Source": EVENT_SOURCE,
                    "DetailType": detail_type,
                    "Detail": json.dumps(detail, sort_keys=True),
                    "EventBusName": self.bus_name,
                }
            ]
        )
        if response.get("FailedEntryCount"):
            failed = [entry for entry in response.get("Entries", ()) if entry.get("ErrorCode")]
            code = failed[0].get("ErrorCode") if failed else "unknown"
            raise EventsNotPublishedError(f"EventBridge refused the {detail_type!r} event ({code})")
