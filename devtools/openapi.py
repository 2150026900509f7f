"""Generates docs/openapi.json from the routes' code (Powertools' OpenAPI); a test fails when the file is stale.

python -m devtools.openapi          # rewrite docs/openapi.json
python -m devtools.openapi --check  # exit 1 if it is stale
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from devtools.openapi_errors import add_error_model
from devtools.template import ROOT

OPENAPI_PATH = ROOT / "docs" / "openapi.json"


def _routers() -> list[Any]:
    from export_service.api.routes import (  # noqa: PLC0415
        alerts,
        audit_export,
        catalog,
        catalog_sql,
        dataset_export,
        export_jobs,
        export_requests,
        incident_stats,
        incidents,
        manifest_keys,
    )

    return [
        audit_export.router,
        dataset_export.router,
        export_requests.router,
        export_jobs.start_router,
        export_jobs.get_router,
        export_jobs.list_router,
        incidents.list_router,
        incident_stats.distribution_router,
        incident_stats.summary_router,
        incidents.detail_router,
        incidents.incident_alerts_router,
        alerts.by_filters_router,
        catalog.sources_router,
        catalog.validators_router,
        catalog.groups_router,
        catalog.activities_router,
        catalog_sql.debug_router,
        catalog_sql.sample_router,
        manifest_keys.router,
    ]


def _query_schemas(document: dict[str, Any], routers: list[Any]) -> None:
    """Each query parameter's schema from its endpoint's query model (Powertools 3.37 documents a model's fields
    with their bare type only: no enum, bounds, default or list), and no component for the models themselves."""
    models = set()
    for router in routers:
        for (method, resource), endpoint in router.endpoints.items():
            if endpoint.query is None:
                continue
            models.add(endpoint.query.__name__)
            properties = endpoint.query.model_json_schema(by_alias=True)["properties"]
            operation = document["paths"][resource][method.lower()]
            for parameter in operation.get("parameters", ()):
                if parameter["in"] == "query" and parameter["name"] in properties:
                    schema = {
                        k: v for k, v in properties[parameter["name"]].items() if k not in ("title", "description")
                    }
                    if schema.get("default", 0) is None:
                        del schema["default"]
                    parameter["schema"] = schema
    for name in models:
        document["components"]["schemas"].pop(name, None)


TENANT = {
    "name": "tenant",
    "in": "path",
    "required": True,
    "schema": {"type": "string"},
    "description": "The API key's tenant; any other answers 404, as a path that does not exist",
}


def _tenant_parameter(path: str, operation: dict[str, Any]) -> None:
    """A ``{tenant}`` path segment is checked before the route runs (the route itself never reads it), so
    Powertools does not see it as a parameter: it is declared here."""
    parameters = operation.setdefault("parameters", [])
    if "{tenant}" in path and not any(p["in"] == "path" and p["name"] == "tenant" for p in parameters):
        parameters.insert(0, dict(TENANT))


def generate() -> str:
    from export_service.api.app import create_app  # noqa: PLC0415

    routers = _routers()
    app = create_app(routers)
    schema = app.get_openapi_json_schema(
        title="Incident and audit export API",
        version="1.0.0",
        summary="Audit and incident exports as CSV, JSON and JSON Lines; see README.md",
    )
    document = json.loads(schema)
    _query_schemas(document, routers)
    for operations in document["paths"].values():
        for operation in operations.values():
            # Powertools collects a route's tags in a set: their order would change with the hash seed
            operation["tags"] = sorted(operation.get("tags", ()))
    for path, operations in document["paths"].items():
        for operation in operations.values():
            _tenant_parameter(path, operation)
    # Powertools documents validation failures as 422 and error bodies as strings: this API answers them 400, and
    # every error in its error model (devtools/openapi_errors.py).
    add_error_model(document)
    document["components"].setdefault("securitySchemes", {}).update(
        {
            "bearer": {"type": "http", "scheme": "bearer", "description": "Authorization: Bearer <key-id>.<secret>"},
            "apikey": {"type": "apiKey", "in": "header", "name": "apikey", "description": "apikey: <key-id>.<secret>"},
            "keyPair": {
                "type": "apiKey",
                "in": "header",
                "name": "Authorization",
                "description": "Authorization: <key-id>:<secret>",
            },
        }
    )
    document["security"] = [{"bearer": []}, {"apikey": []}, {"keyPair": []}]
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def write_or_check(path: Path, generate_text: Callable[[], str], module: str, doc: str | None) -> int:
    """A generated file's command: rewrite ``path``, or with --check exit 1 when it differs from what it would be."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    text = generate_text()
    if args.check:
        if not path.exists() or path.read_text() != text:
            print(f"{path} is stale: run python -m {module}", file=sys.stderr)
            return 1
        return 0
    path.write_text(text)
    print(f"wrote {path}")
    return 0


def main() -> int:
    return write_or_check(OPENAPI_PATH, generate, "devtools.openapi", __doc__)


if __name__ == "__main__":
    sys.exit(main())
