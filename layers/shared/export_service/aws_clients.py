"""AWS clients with bounded patience: connect and read timeouts and a retry budget per kind of caller.

- ``INTERACTIVE`` (the API's functions and the authorizer, under API Gateway's 29 s): 1 s to connect, 3 s to read,
  at most 3 attempts in botocore's standard retry mode (exponential backoff with jitter, and its retry quota: a
  client that keeps failing stops retrying). With the database refusing connections (stopped) a request fails
  within about 3 s (measured: 1-2.6 s), with a network that drops them within about 6 s (three 1 s connects and
  the backoff), and the route answers 503 with Retry-After instead of hanging until the gateway gives up; a
  throttled read is still retried twice.
- ``BATCH`` (the state machine's tasks and the nightly dispatcher, minutes to spend): 5 s to connect, 60 s to read,
  up to 10 attempts in adaptive mode (standard retries plus client-side rate limiting when DynamoDB or S3
  throttle), so throttling slows an export down instead of failing it.

botocore's defaults (60 s connect and read, DynamoDB's legacy 10 retries) made an outage answer after about 26 s.
"""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as AwsConnectionError

INTERACTIVE = "interactive"
BATCH = "batch"

_CONFIGS = {
    INTERACTIVE: Config(connect_timeout=1, read_timeout=3, retries={"mode": "standard", "total_max_attempts": 3}),
    BATCH: Config(connect_timeout=5, read_timeout=60, retries={"mode": "adaptive", "total_max_attempts": 10}),
}
RETRY_AFTER_SECONDS = 5  # what a caller is told to wait after an outage answer (503)


def client_config(profile: str = INTERACTIVE, **extra: Any) -> Config:
    config = _CONFIGS[profile]
    return config.merge(Config(**extra)) if extra else config


def aws_client(service: str, profile: str = INTERACTIVE, **extra: Any) -> Any:
    """``boto3.client(service)`` with the profile's timeouts and retries (``extra``: more Config, e.g. the S3
    signature version)."""
    return boto3.client(service, config=client_config(profile, **extra))  # type: ignore[call-overload]


# Error codes an AWS service answers when it is overloaded or briefly failing: worth a retry later (503), unlike a
# missing grant or resource (a 500 for operators).
_TRANSIENT_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "ThrottlingException",
        "Throttling",
        "TooManyRequestsException",
        "SlowDown",
        "InternalServerError",
        "InternalFailure",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "RequestTimeout",
        "RequestTimeoutException",
    }
)


def unavailable(error: BaseException) -> bool:
    """Whether ``error`` means an AWS service could not be reached or kept failing or throttling after the retries:
    connection refused or timed out, a read that timed out, or a throttling / 5xx answer."""
    if isinstance(error, AwsConnectionError | HTTPClientError):
        return True
    if isinstance(error, ClientError):
        code = str(error.response.get("Error", {}).get("Code", ""))
        status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        return code in _TRANSIENT_CODES or status >= 500
    return False
