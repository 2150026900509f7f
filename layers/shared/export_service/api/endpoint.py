"""An endpoint is declared once: its paths, its permission and its query model, on the route itself.

``EndpointRouter.endpoint`` registers the route with Powertools at each of its paths and keeps the declaration; the
resolver (api/app.py) admits a request against it before Powertools validates anything, in one order everywhere:
the caller (401), a ``{tenant}`` path segment that is not the key's tenant (404, as if it did not exist), the route's
permission (403), unknown or repeated query parameters and JSON ``filter``/``sort`` nested too deep or too long
(400), the body's media type (415), size (413), encoding and nesting (400), before anything parses it. Routes
then read the admitted principal with ``caller`` and, for an endpoint mounted at several paths, which face of it the
caller used (``face``: the product's own API, or a drop-in path that answers in another API's shapes).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from export_service import json_bounds
from export_service.errors import (
    ExportServiceError,
    ForbiddenError,
    InvalidParameterError,
    NotFoundError,
    UnknownParameterError,
)
from export_service.logic.api_keys import principal_from_context, require_permission
from export_service.models.api_keys import Permission, Principal
from export_service.models.export import QueryModel

JSON = "application/json"
JSON_PARAMETERS = frozenset({"filter", "sort"})  # URL-encoded JSON: bounded before it is parsed


class UnsupportedMediaTypeError(ExportServiceError):
    status = 415
    code = "UNSUPPORTED_MEDIA_TYPE"


@dataclass(frozen=True)
class AllOf:
    """A route that needs every one of these permissions."""

    permissions: tuple[Permission, ...]


@dataclass(frozen=True)
class AnyOf:
    """A route that any one of these permissions admits (its rows are then scoped by the ones the key holds)."""

    permissions: tuple[Permission, ...]


Requirement = Permission | AllOf | AnyOf


def require(principal: Principal, requirement: Requirement) -> None:
    """403 naming what the key lacks."""
    if isinstance(requirement, Permission):
        require_permission(principal, requirement)
    elif isinstance(requirement, AllOf):
        held = principal.permissions
        missing = [permission.value for permission in requirement.permissions if permission not in held]
        if missing:
            raise ForbiddenError(f"this API key lacks the {' and '.join(missing)} permission")
    elif not set(requirement.permissions) & principal.permissions:
        names = " or ".join(permission.value for permission in requirement.permissions)
        raise ForbiddenError(f"this API key lacks a permission this route needs: {names}")


@dataclass(frozen=True)
class Endpoint:
    """What a route asks of its callers. ``permission`` None: any valid key (the data's own permission is then
    checked where only the data knows it, as an export job's dataset)."""

    permission: Requirement | None
    query: type[QueryModel] | None = None
    face: str = ""  # which API's shapes the path answers in ("": the product's own)

    @property
    def parameters(self) -> frozenset[str]:
        return self.query.parameter_names() if self.query else frozenset()

    @property
    def repeatable(self) -> frozenset[str]:
        return self.query.repeatable_names() if self.query else frozenset()


def resource_of(rule: str) -> str:
    """API Gateway's resource for a Powertools rule: ``/v1/exports/<jobId>`` -> ``/v1/exports/{jobId}``."""
    return rule.replace("<", "{").replace(">", "}")


class EndpointRouter(Router):
    """A Router whose routes carry their declaration (permission, query model) for the resolver to admit against."""

    def __init__(self) -> None:
        super().__init__()
        self.endpoints: dict[tuple[str, str], Endpoint] = {}

    def endpoint(
        self,
        method: str,
        paths: str | Mapping[str, str],
        *,
        permission: Requirement | None,
        query: type[QueryModel] | None = None,
        tags: Mapping[str, Sequence[str]] | Sequence[str] | None = None,
        **openapi: Any,
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Register one function at each of ``paths``: a path, or path -> face (the same endpoint mounted at several
        paths, each answering in its API's shapes). ``tags``: the OpenAPI tags, or face -> tags."""
        mounted = {paths: ""} if isinstance(paths, str) else dict(paths)

        def register(func: Callable[..., Any]) -> Callable[..., Any]:
            for path, face in mounted.items():
                self.endpoints[(method.upper(), resource_of(path))] = Endpoint(permission, query, face)
                face_tags = tags.get(face) if isinstance(tags, Mapping) else tags
                self.route(path, method.upper(), tags=list(face_tags) if face_tags else None, **openapi)(func)
            return func

        return register


def admit(event: APIGatewayProxyEvent, endpoint: Endpoint) -> Principal:
    """The caller of a request, checked against the route's declaration; raises the first problem found."""
    principal = principal_from_context(event.request_context.authorizer.get_context())
    tenant = (event.path_parameters or {}).get("tenant")
    if tenant is not None and tenant != principal.tenant_id:
        raise NotFoundError(f"no route for {event.http_method} {event.path}")  # another tenant's does not exist
    if endpoint.permission is not None:
        require(principal, endpoint.permission)
    check_query(event.multi_value_query_string_parameters, endpoint)
    check_body(event)
    return principal


def check_query(multi_value: Mapping[str, Sequence[str]] | None, endpoint: Endpoint) -> None:
    """Powertools' validation ignores unknown parameters and keeps one value of a scalar given twice: both are
    mistakes a caller should hear about."""
    allowed = endpoint.parameters
    for name, values in (multi_value or {}).items():
        if name not in allowed:
            raise UnknownParameterError(
                f"unknown query parameter '{name}'; accepted: {', '.join(sorted(allowed))}", parameter=name
            )
        if len(values) > 1 and name not in endpoint.repeatable:
            raise InvalidParameterError(f"query parameter '{name}' was given {len(values)} times", parameter=name)
        if name in JSON_PARAMETERS:
            for value in values:
                json_bounds.check_parameter(name, value)  # before anything parses it


def check_body(event: APIGatewayProxyEvent) -> None:
    """This API takes JSON bodies only, as UTF-8 (API Gateway hands every body over base64-encoded)."""
    if not event.body:
        return
    media = _header(event, "content-type").partition(";")[0].strip().lower()
    if media and media != JSON:
        raise UnsupportedMediaTypeError("send the body as JSON with 'Content-Type: application/json'", parameter="body")
    text, size = event.body, len(event.body.encode("utf-8"))
    if event.is_base64_encoded:
        size = len(event.body) * 3 // 4  # bounded before decoding
        if size <= json_bounds.MAX_BODY_BYTES:
            try:
                text = base64.b64decode(event.body, validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                raise InvalidParameterError("the request body is not UTF-8 JSON", parameter="body") from None
            size = len(text.encode("utf-8"))
    json_bounds.check_body(text, size)  # size and nesting, before the body parser can recurse


def _header(event: APIGatewayProxyEvent, name: str) -> str:
    for key, value in (event.headers or {}).items():
        if key.lower() == name and value:
            return value
    return ""


def caller(router: Router) -> Principal:
    """The principal the resolver admitted for this request."""
    principal = router.context.get("principal")
    assert isinstance(principal, Principal), "route without an endpoint declaration"
    return principal


def face(router: Router) -> str:
    """Which face of the endpoint the caller used ("": the product's own API)."""
    return str(router.context.get("face", ""))


def request_event(router: Router) -> APIGatewayProxyEvent:
    event = router.current_event
    assert isinstance(event, APIGatewayProxyEvent)
    return event
