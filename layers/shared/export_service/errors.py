"""Domain errors. Each carries the HTTP status and stable code the API maps it to, in one place."""

from __future__ import annotations

from typing import Any


class ExportServiceError(Exception):
    status = 400
    code = "BAD_REQUEST"
    retry_after: int | None = None  # seconds: answered as a Retry-After header (429, 503)

    def __init__(self, message: str, *, parameter: str | None = None, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.parameter = parameter
        self.details = details

    def to_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"status": self.status, "error": self.code, "message": self.message}
        if self.parameter is not None:
            body["parameter"] = self.parameter
        body.update(self.details)
        return body


class InvalidParameterError(ExportServiceError):
    code = "INVALID_PARAMETER"


class UnknownParameterError(ExportServiceError):
    code = "UNKNOWN_PARAMETER"


class InvalidRangeError(ExportServiceError):
    code = "INVALID_RANGE"


class ExportTooLargeError(ExportServiceError):
    code = "EXPORT_TOO_LARGE"


class UnauthorizedError(ExportServiceError):
    status = 401
    code = "UNAUTHORIZED"


class ForbiddenError(ExportServiceError):
    status = 403
    code = "FORBIDDEN"


class NotFoundError(ExportServiceError):
    status = 404
    code = "NOT_FOUND"


class InternalError(ExportServiceError):
    """Anything unexpected: logged with its trace, answered with this generic message and never the trace."""

    status = 500
    code = "INTERNAL_ERROR"


class NotConfiguredError(ExportServiceError):
    status = 503
    code = "NOT_CONFIGURED"


class ServiceUnavailableError(ExportServiceError):
    """A service the request needs (DynamoDB, S3, Step Functions) could not be reached or kept throttling within
    the time an interactive request has: retry later."""

    status = 503
    code = "SERVICE_UNAVAILABLE"

    def __init__(self, message: str, *, retry_after: int, **details: Any) -> None:
        super().__init__(message, **details)
        self.retry_after = retry_after
