"""The three verifications, each a sequence of check classes (report.py): a file with its manifest, a folder of
nightly downloads as a chain, the audit records of a file."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from export_client.verifier.chain import Night, check_chain
from export_client.verifier.files import check_file, check_headers, check_records
from export_client.verifier.keys import check_signature, load_keys
from export_client.verifier.report import Check, Failure, InputError, Report

KIND = "ExportManifest"
# Formats whose audit records this verifier reads to recompute their checksums. A Parquet file's records carry their
# checksums too (its checksum column), but reading Parquet needs a library this verifier does without: such a file is
# checked by its SHA-256, bytes and rows (from its footer) in the signed manifest, and the report says so.
RECORD_FORMATS = frozenset({"csv", "json", "jsonl"})


def _format(entry: Mapping[str, Any]) -> str:
    """A manifest entry's file format (an entry without one is CSV)."""
    return str(entry.get("format") or "csv")


def _records_checked(entry: Mapping[str, Any], report: Report, where: str) -> bool:
    """Whether the entry's audit records are to be recomputed (a note when the format is not read record by record)."""
    if not entry.get("checksummedRecords"):
        return False
    fmt = _format(entry)
    if fmt in RECORD_FORMATS:
        return True
    report.note(
        where,
        f"audit records in {fmt}: their checksums are not recomputed (this verifier reads csv, json and jsonl); the "
        "file is covered by its SHA-256 in the signed manifest",
    )
    return False


def read_manifest(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise InputError(f"cannot read the manifest {path}: {error}") from None
    if not isinstance(document, dict) or document.get("kind") != KIND or not isinstance(document.get("files"), list):
        raise InputError(f"{path} is not an export manifest (kind {KIND})")
    return document


def manifest_beside(path: Path) -> Path:
    """Where a file's manifest is when none is named: ``<file>.manifest.json`` (a synchronous answer's link saves
    it so), else ``manifest.json`` in the same folder (an export job's)."""
    for candidate in (path.with_name(path.name + ".manifest.json"), path.with_name("manifest.json")):
        if candidate.is_file():
            return candidate
    raise InputError(f"no manifest given for {path} and none beside it ({path.name}.manifest.json or manifest.json)")


def _entry(manifest: Mapping[str, Any], path: Path, report: Report, where: str) -> Mapping[str, Any]:
    files = manifest["files"]
    named = [entry for entry in files if entry.get("name") == path.name]
    if named:
        return dict(named[0])
    if len(files) == 1:
        report.note(where, f"the manifest names the file {files[0].get('name')!r}; checking {path.name} against it")
        return dict(files[0])
    raise InputError(f"the manifest lists {len(files)} files and none is named {path.name}")


def verify_file(
    report: Report, path: Path, manifest_path: Path | None, keys_path: Path, headers: Path | None = None
) -> None:
    if not path.is_file():
        raise InputError(f"no such file: {path}")
    manifest_path = manifest_path or manifest_beside(path)
    manifest = read_manifest(manifest_path)
    keys = load_keys(keys_path)
    key_id, failure = check_signature(manifest, keys, str(manifest_path))
    report.gate(Check.SIGNATURE, [failure] if failure else [])
    report.ok(
        Check.SIGNATURE,
        str(manifest_path),
        f"{manifest['exportType']} export {manifest['exportId']} of "
        f"{manifest['tenant']}/{manifest['dataset']}, signed by {key_id}",
    )
    entry = _entry(manifest, path, report, str(path))
    shown, failures = check_file(path, entry, str(path))
    if headers is not None:
        said, more = check_headers(path, headers, str(path))
        failures += more
        if not more:
            shown += f"; {said}"
    if failures and entry.get("checksummedRecords") and _format(entry) in RECORD_FORMATS:
        _hint(report, path, _format(entry))
    report.gate(Check.FILE, failures)
    report.ok(Check.FILE, str(path), f"{shown}, as the manifest says")
    if _records_checked(entry, report, str(path)):
        count, failures = check_records(path, _format(entry), str(path))
        report.gate(Check.RECORDS, failures)
        report.ok(Check.RECORDS, str(path), f"{count:,} audit records, every checksum recomputed")


def _hint(report: Report, path: Path, fmt: str) -> None:
    """Where an audit file differs, when a record's checksum shows it (an edit that rewrote the checksum too does
    not show: the file's SHA-256 still does)."""
    try:
        _count, failures = check_records(path, fmt, str(path), most=1)
    except InputError:
        return
    if failures:
        report.note(failures[0].where, f"first record whose checksum fails: {failures[0].detail}")


def verify_records(report: Report, path: Path, fmt: str | None) -> None:
    if not path.is_file():
        raise InputError(f"no such file: {path}")
    fmt = fmt or path.suffix.lstrip(".").lower()
    count, failures = check_records(path, fmt, str(path))
    report.gate(Check.RECORDS, failures)
    report.ok(Check.RECORDS, str(path), f"{count:,} audit records, every checksum recomputed")


def nightly_manifests(folder: Path, report: Report) -> list[Night]:
    nights = []
    for path in sorted(folder.rglob("*.json")):
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(document, dict) and document.get("kind") == KIND:
            if document.get("exportType") == "nightly" and isinstance(document.get("chain"), dict):
                nights.append(Night(path, document))
            else:
                report.note(str(path), f"a {document.get('exportType')} export's manifest: verify it with `file`")
    if not nights:
        raise InputError(f"no nightly manifest in {folder} (manifest-<night>.json, from the listing's manifest_url)")
    return nights


def verify_chain(
    report: Report, folder: Path, keys_path: Path, *, partial: bool = False, through: str | None = None
) -> None:
    if not folder.is_dir():
        raise InputError(f"no such folder: {folder}")
    keys = load_keys(keys_path)
    nights = nightly_manifests(folder, report)
    failures = []
    for night in nights:
        key_id, failure = check_signature(night.manifest, keys, str(night.path))
        if failure:
            failures.append(failure)
        else:
            report.ok(Check.SIGNATURE, str(night.path), f"night {night.night} of {night.tenant}, signed by {key_id}")
    report.gate(Check.SIGNATURE, failures)
    by_name: dict[str, list[Path]] = {}
    for path in folder.rglob("*"):
        if path.is_file() and not path.name.endswith(".json") and not path.name.startswith("."):
            by_name.setdefault(path.name, []).append(path)
    located: list[tuple[Night, Mapping[str, Any], Path]] = []
    failures = []
    for night in nights:
        for entry in night.manifest["files"]:
            where = f"{entry['name']} (night {night.night})"
            found = _locate(by_name.get(str(entry["name"]), []), night.path.parent)
            if found is None:
                failures.append(Failure(where, "missing", f"listed in {night.path.name}, not in {folder}"))
                continue
            shown, problems = check_file(found, entry, str(found))
            failures += problems
            if not problems:
                report.ok(Check.FILE, str(found), shown)
            located.append((night, entry, found))
    listed = {str(entry["name"]) for night in nights for entry in night.manifest["files"]}
    for name in sorted(set(by_name) - listed):
        report.note(name, "in the folder but in no manifest (not verified)")
    report.gate(Check.FILE, failures)
    failures = []
    for _night, entry, path in located:
        if _records_checked(entry, report, str(path)):
            count, problems = check_records(path, _format(entry), str(path))
            failures += problems
            if not problems:
                report.ok(Check.RECORDS, str(path), f"{count:,} audit records, every checksum recomputed")
    report.gate(Check.RECORDS, failures)
    held, failures = check_chain(nights, partial=partial, through=through)
    report.gate(Check.CHAIN, failures)
    for line in held:
        report.ok(Check.CHAIN, str(folder), line)


def _locate(candidates: list[Path], beside: Path) -> Path | None:
    for path in candidates:
        if path.parent == beside:
            return path
    return candidates[0] if len(candidates) == 1 else None
