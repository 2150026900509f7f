"""Running the installed `exports` command against the local stack, through a proxy that can misbehave.

The command is a subprocess with its configuration in the environment (EXPORTS_ENDPOINT, EXPORTS_KEY), as a user or
a cron job runs it. To interrupt a download, expire a link or corrupt a file, its HTTP goes through ``FaultyProxy``
(``http_proxy``): a forward proxy on loopback that relays every request to the stack and applies the faults queued
for requests whose path matches, in order: ``cut:<n>`` sends the headers and the first n bytes then drops the
connection, ``expire`` answers 403 as S3 answers an expired link, ``flip`` changes one byte of the body.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tests.e2e.conftest import ROOT

_HOP = {"connection", "keep-alive", "proxy-connection", "proxy-authorization", "te", "trailer", "upgrade"}
EXPIRED = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>Request has expired</Message>'
    b"</Error>"
)


@dataclass
class FaultyProxy:
    faults: list[tuple[str, str]] = field(default_factory=list)  # (path fragment, fault), each used once, in order
    always: dict[str, str] = field(default_factory=dict)  # path fragment -> fault applied to every match
    log: list[tuple[str, str, str | None, int]] = field(default_factory=list)  # method, path, Range, status sent
    url: str = ""

    def _fault(self, path: str) -> str | None:
        for at, (fragment, fault) in enumerate(self.faults):
            if fragment in path:
                del self.faults[at]
                return fault
        return next((fault for fragment, fault in self.always.items() if fragment in path), None)

    def relay(self, handler: BaseHTTPRequestHandler) -> None:
        target = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else None
        headers = {k: v for k, v in handler.headers.items() if k.lower() not in _HOP}
        fault = self._fault(target.path)
        if fault == "expire":
            self._send(handler, target.path, headers, 403, "Forbidden", [("Content-Type", "application/xml")], EXPIRED)
            return
        upstream = http.client.HTTPConnection(target.hostname or "127.0.0.1", target.port or 80, timeout=300)
        try:
            path = target.path + (f"?{target.query}" if target.query else "")
            upstream.request(handler.command, path, body=body, headers=headers)
            answer = upstream.getresponse()
            data = answer.read()
            kept = [(k, v) for k, v in answer.getheaders() if k.lower() not in _HOP | {"content-length"}]
        finally:
            upstream.close()
        if fault == "flip" and data:
            data = bytes([data[len(data) // 2] ^ 0x20]).join([data[: len(data) // 2], data[len(data) // 2 + 1 :]])
        cut = int(fault.split(":")[1]) if fault and fault.startswith("cut:") else None
        self._send(handler, target.path, headers, answer.status, answer.reason, kept, data, cut)

    def _send(self, handler, path, headers, status, reason, kept, data, cut=None) -> None:
        self.log.append((handler.command, path, headers.get("Range"), status))
        handler.send_response(status, reason)
        for name, value in kept:
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(data)))  # the whole length, even when the body is cut
        handler.end_headers()
        handler.wfile.write(data if cut is None else data[:cut])
        handler.wfile.flush()
        if cut is not None:
            handler.close_connection = True

    def ranges(self, fragment: str) -> list[str | None]:
        return [r for method, path, r, _ in self.log if method == "GET" and fragment in path]


@contextmanager
def faulty_proxy() -> Iterator[FaultyProxy]:
    proxy = FaultyProxy()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            proxy.relay(self)

        def do_POST(self) -> None:
            proxy.relay(self)

        def do_HEAD(self) -> None:
            proxy.relay(self)

        def log_message(self, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    proxy.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield proxy
    finally:
        server.shutdown()
        server.server_close()


def exports_command() -> list[str]:
    """The console script pip installed (requirements-dev.txt installs the client), else the module."""
    script = Path(sys.executable).parent / "exports"
    return [str(script)] if script.exists() else [shutil.which("exports") or sys.executable, "-m", "export_client"]


@dataclass(frozen=True)
class Run:
    code: int
    stdout: str
    stderr: str

    @property
    def json(self) -> Any:
        return json.loads(self.stdout.strip().splitlines()[-1])


def run_exports(
    url: str, token: str, *arguments: str, proxy: FaultyProxy | None = None, cwd: Path = ROOT, timeout: float = 300
) -> Run:
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env.update({"EXPORTS_ENDPOINT": url, "EXPORTS_KEY": token, "EXPORTS_CONFIG": str(cwd / "no-config.toml")})
    if proxy is not None:
        env.update({"http_proxy": proxy.url, "HTTP_PROXY": proxy.url, "no_proxy": "", "NO_PROXY": ""})
    done = subprocess.run(
        [*exports_command(), *arguments], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    return Run(done.returncode, done.stdout, done.stderr)
