"""The REST resolver every export function uses: validation on, one JSON error shape, no stack traces."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.api_gateway import ResponseBuilder
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as AwsConnectionError

from export_service.api.endpoint import Endpoint, EndpointRouter, UnsupportedMediaTypeError, admit
from export_service.aws_clients import RETRY_AFTER_SECONDS, unavailable
from export_service.errors import (
    ExportServiceError,
    InternalError,
    InvalidParameterError,
    NotFoundError,
    ServiceUnavailableError,
)
from export_service.observability import count_rejection, logger

JSON = "application/json"


def error_response(status: int, code: str, message: str, **extra: object) -> Response:
    """An error answer in the error model. Prefer raising an ExportServiceError: the OpenAPI document lists the
    codes of those classes (devtools/openapi.py), not of ad-hoc answers."""
    count_rejection(code)
    body = {"status": status, "error": code, "message": message, **extra}
    return Response(status_code=status, content_type=JSON, body=json.dumps(body))


def _body_problem(error: Mapping[str, Any]) -> tuple[str, str]:
    """The body field a validation error is about, as a path (``upload_dates[2]``), and what to fix."""
    if error.get("type") == "json_invalid":
        return "body", "the request body is not valid JSON"
    path = ""
    for part in error.get("loc", ())[1:]:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    if not path:
        return "body", f"the request body must be a JSON object: {error.get('msg', 'invalid value')}"
    return path, f"request field '{path}': {error.get('msg', 'invalid value')}"


def _json_media_type(value: str) -> str:
    media, _, parameters = value.partition(";")
    if media.strip().lower() != JSON:
        return value
    return JSON + (f";{parameters}" if parameters else "")


def json_media_types(event: Mapping[str, Any]) -> Mapping[str, Any]:
    """JSON's media type in any letter case, as Powertools' body parser matches it (in lower case only); any other
    type never reaches the parser (the endpoint check answers 415)."""
    if not event.get("body"):
        return event
    changed = dict(event)
    for key in ("headers", "multiValueHeaders"):
        changed[key] = {
            name: _content_type(value) if name.lower() == "content-type" else value
            for name, value in (event.get(key) or {}).items()
        }
    return changed


def _content_type(value: str | list[str]) -> str | list[str]:
    """One header value (``headers``) or its list (``multiValueHeaders``)."""
    return [_json_media_type(item) for item in value] if isinstance(value, list) else _json_media_type(value)


_OPEN_KEY = re.compile(r"^(?P<name>[A-Za-z_]+)\[(?P<key>[A-Za-z0-9_]+)$")


def _assignment(name: str, value: str) -> tuple[str, str] | None:
    """``metadata[entity_id=<id>]`` as a query string carries it: split at its first ``=``, the name is
    ``metadata[entity_id`` and the value ``<id>]``."""
    match = _OPEN_KEY.match(name)
    if match is None or not value.endswith("]") or "[" in value:
        return None
    return f"{match['name']}[{match['key']}]", value[:-1]


def bracket_assignments(event: Mapping[str, Any]) -> Mapping[str, Any]:
    """``metadata[entity_id=<id>]`` (a bracket holding its own value, as one documented example writes a metadata
    filter) is read as ``metadata[entity_id]=<id>``."""
    multi = event.get("multiValueQueryStringParameters") or {}
    if not any(_assignment(name, value) for name, values in multi.items() for value in values):
        return event
    rewritten: dict[str, list[str]] = {}
    for name, values in multi.items():
        for value in values:
            target, kept = _assignment(name, value) or (name, value)
            rewritten.setdefault(target, []).append(kept)
    changed = dict(event)
    changed["multiValueQueryStringParameters"] = rewritten
    changed["queryStringParameters"] = {name: values[-1] for name, values in rewritten.items()}
    return changed


def _domain_error(exc: ExportServiceError) -> Response:
    logger.info("request rejected", error=exc.code, status=exc.status, parameter=exc.parameter)
    count_rejection(exc.code)
    headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after is not None else None
    return Response(status_code=exc.status, content_type=JSON, body=json.dumps(exc.to_body()), headers=headers)


def _aws_error(exc: Exception) -> Response:
    """An AWS call that failed: unreachable, timed out or throttled after the retries is a 503 to retry later (in
    the error model, with Retry-After); anything else (a missing grant or resource) is the generic 500."""
    if not unavailable(exc):
        return _unexpected_error(exc)
    logger.warning("AWS service unavailable", error_type=type(exc).__name__, error=str(exc)[:300])
    return _domain_error(
        ServiceUnavailableError(
            f"a service the export depends on did not answer in time; retry after {RETRY_AFTER_SECONDS} seconds",
            retry_after=RETRY_AFTER_SECONDS,
        )
    )


def _unexpected_error(exc: Exception) -> Response:
    logger.exception("unhandled error")
    return _domain_error(InternalError("the export failed unexpectedly; try again or contact support"))


class ExportResolver(APIGatewayRestResolver):
    """The REST resolver that admits each request against its endpoint's declaration before Powertools validates
    it: who may call comes before what was sent (no key or permission is 401/403 even with bad input)."""

    def __init__(self, endpoints: Mapping[tuple[str, str], Endpoint]) -> None:
        super().__init__(enable_validation=True)
        self._endpoints = dict(endpoints)

    def resolve(self, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        return super().resolve(bracket_assignments(json_media_types(event)), context)

    def _resolve(self) -> ResponseBuilder:
        event = self.current_event
        endpoint = self._endpoints.get((event.http_method.upper(), event.resource))
        if endpoint is not None:
            try:
                principal = admit(event, endpoint)  # type: ignore[arg-type]  # the REST proxy event
            except ExportServiceError as refused:
                return ResponseBuilder(_domain_error(refused), serializer=self._serializer)
            self.append_context(principal=principal, face=endpoint.face)
        return super()._resolve()


def create_app(routers: Iterable[EndpointRouter]) -> APIGatewayRestResolver:
    routers = list(routers)
    app = ExportResolver({key: value for router in routers for key, value in router.endpoints.items()})
    for router in routers:
        app.include_router(router)

    app.exception_handler(ExportServiceError)(_domain_error)

    @app.exception_handler(RequestUnsupportedContentType)
    def _unsupported_body(_exc: RequestUnsupportedContentType) -> Response:
        return _domain_error(
            UnsupportedMediaTypeError("send the body as JSON with 'Content-Type: application/json'", parameter="body")
        )

    @app.exception_handler(RequestValidationError)
    def _validation_error(exc: RequestValidationError) -> Response:
        event = app.current_event
        first = exc.errors()[0] if exc.errors() else {}
        if first.get("loc", ())[:1] == ("body",):
            parameter, message = _body_problem(first)
            content_type = (event.headers or {}).get("content-type") or (event.headers or {}).get("Content-Type", "")
            if "json" not in content_type.lower():
                message += "; send the body as JSON with 'Content-Type: application/json'"
            return _domain_error(InvalidParameterError(message, parameter=parameter))
        location = [str(part) for part in first.get("loc", ())]
        name = location[-1] if location else None
        where = "query parameter" if location[:1] == ["query"] else "request field"
        message = f"{where} '{name}': {first.get('msg', 'invalid value')}"
        return _domain_error(InvalidParameterError(message, parameter=name))

    @app.not_found
    def _not_found(_exc: Exception) -> Response:
        return _domain_error(NotFoundError(f"no route for {app.current_event.http_method} {app.current_event.path}"))

    # botocore's connection failures and timeouts, and a service's error answers (throttling, 5xx: 503)
    app.exception_handler([AwsConnectionError, HTTPClientError, ClientError])(_aws_error)
    app.exception_handler(Exception)(_unexpected_error)

    return app
