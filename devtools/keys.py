"""Create, list and revoke API keys. The secret is printed once; only its hash is stored.

    python -m devtools.keys create --tenant acme --permissions AUDIT_READ,EXPORTS_READ --name "BI loader"
    python -m devtools.keys list [--tenant acme]
    python -m devtools.keys revoke ak_0123456789abcdef
    python -m devtools.keys --usage-plan <id> usage-keys [--tenant acme]

Defaults point at the local stack (DynamoDB Local on 127.0.0.1:8000, table ApiKeysTable). For a deployed stack:
    --table <ApiKeysTableName output> --endpoint "" --usage-plan <UsagePlanId output> (your AWS credentials and region)

Requests are metered per tenant by API Gateway: with --usage-plan, ``create`` gives the key its tenant's API Gateway
API key in that usage plan (created with the tenant's first key, added to the plan), whose value the authorizer
returns as the usage identifier. Without it the key is metered under the stack's shared fallback identifier;
``usage-keys`` later gives such keys their tenant's own. --apigateway-endpoint points at another API Gateway (the
local stack's moto) than AWS's.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

import boto3

from export_service.dal.api_key_store import ApiKeyStore
from export_service.dal.usage_keys import UsagePlanKeys
from export_service.logic.api_keys import mint_api_key
from export_service.models.api_keys import Permission
from export_service.timefmt import format_instant, utc_now


def _client(service: str, endpoint: str) -> Any:
    kwargs: dict[str, Any] = {}
    if endpoint:
        kwargs = {"endpoint_url": endpoint, "region_name": os.environ.get("AWS_DEFAULT_REGION", "us-east-1")}
        os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
        os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
    return boto3.client(service, **kwargs)  # type: ignore[call-overload]


def _store(args: argparse.Namespace) -> ApiKeyStore:
    return ApiKeyStore(_client("dynamodb", args.endpoint), args.table)


def _usage(args: argparse.Namespace) -> UsagePlanKeys | None:
    if not args.usage_plan:
        return None
    return UsagePlanKeys(_client("apigateway", args.apigateway_endpoint), args.usage_plan)


def _permissions(text: str) -> list[Permission]:
    names = [name.strip().upper() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in Permission.__members__]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"permissions are a comma-separated subset of {', '.join(Permission)}")
    return [Permission(name) for name in names]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--endpoint", default=os.environ.get("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:8000"))
    parser.add_argument("--table", default=os.environ.get("API_KEYS_TABLE_NAME", "ApiKeysTable"))
    parser.add_argument(
        "--usage-plan", default=os.environ.get("USAGE_PLAN_ID", ""), help="the stack's UsagePlanId output"
    )
    parser.add_argument("--apigateway-endpoint", default=os.environ.get("AWS_ENDPOINT_URL_APIGATEWAY", ""))
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create", help="mint a key; prints the token once")
    create.add_argument("--tenant", required=True)
    create.add_argument("--permissions", required=True, type=_permissions, help="e.g. AUDIT_READ,EXPORTS_READ")
    create.add_argument("--name", default="")
    listing = commands.add_parser("list", help="list keys (never secrets)")
    listing.add_argument("--tenant")
    revoke = commands.add_parser("revoke", help="revoke a key at once")
    revoke.add_argument("key_id")
    usage_keys = commands.add_parser("usage-keys", help="give keys without one their tenant's usage key")
    usage_keys.add_argument("--tenant")
    args = parser.parse_args(argv)
    store = _store(args)

    if args.command == "create":
        key, token = mint_api_key(args.tenant, args.permissions, utc_now(), name=args.name)
        usage = _usage(args)
        if usage is not None:
            key = key.model_copy(update={"usage_key": usage.tenant_key(key.tenant_id)})
        store.put(key)
        print(f"key id:      {key.key_id}")
        print(f"tenant:      {key.tenant_id}")
        print(f"permissions: {','.join(sorted(key.permissions))}")
        print(f"token:       {token}    (shown once; store it now)")
        pair = token.replace(".", ":", 1)
        print(f"use as:      Authorization: Bearer {token}  |  apikey: {token}  |  Authorization: {pair}")
        if usage is None:
            print("metered:     under the stack's shared fallback identifier (no --usage-plan): run usage-keys")
        else:
            print(f"metered:     as tenant {key.tenant_id} in usage plan {usage.usage_plan_id}")
        return 0
    if args.command == "list":
        for key in sorted(store.scan(), key=lambda k: (k.tenant_id, k.created_at)):
            if args.tenant and key.tenant_id != args.tenant:
                continue
            state = f"revoked {key.revoked_at}" if key.revoked_at else "active"
            perms = ",".join(sorted(key.permissions))
            metered = "tenant usage key" if key.usage_key else "fallback usage key"
            print(f"{key.key_id}\t{key.tenant_id}\t{perms}\t{key.created_at}\t{state}\t{metered}\t{key.name}")
        return 0
    if args.command == "usage-keys":
        usage = _usage(args)
        if usage is None:
            print("usage-keys needs --usage-plan <UsagePlanId output>", file=sys.stderr)
            return 2
        for key in store.scan():
            if key.usage_key or key.revoked or (args.tenant and key.tenant_id != args.tenant):
                continue
            store.set_usage_key(key.key_id, usage.tenant_key(key.tenant_id))
            print(f"{key.key_id}\t{key.tenant_id}\tnow metered as its tenant")
        return 0
    if store.revoke(args.key_id, format_instant(utc_now())):
        print(f"revoked {args.key_id}")
        return 0
    print(f"no such key: {args.key_id}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
