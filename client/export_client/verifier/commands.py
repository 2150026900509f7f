"""``python -m export_client.verifier`` (and ``exports verify``): file, chain, records. Exit codes: report.py."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from export_client.verifier.report import Check, Failed, InputError, Report
from export_client.verifier.run import verify_chain, verify_file, verify_records

_KEYS = click.option(
    "--keys",
    "keys_path",
    required=True,
    type=click.Path(path_type=Path),
    help="The saved answer of GET /v1/manifest-keys (the public keys; no secret).",
)


def _run(action: object) -> None:
    report = Report()
    try:
        action(report)  # type: ignore[operator]
    except InputError as error:
        click.echo(f"FAILED  input     {error}")
        sys.exit(int(Check.INPUT))
    except Failed as failed:
        sys.exit(int(failed.check))
    click.echo(f"verified: {report.checked} check(s) passed")


@click.group(name="verify", context_settings={"help_option_names": ["-h", "--help"]})
def verify_command() -> None:
    """Verify exports offline: files against their signed manifests, audit records against their checksums, and
    nightly downloads as a chain. Needs no AWS credentials and no access to the service (docs/verify.md)."""


@verify_command.command("file")
@click.argument("path", type=click.Path(path_type=Path))
@click.option(
    "--manifest",
    "manifest_path",
    type=click.Path(path_type=Path),
    help="The file's manifest (default: <file>.manifest.json, else manifest.json beside it).",
)
@_KEYS
@click.option(
    "--headers",
    type=click.Path(path_type=Path),
    help="The answer's saved headers (curl -D): its Repr-Digest is checked against the file too.",
)
def file_command(path: Path, manifest_path: Path | None, keys_path: Path, headers: Path | None) -> None:
    """A downloaded file against its manifest: the manifest's signature, the file's bytes, SHA-256 and rows, and
    for audit records every record's checksum."""
    _run(lambda report: verify_file(report, path, manifest_path, keys_path, headers))


@verify_command.command("chain")
@click.argument("folder", type=click.Path(path_type=Path))
@_KEYS
@click.option("--partial", is_flag=True, help="The folder may start after the tenant's first night.")
@click.option("--through", metavar="YYYY-MM-DD", help="The folder must reach this night (the last one delivered).")
def chain_command(folder: Path, keys_path: Path, partial: bool, through: str | None) -> None:
    """A folder of nightly downloads: every night's manifest signature, every file against it, audit records'
    checksums, and the nights as a chain per tenant (missing, replaced, duplicated or reordered nights named)."""
    _run(lambda report: verify_chain(report, folder, keys_path, partial=partial, through=through))


@verify_command.command("records")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["csv", "json", "jsonl"]), help="Default: from the extension.")
def records_command(path: Path, fmt: str | None) -> None:
    """Every audit record's own checksum in a csv, json or jsonl audit export (no manifest or key needed)."""
    _run(lambda report: verify_records(report, path, fmt))


def main() -> None:
    verify_command(prog_name="python -m export_client.verifier")
