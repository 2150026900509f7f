"""The service's public HTTP API, and plain HTTP for presigned links, over requests with urllib3 retries.

Idempotent requests (GET, HEAD) are retried on connection errors and on 429/500/502/503/504 with exponential
backoff, honouring ``Retry-After``; ``POST /v1/exports`` is retried only when the connection could not be made (a
second POST would start a second job). Every request has a connect and a read timeout.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from export_client import __version__
from export_client.errors import ClientError, Exit

USER_AGENT = f"exports-client/{__version__}"
CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 120.0  # a synchronous export may take a while before its first byte
Params = Mapping[str, str | Sequence[str]]


def make_session(retries: int = 5, backoff: float = 0.5) -> requests.Session:
    retry = Retry(
        total=retries,
        connect=retries,
        read=retries,
        status=retries,
        backoff_factor=backoff,
        status_forcelist=(429, 500, 502, 503, 504),
        allowed_methods=frozenset({"GET", "HEAD"}),
        respect_retry_after_header=True,
        raise_on_status=False,  # the last answer is returned and turned into a ClientError by its status
    )
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = USER_AGENT
    session.headers["Accept-Encoding"] = "gzip"  # what the client decodes (a synchronous export fits more rows so)
    return session


def api_error(response: requests.Response) -> ClientError:
    """The service's JSON error ({status, error, message, parameter}) as a ClientError with its exit code."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    code = str(body.get("error") or "")
    message = str(body.get("message") or response.reason or "error")
    if body.get("parameter"):
        message += f" (parameter: {body['parameter']})"
    status = response.status_code
    if status in (401, 403):
        exit_code = Exit.AUTH
    elif status < 500:
        exit_code = Exit.REJECTED
    else:
        exit_code = Exit.NETWORK
    return ClientError(exit_code, f"HTTP {status} {code}: {message}".replace(" : ", ": "), status=status, error=code)


def network_error(where: str, error: Exception) -> ClientError:
    return ClientError(Exit.NETWORK, f"could not reach {where}: {error.__class__.__name__}: {error}")


class Api:
    """The routes the client uses. ``endpoint`` is the base URL (the stack's ApiUrl, or http://127.0.0.1:3000)."""

    def __init__(self, endpoint: str, key: str, *, session: requests.Session | None = None) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.session = session or make_session()
        self._auth = {"Authorization": f"Bearer {key}"}

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        body: Any = None,
        stream: bool = False,
        accept_statuses: Sequence[int] = (),
    ) -> requests.Response:
        url = self.endpoint + path
        try:
            response = self.session.request(
                method,
                url,
                params=params,
                json=body,
                headers=self._auth,
                stream=stream,
                timeout=(CONNECT_TIMEOUT, READ_TIMEOUT),
            )
        except requests.RequestException as error:
            raise network_error(self.endpoint, error) from None
        if response.status_code >= 400 and response.status_code not in accept_statuses:
            try:
                raise api_error(response)
            finally:
                response.close()
        return response

    def get_json(self, path: str, params: Params | None = None) -> dict[str, Any]:
        response = self.request("GET", path, params=params)
        try:
            document = response.json()
        except ValueError:
            raise ClientError(Exit.NETWORK, f"GET {path}: the answer is not JSON") from None
        if not isinstance(document, dict):
            raise ClientError(Exit.NETWORK, f"GET {path}: a JSON object was expected")
        return document

    def start_export(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """POST /v1/exports: 202 with the ExportJob."""
        response = self.request("POST", "/v1/exports", body=dict(body))
        return dict(response.json())

    def job(self, job_id: str) -> dict[str, Any]:
        return self.get_json(f"/v1/exports/{job_id}")

    def jobs(self) -> list[dict[str, Any]]:
        return list(self.get_json("/v1/exports").get("items", []))

    def export_requests(self, newer_than: str | None, limit: int = 300) -> dict[str, Any]:
        params: dict[str, str] = {"limit": str(limit)}
        if newer_than:
            params["newer_than"] = newer_than
        return self.get_json("/v1/export-requests", params)
