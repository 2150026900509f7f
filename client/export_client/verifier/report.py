"""What the verifier checked and found, printed as it goes, and the exit code of the first class that failed.

Classes of check, in the order they run; the first class with a failure ends the run with its exit code:

| exit | class | what |
|---|---|---|
| 2 | input | a file, folder or key file cannot be read, or a manifest is not one |
| 11 | signature | a manifest is unsigned, signed by a key not in the key file, or its signature does not verify |
| 7 | file | a file is missing, or its bytes, SHA-256 or row count differ from its manifest (or Repr-Digest) |
| 12 | records | an audit record's checksum does not match the record |
| 13 | chain | a nightly manifest is missing, replaced, duplicated or out of order in its tenant's chain |
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from enum import IntEnum
from typing import TextIO


class Check(IntEnum):
    INPUT = 2
    SIGNATURE = 11
    FILE = 7  # the client's own VERIFY code: a file that does not match what the service said it is
    RECORDS = 12
    CHAIN = 13


class InputError(Exception):
    """Something to verify cannot be read at all."""


class Failed(Exception):  # noqa: N818 - a signal to stop, carrying the exit code
    """A class of check failed: the run stops with its exit code."""

    def __init__(self, check: Check) -> None:
        super().__init__(check.name)
        self.check = check


@dataclass(frozen=True)
class Failure:
    where: str  # the file (and row) it is about
    check: str  # what was checked: signature, sha256, bytes, rows, checksum, chain ...
    detail: str


@dataclass
class Report:
    out: TextIO = field(default_factory=lambda: sys.stdout)
    checked: int = 0

    def ok(self, check: Check, where: str, detail: str) -> None:
        self.checked += 1
        print(f"ok      {check.name.lower():9s} {where}: {detail}", file=self.out)

    def note(self, where: str, detail: str) -> None:
        print(f"note    {'':9s} {where}: {detail}", file=self.out)

    def gate(self, check: Check, failures: list[Failure]) -> None:
        """Print every failure of the class and stop, or let the next class run."""
        for failure in failures:
            print(f"FAILED  {check.name.lower():9s} {failure.where}: {failure.check}: {failure.detail}", file=self.out)
        if failures:
            print(
                f"verification failed: {check.name.lower()} ({len(failures)} problem(s)); exit {int(check)}",
                file=self.out,
            )
            raise Failed(check)
