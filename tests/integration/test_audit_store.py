"""AuditStore against moto, with tables built from template.yaml and records written by the real writer."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from devtools.generate import audit_records
from export_service.logic.audit_records import seal_audit_record, write_audit_records
from tests.integration.support import WINDOW_END, WINDOW_START, Stack, expected, sealed

pytestmark = pytest.mark.integration

ACME_USER = "george.dubois@acme.example.com"
START = datetime(2026, 3, 1, 18, 0, tzinfo=UTC)
END = datetime(2026, 3, 3, 6, 30, tzinfo=UTC)


def _read(stack: Stack, tenant: str, start: datetime, end: datetime, page_size: int | None = None, **filters):
    parts = stack.audit_store.plan(tenant, start, end, filters)
    return [row for part in parts for row in stack.audit_store.read(part, page_size=page_size)]


def test_tables_come_from_the_template(stack):
    table = stack.dynamodb.describe_table(TableName="AuditTable")["Table"]
    assert {index["IndexName"] for index in table["GlobalSecondaryIndexes"]} == {"ByUser", "ByAction", "ByNamespace"}
    assert stack.dynamodb.describe_table(TableName="ApiKeysTable")["Table"]["KeySchema"] == [
        {"AttributeName": "key_id", "KeyType": "HASH"}
    ]


@pytest.mark.parametrize(
    "filters",
    [
        {},
        {"user": ACME_USER},
        {"action": "user.login"},
        {"namespace": "staging"},
        {"user": ACME_USER, "action": "user.login"},
        {"action": "runbook.execute", "namespace": "production"},
        {"user": ACME_USER, "namespace": "production"},
        {"user": ACME_USER, "action": "user.login", "namespace": "production"},
        {"user": "nobody@acme.example.com"},
    ],
    ids=lambda filters: "+".join(filters) or "no-filter",
)
def test_plan_and_read_return_exactly_the_matching_records_in_order(stack, filters):
    # Given acme's generated records, sealed as the writer seals them
    want = expected(sealed("acme"), START, END, **filters)
    # When the store plans and reads [START, END]
    got = _read(stack, "acme", START, END, **filters)
    # Then it returns exactly those records (every column), in (timestamp, id) order
    assert got == want
    if filters.get("user") != "nobody@acme.example.com":
        assert want, "the filter should match some records"


def test_whole_window_of_the_other_tenant(stack):
    assert _read(stack, "globex", WINDOW_START, WINDOW_END) == expected(sealed("globex"))


def test_paging_returns_the_same_records(stack):
    assert _read(stack, "acme", START, END, page_size=7, action="user.login") == expected(
        sealed("acme"), START, END, action="user.login"
    )


def test_bounds_are_inclusive_to_the_millisecond(stack):
    rows = expected(sealed("acme"), datetime(2026, 3, 2, tzinfo=UTC), datetime(2026, 3, 2, 3, tzinfo=UTC))
    first, last = (datetime.fromisoformat(rows[i]["timestamp"]) for i in (0, -1))
    ms = timedelta(milliseconds=1)
    assert _read(stack, "acme", first, last) == rows
    assert _read(stack, "acme", first + ms, last - ms) == rows[1:-1]
    assert _read(stack, "acme", first, first) == rows[:1]


def test_count_matches_the_records(stack):
    for filters in ({}, {"namespace": "staging"}, {"user": ACME_USER, "action": "user.login"}):
        parts = stack.audit_store.plan("acme", START, END, filters)
        assert sum(stack.audit_store.count(part, 1_000_000) for part in parts) == len(
            expected(sealed("acme"), START, END, **filters)
        )


def test_bounds_are_the_earliest_and_latest_days_ever_written(stack):
    assert stack.audit_store.bounds("acme") == (date(2026, 3, 1), date(2026, 3, 3))
    assert stack.audit_store.bounds("nobody") is None
    # Given records written for a new tenant in the order day 3, day 1, day 2
    records = list(audit_records("first-day-co", 30, WINDOW_START, WINDOW_END))
    for day in (2, 0, 1):
        write_audit_records(stack.audit_store, "first-day-co", records[day * 10 : day * 10 + 10])
    # Then the bounds are the minimum and maximum days, whatever the write order
    assert stack.audit_store.bounds("first-day-co") == (date(2026, 3, 1), date(2026, 3, 3))


def test_writing_the_same_records_twice_does_not_duplicate(stack):
    records = list(audit_records("idempotent-co", 60, WINDOW_START, WINDOW_END))
    assert write_audit_records(stack.audit_store, "idempotent-co", records) == 60
    assert write_audit_records(stack.audit_store, "idempotent-co", records) == 60
    want = expected([seal_audit_record(record).model_dump() for record in records])
    assert _read(stack, "idempotent-co", WINDOW_START, WINDOW_END) == want
    parts = stack.audit_store.plan("idempotent-co", WINDOW_START, WINDOW_END, {})
    assert sum(stack.audit_store.count(part, 1_000_000) for part in parts) == 60


def test_the_same_record_twice_in_one_write_is_one_item(stack):
    # The store documents put() as idempotent ("the same record twice is one item"), e.g. a redelivered event
    # inside one batch. DynamoDB refuses a BatchWriteItem whose list holds the same key twice.
    record = next(audit_records("duplicate-co", 1, WINDOW_START, WINDOW_END))
    write_audit_records(stack.audit_store, "duplicate-co", [record, record])
    assert _read(stack, "duplicate-co", WINDOW_START, WINDOW_END) == [seal_audit_record(record).model_dump()]


def test_tenants_do_not_see_each_others_records(stack):
    acme = _read(stack, "acme", WINDOW_START, WINDOW_END, namespace="production")
    globex_users = {row["user"] for row in sealed("globex")}
    assert acme == expected(sealed("acme"), namespace="production")
    assert not any(row["user"] in globex_users for row in acme)
    assert _read(stack, "acme", WINDOW_START, WINDOW_END, user=sorted(globex_users)[0]) == []
