"""Exports built in the background, one at a time (an export reads and hashes gigabytes: the API and the
recorders keep the rest of the machine), with their progress.

A finished export is `data_dir/exports/case-<id>-<digest>.zip`, the digest being that of the case's content
(title, note, items): it is served until the case changes, even after a restart, and a later export of
the case replaces it. Closing or reopening a case does not change its content. One that read the footage before
an item's end had come holds only the footage that existed then: once that end has passed, it is built again (an
audit: it was served as it was for good). Its build reads the footage once `prepare` has waited for what is still
being recorded, so an export asked for just after an incident is not thrown away once built. Its file's time is
when its build began to read, which a later run reads.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, Literal, Protocol, TypeVar

from nvr.evidence.export import ExportCancelled, Progress
from storage.clock import now_ms
from storage.custody import CustodyError
from storage.segment_file import fsync_path

log = logging.getLogger(__name__)
JobState = Literal["queued", "running", "ready", "failed"]


class ExportRefused(Exception):
    """An export that cannot be made, for a reason said in words (logged without a traceback)."""


@dataclass
class ExportJob:
    case_id: int
    digest: str  # of the case's content when the export started
    by: str | None
    path: Path
    state: JobState = "queued"
    progress: float = 0.0
    started_ms: int = field(default_factory=now_ms)
    read_ms: int | None = None  # when the build began to read the footage (after `prepare`): it holds what existed
    finished_ms: int | None = None
    error: str | None = None
    bytes: int | None = None
    waiting: bool = False  # running, but waiting for footage still being recorded (before the build)
    cancelled: threading.Event = field(default_factory=threading.Event)


class _Item(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def camera(self) -> str: ...
    @property
    def start_ms(self) -> int: ...
    @property
    def end_ms(self) -> int: ...
    @property
    def note(self) -> str: ...


class ExportableCase(Protocol):
    """What the jobs read of a case: a station's (storage/cases.py) or the district's (nvr/district)."""

    @property
    def id(self) -> int: ...
    @property
    def created_ms(self) -> int: ...
    @property
    def title(self) -> str: ...
    @property
    def note(self) -> str: ...
    @property
    def items(self) -> Sequence[_Item]: ...


CaseT = TypeVar("CaseT", bound=ExportableCase)
Builder = Callable[[CaseT, str, Path, Progress, Callable[[], bool]], None]  # case, by, out, progress, cancelled
Preparer = Callable[[CaseT, Callable[[], bool]], None]  # case, cancelled


def case_digest(case: ExportableCase) -> str:
    """What an export shows of its case, but its status (the creation time tells a case from a later one with
    the same id, which SQLite may give again)."""
    content = [case.created_ms, case.title, case.note,
               [(i.id, i.camera, i.start_ms, i.end_ms, i.note) for i in case.items]]
    return hashlib.sha256(json.dumps(content).encode()).hexdigest()[:16]


class ExportJobs(Generic[CaseT]):
    def __init__(self, folder: Path, build: Builder[CaseT], on_failure: Callable[[ExportJob], None],
                 prepare: Preparer[CaseT] | None = None) -> None:
        """`prepare`: run before each build, the job `waiting` meanwhile (a station waits there for the footage
        still being recorded: nvr.evidence.export.wait_for_recording)."""
        self._folder = folder
        self._build = build
        self._prepare = prepare
        self._on_failure = on_failure
        self._jobs: dict[int, ExportJob] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="export")
        folder.mkdir(parents=True, exist_ok=True)
        for partial in folder.glob("*.partial"):  # left by a process that stopped mid-export
            partial.unlink(missing_ok=True)

    def start(self, case: CaseT, by: str | None) -> ExportJob:
        """Build the case's export (again); an export of the same content already under way is kept."""
        digest = case_digest(case)
        with self._lock:
            current = self._jobs.get(case.id)
            if current is not None and current.state in ("queued", "running"):
                if current.digest == digest:
                    return current
                current.cancelled.set()  # the case changed: that export would be stale
            job = ExportJob(case.id, digest, by, self._folder / f"case-{case.id}-{digest}.zip")
            self._jobs[case.id] = job
        self._pool.submit(self._run, job, case)
        return job

    def current(self, case: CaseT) -> ExportJob | None:
        """The export of the case as it is now (under way, finished or failed), or None. A finished one whose ZIP
        was removed from the folder (disk space freed by hand, a disk fault) is forgotten: it is built again."""
        digest = case_digest(case)
        with self._lock:
            job = self._jobs.get(case.id)
            if job is not None and job.state == "ready" and (not job.path.exists() or _footage_came(job, case)):
                del self._jobs[case.id]
            elif job is not None and job.digest == digest:
                return job
            path = self._folder / f"case-{case.id}-{digest}.zip"
            if not path.exists():
                return None
            stat = path.stat()  # built by an earlier run of the station
            read_ms = round(stat.st_mtime * 1000)
            found = ExportJob(case.id, digest, None, path, "ready", 1.0, read_ms, read_ms, finished_ms=read_ms,
                              bytes=stat.st_size)
            if _footage_came(found, case):
                return None
            self._jobs[case.id] = found
            return found

    def forget(self, case_id: int) -> None:
        """The case is gone: stop its export and delete its files."""
        with self._lock:
            job = self._jobs.pop(case_id, None)
        if job is not None:
            job.cancelled.set()
        self._remove_exports(case_id, keep=None)

    def stop(self) -> None:
        with self._lock:
            for job in self._jobs.values():
                job.cancelled.set()
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _run(self, job: ExportJob, case: CaseT) -> None:
        if job.cancelled.is_set():
            return
        job.state = "running"
        partial = job.path.with_name(job.path.name + ".partial")
        try:
            if self._prepare is not None:
                job.waiting = True
                try:
                    self._prepare(case, job.cancelled.is_set)
                finally:
                    job.waiting = False
            job.read_ms = now_ms()
            self._build(case, job.by or "", partial, lambda share: setattr(job, "progress", round(share, 4)),
                        job.cancelled.is_set)
            if job.cancelled.is_set():  # the case changed or went while its last file was written
                raise ExportCancelled()
            read_ns = job.read_ms * 1_000_000
            os.utime(partial, ns=(read_ns, read_ns))  # what it holds was read from then (`_footage_came`)
            fsync_path(partial)
            os.replace(partial, job.path)
            fsync_path(job.path.parent)
        except ExportCancelled:
            partial.unlink(missing_ok=True)
            return
        except Exception as exc:
            partial.unlink(missing_ok=True)
            if isinstance(exc, (CustodyError, ExportRefused)):
                log.error("export of case %d refused: %s", job.case_id, exc)
            else:
                log.exception("export of case %d failed", job.case_id)
            job.error, job.finished_ms, job.state = str(exc), now_ms(), "failed"
            self._on_failure(job)
            return
        self._remove_exports(job.case_id, keep=job.path)
        job.bytes, job.progress, job.finished_ms, job.state = job.path.stat().st_size, 1.0, now_ms(), "ready"

    def _remove_exports(self, case_id: int, keep: Path | None) -> None:
        for old in self._folder.glob(f"case-{case_id}-*.zip"):
            if old != keep:
                old.unlink(missing_ok=True)


def _footage_came(job: ExportJob, case: ExportableCase) -> bool:
    """The export read the footage before the end of one of the case's items, and that end has passed since: footage
    it could not hold then exists now."""
    last_end = max((item.end_ms for item in case.items), default=None)
    read_ms = job.started_ms if job.read_ms is None else job.read_ms
    return last_end is not None and read_ms < last_end <= now_ms()
