"""The fast Query path against a DynamoDB emulator: moto always, DynamoDB Local too when java and its jar are there.

Items of every type are written with ``put_item`` and read back twice: through ``query_pages`` (the stores' read,
items decoded from the response's JSON) and through the ordinary ``client.query`` loop with ``item_to_record``. The
records, their types, their order and the pages' boundaries must be the same; every item comes out once."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from devtools.dynamodb_local import DynamoDBLocal, find_jar, free_port
from devtools.provision import local_refs
from export_service.dal import fast_query
from export_service.dal.fast_query import item_to_record
from export_service.dal.query import query_args, query_pages
from export_service.models.audit import AUDIT_COLUMNS
from tests.integration.support import TENANT_SIZES, WINDOW_END, WINDOW_START
from tests.unit.dynamodb_wire import BEYOND_DECIMAL, EMPTY_SET_MEMBERS, item, typed

pytestmark = pytest.mark.integration

TABLE = "FastQueryTable"
ITEMS = 240  # about 5.6 KB each: 1.3 MB, so an unlimited Query takes two pages
PADDING = "x" * 5000


def _accepts_empty_set_members(dynamodb: Any) -> bool:
    try:
        dynamodb.put_item(TableName=TABLE, Item={"pk": {"S": "probe"}, "sk": {"S": "probe"}, **EMPTY_SET_MEMBERS})
    except dynamodb.exceptions.ClientError:
        return False
    dynamodb.delete_item(TableName=TABLE, Key={"pk": {"S": "probe"}, "sk": {"S": "probe"}})
    return True


def _create(dynamodb: Any) -> None:
    dynamodb.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.get_waiter("table_exists").wait(TableName=TABLE)
    empty_members = EMPTY_SET_MEMBERS if _accepts_empty_set_members(dynamodb) else {}
    for number in range(ITEMS):
        extra = {"padding": {"S": PADDING}, "number": {"N": str(number)}, **empty_members}
        if number % 3 == 0:
            extra["odd_one"] = {"L": [{"N": str(number)}, {"B": bytes([number % 256])}]}
        dynamodb.put_item(TableName=TABLE, Item=item("P", f"{number:04d}", **extra))
    dynamodb.put_item(TableName=TABLE, Item={"pk": {"S": "Q"}, "sk": {"S": "only"}})
    dynamodb.put_item(TableName=TABLE, Item={"pk": {"S": "R"}, "sk": {"S": "big"}, **BEYOND_DECIMAL})


@pytest.fixture(scope="module")
def moto_client(stack) -> Any:
    _create(stack.dynamodb)
    return stack.dynamodb


@pytest.fixture(scope="module")
def local_client(stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    # make test installs DynamoDB Local (devtools/setup.sh): without it this comparison fails, it is never skipped
    find_jar()
    local = DynamoDBLocal(free_port(), log_path=tmp_path_factory.mktemp("ddb") / "dynamodb-local.log")
    local.start()
    try:
        dynamodb = boto3.client("dynamodb", endpoint_url=local.endpoint)
        _create(dynamodb)
        yield dynamodb
    finally:
        local.stop()


@pytest.fixture(params=["moto", "dynamodb-local"])
def dynamodb(request: pytest.FixtureRequest) -> Any:
    return request.getfixturevalue("moto_client" if request.param == "moto" else "local_client")


def _not_called(item: Any) -> Any:
    raise AssertionError(f"the fast path fell back to botocore's parse for {item}")


def ordinary_pages(dynamodb: Any, args: dict[str, Any]) -> list[list[dict[str, Any]]]:
    """The reference: botocore parses every page, item_to_record converts it."""
    args, pages = dict(args), []
    while True:
        answer = dynamodb.query(**args)
        pages.append([item_to_record(entry) for entry in answer.get("Items", ())])
        if not answer.get("LastEvaluatedKey"):
            return pages
        args["ExclusiveStartKey"] = answer["LastEvaluatedKey"]


def _args(**more: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "TableName": TABLE,
        "KeyConditionExpression": "pk = :pk",
        "ExpressionAttributeValues": {":pk": {"S": "P"}},
    }
    return args | more


@pytest.mark.parametrize(
    "args",
    [
        _args(),
        _args(Limit=7),
        _args(Limit=1),
        _args(ScanIndexForward=False, Limit=50),
        _args(
            FilterExpression="attribute_exists(odd_one)",
            ProjectionExpression="sk, m, l, bs, ns, ss, b, odd_one, n_tiny",
            Limit=25,
        ),
    ],
    ids=["one-mb-pages", "limit-7", "limit-1", "descending", "filtered-projected"],
)
def test_every_type_reads_as_client_query_gives_it(dynamodb, args, monkeypatch):
    with monkeypatch.context() as patched:  # the fast read must not fall back to botocore's parse here
        patched.setattr(fast_query, "item_to_record", _not_called)
        fast = list(query_pages(dynamodb, args))
    reference = ordinary_pages(dynamodb, args)
    assert typed(fast) == typed(reference)
    keys = [record["sk"] for records in fast for record in records]
    assert len(keys) == len(set(keys))  # every item once
    wanted = {f"{n:04d}" for n in range(ITEMS) if "FilterExpression" not in args or n % 3 == 0}
    assert set(keys) == wanted
    assert keys == sorted(keys, reverse=args.get("ScanIndexForward") is False)
    if "Limit" not in args:
        assert len(fast) >= 2  # paged by size, past 1 MB


def test_a_partition_of_one_item_and_an_empty_one(dynamodb):
    assert list(query_pages(dynamodb, _args(ExpressionAttributeValues={":pk": {"S": "Q"}}))) == [
        [{"pk": "Q", "sk": "only"}]
    ]
    assert list(query_pages(dynamodb, _args(ExpressionAttributeValues={":pk": {"S": "nobody"}}))) == [[]]


def test_numbers_beyond_boto3s_decimals_read_as_before(dynamodb):
    # Given 1E+100: moto sends it back as written and both paths read it; DynamoDB Local writes it out in full and
    # both raise decimal.Rounded (TypeDeserializer's 38-digit context), as the stores always did
    args = _args(ExpressionAttributeValues={":pk": {"S": "R"}})

    def outcome(read: Any) -> Any:
        try:
            return typed(read())
        except Exception as error:
            return type(error).__name__

    assert outcome(lambda: list(query_pages(dynamodb, args))) == outcome(lambda: ordinary_pages(dynamodb, args))


def test_audit_store_reads_its_plan_as_the_ordinary_loop_does(stack):
    # Given the seeded audit table, read with read-ahead on threads sharing one client
    store = stack.audit_store
    for tenant in TENANT_SIZES:
        parts = store.plan(tenant, WINDOW_START, WINDOW_END, {})
        fast = list(store.read_plan(parts, prefetch=3))
        reference = [
            page
            for part in parts
            for page in ordinary_pages(stack.dynamodb, query_args(local_refs()["AuditTable"], part, AUDIT_COLUMNS))
        ]
        assert typed(fast) == typed(reference)
        assert sum(len(page) for page in fast) == TENANT_SIZES[tenant]


def test_small_pages_of_the_audit_store_page_exactly(stack):
    store = stack.audit_store
    part = store.plan("acme", WINDOW_START, WINDOW_END, {})[0]
    small = [record for page in store.read_pages(part, page_size=3) for record in page]
    whole = list(store.read(part))
    assert typed(small) == typed(whole)
    assert len({record["id"] for record in small}) == len(small) > 3
