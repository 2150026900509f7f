"""Idempotent job starts (Powertools Idempotency, its DynamoDB persistence layer on IdempotencyTable).

- ``POST /v1/exports`` with an ``Idempotency-Key`` header: the same key (per API key) with the same body answers the
  job the first request started, for 24 hours; the same key with another body is a 422 naming the header, and while
  the first request is still being answered a 409 with Retry-After (the IETF httpapi Idempotency-Key draft's codes).
  Without the header nothing is deduplicated.
- A synchronous export over the limit answers 202 with a job; the same request (same key, path and query) repeated
  within 5 minutes, as a client retries a request it did not see answered, answers that job instead of starting
  another.

A start that fails (400, 403, 429 ...) keeps nothing: Powertools deletes its record, so a retry can succeed. An
unreachable idempotency table is a 503 like any other outage.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyPersistenceLayerError,
    IdempotencyValidationError,
)

from export_service.aws_clients import RETRY_AFTER_SECONDS, aws_client, unavailable
from export_service.config import get_settings
from export_service.errors import ExportServiceError, InvalidParameterError, ServiceUnavailableError
from export_service.models.api_keys import Principal

HEADER = "Idempotency-Key"
JOB_START_SECONDS = 24 * 3600
SYNC_RETRY_SECONDS = 300
_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")  # visible ASCII, as HTTP header tokens and UUIDs are

Job = dict[str, Any]


class IdempotencyKeyReusedError(ExportServiceError):
    status = 422
    code = "IDEMPOTENCY_KEY_REUSED"


class IdempotencyKeyInUseError(ExportServiceError):
    status = 409
    code = "IDEMPOTENCY_KEY_IN_USE"
    retry_after = 1


@lru_cache(maxsize=2)
def _persistence(use: str) -> DynamoDBPersistenceLayer:
    """One persistence layer per use: Powertools configures a layer once, with its first use's settings."""
    # A client of its own: Powertools adds its user-agent handler to the client it is given.
    return DynamoDBPersistenceLayer(
        table_name=get_settings().idempotency_table_name, boto3_client=aws_client("dynamodb")
    )


def _guarded(call: Callable[[], Job]) -> Job:
    try:
        return call()
    except IdempotencyValidationError:
        raise IdempotencyKeyReusedError(
            f"this {HEADER} was used with a different request body in the last 24 hours; send a new key for a new "
            "export, or the same body to get the job the key started",
            parameter=HEADER,
        ) from None
    except IdempotencyAlreadyInProgressError:
        raise IdempotencyKeyInUseError(
            f"a request with this {HEADER} is still being answered; retry after 1 second", parameter=HEADER
        ) from None
    except IdempotencyPersistenceLayerError as failed:
        cause = failed.__cause__
        if cause is not None and unavailable(cause):
            raise ServiceUnavailableError(
                f"a service the export depends on did not answer in time; retry after {RETRY_AFTER_SECONDS} seconds",
                retry_after=RETRY_AFTER_SECONDS,
            ) from None
        raise


def idempotency_key(headers: Mapping[str, str] | None) -> str | None:
    """The request's Idempotency-Key header (any letter case), or None; a malformed one is a 400 naming it."""
    for name, value in (headers or {}).items():
        if name.lower() == HEADER.lower():
            if value is None or not _KEY.match(value.strip()):
                raise InvalidParameterError(
                    f"header '{HEADER}' must be 1 to 255 visible ASCII characters, e.g. a UUID", parameter=HEADER
                )
            return value.strip()
    return None


def start_once(
    router: Router, principal: Principal, key: str | None, body: Mapping[str, Any], start: Callable[[], Job]
) -> Job:
    """``start()``'s job, or, for a key already used with this body by this API key, the job it started."""
    if key is None or not get_settings().idempotency_table_name:
        return start()
    persistence = _persistence("job-start")
    config = IdempotencyConfig(
        event_key_jmespath="[tenant, key_id, idempotency_key]",
        payload_validation_jmespath="body",
        expires_after_seconds=JOB_START_SECONDS,
        lambda_context=router.lambda_context,  # an interrupted first request frees its key when its Lambda times out
    )

    @idempotent_function(
        data_keyword_argument="request", config=config, persistence_store=persistence, key_prefix="export-job-start"
    )
    def started(request: Mapping[str, Any]) -> Job:
        return start()

    request = {"tenant": principal.tenant_id, "key_id": principal.key_id, "idempotency_key": key, "body": dict(body)}
    return _guarded(lambda: started(request=request))


def hand_over_once(
    router: Router,
    principal: Principal,
    path: str,
    query: Mapping[str, Sequence[str]] | None,
    start: Callable[[], Job],
) -> Job:
    """The job of an over-limit synchronous request: ``start()``'s, or the one the same request (same API key,
    path and query) started in the last 5 minutes."""
    if not get_settings().idempotency_table_name:
        return start()
    persistence = _persistence("sync-handover")
    config = IdempotencyConfig(
        event_key_jmespath="@", expires_after_seconds=SYNC_RETRY_SECONDS, lambda_context=router.lambda_context
    )

    @idempotent_function(
        data_keyword_argument="request", config=config, persistence_store=persistence, key_prefix="sync-handover"
    )
    def started(request: Mapping[str, Any]) -> Job:
        return start()

    request = {
        "tenant": principal.tenant_id,
        "key_id": principal.key_id,
        "path": path,
        "query": {name: list(values) for name, values in sorted((query or {}).items())},
    }
    return _guarded(lambda: started(request=request))
