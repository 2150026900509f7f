"""build_dataset_request: list filters a caller can send are refused or become a Query DynamoDB accepts."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from export_service.dal.incident_store import IncidentStore
from export_service.dal.query import query_args
from export_service.errors import InvalidParameterError
from export_service.logic.dataset_export import DatasetExportRequest
from export_service.models.incidents import DATASETS as SPECS
from tests.unit.dataset_support import LIST_NAMES, NOW, _build

pytestmark = pytest.mark.unit


# DynamoDB refuses a Query whose FilterExpression has an IN with more than 100 operands, more than 300 operators or
# functions, more than 4 KB of text, or a number of more than 38 significant digits (ValidationException, checked on
# DynamoDB Local; moto does not check). A filter the caller can send must be refused with a 400 naming it, or turned
# into a Query within those limits: otherwise the export fails with a 500.
_DYNAMODB_CASES = {
    "101-project-ids": {"lists": {"project_ids": [",".join(str(n) for n in range(101))]}},
    "101-project-ids-in-filter": {"filter": {"project_ids": list(range(101))}},
    "HIGH-101-times": {"lists": {"severities": ["HIGH"] * 101}},
    "OPEN-101-times-in-filter": {"filter": {"statuses": ["OPEN"] * 101}},
    "300-tags": {"lists": {"tags": [",".join(f"t{n}" for n in range(300))]}},
    "39-digit-project-id": {"lists": {"project_ids": ["1" * 39]}},
    "60-digit-project-id-in-filter": {"filter": {"project_ids": [10**59 + 1]}},
}


def _assert_dynamodb_accepts(request: DatasetExportRequest) -> None:
    start = datetime(2026, 3, 1, tzinfo=UTC)
    parts = IncidentStore(None, "IncidentsTable").plan("acme", request.dataset, start, NOW, request.query)
    for part in parts:
        args = query_args("IncidentsTable", part, SPECS[request.dataset].columns)
        expression = args.get("FilterExpression", "")
        assert len(expression.encode()) <= 4096, f"FilterExpression of {len(expression.encode())} bytes"
        for operands in re.findall(r"IN \(([^)]*)\)", expression):
            assert len(operands.split(",")) <= 100, f"IN with {len(operands.split(','))} operands"
        operators = len(re.findall(r"\b(?:AND|OR|IN|contains)\b", expression))
        assert operators <= 300, f"{operators} operators"
        for value in args["ExpressionAttributeValues"].values():
            if "N" in value:
                assert len(value["N"].lstrip("-").lstrip("0")) <= 38, f"number {value['N']}"


# BUG: build_dataset_request bounds neither the number of list values (duplicates included) nor the size of
# project ids, so these reach DynamoDB as an invalid Query (500 INTERNAL_ERROR on DynamoDB, 200 on moto).
@pytest.mark.parametrize("case", list(_DYNAMODB_CASES))
def test_list_filters_are_refused_or_stay_within_dynamodb_limits(case):
    try:
        request = _build(**_DYNAMODB_CASES[case])
    except InvalidParameterError as error:
        assert error.parameter in LIST_NAMES
        return
    _assert_dynamodb_accepts(request)


def test_the_largest_accepted_filters_fit_dynamodb():
    request = _build(
        lists={
            "project_ids": [",".join(str(n) for n in range(100))],
            "severities": ["LOW,MEDIUM,HIGH"],
            "statuses": ["OPEN,CLOSED"],
            "priorities": ["LOW,MEDIUM,HIGH"],
            "tags": [",".join(f"tag-{n}" for n in range(20))],
        }
    )
    assert len(request.query.project_ids) == 100
    _assert_dynamodb_accepts(request)
