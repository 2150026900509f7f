"""Creates the template's tables and buckets in a local (or mocked) account, named as the local stack names them."""

from __future__ import annotations

import uuid
from typing import Any

from devtools.template import load_template, parameter_defaults, resources, table_create_args, table_ttl_attribute

LOCAL_BUCKET_PREFIX = "export-service-local-"
_LOCAL_KEYS = uuid.UUID("0b9f4c1e-2d7a-4f5e-9c3b-6a1d8e2f7b40")  # namespace of the local KMS key ids


def local_refs() -> dict[str, str]:
    """What ``!Ref``/``!GetAtt`` resolve to locally: parameters' defaults, tables by logical id, buckets by prefix."""
    template = load_template()
    refs = parameter_defaults()
    refs["AWS::StackName"] = "local"  # what ${AWS::StackName} names locally (the fallback usage key's value)
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
    for name in resources(template, "AWS::KMS::Key"):
        refs[name] = local_key_id(name)
        refs[f"{name}.Arn"] = f"arn:aws:kms:us-east-1:123456789012:key/{local_key_id(name)}"
    return refs


def local_key_id(logical_id: str) -> str:
    """A KMS key's id in the local account: a UUID derived from its logical id, so the functions' environment, the
    IAM check and the key agree before the key exists (KMS picks ids itself; see ``create_keys``)."""
    return str(uuid.uuid5(_LOCAL_KEYS, logical_id))


def create_keys(kms: Any, refs: dict[str, str]) -> list[str]:
    """The template's KMS keys (spec and usage as declared) in moto, under the ids ``local_refs`` gives them.

    KMS (and moto) choose a new key's id; moto's generator is pinned to the logical id's while each key is created.
    moto must run in this process (its server thread, or ``mock_aws``)."""
    from unittest import mock  # noqa: PLC0415

    created = []
    for logical_id, resource in resources(load_template(), "AWS::KMS::Key").items():
        props = resource["Properties"]
        key_id = refs[logical_id]
        with mock.patch("moto.kms.models.generate_key_id", return_value=key_id):
            answered = kms.create_key(
                KeySpec=props.get("KeySpec", "SYMMETRIC_DEFAULT"),
                KeyUsage=props.get("KeyUsage", "ENCRYPT_DECRYPT"),
                Description=f"local {logical_id}",
            )["KeyMetadata"]["KeyId"]
        if answered != key_id:
            raise RuntimeError(f"{logical_id}: moto answered key id {answered}, expected {key_id}")
        created.append(key_id)
    return created


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
