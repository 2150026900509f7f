"""Exit codes (documented in docs/client.md) and the one error type commands raise."""

from __future__ import annotations

from enum import IntEnum


class Exit(IntEnum):
    OK = 0
    FAILURE = 1  # anything unexpected (a bug: please report it with the message)
    USAGE = 2  # a bad command line (click's own code)
    CONFIG = 3  # no endpoint or key, an unreadable profile file
    AUTH = 4  # the service answered 401 (no or bad key) or 403 (the key lacks a permission)
    REJECTED = 5  # any other 4xx: a bad parameter, an unknown dataset, a job that does not exist or expired
    JOB_FAILED = 6  # the export job ended in state "failed"
    VERIFY = 7  # a downloaded file does not match its manifest or listing (SHA-256, bytes or rows)
    NETWORK = 8  # the service or the file store could not be reached, or kept failing, after retries
    TIMEOUT = 9  # the job did not finish within --timeout
    BUSY = 10  # another `exports nightly sync` is running in the same folder
    INTERRUPTED = 130  # Ctrl-C


class ClientError(Exception):
    """What went wrong, said for the person at the terminal, and the exit code it maps to."""

    def __init__(self, code: Exit, message: str, *, status: int | None = None, error: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status  # the HTTP status, when the service answered
        self.error = error  # the service's stable error code (INVALID_PARAMETER, FORBIDDEN, ...)
