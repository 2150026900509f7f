"""Creates the template's tables and buckets in a local (or mocked) account, named as the local stack names them."""

from __future__ import annotations

from typing import Any

from devtools.template import load_template, parameter_defaults, resources, table_create_args, table_ttl_attribute

LOCAL_BUCKET_PREFIX = "export-service-local-"


def local_refs() -> dict[str, str]:
    """What ``!Ref``/``!GetAtt`` resolve to locally: parameters' defaults, tables by logical id, buckets by prefix."""
    template = load_template()
    refs = parameter_defaults()
    for name in resources(template, "AWS::DynamoDB::Table"):
        refs[name] = name
        refs[f"{name}.Arn"] = f"arn:aws:dynamodb:us-east-1:123456789012:table/{name}"
    for name in resources(template, "AWS::Serverless::Function"):
        refs[name] = name
        refs[f"{name}.Arn"] = f"arn:aws:lambda:us-east-1:123456789012:function:{name}"
    for name in resources(template, "AWS::Serverless::StateMachine"):
        refs[name] = f"arn:aws:states:us-east-1:123456789012:stateMachine:{name}"
    for name in resources(template, "AWS::S3::Bucket"):
        refs[name] = LOCAL_BUCKET_PREFIX + name.lower()
        refs[f"{name}.Arn"] = f"arn:aws:s3:::{LOCAL_BUCKET_PREFIX + name.lower()}"
    return refs


def create_tables(dynamodb: Any, refs: dict[str, str]) -> list[str]:
    created = []
    for logical_id in resources(load_template(), "AWS::DynamoDB::Table"):
        name = refs[logical_id]
        dynamodb.create_table(**table_create_args(logical_id, name))
        dynamodb.get_waiter("table_exists").wait(TableName=name)
        ttl = table_ttl_attribute(logical_id)
        if ttl:
            dynamodb.update_time_to_live(
                TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl}
            )
        created.append(name)
    return created


def create_buckets(s3: Any, refs: dict[str, str]) -> list[str]:
    created = []
    for logical_id in resources(load_template(), "AWS::S3::Bucket"):
        s3.create_bucket(Bucket=refs[logical_id])
        created.append(refs[logical_id])
    return created
