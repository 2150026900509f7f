"""DynamoDB Query pages read near the wire: botocore sends and retries the call, the items skip its shape parser.

botocore's response parser walks every attribute of every item through the output shape (a structure per
AttributeValue, a method call per member), which is most of the CPU of a large export. ``query_page`` sends the Query
through the client as before, so signing, credentials, endpoint resolution (``endpoint_url``,
``AWS_ENDPOINT_URL_DYNAMODB``), retries with the client's retry config, throttling backoff and error parsing all stay
botocore's. Only a successful response's ``Items`` are taken out of its hands:

- a handler on the client's ``before-parse.dynamodb.Query`` event (emitted by ``Endpoint._do_get_response`` after
  the HTTP response is read and before the parser runs) acts only when the calling thread is inside ``query_page``
  and the status is 200. It decodes the body with ``json.loads``, converts ``Items`` with ``record_from_wire``, hands
  the records back through ``customized_response_dict`` (which botocore merges into the parsed response: the same
  mechanism its own S3 ``Expires`` handler uses) and leaves the rest of the body (Count, ScannedCount,
  LastEvaluatedKey, ConsumedCapacity) for the parser, which now parses a few hundred bytes instead of a megabyte;
- an error response (4xx/5xx, throttling) is never touched: it is parsed, retried and raised exactly as before. The
  retry checks read an error's status and parsed code, and DynamoDB's CRC32 of ``http_response.content`` (the raw
  bytes, which the handler leaves alone); a retried attempt runs the handler again and the discarded attempt's
  records go with its parsed response;
- anything the wire decoder does not recognise (an empty or multi-key AttributeValue, an unknown type, a body that
  is not the expected JSON) leaves the body untouched, so botocore parses it and ``item_to_record`` converts it: the
  records are then those of the ordinary path by construction, errors included;
- another client (a test double, a Stubber answering ``before-call`` before anything is sent) gets the ordinary
  ``client.query`` and ``item_to_record``; so does a botocore whose event no longer passes these arguments;
- a response whose Items were taken but whose records did not come back with it (a botocore that stopped merging
  ``customized_response_dict``) raises rather than reading as an empty page.

The records are exactly ``item_to_record`` of botocore's parsed items: S as str, N as Decimal (boto3's DynamoDB
context, as TypeDeserializer), B as boto3's Binary of the base64-decoded bytes, BOOL, NULL as None, M and L
recursively, SS/NS/BS as sets of those.
"""

from __future__ import annotations

import base64
import json
import threading
import weakref
from collections.abc import Callable, Mapping
from typing import Any

from boto3.dynamodb.types import DYNAMODB_CONTEXT, Binary, TypeDeserializer

_EVENT = "before-parse.dynamodb.Query"
_HOOK_ID = "export-service-fast-query"
_RECORDS = "_export_service_records"  # where the handler hands the records over; AWS member names are PascalCase
_deserializer = TypeDeserializer()
_decimal = DYNAMODB_CONTEXT.create_decimal
_state = threading.local()  # .active: the calling thread is inside query_page (a botocore call runs on its caller)
_hooked: weakref.WeakSet[Any] = weakref.WeakSet()
_hook_lock = threading.Lock()


def item_to_record(item: Mapping[str, Any]) -> dict[str, Any]:
    """An item as botocore parses it, converted: the record every store method returns."""
    # Exported attributes are strings: read the "S" directly, which is several times faster than
    # TypeDeserializer on the hot path, and fall back to it for anything else.
    return {key: (value["S"] if "S" in value else _deserializer.deserialize(value)) for key, value in item.items()}


class _UndecodableError(ValueError):
    """A value the wire decoder leaves to botocore and item_to_record."""


def _blob(raw: Any) -> Binary:
    return Binary(base64.b64decode(raw))  # botocore's blob parser, then TypeDeserializer's Binary


_DECODERS: dict[str, Callable[[Any], Any]] = {
    "S": lambda raw: raw,
    "N": _decimal,
    "B": _blob,
    "BOOL": lambda raw: raw,
    "NULL": lambda raw: None,
    "M": lambda raw: {key: _value(value) for key, value in raw.items()},
    "L": lambda raw: [_value(value) for value in raw],
    "SS": set,
    "NS": lambda raw: set(map(_decimal, raw)),
    "BS": lambda raw: set(map(_blob, raw)),
}


def _value(value: Any) -> Any:
    """One wire AttributeValue: exactly one known type with a non-null value, or _UndecodableError."""
    if type(value) is not dict or len(value) != 1:
        raise _UndecodableError(value)
    ((tag, raw),) = value.items()
    decode = _DECODERS.get(tag)
    if decode is None or raw is None:
        raise _UndecodableError(value)
    return decode(raw)


def record_from_wire(item: Mapping[str, Any]) -> dict[str, Any]:
    """An item as DynamoDB sends it (the JSON of the HTTP body), converted as ``item_to_record`` converts it."""
    # The common case first: a single "S", read without a call (the exported attributes are strings).
    return {
        key: text if len(value) == 1 and (text := value.get("S")) is not None else _value(value)
        for key, value in item.items()
    }


def _take_items(
    response_dict: dict[str, Any] | None = None, customized_response_dict: dict[str, Any] | None = None, **_: Any
) -> None:
    """before-parse handler: a 200 response's Items, decoded, in place of botocore's parse of them."""
    if not getattr(_state, "active", False):
        return
    _state.taken = False  # per attempt: what counts is the attempt whose response the call returns
    if response_dict is None or customized_response_dict is None or response_dict.get("status_code") != 200:
        return
    body = response_dict.get("body")
    if not isinstance(body, bytes):
        return
    try:
        document = json.loads(body.decode("utf-8"))  # as botocore's JSON parser reads a body
        items = document.pop("Items")
        records = [record_from_wire(item) for item in items]
    except Exception:  # anything unexpected: botocore parses the untouched body, as before
        return
    response_dict["body"] = json.dumps(document).encode("utf-8")
    customized_response_dict[_RECORDS] = records
    _state.taken = True


def _hooked_client(client: Any) -> bool:
    """Whether ``client`` is a botocore DynamoDB client (JSON protocol), the handler registered on it once."""
    try:
        if client in _hooked:
            return True
        meta = client.meta
        model = meta.service_model
        if model.service_name != "dynamodb" or model.resolved_protocol != "json":
            return False
        events = meta.events
    except (AttributeError, TypeError):  # not a botocore client, or not weak-referenceable
        return False
    with _hook_lock:
        if client not in _hooked:
            # Per client: a client's emitter is its own copy, other clients are unaffected.
            events.register(_EVENT, _take_items, unique_id=_HOOK_ID)
            _hooked.add(client)
    return True


def query_page(client: Any, args: Mapping[str, Any]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """One Query call: its items as records (``item_to_record``'s output) and the rest of the response."""
    if not _hooked_client(client):
        page = client.query(**args)
        return [item_to_record(item) for item in page.get("Items", ())], page
    outer = getattr(_state, "active", False)
    _state.active, _state.taken = True, False
    try:
        page = client.query(**args)
        taken = _state.taken
    finally:
        _state.active = outer
    records = page.pop(_RECORDS, None)
    if records is None:
        if taken:  # the body lost its Items but the records did not arrive: never read that as an empty page
            raise RuntimeError("a Query response's records were taken from its body but not handed over by botocore")
        records = [item_to_record(item) for item in page.pop("Items", ())]  # left to botocore's parse
    return records, page
