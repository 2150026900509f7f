"""The fast Query path (dal/fast_query.py) against botocore's own, through a real botocore client whose HTTP layer is
replaced by canned responses (a ``before-send`` handler): signing, retries, backoff and error parsing all run.

Each test reads the same answers twice, once through ``query_page`` and once through ``client.query`` plus
``item_to_record`` (the path it replaces), and expects the same records, the same attempts and the same errors."""

from __future__ import annotations

import json
import threading
import time
from binascii import crc32
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.parsers import JSONParser

from export_service.dal.fast_query import item_to_record, query_page, record_from_wire
from export_service.dal.query import query_pages
from tests.unit.dynamodb_wire import BEYOND_DECIMAL, EMPTY_SET_MEMBERS, item, to_wire, typed

pytestmark = pytest.mark.unit

ARGS = {"TableName": "T", "KeyConditionExpression": "pk = :pk", "ExpressionAttributeValues": {":pk": {"S": "P"}}}
THROTTLED = (
    400,
    {"__type": "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException", "message": "Rate exceeded"},
)


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


class Wire:
    """Canned HTTP answers for one client, in order (the last one repeats); the JSON bodies of the requests sent."""

    def __init__(self, client: Any, *answers: tuple[int, Any] | tuple[int, Any, dict[str, str]]) -> None:
        self.answers = list(answers)
        self.requests: list[dict[str, Any]] = []
        client.meta.events.register("before-send.dynamodb", self._send)

    def _send(self, request: Any, **_: Any) -> AWSResponse:
        assert request.headers["Authorization"].startswith(b"AWS4-HMAC-SHA256")  # signed by botocore
        self.requests.append(json.loads(request.body))
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        status, document, *more = answer
        body = document if isinstance(document, bytes) else json.dumps(document).encode()
        headers = {"x-amzn-requestid": f"req-{len(self.requests)}", "x-amz-crc32": str(crc32(body))}
        headers.update(more[0] if more else {})
        return AWSResponse("https://dynamodb.us-east-1.amazonaws.com/", status, headers, _Raw(body))


def client(**config: Any) -> Any:
    return boto3.client(
        "dynamodb",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(**config) if config else None,
    )


def page(*items: dict[str, Any], last: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
    document: dict[str, Any] = {"Count": len(items), "ScannedCount": len(items), "Items": [to_wire(i) for i in items]}
    if last is not None:
        document["LastEvaluatedKey"] = to_wire(last)
    return 200, document


def ordinary(dynamodb: Any, args: dict[str, Any] = ARGS) -> list[dict[str, Any]]:
    return [item_to_record(entry) for entry in dynamodb.query(**args).get("Items", ())]


def outcome(call: Any) -> Any:
    """What a call gives: its typed records, or its exception's type and text."""
    try:
        return typed(call())
    except Exception as error:
        return type(error).__name__, str(error)


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """botocore's retry delays, recorded instead of slept."""
    delays: list[float] = []
    monkeypatch.setattr(time, "sleep", delays.append)
    return delays


def test_every_type_comes_out_as_the_ordinary_path_gives_it():
    items = [
        item("P", "1"),
        item("P", "2", extra={"S": "only here"}, **EMPTY_SET_MEMBERS, **BEYOND_DECIMAL),
        {"pk": {"S": "P"}, "sk": {"S": "3"}},
    ]
    dynamodb = client()
    Wire(dynamodb, page(*items))
    fast, rest = query_page(dynamodb, ARGS)
    assert typed(fast) == typed(ordinary(dynamodb))
    assert typed(fast[0]["b"]) == ("Binary", bytes(range(256)))
    assert "Items" not in rest and rest["Count"] == 3 and rest["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_botocore_parses_the_response_without_its_items(monkeypatch: pytest.MonkeyPatch):
    # Given a spy on botocore's JSON parser: it sees the rest of the body, never the items
    bodies: list[bytes] = []
    parse = JSONParser.parse

    def spy(self: JSONParser, response: dict[str, Any], shape: Any) -> Any:
        bodies.append(response["body"])
        return parse(self, response, shape)

    monkeypatch.setattr(JSONParser, "parse", spy)
    dynamodb = client()
    Wire(dynamodb, page(item("P", "1"), last={"pk": {"S": "P"}, "sk": {"S": "1"}}))
    records, rest = query_page(dynamodb, ARGS)
    assert json.loads(bodies[0]) == {
        "Count": 1,
        "ScannedCount": 1,
        "LastEvaluatedKey": to_wire(rest["LastEvaluatedKey"]),
    }
    assert rest["LastEvaluatedKey"] == {"pk": {"S": "P"}, "sk": {"S": "1"}} and records[0]["sk"] == "1"
    dynamodb.query(**ARGS)  # outside query_page: the whole body, as always
    assert b'"Items"' in bodies[1]


def test_the_wire_decoder_alone_matches_botocore_and_item_to_record():
    dynamodb = client()
    Wire(dynamodb, page(item("P", "1")))
    assert typed(record_from_wire(to_wire(item("P", "1")))) == typed(ordinary(dynamodb)[0])


@pytest.mark.parametrize(
    "value",
    [
        {"X": "unknown type"},
        {},
        {"S": "two", "N": "1"},
        {"S": None},
        {"L": [None]},
        {"L": [{}]},
        {"M": {"k": {"Q": "1"}}},
        {"N": "not a number"},
        {"NS": ["1", None]},
        {"SS": ["a", None]},
        {"BOOL": None},
        {"N": "1" + "0" * 100},  # as DynamoDB Local writes 1E+100: TypeDeserializer raises decimal.Rounded
        {"B": "not base64!"},
        "not a map",
    ],
)
def test_a_value_the_decoder_cannot_convert_gets_the_ordinary_outcome(value):
    # Given an answer the wire decoder refuses: the ordinary path's result or error is what comes out
    fast_client, ordinary_client = client(), client()
    for dynamodb in (fast_client, ordinary_client):
        Wire(dynamodb, (200, {"Count": 1, "Items": [{"pk": {"S": "P"}, "odd": value}]}))
    assert outcome(lambda: query_page(fast_client, ARGS)[0]) == outcome(lambda: ordinary(ordinary_client))


@pytest.mark.parametrize("body", [b"", b"{not json", b"[]", b'{"Count": 0}', b'{"Items": null}', b'{"Items": {}}'])
def test_a_body_that_is_not_the_expected_json_is_left_to_botocore(body):
    fast_client, ordinary_client = client(), client()
    for dynamodb in (fast_client, ordinary_client):
        Wire(dynamodb, (200, body))
    assert outcome(lambda: query_page(fast_client, ARGS)[0]) == outcome(lambda: ordinary(ordinary_client))


@pytest.mark.parametrize("mode", ["legacy", "standard", "adaptive"])
def test_throttling_is_retried_with_backoff_then_the_page_is_read(mode, sleeps):
    answers = (THROTTLED, THROTTLED, page(item("P", "1")))
    fast_client, ordinary_client = client(retries={"mode": mode}), client(retries={"mode": mode})
    fast_wire, ordinary_wire = Wire(fast_client, *answers), Wire(ordinary_client, *answers)
    records, rest = query_page(fast_client, ARGS)
    fast_sleeps = len(sleeps)
    assert typed(records) == typed(ordinary(ordinary_client))
    assert len(fast_wire.requests) == len(ordinary_wire.requests) == 3
    assert rest["ResponseMetadata"]["RetryAttempts"] == 2
    assert fast_sleeps == 2 and len(sleeps) == 4 and all(delay > 0 for delay in sleeps)


@pytest.mark.parametrize(("mode", "attempts"), [("legacy", 10), ("standard", 3), ("legacy-3", 3)])
def test_throttling_past_the_retry_budget_raises_as_before(mode, attempts, sleeps):
    config: dict[str, Any] = {"mode": mode.split("-")[0]}
    if "-" in mode:
        config["max_attempts"] = 2  # botocore counts retries here: 1 call + 2 retries
    fast_client, ordinary_client = client(retries=config), client(retries=config)
    fast_wire, ordinary_wire = Wire(fast_client, THROTTLED), Wire(ordinary_client, THROTTLED)
    with pytest.raises(ClientError) as fast_error:
        query_page(fast_client, ARGS)
    with pytest.raises(ClientError) as ordinary_error:
        ordinary(ordinary_client)
    assert isinstance(fast_error.value, fast_client.exceptions.ProvisionedThroughputExceededException)
    assert fast_error.value.response["Error"] == ordinary_error.value.response["Error"]
    assert fast_error.value.response["ResponseMetadata"]["RetryAttempts"] == attempts - 1
    assert len(fast_wire.requests) == len(ordinary_wire.requests) == attempts
    assert len(sleeps) == 2 * (attempts - 1)


def test_a_client_error_is_raised_at_once_as_before(sleeps):
    invalid = (400, {"__type": "com.amazon.coral.validate#ValidationException", "message": "bad key condition"})
    dynamodb = client()
    wire = Wire(dynamodb, invalid)
    with pytest.raises(dynamodb.exceptions.ClientError) as raised:
        query_page(dynamodb, ARGS)
    assert raised.value.response["Error"] == {"Message": "bad key condition", "Code": "ValidationException"}
    assert len(wire.requests) == 1 and not sleeps


def test_a_server_error_is_retried_as_before(sleeps):
    dynamodb = client(retries={"mode": "standard"})
    wire = Wire(dynamodb, (500, {"__type": "InternalServerError", "message": "oops"}), page(item("P", "1")))
    records, _ = query_page(dynamodb, ARGS)
    assert [record["sk"] for record in records] == ["1"] and len(wire.requests) == 2


@pytest.mark.parametrize("mode", ["legacy", "standard"])
def test_a_corrupt_answer_is_retried_and_only_the_good_one_is_kept(mode, sleeps):
    # Given a first answer whose CRC32 does not match its body (DynamoDB's checksum, checked on the raw content)
    corrupt = (*page(item("P", "wrong")), {"x-amz-crc32": "1"})
    dynamodb = client(retries={"mode": mode})
    wire = Wire(dynamodb, corrupt, page(item("P", "right")))
    records, _ = query_page(dynamodb, ARGS)
    assert [record["sk"] for record in records] == ["right"] and len(wire.requests) == 2


def test_paging_follows_last_evaluated_key_as_botocore_parses_it():
    # Given keys with S, N and B parts (B travels as base64 and comes back to botocore as bytes)
    first = {"pk": {"S": "P"}, "sk": {"S": "1"}, "n": {"N": "1.50"}, "b": {"B": b"\x00\xff"}}
    dynamodb = client()
    wire = Wire(dynamodb, page(item("P", "1"), last=first), page(item("P", "2")))
    pages = list(query_pages(dynamodb, ARGS))
    assert [[record["sk"] for record in records] for records in pages] == [["1"], ["2"]]
    assert "ExclusiveStartKey" not in wire.requests[0]
    assert wire.requests[1]["ExclusiveStartKey"] == to_wire(first)
    assert wire.requests[1]["TableName"] == "T"


def test_client_query_on_a_hooked_client_is_untouched():
    dynamodb = client()
    Wire(dynamodb, page(item("P", "1")))
    query_page(dynamodb, ARGS)  # registers the handler on this client
    answer = dynamodb.query(**ARGS)
    assert answer["Items"][0]["b"] == {"B": bytes(range(256))} and answer["Items"][0]["s"] == {"S": "plain"}
    assert not any(key.startswith("_") for key in answer)


def test_other_clients_are_unaffected():
    hooked, other = client(), client()
    Wire(hooked, page(item("P", "1")))
    Wire(other, page(item("P", "1")))
    query_page(hooked, ARGS)
    assert other.query(**ARGS)["Items"][0]["n_int"] == {"N": "42"}


def test_a_count_query_reads_as_before():
    dynamodb = client()
    Wire(dynamodb, (200, {"Count": 7, "ScannedCount": 9}))
    records, rest = query_page(dynamodb, {**ARGS, "Select": "COUNT"})
    assert records == [] and rest["Count"] == 7 and rest["ScannedCount"] == 9


def test_threads_sharing_a_client_each_get_their_own_form():
    # Given one client used at once by fast reads and ordinary calls on other threads
    dynamodb = client()
    Wire(dynamodb, page(item("P", "1"), item("P", "2")))
    expected = typed(ordinary(dynamodb))
    failures: list[str] = []

    def fast() -> None:
        for _ in range(30):
            if typed(query_page(dynamodb, ARGS)[0]) != expected:
                failures.append("fast")

    def plain() -> None:
        for _ in range(30):
            if dynamodb.query(**ARGS)["Items"][1]["sk"] != {"S": "2"}:
                failures.append("plain")

    threads = [threading.Thread(target=target) for target in (fast, plain, fast, plain)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


def test_records_that_do_not_reach_the_parsed_response_fail_loudly():
    # Given a botocore that would not merge customized_response_dict (here: a later handler empties it)
    dynamodb = client()
    Wire(dynamodb, page(item("P", "1")))
    query_page(dynamodb, ARGS)  # the fast path's handler first
    dynamodb.meta.events.register(
        "before-parse.dynamodb.Query", lambda customized_response_dict, **_: customized_response_dict.clear()
    )
    with pytest.raises(RuntimeError, match="not handed over"):
        query_page(dynamodb, ARGS)  # never an empty page


def test_a_client_that_is_not_botocore_gets_the_ordinary_call():
    class Recording:
        def __init__(self) -> None:
            self.calls: list[dict[str, Any]] = []

        def query(self, **args: Any) -> dict[str, Any]:
            self.calls.append(args)
            return {"Items": [{"s": {"S": "x"}, "n": {"N": "2"}}], "Count": 1}

    fake = Recording()
    records, rest = query_page(fake, ARGS)
    assert typed(records) == typed([{"s": "x", "n": item_to_record({"n": {"N": "2"}})["n"]}])
    assert fake.calls == [ARGS] and rest["Count"] == 1
