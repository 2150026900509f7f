"""What the person at the terminal sees: progress bars and notes on stderr (rich), summaries on stdout."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TransferSpeedColumn,
)


class JobProgress(Protocol):
    def update(self, state: str, done: int, total: int, estimated: int) -> None: ...


class ByteProgress(Protocol):
    def start(self, total: int | None, completed: int) -> None: ...

    def advance(self, size: int) -> None: ...


class Ui:
    """``quiet``: no progress and no notes (errors are still printed by the command)."""

    def __init__(self, *, quiet: bool = False, console: Console | None = None) -> None:
        self.quiet = quiet
        self.console = console or Console(stderr=True, highlight=False)

    def note(self, message: str) -> None:
        if not self.quiet:
            self.console.print(message, markup=False, soft_wrap=True)

    def warn(self, message: str) -> None:
        """Warnings are printed even with --quiet: a cron job's mail should carry them."""
        self.console.print(f"warning: {message}", markup=False, style="yellow", soft_wrap=True)

    @contextmanager
    def job(self, job_id: str) -> Iterator[JobProgress]:
        """Parts done of the job's parts, estimated records, elapsed time."""
        progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("parts · ~{task.fields[estimated]} records · {task.fields[state]}"),
            TimeElapsedColumn(),
            console=self.console,
            disable=self.quiet,
            transient=False,
        )
        with progress:
            task = progress.add_task(f"job {job_id}", total=None, estimated="?", state="queued")
            yield _JobBar(progress, task)

    @contextmanager
    def download(self, name: str) -> Iterator[ByteProgress]:
        progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeElapsedColumn(),
            console=self.console,
            disable=self.quiet,
            transient=False,
        )
        with progress:
            yield _ByteBar(progress, progress.add_task(name, total=None))


class _JobBar:
    def __init__(self, progress: Progress, task: TaskID) -> None:
        self._progress, self._task = progress, task

    def update(self, state: str, done: int, total: int, estimated: int) -> None:
        self._progress.update(
            self._task,
            total=total or None,
            completed=done,
            estimated=f"{estimated:,}",
            state=state,
        )


class _ByteBar:
    def __init__(self, progress: Progress, task: TaskID) -> None:
        self._progress, self._task = progress, task

    def start(self, total: int | None, completed: int) -> None:
        self._progress.update(self._task, total=total, completed=completed)

    def advance(self, size: int) -> None:
        self._progress.advance(self._task, size)


class Stopwatch:
    def __init__(self) -> None:
        self._began = time.monotonic()

    @property
    def seconds(self) -> float:
        return time.monotonic() - self._began


def human_bytes(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:,.0f} {unit}" if unit == "B" else f"{value:,.1f} {unit}"
        value /= 1000
    return f"{size} B"
