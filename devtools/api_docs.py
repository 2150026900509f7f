"""Renders docs/api.md, the API reference, from the committed docs/openapi.json; a test fails when it is stale.

python -m devtools.api_docs          # rewrite docs/api.md from docs/openapi.json
python -m devtools.api_docs --check  # exit 1 if docs/api.md is stale

docs/openapi.json comes from the code (python -m devtools.openapi); `make docs` runs both. The hand-written rules the
OpenAPI cannot carry (header forms, error model, CSV rules, cursors, job lifecycle, nightly exports) are in
docs/guide.md. Text is copied from the OpenAPI document as it is.
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any

from devtools.openapi import OPENAPI_PATH, write_or_check
from devtools.template import ROOT

API_DOCS_PATH = ROOT / "docs" / "api.md"

# Route groups in reading order (OpenAPI tags); a tag not named here follows them.
_TAG_ORDER = ("audit", "incidents", "exports", "nightly exports", "alerts")


def plain(text: str) -> str:
    """Description text as markdown: RST double backticks made single."""
    return text.replace("``", "`")


def _cell(text: str) -> str:
    """Text for one markdown table cell: one line, pipes escaped."""
    return " ".join(plain(text).split()).replace("|", "\\|")


def anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation other than - and _ dropped, spaces as -."""
    return re.sub(r"[^a-z0-9 _-]", "", heading.lower()).replace(" ", "-")


def _number(value: Any) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


class _Renderer:
    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.schemas: dict[str, Any] = document.get("components", {}).get("schemas", {})
        self.used: list[str] = []

    def _ref(self, ref: str) -> str:
        name = ref.rsplit("/", 1)[-1]
        schema = self.schemas.get(name, {})
        if "enum" in schema:
            return " \\| ".join(f"`{value}`" for value in schema["enum"])
        if name not in self.used:
            self.used.append(name)
            self._collect(schema)
        return f"[{name}](#{anchor(name)})"

    def _collect(self, schema: Any) -> None:
        """Note the schemas a schema refers to, so the Schemas section lists every one reachable from a route."""
        if isinstance(schema, dict):
            for key, value in schema.items():
                if key == "$ref" and isinstance(value, str):
                    self._ref(value)
                else:
                    self._collect(value)
        elif isinstance(schema, list):
            for item in schema:
                self._collect(item)

    def type_of(self, schema: dict[str, Any]) -> str:
        """A schema as a short phrase: `string`, `array of string`, a link to a component, an enum's values."""
        if "$ref" in schema:
            text = self._ref(schema["$ref"])
        elif "anyOf" in schema:
            options = [self.type_of(option) for option in schema["anyOf"] if option.get("type") != "null"]
            text = " or ".join(options) or "null"
        elif "enum" in schema:
            text = " \\| ".join(f"`{value}`" for value in schema["enum"])
        elif schema.get("type") == "array":
            text = f"array of {self.type_of(schema.get('items', {}))}"
        elif schema.get("type") == "object" and isinstance(schema.get("additionalProperties"), dict):
            text = f"object of {self.type_of(schema['additionalProperties'])}"
        else:
            text = str(schema.get("type", "any"))
        return text + self._constraints(schema)

    @staticmethod
    def _constraints(schema: dict[str, Any]) -> str:
        notes = []
        low, high = schema.get("minimum"), schema.get("maximum")
        if low is not None or high is not None:
            notes.append(f"{_number(low) if low is not None else ''}-{_number(high) if high is not None else ''}")
        low, high = schema.get("minItems"), schema.get("maxItems")
        if low is not None or high is not None:
            notes.append(f"{_number(low) if low is not None else 0}-{_number(high) if high is not None else ''} items")
        if schema.get("minLength") is not None:
            notes.append(f"at least {_number(schema['minLength'])} characters")
        if schema.get("maxLength") is not None:
            notes.append(f"at most {_number(schema['maxLength'])} characters")
        if "default" in schema:
            notes.append(f"default `{json.dumps(schema['default'])}`")
        return f" ({'; '.join(notes)})" if notes else ""

    def operation(self, method: str, path: str, op: dict[str, Any]) -> list[str]:
        lines = [f"### `{method.upper()} {path}`", ""]
        if op.get("summary"):
            lines += [f"**{plain(op['summary']).rstrip('.')}.**", ""]
        if op.get("description"):
            lines += [" ".join(plain(op["description"]).split()), ""]
        parameters = op.get("parameters", [])
        if parameters:
            lines += ["| parameter | in | type | required | description |", "|---|---|---|---|---|"]
            for parameter in parameters:
                schema = parameter.get("schema", {})
                description = parameter.get("description") or schema.get("description", "")
                lines.append(
                    f"| `{parameter['name']}` | {parameter['in']} | {self.type_of(schema)} | "
                    f"{'yes' if parameter.get('required') else 'no'} | {_cell(description)} |"
                )
            lines.append("")
        body = op.get("requestBody")
        if body:
            for content_type, content in body.get("content", {}).items():
                required = "required" if body.get("required") else "optional"
                lines += [
                    f"Request body (`{content_type}`, {required}): {self.type_of(content.get('schema', {}))}",
                    "",
                ]
        lines += ["| status | content | description |", "|---|---|---|"]
        for status, response in op.get("responses", {}).items():
            contents = []
            for content_type, content in response.get("content", {}).items():
                schema = content.get("schema", {})
                # Powertools names an untyped return "Return: string"; only a declared model is worth showing.
                shown = self.type_of(schema) if "$ref" in json.dumps(schema) else ""
                contents.append(f"`{content_type}`{f': {shown}' if shown else ''}")
            lines.append(f"| {status} | {', '.join(contents)} | {_cell(response.get('description', ''))} |")
        return [*lines, ""]

    def schema(self, name: str) -> list[str]:
        schema = self.schemas[name]
        lines = [f"### {name}", ""]
        if schema.get("description"):
            lines += [" ".join(plain(schema["description"]).split()), ""]
        properties = schema.get("properties", {})
        if properties:
            required = set(schema.get("required", []))
            lines += ["| field | type | required | description |", "|---|---|---|---|"]
            for field, spec in properties.items():
                lines.append(
                    f"| `{field}` | {self.type_of(spec)} | {'yes' if field in required else 'no'} | "
                    f"{_cell(spec.get('description', ''))} |"
                )
            lines.append("")
        extra = schema.get("additionalProperties")
        if extra is True:
            lines += ["Other fields are accepted (see the description).", ""]
        elif extra is False:
            lines += ["No other fields are accepted.", ""]
        return lines

    def render(self) -> str:
        info = self.document.get("info", {})
        operations = [
            (method, path, op)
            for path, methods in self.document.get("paths", {}).items()
            for method, op in methods.items()
        ]
        lines = [
            "# API reference",
            "",
            "<!-- Generated from docs/openapi.json by devtools/api_docs.py (make docs); do not edit by hand. -->",
            "",
            f"{info.get('title', 'API')} {info.get('version', '')}: every route of `docs/openapi.json` with its "
            "parameters and responses. The rules behind them (header forms, error model, CSV rules, filenames, "
            "pagination and cursors, the job lifecycle, nightly exports) are in [guide.md](guide.md); which key "
            "permission each route needs is in [permissions.md](permissions.md).",
            "",
            "## Authentication",
            "",
            "Every route accepts any of these (the token is `<key-id>.<secret>`):",
            "",
        ]
        schemes = self.document.get("components", {}).get("securitySchemes", {})
        for requirement in self.document.get("security", []):
            for name in requirement:
                lines.append(f"- `{name}`: `{schemes.get(name, {}).get('description', name)}`")
        groups: dict[str, list[tuple[str, str, dict[str, Any]]]] = {tag: [] for tag in _TAG_ORDER}
        for method, path, op in operations:
            groups.setdefault((op.get("tags") or ["other"])[0], []).append((method, path, op))
        groups = {tag: group for tag, group in groups.items() if group}
        lines += ["", "## Routes", "", "| method | path | summary |", "|---|---|---|"]
        for group in groups.values():
            for method, path, op in group:
                heading = f"{method.upper()} {path}"
                lines.append(f"| {method.upper()} | [`{path}`](#{anchor(heading)}) | {_cell(op.get('summary', ''))} |")
        lines.append("")
        for tag, group in groups.items():
            lines += [f"## {tag[:1].upper()}{tag[1:]}", ""]
            for method, path, op in group:
                lines += self.operation(method, path, op)
        if self.used:
            lines += ["## Schemas", ""]
            index = 0
            while index < len(self.used):  # schema() may note more schemas as it goes
                lines += self.schema(self.used[index])
                index += 1
        while lines[-1] == "":
            lines.pop()
        return "\n".join(lines) + "\n"


def render(document: dict[str, Any]) -> str:
    """docs/api.md's text for an OpenAPI document."""
    return _Renderer(document).render()


def generate() -> str:
    return render(json.loads(OPENAPI_PATH.read_text()))


def main() -> int:
    return write_or_check(API_DOCS_PATH, generate, "devtools.api_docs", __doc__)


if __name__ == "__main__":
    sys.exit(main())
