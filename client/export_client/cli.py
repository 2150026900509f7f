"""The ``exports`` command: configure, export, jobs, nightly. Reference and exit codes: docs/client.md."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any, TypeVar, cast

import click

from export_client import __version__
from export_client.api import Api, make_session
from export_client.config import DEFAULT_PROFILE, config_path, loose_permissions, read_profiles, resolve, write_profile
from export_client.errors import ClientError, Exit
from export_client.exporting import ExportRequest, collect_job, run_export
from export_client.nightly import stitch_directory, sync
from export_client.ui import Ui

F = TypeVar("F", bound=Callable[..., Any])
DEFAULT_TIMEOUT = 6 * 3600.0


class Context:
    """The options every command takes, and what they make (the API client, the UI)."""

    def __init__(self, endpoint: str | None, key: str | None, profile: str | None, quiet: bool, as_json: bool) -> None:
        self.endpoint, self.key, self.profile = endpoint, key, profile
        self.as_json = as_json
        self.ui = Ui(quiet=quiet or as_json)

    def api(self) -> Api:
        path = config_path()
        settings = resolve(self.endpoint, self.key, self.profile, path=path)
        if settings.key_from.startswith("profile") and loose_permissions(path):
            self.ui.warn(f"{path} holds API keys and others may read it: chmod 600 {path}")
        return Api(settings.endpoint, settings.key)

    def emit(self, document: dict[str, Any], line: str) -> None:
        """The result: JSON with --json, else one line (nothing with --quiet)."""
        if self.as_json:
            click.echo(json.dumps(document, sort_keys=True))
        elif not self.ui.quiet:
            click.echo(line)


def command_options(function: F) -> F:
    """Connection and output options on every command, so they can follow the command's name."""
    options = [
        click.option("--endpoint", envvar=None, help="API base URL (else $EXPORTS_ENDPOINT, else the profile)."),
        click.option(
            "--key",
            help="API key. Avoid: it lands in shell history; prefer `exports configure` or $EXPORTS_KEY.",
        ),
        click.option("--profile", help="Profile of the config file (else $EXPORTS_PROFILE, else 'default')."),
        click.option("-q", "--quiet", is_flag=True, help="No progress and no summary; errors and warnings only."),
        click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object (for scripts)."),
    ]
    for option in reversed(options):
        function = option(function)

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        context = Context(
            kwargs.pop("endpoint"), kwargs.pop("key"), kwargs.pop("profile"), kwargs.pop("quiet"), kwargs.pop("as_json")
        )
        try:
            return function(context, *args, **kwargs)
        except ClientError as error:
            _fail(context, error.message, error.code)
        except KeyboardInterrupt:
            _fail(context, "interrupted; run the same command again to resume", Exit.INTERRUPTED)
        return None

    return cast(F, wrapper)


def _fail(context: Context, message: str, code: Exit) -> None:
    if context.as_json:
        click.echo(json.dumps({"ok": False, "exit": int(code), "error": message}))
    context.ui.console.print(f"error: {message}", markup=False, style="red", soft_wrap=True)
    sys.exit(int(code))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="exports")
def cli() -> None:
    """Incident and audit exports from the command line: files on disk, verified.

    Configure once with `exports configure` (it prompts for the key), or set EXPORTS_ENDPOINT and EXPORTS_KEY.
    """


@cli.command()
@click.option("--profile", default=DEFAULT_PROFILE, show_default=True, help="The profile to write.")
@click.option("--endpoint", help="API base URL (prompted when absent).")
@click.option("--no-check", is_flag=True, help="Save without checking the key against the API.")
def configure(profile: str, endpoint: str | None, no_check: bool) -> None:
    """Save an endpoint and an API key in a profile (the key is prompted for, never echoed)."""
    path = config_path()
    try:
        stored = read_profiles(path).get(profile, {})
        endpoint = endpoint or click.prompt("API endpoint", default=stored.get("endpoint") or "http://127.0.0.1:3000")
        key = click.prompt("API key", hide_input=True)
        if not no_check:
            Api(str(endpoint), key).jobs()  # any valid key may list the jobs it sees: 401 for a bad key
        written = write_profile(profile, str(endpoint), key, path=path)
    except ClientError as error:
        click.echo(f"error: {error.message}", err=True)
        sys.exit(int(error.code))
    click.echo(f"saved profile '{profile}' in {written} (mode 600)")


@cli.command("export")
@click.argument("dataset")
@click.argument("filters", nargs=-1, metavar="[NAME=VALUE]...")
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    help="File (or folder) to write; default: the service's file name in the current folder.",
)
@click.option("-f", "--format", "fmt", help="csv (default), json, jsonl, pdf (audit), parquet (always a job).")
@click.option("--from", "start", help="Start of the range (ISO 8601, inclusive).")
@click.option("--to", "end", help="End of the range (ISO 8601, inclusive).")
@click.option("--filter", "filter_json", help='A JSON filter, e.g. \'{"severities":["HIGH"]}\'.')
@click.option("--job", "as_job", is_flag=True, help="Start an export job (POST /v1/exports) even when it would fit.")
@click.option("--timeout", type=float, default=DEFAULT_TIMEOUT, show_default=True, help="Seconds to wait for a job.")
@command_options
def export_command(
    context: Context,
    dataset: str,
    filters: tuple[str, ...],
    output: Path | None,
    fmt: str | None,
    start: str | None,
    end: str | None,
    filter_json: str | None,
    as_job: bool,
    timeout: float,
) -> None:
    """Export DATASET (audit, incidents, incident-events, ...) to a verified file.

    Filters are the API's query parameters as NAME=VALUE (repeat a name for several values), e.g.
    `exports export audit action=runbook.execute --from 2026-03-01 -o audit.csv`.
    """
    params: dict[str, list[str]] = {}
    for item in filters:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise click.BadParameter(f"{item!r} is not NAME=VALUE", param_hint="FILTERS")
        params.setdefault(name, []).append(value)
    for name, given in (("from", start), ("to", end), ("filter", filter_json)):
        if given is not None:
            params[name] = [given]
    api = context.api()
    request = ExportRequest(dataset=dataset, fmt=fmt, params=params, as_job=as_job)
    summary = run_export(api, make_session(), request, output, context.ui, timeout=timeout)
    context.emit(summary.as_json(), summary.line())


@cli.group()
def jobs() -> None:
    """Export jobs: list, show, download."""


@jobs.command("list")
@command_options
def jobs_list(context: Context) -> None:
    """The jobs this key may see, newest first."""
    items = context.api().jobs()
    if context.as_json:
        click.echo(json.dumps(items))
        return
    for job in items:
        meta, status = job["metadata"], job["status"]
        records = status.get("records", status.get("estimatedRecords", ""))
        click.echo(
            f"{meta['jobId']}  {status['state']:<10}  {meta['dataset']:<26}  {meta['format']:<7}  "
            f"{records!s:>9}  {meta['createdAt']}  {meta['filename']}"
        )


@jobs.command("show")
@click.argument("job_id")
@command_options
def jobs_show(context: Context, job_id: str) -> None:
    """One job: state, progress, and when it succeeded its file (records, bytes, SHA-256)."""
    job = context.api().job(job_id)
    if context.as_json:
        click.echo(json.dumps(job))
        return
    meta, status = job["metadata"], job["status"]
    progress = status.get("progress") or {}
    lines = [
        f"job        {meta['jobId']}",
        f"dataset    {meta['dataset']} ({meta['format']})",
        f"state      {status['state']}",
        f"progress   {progress.get('partitionsDone', 0)}/{progress.get('partitionsTotal', 0)} parts, "
        f"~{status.get('estimatedRecords', 0):,} records estimated",
        f"created    {meta['createdAt']} (kept until {meta['expiresAt']})",
        f"file       {meta['filename']}",
    ]
    if status["state"] == "succeeded":
        lines.append(f"records    {status['records']:,}; {status['bytes']:,} bytes; sha256 {status['sha256']}")
        lines.append(f"download   exports jobs download {meta['jobId']} -o {meta['filename']}")
    if status.get("error"):
        lines.append(f"error      {status['error']}")
    click.echo("\n".join(lines))


@jobs.command("download")
@click.argument("job_id")
@click.option("-o", "--output", type=click.Path(path_type=Path), help="File (or folder) to write.")
@click.option("--timeout", type=float, default=DEFAULT_TIMEOUT, show_default=True, help="Seconds to wait for the job.")
@command_options
def jobs_download(context: Context, job_id: str, output: Path | None, timeout: float) -> None:
    """Wait for a job and download its file, verified (resumes a download an earlier run left half done)."""
    summary = collect_job(context.api(), make_session(), job_id, output, context.ui, timeout=timeout)
    context.emit(summary.as_json(), summary.line())


@cli.group()
def nightly() -> None:
    """Nightly exports: keep a folder in sync, stitch a range into one file per source."""


@nightly.command("sync")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--since", help="First run only: files created after this ISO 8601 time (default: all 30 days).")
@click.option("--warn-hours", type=float, default=72, show_default=True, help="Warn about files this close to expiry.")
@command_options
def nightly_sync(context: Context, directory: Path, since: str | None, warn_hours: float) -> None:
    """Download every nightly file DIRECTORY does not have yet, verified; safe to run from cron."""
    report = sync(
        context.api(), make_session(), directory, context.ui, since=since, warn_within=timedelta(hours=warn_hours)
    )
    context.emit(report.as_json(), report.line())
    if report.exit_code:
        sys.exit(int(report.exit_code))


@nightly.command("stitch")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder for the stitched files (one per source).",
)
@click.option("--source", "sources", multiple=True, help="Only this source (e.g. incident-20220525); repeatable.")
@click.option("--from", "first", type=click.DateTime(["%Y-%m-%d"]), help="First night (YYYY-MM-DD).")
@click.option("--to", "last", type=click.DateTime(["%Y-%m-%d"]), help="Last night (YYYY-MM-DD).")
@command_options
def nightly_stitch(
    context: Context, directory: Path, output: Path, sources: tuple[str, ...], first: Any, last: Any
) -> None:
    """Merge the nights DIRECTORY holds into one deduplicated file per source (latest updated_at wins)."""
    first_day: date | None = first.date() if first else None
    last_day: date | None = last.date() if last else None
    done = stitch_directory(directory, output, sources=sources, first=first_day, last=last_day)
    document = {
        "files": [
            {
                "source": item.source,
                "file": str(item.path),
                "inputs": item.result.files,
                "rows_read": item.result.rows_read,
                "rows_written": item.result.rows_written,
            }
            for item in done
        ]
    }
    lines = [
        f"{item.path}: {item.result.rows_written:,} rows from {item.result.rows_read:,} in {item.result.files} files"
        for item in done
    ]
    context.emit(document, "\n".join(lines))


from export_client.verifier.commands import verify_command  # noqa: E402 - offline verification, docs/verify.md

cli.add_command(verify_command)


def main() -> None:
    cli(prog_name="exports")
