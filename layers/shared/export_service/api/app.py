"""The REST resolver every export function uses: validation on, one JSON error shape, no stack traces."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)

from export_service.api.query_guard import check_query_parameters, route_permission
from export_service.errors import ExportServiceError
from export_service.logic.api_keys import principal_from_context, require_permission
from export_service.models.api_keys import Permission
from export_service.observability import logger

JSON = "application/json"


def error_response(status: int, code: str, message: str, **extra: object) -> Response:
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


def _json_or_unsupported(value: str) -> str:
    media, _, parameters = value.partition(";")
    media = media.strip().lower()
    if not media:
        return value
    if media == JSON:
        return JSON + (f";{parameters}" if parameters else "")
    return "unsupported/" + value  # no Powertools body parser takes it: RequestUnsupportedContentType, a 415


def json_bodies_only(event: Mapping[str, Any]) -> Mapping[str, Any]:
    """This API takes JSON bodies only. Powertools would parse form and multipart bodies (and fail with a ValueError
    on a multipart type without a boundary), and it matches ``application/json`` case-sensitively: a body's media
    type is read case-insensitively here, and any other type is marked unsupported, so the 415 handler answers it
    after the permission check."""
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
    return [_json_or_unsupported(item) for item in value] if isinstance(value, list) else _json_or_unsupported(value)


class ExportResolver(APIGatewayRestResolver):
    """The REST resolver with the body's media type checked before Powertools parses it."""

    def resolve(self, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        return super().resolve(json_bodies_only(event), context)


def create_app(routers: Iterable[Router]) -> APIGatewayRestResolver:
    app = ExportResolver(enable_validation=True)
    for router in routers:
        app.include_router(router)

    @app.exception_handler(ExportServiceError)
    def _domain_error(exc: ExportServiceError) -> Response:
        logger.info("request rejected", error=exc.code, status=exc.status, parameter=exc.parameter)
        return Response(status_code=exc.status, content_type=JSON, body=json.dumps(exc.to_body()))

    def _caller_problem() -> Response | None:
        """Who may call comes before what was sent: no key or permission is 401/403 even with bad input."""
        event = app.current_event
        try:
            permission = route_permission(event.resource, event.http_method)
            if permission is not None:
                context = event.request_context.authorizer.get_context()  # type: ignore[attr-defined]
                require_permission(principal_from_context(context), Permission(permission))
            check_query_parameters(event.resource, event.multi_value_query_string_parameters)
        except ExportServiceError as guard_error:
            return _domain_error(guard_error)
        return None

    @app.exception_handler(RequestUnsupportedContentType)
    def _unsupported_body(_exc: RequestUnsupportedContentType) -> Response:
        return _caller_problem() or error_response(
            415,
            "UNSUPPORTED_MEDIA_TYPE",
            "send the body as JSON with 'Content-Type: application/json'",
            parameter="body",
        )

    @app.exception_handler(UnicodeDecodeError)
    def _undecodable_body(_exc: UnicodeDecodeError) -> Response:
        # API Gateway hands every body over base64-encoded (BinaryMediaTypes has */*); one that is not UTF-8 text
        return _caller_problem() or error_response(
            400, "INVALID_PARAMETER", "the request body is not UTF-8 JSON", parameter="body"
        )

    @app.exception_handler(RequestValidationError)
    def _validation_error(exc: RequestValidationError) -> Response:
        event = app.current_event
        problem = _caller_problem()
        if problem is not None:
            return problem
        first = exc.errors()[0] if exc.errors() else {}
        if first.get("loc", ())[:1] == ("body",):
            parameter, message = _body_problem(first)
            content_type = (event.headers or {}).get("content-type") or (event.headers or {}).get("Content-Type", "")
            if "json" not in content_type.lower():
                message += "; send the body as JSON with 'Content-Type: application/json'"
            return error_response(400, "INVALID_PARAMETER", message, parameter=parameter)
        location = [str(part) for part in first.get("loc", ())]
        name = location[-1] if location else None
        where = "query parameter" if location[:1] == ["query"] else "request field"
        message = f"{where} '{name}': {first.get('msg', 'invalid value')}"
        return error_response(400, "INVALID_PARAMETER", message, parameter=name)

    @app.not_found
    def _not_found(_exc: Exception) -> Response:
        return error_response(
            404, "NOT_FOUND", f"no route for {app.current_event.http_method} {app.current_event.path}"
        )

    @app.exception_handler(Exception)
    def _unexpected(exc: Exception) -> Response:
        logger.exception("unhandled error")
        return error_response(500, "INTERNAL_ERROR", "the export failed unexpectedly; try again or contact support")

    return app
