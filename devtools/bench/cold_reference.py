"""The smallest function of the API's kind, for the cold-start table: what the required stack costs at a cold
start before any of the service's own code (devtools/bench/coldstart.py measures it beside every function).

It is built the way the service's API functions must be: Powertools' REST resolver with ``enable_validation``, a
pydantic query model, Logger and Metrics on the handler, and one DynamoDB read (a GetItem on the audit table, the
item need not exist). No Tracer: the API's functions run with POWERTOOLS_TRACE_DISABLED (Lambda's active tracing
records their segments), and a Tracer built even disabled imports the X-Ray SDK.
"""

from __future__ import annotations

import os
from typing import Annotated, Any

import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, Field

logger = Logger()
metrics = Metrics(namespace="ColdStartReference")
app = APIGatewayRestResolver(enable_validation=True)
table = os.environ["AUDIT_TABLE_NAME"]
client = boto3.client("dynamodb")


class ReferenceQuery(BaseModel):
    day: str = Field(default="2026-01-01", min_length=10, max_length=10)


@app.get("/v1/reference")
def read_one(query: Annotated[ReferenceQuery, Query()]) -> dict[str, Any]:
    found = client.get_item(TableName=table, Key={"pk": {"S": f"reference#{query.day}"}, "sk": {"S": "-"}})
    return {"day": query.day, "found": "Item" in found}


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
