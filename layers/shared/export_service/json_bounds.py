"""Bounds on JSON a caller sends (request bodies, the ``filter``/``sort`` query parameters), checked before anything
parses it: a body nested 2,000 deep would otherwise raise RecursionError in the parser (a 500), and a huge one
would cost memory and time before being refused anyway.

The depth is counted without parsing and without recursion: string literals are removed with one linear regular
expression, then brackets are counted. Text that is not valid JSON is left for the parser to refuse with its own
message (an unterminated string may be counted as brackets: at worst it is refused as too deep instead).
"""

from __future__ import annotations

import re

from export_service.errors import ExportServiceError, InvalidParameterError

MAX_BODY_BYTES = 256 * 1024  # the largest documented body (alerts by filters: 500 dates, 500 names) fits many times
MAX_JSON_DEPTH = 32  # the deepest documented body or filter nests 3 levels
MAX_PARAMETER_CHARS = 8192  # a URL-encoded JSON filter or sort, as the dataset and catalog filters allow

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = re.compile(r"[\[\]{}]")


class PayloadTooLargeError(ExportServiceError):
    status = 413
    code = "PAYLOAD_TOO_LARGE"


def json_depth(text: str, stop_above: int = MAX_JSON_DEPTH) -> int:
    """How deep ``text`` nests arrays and objects (0 for a scalar); counting stops once past ``stop_above``."""
    depth = deepest = 0
    for bracket in _BRACKETS.finditer(_STRING.sub("", text)):
        if bracket.group() in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > stop_above:
                    return deepest
        elif depth:
            depth -= 1
    return deepest


def check_body(text: str, size: int) -> None:
    """A request body (``size``: its bytes) within the bounds, or a 4xx naming ``body``."""
    if size > MAX_BODY_BYTES:
        raise PayloadTooLargeError(
            f"the request body is {size:,} bytes; at most {MAX_BODY_BYTES:,} are accepted", parameter="body"
        )
    if json_depth(text) > MAX_JSON_DEPTH:
        raise InvalidParameterError(
            f"the request body nests arrays and objects more than {MAX_JSON_DEPTH} levels deep", parameter="body"
        )


def check_parameter(name: str, text: str) -> None:
    """A JSON query parameter (``filter``, ``sort``) within the bounds, or a 400 naming it."""
    if len(text) > MAX_PARAMETER_CHARS:
        raise InvalidParameterError(
            f"query parameter '{name}' is {len(text):,} characters; at most {MAX_PARAMETER_CHARS:,} are accepted",
            parameter=name,
        )
    if json_depth(text) > MAX_JSON_DEPTH:
        raise InvalidParameterError(
            f"query parameter '{name}' nests arrays and objects more than {MAX_JSON_DEPTH} levels deep",
            parameter=name,
        )
