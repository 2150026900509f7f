"""A local API Gateway (REST): template routes, the REQUEST authorizer first, proxy events, gateway responses."""

from __future__ import annotations

import base64
import json
import logging
import re
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from devtools.lambda_runtime import authorizer_request_event, invoke, rest_proxy_event
from devtools.template import ApiSpec, FunctionSpec, Route
from devtools.usage_plans import UsagePlanMeter

log = logging.getLogger("gateway")

# API Gateway's default status for each gateway response type we can produce.
_DEFAULT_STATUS = {
    "UNAUTHORIZED": 401,
    "ACCESS_DENIED": 403,
    "MISSING_AUTHENTICATION_TOKEN": 403,
    "INVALID_API_KEY": 403,
    "THROTTLED": 429,
    "QUOTA_EXCEEDED": 429,
    "AUTHORIZER_FAILURE": 500,
    "AUTHORIZER_CONFIGURATION_ERROR": 500,
    "INTEGRATION_FAILURE": 504,
}
_MESSAGES = {
    "UNAUTHORIZED": "Unauthorized",
    "ACCESS_DENIED": "User is not authorized to access this resource",
    "MISSING_AUTHENTICATION_TOKEN": "Missing Authentication Token",
    "INVALID_API_KEY": "Forbidden",
    "THROTTLED": "Too Many Requests",
    "QUOTA_EXCEEDED": "Limit Exceeded",
    "AUTHORIZER_FAILURE": "Authorizer failed",
    "AUTHORIZER_CONFIGURATION_ERROR": "Authorizer configuration error",
    "INTEGRATION_FAILURE": "Internal server error",
}


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def _route_pattern(path: str) -> re.Pattern[str]:
    regex = ""
    for part in re.split(r"(\{[^}]+\})", path):
        if part.startswith("{") and part.endswith("+}"):
            regex += f"(?P<{part[1:-2]}>.+)"
        elif part.startswith("{"):
            regex += f"(?P<{part[1:-1]}>[^/]+)"
        else:
            regex += re.escape(part)
    return re.compile(f"^{regex}$")


class LocalApiGateway:
    def __init__(
        self,
        api: ApiSpec,
        functions: Mapping[str, FunctionSpec],
        stage: str = "local",
        usage: UsagePlanMeter | None = None,
    ) -> None:
        self._api = api
        self._functions = functions
        self._stage = stage
        self._usage = usage  # methods require an API key from the authorizer, metered by its usage plan
        # Static segments win over path parameters, as in API Gateway.
        self._routes = sorted(
            ((route, _route_pattern(route.path)) for route in api.routes),
            key=lambda item: item[0].path.count("{"),
        )
        # Powertools' resolver keeps the current event on the app object: one invocation at a time.
        self._lock = threading.Lock()

    def gateway_response(self, kind: str) -> HttpResponse:
        """What API Gateway answers for a gateway response type: the template's settings for the type, else its
        family's (DEFAULT_4XX / DEFAULT_5XX: status code, body template and header parameters), else the default."""
        spec = self._api.gateway_responses.get(kind) or {}
        family = "DEFAULT_5XX" if _DEFAULT_STATUS.get(kind, 500) >= 500 else "DEFAULT_4XX"
        fallback = self._api.gateway_responses.get(family) or {}
        status = int(spec.get("StatusCode", fallback.get("StatusCode", _DEFAULT_STATUS.get(kind, 500))))
        template = (spec.get("ResponseTemplates") or fallback.get("ResponseTemplates") or {}).get("application/json")
        if template is None:
            body = json.dumps({"message": _MESSAGES.get(kind, kind)})
        else:
            body = template.replace("$context.error.messageString", json.dumps(_MESSAGES.get(kind, kind)))
            body = body.replace("$context.error.responseType", kind)
        headers = [("Content-Type", "application/json")]
        for source in (fallback, spec):  # static header values are quoted: "'5'"
            for name, value in ((source.get("ResponseParameters") or {}).get("Headers") or {}).items():
                headers = [(n, v) for n, v in headers if n.lower() != name.lower()]
                headers.append((name, str(value).strip("'")))
        return HttpResponse(status, headers, body.encode("utf-8"))

    def _match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        for route, pattern in self._routes:
            found = pattern.match(path)
            if found and route.method in (method, "ANY"):
                return route, found.groupdict()
        return None

    def handle(self, method: str, target: str, headers: list[tuple[str, str]], body: bytes) -> HttpResponse:
        parts = urlsplit(target)
        matched = self._match(method, parts.path)
        if matched is None:
            return self.gateway_response("MISSING_AUTHENTICATION_TOKEN")
        route, path_parameters = matched
        multi_headers: dict[str, list[str]] = {}
        for name, value in headers:
            multi_headers.setdefault(name, []).append(value)
        multi_query: dict[str, list[str]] = {}
        for name, value in parse_qsl(parts.query, keep_blank_values=True):
            multi_query.setdefault(name, []).append(value)
        event = rest_proxy_event(
            method=method,
            path=parts.path,
            resource=route.path,
            path_parameters=path_parameters,
            headers=multi_headers,
            query=multi_query,
            # the API's BinaryMediaTypes include */*, so API Gateway hands every request body over base64-encoded
            body=base64.b64encode(body).decode("ascii") if body else None,
            is_base64=bool(body),
            stage=self._stage,
        )
        with self._lock:
            if route.authorizer and self._api.authorizer_function:
                denied = self._authorize(event)
                if denied is not None:
                    return denied
            try:
                result = invoke(self._functions[route.function], event)
            except Exception:
                log.exception("function %s raised", route.function)
                return self.gateway_response("INTEGRATION_FAILURE")
        return self._to_http(result, route)

    def _authorize(self, event: dict[str, Any]) -> HttpResponse | None:
        assert self._api.authorizer_function is not None
        try:
            decision = invoke(self._functions[self._api.authorizer_function], authorizer_request_event(event))
        except Exception as exc:
            if str(exc) == "Unauthorized":
                return self.gateway_response("UNAUTHORIZED")
            log.exception("authorizer raised")
            return self.gateway_response("AUTHORIZER_FAILURE")
        statements = (decision or {}).get("policyDocument", {}).get("Statement", [])
        if not statements or any(s.get("Effect") != "Allow" for s in statements):
            return self.gateway_response("ACCESS_DENIED")
        # REST APIs pass the authorizer context to the integration with string values, plus principalId.
        context = {key: str(value) for key, value in (decision.get("context") or {}).items()}
        event["requestContext"]["authorizer"] = {**context, "principalId": decision.get("principalId", "")}
        if self._usage is not None:  # the usage plan of the API key the authorizer names, before any function
            refused = self._usage.admit(decision.get("usageIdentifierKey"))
            if refused is not None:
                return self.gateway_response(refused)
        return None

    def _to_http(self, result: Any, route: Route) -> HttpResponse:
        if not isinstance(result, dict) or "statusCode" not in result:
            log.error("function %s returned a malformed proxy response", route.function)
            return self.gateway_response("INTEGRATION_FAILURE")
        raw = result.get("body") or ""
        body = base64.b64decode(raw) if result.get("isBase64Encoded") else raw.encode("utf-8")
        headers: list[tuple[str, str]] = list((result.get("headers") or {}).items())
        for name, values in (result.get("multiValueHeaders") or {}).items():
            headers.extend((name, value) for value in values if (name, value) not in headers)
        return HttpResponse(int(result["statusCode"]), headers, body)


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """A caller that went away mid-answer (its own timeout, a reset) has nothing left to be told; anything else
        is logged with its traceback."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            log.info("client %s disconnected before its answer was sent", client_address)
            return
        super().handle_error(request, client_address)


def serve(gateway: LocalApiGateway, host: str, port: int) -> ThreadingHTTPServer:
    """Start serving on a daemon thread; returns the server (call ``shutdown()`` to stop)."""

    class _Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _dispatch(self) -> None:
            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                self.send_error(400, "malformed Content-Length")
                return
            body = self.rfile.read(length) if length > 0 else b""
            try:
                response = gateway.handle(self.command, self.path, list(self.headers.items()), body)
            except Exception:  # the gateway itself: answer as API Gateway would, never drop the connection
                log.exception("local gateway failed on %s %s", self.command, self.path)
                response = gateway.gateway_response("DEFAULT_5XX")
            self.send_response(response.status)
            for name, value in response.headers:
                if name.lower() not in ("content-length", "connection"):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(response.body)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _dispatch  # noqa: N815

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            log.info("%s %s", self.address_string(), format % args)

    server = _Server((host, port), _Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="local-gateway", daemon=True).start()
    return server
