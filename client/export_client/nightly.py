"""``exports nightly sync DIR`` and ``exports nightly stitch``: the nightly files kept in a folder, safe from cron.

DIR holds the files under the names the service gives them (``incident-20220525-2026-06-21.csv``, or ``.parquet`` for
a tenant whose nightly files are Parquet) and a state file,
``.exports-nightly.json``: every file it has (id, source, night, window, format, records, SHA-256) and a watermark, the
``created_at`` up to which it has every file. A run lists ``GET /v1/export-requests`` from the watermark, page by
page, and downloads each file it does not have (verified against the listing's ``sha256`` and ``records``, written
under a temporary name, renamed once verified, recorded at once), so a second run downloads nothing, an interrupted
run resumes (a half-downloaded file continues with Range), and a run after a missed week catches up on everything
the 30-day retention still holds. It warns about files that will soon be expunged and about gaps (a window that
does not meet the previous one). One run at a time per DIR (a lock file). ``stitch`` merges CSV files only: it
refuses a range holding Parquet files (the client carries no Parquet reader; see docs/nightly.md for querying them).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests

from export_client.api import Api
from export_client.download import (
    Link,
    discard,
    fetch,
    matching_part,
    parse_instant,
    part_path,
    promote,
    write_sidecar,
)
from export_client.errors import ClientError, Exit
from export_client.stitch import Stitched, StitchError, open_files, stitch
from export_client.ui import Ui
from export_client.verify import Facts, facts, format_of, mismatches

STATE_FILE = ".exports-nightly.json"
LOCK_FILE = ".exports-nightly.lock"
RETENTION = timedelta(days=30)
PAGE = 60  # ten nights a page: links (300 s) are used soon after they are listed
FORMATS = ("csv", "parquet")  # the nightly files' formats (the listing's ``format``; absent: csv)
_NAME = re.compile(r"^[A-Za-z0-9._-]+\.(csv|parquet)$")


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _instant(text: str) -> datetime:
    moment = parse_instant(text)
    if moment is None:
        raise ClientError(Exit.NETWORK, f"the listing holds a malformed time: {text!r}")
    return moment


def slug(source: str) -> str:
    """``text/csv+incident-20220525`` -> ``incident-20220525`` (the service's file names use it)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", source.split("+", 1)[-1])


def entry_format(entry: dict[str, Any]) -> str:
    """A listed file's format: ``csv`` or ``parquet`` (an entry without ``format`` is CSV)."""
    fmt = str(entry.get("format") or "csv")
    if fmt not in FORMATS:
        raise ClientError(Exit.REJECTED, f"the listing names a nightly format this client does not know: {fmt!r}")
    return fmt


def file_name(entry: dict[str, Any]) -> str:
    """The name the link's Content-Disposition gives the file (when its extension is the entry's format), else
    ``<source>-<night>.<format>``."""
    fmt = entry_format(entry)
    query = parse_qs(urlsplit(entry.get("url") or "").query)
    disposition = (query.get("response-content-disposition") or [""])[0]
    found = re.search(r'filename="?([^";]+)"?', disposition)
    if found and _NAME.match(Path(found.group(1)).name) and format_of(found.group(1)) == fmt:
        return Path(found.group(1)).name
    return f"{slug(entry['source'])}-{entry['window_ends_at'][:10]}.{fmt}"


def night_of(name: str, entry: dict[str, Any]) -> str:
    found = re.search(r"(\d{4}-\d{2}-\d{2})\.(csv|parquet)$", name)
    return found.group(1) if found else str(entry["window_ends_at"])[:10]


@dataclass
class State:
    """What DIR holds, saved after every file (atomically: a crash never leaves half a state file)."""

    directory: Path
    endpoint: str = ""
    watermark: str | None = None
    files: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def path(self) -> Path:
        return self.directory / STATE_FILE

    @classmethod
    def load(cls, directory: Path) -> State:
        path = directory / STATE_FILE
        if not path.exists():
            return cls(directory)
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise ClientError(Exit.CONFIG, f"cannot read {path}: {error}") from None
        return cls(directory, document.get("endpoint", ""), document.get("watermark"), document.get("files", {}))

    def save(self) -> None:
        document = {"version": 1, "endpoint": self.endpoint, "watermark": self.watermark, "files": self.files}
        temporary = self.path.with_name(STATE_FILE + ".tmp")
        temporary.write_text(json.dumps(document, indent=1, sort_keys=True), encoding="utf-8")
        os.replace(temporary, self.path)

    def window_end(self, source: str) -> str | None:
        ends = [item["window_ends_at"] for item in self.files.values() if item["source"] == source]
        return max(ends) if ends else None


@contextlib.contextmanager
def locked(directory: Path) -> Iterator[None]:
    """One sync per DIR at a time (cron runs that overlap): the second one stops at once."""
    with (directory / LOCK_FILE).open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ClientError(Exit.BUSY, f"another `exports nightly sync` is running in {directory}") from None
        yield


class ListingLinks:
    """A nightly file's link, renewed by listing its night again (each listing presigns fresh links)."""

    def __init__(self, api: Api, entry: dict[str, Any], expires_at: datetime | None) -> None:
        self._api, self._entry, self._expires = api, entry, expires_at

    def current(self) -> Link:
        return Link(self._entry["url"], self._expires)

    def refresh(self) -> Link:
        before = iso(_instant(self._entry["created_at"]) - timedelta(milliseconds=1))
        page = self._api.export_requests(before, limit=6)
        for entry in page.get("data", []):
            if entry["id"] == self._entry["id"]:
                self._entry, self._expires = entry, parse_instant(page.get("urls_expire_at"))
                return self.current()
        raise ClientError(Exit.REJECTED, f"{file_name(self._entry)} is no longer listed (expunged after 30 days?)")


@dataclass
class SyncReport:
    directory: str
    downloaded: list[str] = field(default_factory=list)
    records: int = 0
    kept: int = 0
    failed: list[dict[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    watermark: str | None = None

    @property
    def exit_code(self) -> Exit:
        if not self.failed:
            return Exit.OK
        codes = {int(item["exit"]) for item in self.failed}
        return Exit(Exit.VERIFY if Exit.VERIFY in codes else max(codes))

    def line(self) -> str:
        new = f"{len(self.downloaded)} new files ({self.records:,} records)" if self.downloaded else "nothing new"
        kept = f", {self.kept} listed files already there" if self.kept else ""
        failed = f", {len(self.failed)} failed" if self.failed else ""
        return f"nightly sync: {new}{kept}{failed}; {self.directory} complete up to {self.watermark or '(nothing yet)'}"

    def as_json(self) -> dict[str, Any]:
        return {
            "directory": self.directory,
            "downloaded": self.downloaded,
            "records": self.records,
            "kept": self.kept,
            "failed": self.failed,
            "warnings": self.warnings,
            "watermark": self.watermark,
        }


def _pages(api: Api, newer_than: str | None) -> Iterator[tuple[dict[str, Any], datetime | None]]:
    while True:
        page = api.export_requests(newer_than, limit=PAGE)
        yield page, parse_instant(page.get("urls_expire_at"))
        pagination = page.get("pagination") or {}
        if not pagination.get("has_more") or not pagination.get("next_newer_than"):
            return
        newer_than = pagination["next_newer_than"]


def sync(
    api: Api,
    session: requests.Session,
    directory: Path,
    ui: Ui,
    *,
    since: str | None = None,
    warn_within: timedelta = timedelta(hours=72),
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> SyncReport:
    directory.mkdir(parents=True, exist_ok=True)
    report = SyncReport(str(directory))

    def warn(message: str) -> None:
        report.warnings.append(message)
        ui.warn(message)

    with locked(directory):
        state = State.load(directory)
        if state.endpoint and state.endpoint != api.endpoint:
            warn(f"{directory} was synced from {state.endpoint}, now from {api.endpoint}")
        state.endpoint = api.endpoint
        if state.watermark and now() - _instant(state.watermark) > RETENTION:
            warn(
                f"{directory} was last complete up to {state.watermark}, more than 30 days ago: files made since then "
                "and expunged before this run cannot be downloaded any more"
            )
        clean = True  # every file up to the current night is in DIR: the watermark may move
        for page, expires in _pages(api, state.watermark or since):
            nights: dict[str, list[dict[str, Any]]] = {}
            for entry in page.get("data", []):
                nights.setdefault(entry["created_at"], []).append(entry)
            for created_at, entries in nights.items():
                complete = all(
                    [_one(api, session, state, entry, expires, report, ui, warn, now, warn_within) for entry in entries]
                )
                if complete and clean:
                    state.watermark = created_at
                    state.save()
                clean = clean and complete
        state.save()
        report.watermark = state.watermark
    return report


def _one(
    api: Api,
    session: requests.Session,
    state: State,
    entry: dict[str, Any],
    expires: datetime | None,
    report: SyncReport,
    ui: Ui,
    warn: Callable[[str], None],
    now: Callable[[], datetime],
    warn_within: timedelta,
) -> bool:
    """One listed file: already here, or downloaded, verified and recorded. False when it could not be."""
    name = file_name(entry)
    known = state.files.get(entry["id"])
    if known and (state.directory / known["file"]).exists():
        report.kept += 1
        return True
    if entry.get("status") != "completed":
        warn(f"{name} is listed as {entry.get('status')!r}, not completed: left for a later run")
        return False
    gone_at = _instant(entry["created_at"]) + RETENTION
    if gone_at - now() < warn_within:
        hours = max((gone_at - now()).total_seconds() / 3600, 0)
        warn(f"{name} will be expunged at {iso(gone_at)} (in {hours:.0f} h): downloading it now")
    previous_end = state.window_end(entry["source"])
    if previous_end and entry["window_starts_at"] > previous_end:
        warn(
            f"{name} starts at {entry['window_starts_at']}, after the previous file of {entry['source']} ended "
            f"({previous_end}): changes in between are in no file of {state.directory}"
        )
    final = state.directory / name
    part = part_path(final)
    identity = {"id": entry["id"], "sha256": entry["sha256"]}
    if matching_part(part, identity):
        ui.note(f"resuming {name} from byte {part.stat().st_size:,}")
    write_sidecar(part, identity)
    try:
        with ui.download(name) as bar:
            fetch(ListingLinks(api, entry, expires), part, session=session, expected_bytes=None, progress=bar, now=now)
        got = _verified(part, entry, name)
    except ClientError as error:
        report.failed.append({"file": name, "id": entry["id"], "error": error.message, "exit": str(int(error.code))})
        ui.console.print(f"error: {error.message}", markup=False, style="red", soft_wrap=True)
        if gone_at - now() < warn_within:
            warn(f"{name} could not be downloaded and will be gone at {iso(gone_at)}")
        return False
    promote(part, final)
    state.files[entry["id"]] = {
        "file": name,
        "source": entry["source"],
        "night": night_of(name, entry),
        "created_at": entry["created_at"],
        "window_starts_at": entry["window_starts_at"],
        "window_ends_at": entry["window_ends_at"],
        "format": entry_format(entry),
        "records": int(entry["records"]),
        "sha256": got.sha256,
        "bytes": got.bytes,
    }
    state.save()
    report.downloaded.append(name)
    report.records += int(entry["records"])
    return True


def _verified(part: Path, entry: dict[str, Any], name: str) -> Facts:
    """The downloaded file's facts when they match the listing's sha256 and records (CSV rows counted as read, Parquet
    rows from its footer); else it is deleted."""
    got = facts(part, entry_format(entry))
    problems = mismatches(got, sha256=entry["sha256"], size=None, rows=int(entry["records"]))
    if problems:
        discard(part)
        raise ClientError(Exit.VERIFY, f"{name} does not match its listing: {'; '.join(problems)}; not saved")
    return got


@dataclass(frozen=True)
class StitchedFile:
    source: str
    path: Path
    result: Stitched


def stitch_directory(
    directory: Path,
    output: Path,
    *,
    sources: Sequence[str] = (),
    first: date | None = None,
    last: date | None = None,
) -> list[StitchedFile]:
    """One deduplicated file per source of the nights in [first, last] that DIR holds, in ``output`` (a folder)."""
    state = State.load(directory)
    chosen: dict[str, list[dict[str, Any]]] = {}
    for item in state.files.values():
        night = date.fromisoformat(item["night"])
        if (first and night < first) or (last and night > last):
            continue
        if sources and not any(wanted in (item["source"], slug(item["source"])) for wanted in sources):
            continue
        chosen.setdefault(item["source"], []).append(item)
    if not chosen:
        raise ClientError(Exit.REJECTED, f"{directory} holds no nightly file in that range (run exports nightly sync)")
    parquet = sorted(item["file"] for items in chosen.values() for item in items if format_of(item["file"]) != "csv")
    if parquet:
        more = f" and {len(parquet) - 1} more" if len(parquet) > 1 else ""
        raise ClientError(
            Exit.REJECTED,
            f"nightly stitch merges CSV files, and {parquet[0]}{more} in that range are Parquet, which this client "
            "does not read: query Parquet nights in place (docs/nightly.md shows a DuckDB query that keeps the latest "
            "copy of each row), or stitch a range of CSV nights with --from/--to",
        )
    output.mkdir(parents=True, exist_ok=True)
    done = []
    for source, items in sorted(chosen.items()):
        items.sort(key=lambda item: (item["created_at"], item["night"]))
        target = output / f"{slug(source)}-{items[0]['night']}_{items[-1]['night']}.csv"
        part = part_path(target)
        try:
            with part.open("w", encoding="utf-8", newline="") as out:
                result = stitch(open_files(directory / item["file"] for item in items), out)
        except (StitchError, OSError) as error:
            discard(part)
            raise ClientError(Exit.REJECTED, f"cannot stitch {source}: {error}") from None
        promote(part, target)
        done.append(StitchedFile(source, target, result))
    return done
