"""Runs a migration over files: discovery, reading, the per-kind handler, writing.

``run(paths, options)`` is the callable API the CLI is a thin layer over. Speed (numbers in
docs/performance.md): every file is read and screened by the byte prefilter in this process,
and LibCST is imported only when a file passes it, so a run over a tree without TNx never pays for
it. Only the files that need parsing go to a process pool, and the pool is started only when
there are at least two of them and ``jobs`` allows it. Results come back in input order whatever
the order the workers finish in. On Ctrl-C, workers (which ignore SIGINT) finish the file they
are on, files not started are left alone, and writes are atomic: every file is either as it was
or fully rewritten, and no temporary file is left behind.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import replace
from pathlib import Path
from typing import TextIO

from tnx2nxdi import discovery
from tnx2nxdi.findings import FileResult, RunResult
from tnx2nxdi.kinds import kind_for
from tnx2nxdi.mappings import PREFILTER_MARKERS
from tnx2nxdi.options import Options
from tnx2nxdi.sources import SourceError, read_bytes, write_atomic

#: A progress bar is drawn (on a terminal) only for runs over at least this many files, and only
#: once a run has taken longer than ``PROGRESS_DELAY`` seconds: quick runs print nothing extra.
PROGRESS_MIN_FILES = 100
PROGRESS_DELAY = 0.5
#: Windows cannot wait on more than 61 worker processes (bump-pydantic #132).
_WINDOWS_MAX_WORKERS = 61


def available_cpus() -> int:
    """CPUs this process may run on (its affinity mask where the platform has one)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def run(paths: Sequence[str], options: Options, progress: TextIO | None = None) -> RunResult:
    """Migrate ``paths`` (files and directories). ``options.jobs`` below 1 means one worker per
    CPU. ``progress``: a terminal stream for a progress bar on long runs over many files."""
    files = list(discovery.gather(paths, options.exclude, force_exclude=options.force_exclude))
    results: list[FileResult | None] = [None] * len(files)
    bar = _Progress(progress, len(files)) if progress and len(files) >= PROGRESS_MIN_FILES else None
    try:
        todo = _screen(files, results, bar)
        jobs = min(options.jobs if options.jobs >= 1 else available_cpus(), len(todo))
        if sys.platform == "win32":
            jobs = min(jobs, _WINDOWS_MAX_WORKERS)
        if jobs > 1:
            _in_pool(files, todo, options, jobs, results, bar)
        else:
            for index in todo:
                results[index] = process_path(files[index], options)
                _tick(bar)
    finally:
        if bar is not None:
            bar.close()
    return RunResult([result for result in results if result is not None])


def _screen(
    files: list[Path], results: list[FileResult | None], bar: _Progress | None
) -> list[int]:
    """Settle every file the prefilter rules out (or that cannot be read); the indices left
    need a handler."""
    todo = []
    for index, path in enumerate(files):
        try:
            data = read_bytes(path)
        except SourceError as error:
            results[index] = FileResult(str(path), error=str(error))
        else:
            if needs_handler(data):
                todo.append(index)
                continue
            results[index] = FileResult(str(path), skipped=True)
        _tick(bar)
    return todo


def _in_pool(
    files: list[Path], todo: list[int], options: Options, jobs: int,
    results: list[FileResult | None], bar: _Progress | None,
) -> None:
    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=_context(), initializer=_worker_init)
    try:
        futures: dict[Future[FileResult], int] = {
            pool.submit(process_path, files[index], options): index for index in todo
        }
        for future in as_completed(futures):
            results[futures[future]] = future.result()
            _tick(bar)
    except BaseException:
        # Ctrl-C (or a broken worker): files not started stay as they were; workers finish the
        # file they are on, so no write is cut short and no temporary file is left.
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


def _context() -> multiprocessing.context.BaseContext:
    """fork where it is safe (Linux, no other thread): workers start in milliseconds and share
    the already imported modules; elsewhere the platform's default."""
    if sys.platform == "linux" and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context()


def _worker_init() -> None:
    # Ctrl-C reaches the whole process group; the parent decides, the workers finish their file.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _tick(bar: _Progress | None) -> None:
    if bar is not None:
        bar.advance()


class _Progress:
    """``[#####.....]  512/2000 files`` on one terminal line, redrawn at most ten times a second."""

    WIDTH = 30

    def __init__(self, stream: TextIO, total: int) -> None:
        self.stream, self.total, self.done = stream, total, 0
        self.start = self.last = time.monotonic()
        self.drawn = False

    def advance(self) -> None:
        self.done += 1
        now = time.monotonic()
        if now - self.start < PROGRESS_DELAY or (now - self.last < 0.1 and self.done < self.total):
            return
        self.last = now
        filled = self.WIDTH * self.done // self.total
        bar = "#" * filled + "." * (self.WIDTH - filled)
        self.stream.write(f"\r[{bar}] {self.done}/{self.total} files")
        self.stream.flush()
        self.drawn = True

    def close(self) -> None:
        if self.drawn:
            self.stream.write("\r" + " " * (self.WIDTH + 30) + "\r")
            self.stream.flush()


def process_path(path: Path, options: Options) -> FileResult:
    """Migrate one file; write it in place when ``options.mode`` is "write" (timed: -v)."""
    started = time.perf_counter()
    result = _process_path(path, options)
    return replace(result, seconds=time.perf_counter() - started)


def _process_path(path: Path, options: Options) -> FileResult:
    shown = str(path)
    try:
        data = read_bytes(path)
    except SourceError as error:
        return FileResult(shown, error=str(error))
    result, new_data = process_bytes(data, options, shown)
    if options.mode == "write" and result.changed and result.error is None:
        try:
            write_atomic(path, new_data)
        except SourceError as error:
            return FileResult(shown, result.original, result.original, result.findings,
                              error=str(error))
    return result


def _gates(markers: Sequence[bytes], width: int = 6) -> tuple[bytes, ...]:
    """A few short byte strings such that every marker contains one of them (greedily, the
    substring shared by most markers first): a file without any gate has no marker either, and
    scanning for three gates is three times cheaper than scanning for nine markers."""
    left, gates = list(markers), []
    while left:
        candidates = [m[i:i + width] for m in left for i in range(max(1, len(m) - width + 1))]
        best = max(candidates, key=lambda gate: sum(gate in m for m in left))
        gates.append(best)
        left = [m for m in left if best not in m]
    return tuple(gates)


_GATES = _gates(PREFILTER_MARKERS)


def needs_handler(data: bytes) -> bool:
    """The byte prefilter: only files with one of the markers are worth parsing."""
    return any(gate in data for gate in _GATES) and any(
        marker in data for marker in PREFILTER_MARKERS
    )


def process_bytes(data: bytes, options: Options, shown: str) -> tuple[FileResult, bytes]:
    """The result for ``data`` and the bytes its migration writes (``data`` when unchanged)."""
    if not needs_handler(data):
        return FileResult(shown, skipped=True), data
    try:
        outcome = kind_for(shown).handler(data, options, shown)
    except SourceError as error:
        return FileResult(shown, error=str(error)), data
    except Exception as error:  # one file's bug must not end a run over a whole repository
        reason = (str(error).splitlines() or [""])[0]
        message = f"TNX999 internal error ({type(error).__name__}: {reason}); unchanged"
        return FileResult(shown, error=message), data
    findings = tuple(  # --select/--ignore decide here, once, for every file kind
        f if options.reports(f.code) else replace(f, ignored=True) for f in outcome.findings
    )
    result = FileResult(
        shown, outcome.original, outcome.migrated, findings, outcome.error, outcome.diff_units,
        error_finding=outcome.error_finding,
    )
    return result, (outcome.data if result.changed and outcome.error is None else data)
