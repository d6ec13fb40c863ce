"""Runs a migration over files: discovery, reading, the byte screen, the per-kind handler, writing.

``run(paths, options)`` is the callable API the CLI is a thin layer over. How it is made fast is
described, with figures, in docs/performance.md:

- Every file is read with one ``open``/``fstat``/``read`` and screened by the byte prefilter
  (``needs_handler``); LibCST is imported only by a process that meets a file the screen passes,
  so a run over a tree without TNx never pays for it.
- With ``jobs`` above 1, a pool of worker processes (``_Pool``) shares the work. Over a large
  tree (``PARALLEL_SCREEN_MIN`` files, workers forked) the workers read and screen too, in
  batches of consecutive files; over a smaller one this process screens and hands each file that
  passes to the pool, which is started at the first such file, so a worker imports LibCST while
  screening goes on. Workers are started only when there is work for them, never more than
  ``jobs``; one file to migrate at the end of a run is migrated here, without a pool.
- Results come back in input order whatever the order the workers finish in.
- A worker that dies (killed for memory, a crash in native code) costs only the file it was on:
  that file gets an error (exit code 2), the files it had not reached go to another worker.
- On Ctrl-C, workers (which ignore SIGINT) finish the file they are on, files not started are
  left alone, and writes are atomic: every file is either as it was or fully rewritten, and no
  temporary file is left behind.
- A repeated run takes the results of unchanged files from the cache (``tnx2nxdi.cache``).
"""

from __future__ import annotations

import contextlib
import gc
import os
import re
import select
import stat
import sys
import time
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from tnx2nxdi import discovery
from tnx2nxdi.findings import FileResult, RunResult
from tnx2nxdi.kinds import kind_for
from tnx2nxdi.mappings import PREFILTER_MARKERS
from tnx2nxdi.options import Options
from tnx2nxdi.sources import SourceError, write_atomic

if TYPE_CHECKING:
    from tnx2nxdi.cache import Cache
    from tnx2nxdi.settings import Configuration

#: A progress bar is drawn (on a terminal) only for runs over at least this many files, and only
#: once a run has taken longer than ``PROGRESS_DELAY`` seconds: quick runs print nothing extra.
PROGRESS_MIN_FILES = 100
PROGRESS_DELAY = 0.5
#: Off a terminal (a CI log), one line every ``PROGRESS_LOG_EVERY`` seconds, the first after that
#: long: a log gets a few lines for a long run and none for a quick one.
PROGRESS_LOG_EVERY = 5.0
#: From this many files on (and with forked workers), workers read and screen as well.
PARALLEL_SCREEN_MIN = 1000
#: Files per batch handed to a worker, and batches a worker holds at once (the second one is
#: waiting when the first is done, so a worker never waits for this process).
BATCH_SIZE = 200
BATCH_DEPTH = 2
#: A file the walk saw as regular is read with one ``read`` of this size (most source files
#: are smaller), without an ``fstat`` first; a longer one is checked and read to its end.
_FIRST_READ = 32768
#: Each worker takes two of the 64 handles Windows can wait on (its pipe and its process).
_WINDOWS_MAX_WORKERS = 30
#: Workers that die before they say anything twice in a row: the pool is given up and the
#: rest of the files are done in this process.
_STARTUP_FAILURES = 2

#: ``# tnx2nxdi: skip-file`` at the top of a file (Python and shell comments alike).
SKIP_FILE = b"tnx2nxdi: skip-file"
_SKIP_FILE_LINE = re.compile(r"#\s*tnx2nxdi:\s*skip-file(?:\s|$)")
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(
    os, "O_NONBLOCK", 0)  # a FIFO named .py must not block the open: fstat then rejects it


def available_cpus() -> int:
    """CPUs this process may run on (its affinity mask where the platform has one)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def run(
    paths: Sequence[str], options: Options, progress: TextIO | None = None, *,
    configuration: Configuration | None = None, cache_directory: Path | None = None,
) -> RunResult:
    """Migrate ``paths`` (files and directories). ``options.jobs`` below 1 means one worker per
    CPU. ``progress``: a stream for progress on long runs over many files (a bar on a terminal,
    a line every few seconds elsewhere). ``configuration``: each file's options come from it (its
    own ``pyproject.toml``, under the flags) instead of ``options``; it raises SettingsError for a
    broken configuration, in write mode before any file is touched. ``cache_directory``: keep and
    reuse results there (``tnx2nxdi.cache``)."""
    exclude_in = configuration.exclude_in if configuration is not None else None
    groups = discovery.gather_groups(paths, options.exclude,
                                     force_exclude=options.force_exclude, exclude_in=exclude_in)
    work = _Work(_OptionsTable(options, configuration), _Cache.make(cache_directory), progress)
    jobs = options.jobs if options.jobs >= 1 else available_cpus()
    if sys.platform == "win32":
        jobs = min(jobs, _WINDOWS_MAX_WORKERS)
    try:
        if jobs > 1:
            # Only a run that writes nothing may start on files before the walk is over: a
            # broken configuration met later must leave every file as it was.
            _parallel(work, groups, jobs, stream=options.mode != "write")
        else:
            work.add_all(groups)
            for index in range(len(work.files)):
                work.finish(index, work.process(index))
    finally:
        work.progress.close()
    return RunResult([result for result in work.results if result is not None])


class _OptionsTable:
    """The distinct options of a run, numbered (workers are sent each set once, by number)."""

    def __init__(self, default: Options, configuration: Configuration | None) -> None:
        self.configuration = configuration
        self.options = [default]
        self.numbers = {id(default): 0}

    def number_in(self, directory: str) -> int:
        """The number of the options of files directly in ``directory``."""
        if self.configuration is None:
            return 0
        options = self.configuration.options_in(directory or os.curdir)
        number = self.numbers.get(id(options))
        if number is None:
            number = self.numbers[id(options)] = len(self.options)
            self.options.append(options)
        return number


class _Cache:
    """The cache, opened on first use: a run that migrates nothing never imports it."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._cache: Cache | None = None

    @classmethod
    def make(cls, directory: Path | None) -> _Cache | None:
        return None if directory is None else cls(directory)

    def get(self) -> Cache:
        if self._cache is None:
            from tnx2nxdi.cache import Cache

            self._cache = Cache(self.directory)
        return self._cache


class _Work:
    """One run's files as the walk finds them: each file's options (by number), whether the
    walk saw a regular file, and its result as it arrives."""

    def __init__(self, table: _OptionsTable, cache: _Cache | None,
                 stream: TextIO | None) -> None:
        self.table, self.cache, self.stream = table, cache, stream
        self.files: list[str] = []
        self.keys: list[int] = []
        self.regular = bytearray()
        self.results: list[FileResult | None] = []
        self.done = 0
        #: Shown once the walk is over and the number of files is known.
        self.progress = _Progress()

    def add(self, group: discovery.Group) -> None:
        """A directory's files (``discovery.gather_groups``): one options lookup for them all."""
        start, paths, regular = group
        self.files += paths
        self.keys += [self.table.number_in(start)] * len(paths)
        self.regular += regular

    def room(self) -> None:
        """A result slot for every file added so far."""
        self.results.extend([None] * (len(self.files) - len(self.results)))

    def add_all(self, groups: Iterable[discovery.Group]) -> None:
        for group in groups:
            self.add(group)
        self.counted()

    def counted(self) -> None:
        """The walk is over: progress can be shown from here on."""
        self.room()
        self.progress = _progress(self.stream, len(self.files))
        self.progress.advance(self.done)

    def options(self, index: int) -> Options:
        return self.table.options[self.keys[index]]

    def process(self, index: int) -> FileResult:
        return process_file(self.files[index], self.options(index), self.cache,
                            regular=bool(self.regular[index]))

    def finish(self, index: int, result: FileResult) -> None:
        self.results[index] = result
        self.done += 1
        self.progress.advance()

    def settle(self, results: list[tuple[int, FileResult]], skipped: list[int]) -> None:
        files, all_results = self.files, self.results
        for index in skipped:
            all_results[index] = screened_out(files[index])
        for index, result in results:
            all_results[index] = result
        count = len(skipped) + len(results)
        self.done += count
        self.progress.advance(count)


_SCREENED_OUT = vars(FileResult("", skipped=True))


def screened_out(path: str) -> FileResult:
    """``FileResult(path, skipped=True)``, the result of nearly every file of a large tree, made
    without the frozen dataclass's ``__init__`` (a ``setattr`` per field: it was a tenth of a run
    over a tree without TNx). The same object: a test compares them."""
    result: FileResult = object.__new__(FileResult)
    state = _SCREENED_OUT.copy()
    state["path"] = path
    object.__setattr__(result, "__dict__", state)
    return result


# -- one file -------------------------------------------------------------------------------------


def process_file(path: str, options: Options, cache: _Cache | None = None, *,
                 regular: bool = False) -> FileResult:
    """Read, screen and (when the screen passes) migrate one file, writing it in place when
    ``options.mode`` is "write" (``regular``: the walk saw a regular file, see ``read_file``)."""
    try:
        data = read_file(path, regular)
    except SourceError as error:
        return FileResult(path, error=str(error))
    if not needs_handler(data):
        return screened_out(path)
    return handle(path, data, options, cache)


def process_path(path: Path | str, options: Options) -> FileResult:
    """Migrate one file (no cache); write it in place when ``options.mode`` is "write"."""
    return process_file(str(path), options)


def handle(path: str, data: bytes, options: Options, cache: _Cache | None) -> FileResult:
    """The result of a file the byte screen passed: from the cache, or migrated (and written);
    timed for ``--verbose``."""
    started = time.perf_counter()
    result = _handle(path, data, options, cache)
    return replace(result, seconds=time.perf_counter() - started)


def _handle(path: str, data: bytes, options: Options, cache: _Cache | None) -> FileResult:
    skipped = _skipped_by_comment(data, path)
    if skipped is not None:
        return skipped
    store = key = None
    if cache is not None:
        store = cache.get()
        key = store.key(data, path, options)
        if key is not None:
            hit = store.load(key, path)
            if hit is not None and not (options.mode == "write" and hit.changed):
                return hit
    result, new_data = process_bytes(data, options, path)
    if store is not None and key is not None:
        store.store(key, result)
    if options.mode == "write" and result.changed and result.error is None:
        try:
            write_atomic(Path(path), new_data)
        except SourceError as error:
            return FileResult(path, result.original, result.original, result.findings,
                              error=str(error))
    return result


def read_file(path: str, regular: bool = False) -> bytes:
    """The file's bytes. Only regular files are read: a FIFO or a device named ``.py`` would
    block the run forever or never end. One ``open``, ``fstat`` and ``read`` for a file of any
    size (a file that grows meanwhile is read to its end); for a file the walk listed as regular
    (``regular``), one ``open`` and ``read``: ``fstat`` only when the first read fills its
    buffer (the file may have been replaced by a device since)."""
    try:
        descriptor = os.open(path, _OPEN_FLAGS)
    except FileNotFoundError:
        raise SourceError("no such file") from None
    except IsADirectoryError:
        raise SourceError("is a directory") from None
    except OSError as error:
        if os.path.isdir(path):  # Windows refuses to open a directory
            raise SourceError("is a directory") from None
        raise SourceError(f"cannot read: {error.strerror or error}") from None
    try:
        if regular:
            data = os.read(descriptor, _FIRST_READ)
            if len(data) < _FIRST_READ:
                return data
            _check_regular(os.fstat(descriptor))
            return data + _rest(descriptor)
        info = os.fstat(descriptor)
        _check_regular(info)
        wanted = info.st_size + 1
        data = os.read(descriptor, wanted)
        return data if len(data) < wanted else data + _rest(descriptor)
    except OSError as error:
        raise SourceError(f"cannot read: {error.strerror or error}") from None
    finally:
        os.close(descriptor)


def _check_regular(info: os.stat_result) -> None:
    if not stat.S_ISREG(info.st_mode):
        raise SourceError("is a directory" if stat.S_ISDIR(info.st_mode) else "not a regular file")


def _rest(descriptor: int) -> bytes:
    chunks = []
    while chunk := os.read(descriptor, 1 << 20):
        chunks.append(chunk)
    return b"".join(chunks)


def _gates(markers: Sequence[bytes], width: int = 6) -> tuple[bytes, ...]:
    """A few byte strings such that every marker contains one of them: a file without any gate
    has no marker either. CPython finds a longer string faster (its search skips ahead by up to
    the string's length), so gates are chosen greedily, by markers covered times length, among
    the markers' ``width``-byte substrings and the markers themselves: a 6-byte string shared by
    seven markers and the two others whole are a third cheaper than three 6-byte gates, and
    five times cheaper than the nine markers."""
    left, gates = list(markers), []
    while left:
        candidates = set(left) | {
            marker[start:start + width] for marker in left
            for start in range(len(marker) - width + 1)
        }
        best = max(candidates, key=lambda gate: (sum(gate in m for m in left) * len(gate), gate))
        gates.append(best)
        left = [marker for marker in left if best not in marker]
    return tuple(gates)


_GATES = _gates(PREFILTER_MARKERS)


def needs_handler(data: bytes) -> bool:
    """The byte prefilter: only files with one of the markers are worth parsing."""
    for gate in _GATES:
        if gate in data:
            return any(marker in data for marker in PREFILTER_MARKERS)
    return False


def process_bytes(data: bytes, options: Options, shown: str) -> tuple[FileResult, bytes]:
    """The result for ``data`` and the bytes its migration writes (``data`` when unchanged)."""
    if not needs_handler(data):
        return FileResult(shown, skipped=True), data
    skipped = _skipped_by_comment(data, shown)
    if skipped is not None:
        return skipped, data
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


def _skipped_by_comment(data: bytes, shown: str) -> FileResult | None:
    """A file whose first lines (a notebook: its first code cell's) hold a
    ``# tnx2nxdi: skip-file`` comment line is left alone."""
    if SKIP_FILE not in data:
        return None
    if kind_for(shown).name == "notebook":
        head = _first_code_cell(data)
    else:
        head = data[:16384].decode("utf-8", "replace")
    return FileResult(shown, skipped=True, skip_reason="# tnx2nxdi: skip-file") if (
        _skip_comment_in_header(head)) else None


def _skip_comment_in_header(text: str) -> bool:
    """The comment is on a line of its own among the lines before the first code (blank and
    comment lines: a shebang, a coding cookie, a licence header)."""
    for line in text.splitlines():
        stripped = line.strip().lstrip("\ufeff")
        if not stripped:
            continue
        if not stripped.startswith("#"):
            return False
        if _SKIP_FILE_LINE.match(stripped):
            return True
    return False


def _first_code_cell(data: bytes) -> str:
    import json

    try:
        notebook = json.loads(data.decode("utf-8-sig"))
        cells = notebook.get("cells") if isinstance(notebook, dict) else None
        for cell in cells if isinstance(cells, list) else ():
            if isinstance(cell, dict) and cell.get("cell_type") == "code":
                source = cell.get("source", "")
                return "".join(source) if isinstance(source, list) else str(source)
    except (ValueError, TypeError):
        pass  # not a notebook the handler can read: it reports that
    return ""


# -- progress -------------------------------------------------------------------------------------


class _Progress:
    """No progress: the base of the two kinds below."""

    def advance(self, count: int = 1) -> None:
        pass

    def tick(self) -> None:
        """Time passes without results (a long file): a log line may be due."""

    def close(self) -> None:
        pass


def _progress(stream: TextIO | None, total: int) -> _Progress:
    if stream is None or total < PROGRESS_MIN_FILES:
        return _Progress()
    try:
        terminal = stream.isatty()
    except (AttributeError, ValueError):
        terminal = False
    return _Bar(stream, total) if terminal else _Log(stream, total)


class _Bar(_Progress):
    """``[#####.....]  512/2000 files`` on one terminal line, redrawn at most ten times a second."""

    WIDTH = 30

    def __init__(self, stream: TextIO, total: int) -> None:
        self.stream, self.total, self.done = stream, total, 0
        self.start = self.last = time.monotonic()
        self.drawn = False

    def advance(self, count: int = 1) -> None:
        self.done += count
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


class _Log(_Progress):
    """``tnx2nxdi: 512/2000 files (25%), 5 s`` as a line of its own every few seconds, for logs
    that are not a terminal (a CI job): nothing for a run shorter than that."""

    def __init__(self, stream: TextIO, total: int) -> None:
        self.stream, self.total, self.done = stream, total, 0
        self.start = time.monotonic()
        self.next = self.start + PROGRESS_LOG_EVERY

    def advance(self, count: int = 1) -> None:
        self.done += count
        self.tick()

    def tick(self) -> None:
        now = time.monotonic()
        if now < self.next or self.done >= self.total:
            return
        self.next = now + PROGRESS_LOG_EVERY
        percent = 100 * self.done // self.total
        self.stream.write(f"tnx2nxdi: {self.done}/{self.total} files ({percent}%), "
                          f"{now - self.start:.0f} s\n")
        self.stream.flush()


# -- the pool -------------------------------------------------------------------------------------


def _parallel(work: _Work, groups: Iterable[discovery.Group], jobs: int, *,
              stream: bool) -> None:
    forked = _forks()
    pool = _Pool(work, jobs, forked)
    try:
        rest = iter(groups)
        if forked and stream:
            for group in rest:
                work.add(group)
                if len(work.files) >= PARALLEL_SCREEN_MIN:
                    break
        else:
            work.add_all(rest)
        if forked and len(work.files) >= PARALLEL_SCREEN_MIN:
            _in_batches(work, pool, rest)
        else:
            if forked and stream:
                work.counted()  # the walk ended below PARALLEL_SCREEN_MIN files
            _screen_here(work, pool)
        pool.drain()
    except BaseException:
        pool.stop()  # Ctrl-C: workers finish the file they are on; nothing else is started
        raise
    finally:
        pool.close()


def _in_batches(work: _Work, pool: _Pool, rest: Iterator[discovery.Group]) -> None:
    """Workers read, screen and migrate batches of consecutive files, handed out while the walk
    goes on (``rest``: what it has not found yet)."""
    start = _batches(work, pool, 0, final=False)
    for group in rest:
        work.add(group)
        if len(work.files) - start >= BATCH_SIZE:
            start = _batches(work, pool, start, final=False)
            pool.pump(timeout=0)
    work.counted()
    _batches(work, pool, start, final=True)


def _batches(work: _Work, pool: _Pool, start: int, *, final: bool) -> int:
    """Hand out the files from ``start`` on in batches (``final``: the last one may be
    short); where the next batch starts."""
    end = len(work.files)
    work.room()
    while end - start >= BATCH_SIZE or (final and start < end):
        stop = min(start + BATCH_SIZE, end)
        pool.submit(list(range(start, stop)), single=False)
        start = stop
    return start


def _screen_here(work: _Work, pool: _Pool) -> None:
    """This process reads and screens; each file that passes goes to the pool (started at the
    first one), unless it is the last file and no worker is running: then it is done here."""
    last = len(work.files) - 1
    for index, path in enumerate(work.files):
        try:
            data = read_file(path, bool(work.regular[index]))
        except SourceError as error:
            work.finish(index, FileResult(path, error=str(error)))
            continue
        if not needs_handler(data):
            work.finish(index, screened_out(path))
        elif (hit := _settled_here(work, index, data)) is not None:
            work.finish(index, hit)
        elif index == last and not pool.workers and not pool.pending:
            work.finish(index, handle(path, data, work.options(index), work.cache))
        else:
            pool.submit([index], single=True)
        if pool.workers:
            pool.pump(timeout=0)


def _settled_here(work: _Work, index: int, data: bytes) -> FileResult | None:
    """A file skipped by its comment, or whose result the cache holds (in write mode: one that
    would not change), needs no worker."""
    path, options = work.files[index], work.options(index)
    skipped = _skipped_by_comment(data, path)
    if skipped is not None or work.cache is None:
        return skipped
    store = work.cache.get()
    key = store.key(data, path, options)
    hit = store.load(key, path) if key is not None else None
    if hit is None or (options.mode == "write" and hit.changed):
        return None
    return hit


def _forks() -> bool:
    """Workers are forked where that is safe (Linux, no other thread): they start in a
    millisecond, share the modules already imported, and need no ``multiprocessing`` (whose
    import alone costs half of what ``grep`` needs for 10,000 files). Elsewhere they are
    started the platform's way (``multiprocessing``)."""
    import threading

    return sys.platform == "linux" and threading.active_count() == 1


def _start_context() -> Any:
    """How workers start where they are not forked: the platform's default (spawn on Windows
    and macOS)."""
    import multiprocessing

    return multiprocessing.get_context()


@dataclass
class _Task:
    indices: list[int]
    #: One file the screen passed (sent alone, to an idle worker) or a batch to read and screen.
    single: bool


@dataclass
class _Worker:
    process: Any  # _Forked, or a multiprocessing process
    connection: Any  # _Channel, or a multiprocessing connection
    tasks: deque[_Task] = field(default_factory=deque)
    #: The file the worker said it is migrating.
    current: int | None = None
    sent: set[int] = field(default_factory=set)  # option numbers it knows
    spoke: bool = False  # it sent a message: it started
    failure: str | None = None  # what broke it, when it could say


class _Pool:
    """Worker processes fed with tasks through one pipe each, without threads (so forking stays
    safe). The pipes carry only file numbers and paths to the workers (a batch is a few KB, at
    most two per worker), so a send never waits on a worker that is itself sending."""

    def __init__(self, work: _Work, jobs: int, forked: bool) -> None:
        self.work, self.jobs, self.forked = work, jobs, forked
        self.workers: list[_Worker] = []
        self.pending: deque[_Task] = deque()
        self.failures = 0
        self.frozen = False
        self.waiter = _Waiter()

    # feeding

    def submit(self, indices: list[int], *, single: bool) -> None:
        self.pending.append(_Task(indices, single))
        self._dispatch()

    def _dispatch(self) -> None:
        while self.pending:
            if self.failures >= _STARTUP_FAILURES:
                self._here(self.pending.popleft())
                continue
            task = self.pending[0]
            worker = self._free(task)
            if worker is None:
                return
            self.pending.popleft()
            self._send(worker, task)

    def _free(self, task: _Task) -> _Worker | None:
        """An idle worker, else a new one while there are fewer than ``jobs``, else (for a batch)
        one that has room for a second batch."""
        for worker in self.workers:
            if not worker.tasks:
                return worker
        if len(self.workers) < self.jobs:
            return self._start()
        depth = 1 if task.single else BATCH_DEPTH
        room = [worker for worker in self.workers if len(worker.tasks) < depth]
        return min(room, key=lambda worker: len(worker.tasks)) if room else None

    def _start(self) -> _Worker:
        directory = self.work.cache.directory if self.work.cache is not None else None
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()  # a forked copy of unwritten output would be written twice
        if self.forked:
            # Objects made so far stay out of the workers' garbage collection, so their pages
            # stay shared with this process instead of being copied into each worker.
            gc.freeze()
            self.frozen = True
            others = [descriptor for worker in self.workers
                      for descriptor in worker.connection.descriptors()]
            worker = _Worker(*_fork(directory, others))
        else:
            context = _start_context()
            parent, child = context.Pipe(duplex=True)
            process = context.Process(target=_worker_main, args=(child, directory), daemon=True)
            process.start()
            child.close()
            worker = _Worker(process, parent)
        self.workers.append(worker)
        self.waiter.add(worker)
        return worker

    def _send(self, worker: _Worker, task: _Task) -> None:
        keys = self.work.keys
        new = {keys[index] for index in task.indices} - worker.sent
        options = {number: self.work.table.options[number] for number in new}
        worker.sent |= new
        files, regular = self.work.files, self.work.regular
        items = [(index, files[index], keys[index], regular[index]) for index in task.indices]
        worker.tasks.append(task)
        try:
            worker.connection.send((items, options))
        except OSError:
            self._died(worker)

    def _here(self, task: _Task) -> None:
        """Without working workers: the files are done in this process."""
        for index in task.indices:
            if self.work.results[index] is None:
                self.work.finish(index, self.work.process(index))

    # collecting

    def drain(self) -> None:
        while self.pending or any(worker.tasks for worker in self.workers):
            self.pump(timeout=1.0)
            self.work.progress.tick()

    def pump(self, timeout: float | None) -> None:
        """Handle what the workers said (waiting up to ``timeout``), then hand out work."""
        if not self.workers:
            self._dispatch()
            return
        for worker, said in self.waiter.ready(self.workers, timeout):
            if worker not in self.workers:
                continue  # already buried (its pipe and its process were both ready)
            if said:
                self._receive(worker)
            else:
                while worker in self.workers and _poll(worker.connection):
                    self._receive(worker)
                if worker in self.workers:
                    self._died(worker)
        self._dispatch()

    def _receive(self, worker: _Worker) -> None:
        try:
            message = worker.connection.recv()
        except (EOFError, OSError):
            self._died(worker)
            return
        worker.spoke = True
        self.failures = 0
        kind = message[0]
        if kind == "interrupted":  # KeyboardInterrupt inside the worker: the run stops
            raise KeyboardInterrupt
        if kind == "failed":  # a bug in the worker's own loop; it exits next
            worker.failure = message[1]
            return
        self.work.settle(message[-2], message[-1])
        if kind == "started":
            worker.current = message[1]
        elif kind == "finished":
            worker.current = None
            self.work.finish(message[1], message[2])
        elif kind == "done":
            worker.tasks.popleft()

    def _died(self, worker: _Worker) -> None:
        """A worker ended without being asked: its file gets the error, the files it had not
        reached go back to the queue."""
        self._bury(worker)
        with contextlib.suppress(OSError):
            worker.connection.close()
        worker.process.join(timeout=5)
        if not worker.spoke:
            self.failures += 1
        unresolved = [index for task in worker.tasks for index in task.indices
                      if self.work.results[index] is None]
        culprit = worker.current if worker.current is not None else (
            unresolved[0] if unresolved else None)
        if culprit is not None:
            self._blame(culprit, worker.failure or _death(worker.process.exitcode))
        rest = [index for index in unresolved if index != culprit]
        if rest:
            self.pending.appendleft(_Task(rest, single=len(rest) == 1 and worker.tasks[0].single))

    def _bury(self, worker: _Worker) -> None:
        self.workers.remove(worker)
        self.waiter.remove(worker)

    def _blame(self, index: int, how: str) -> None:
        options = self.work.options(index)
        path = self.work.files[index]
        after = "; unchanged"
        if options.mode == "write":
            after = "; the file is either unchanged or fully migrated"
            _remove_leftovers(path)
        message = f"TNX999 internal error (the worker process died: {how}){after}"
        self.work.finish(index, FileResult(path, error=message))

    # ending

    def stop(self) -> None:
        """Ask every worker to stop after its current file and wait until they have (reading
        what they still send, so none is stuck writing to its pipe)."""
        for worker in self.workers:
            with contextlib.suppress(OSError):
                worker.connection.send(None)
        deadline = time.monotonic() + 60
        while self.workers and time.monotonic() < deadline:
            for worker, said in self.waiter.ready(self.workers, 1.0):
                if said:
                    try:
                        worker.connection.recv()
                        continue
                    except (EOFError, OSError):
                        pass
                if worker in self.workers:
                    self._bury(worker)
                    worker.process.join(timeout=5)

    def close(self) -> None:
        for worker in self.workers:
            with contextlib.suppress(OSError):
                worker.connection.send(None)
        for worker in self.workers:
            worker.process.join(timeout=10)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()
            worker.connection.close()
        self.workers.clear()
        if self.frozen:
            gc.unfreeze()


class _Waiter:
    """Waits for the workers' pipes and processes. Where the platform has ``poll``, one poll
    object serves the whole run (``multiprocessing.connection.wait`` builds a selector per call,
    and the pool waits once per batch)."""

    def __init__(self) -> None:
        self.poll = select.poll() if hasattr(select, "poll") else None
        self.owners: dict[int, tuple[_Worker, bool]] = {}

    def add(self, worker: _Worker) -> None:
        if self.poll is not None:
            watched = [(worker.connection.fileno(), True)]
            sentinel = getattr(worker.process, "sentinel", None)
            if sentinel is not None:  # a forked worker's end shows as the end of its pipe
                watched.append((sentinel, False))
            for descriptor, said in watched:
                self.owners[descriptor] = (worker, said)
                self.poll.register(descriptor, select.POLLIN)

    def remove(self, worker: _Worker) -> None:
        if self.poll is not None:
            for descriptor, (owner, _) in list(self.owners.items()):
                if owner is worker:
                    del self.owners[descriptor]
                    self.poll.unregister(descriptor)

    def ready(self, workers: list[_Worker], timeout: float | None) -> list[tuple[_Worker, bool]]:
        """(worker, True) when its pipe has something, (worker, False) when it has ended."""
        if self.poll is None:
            from multiprocessing.connection import wait

            owners: dict[Any, tuple[_Worker, bool]] = {}
            for worker in workers:
                owners[worker.connection] = (worker, True)
                owners[worker.process.sentinel] = (worker, False)
            return [owners[ready] for ready in wait(list(owners), timeout)]
        milliseconds = None if timeout is None else int(timeout * 1000)
        return [self.owners[descriptor] for descriptor, _ in self.poll.poll(milliseconds)
                if descriptor in self.owners]


class _Channel:
    """Pickled messages, each after its length, over two pipes: how this process and a forked
    worker talk (what ``multiprocessing.Pipe`` does, without importing it)."""

    def __init__(self, reading: int, writing: int) -> None:
        self.reading, self.writing = reading, writing

    def send(self, message: object) -> None:
        import pickle

        data = pickle.dumps(message, pickle.HIGHEST_PROTOCOL)
        view = memoryview(len(data).to_bytes(8, "little") + data)
        while view:
            view = view[os.write(self.writing, view):]

    def recv(self) -> Any:
        import pickle

        size = int.from_bytes(self._exactly(8), "little")
        return pickle.loads(self._exactly(size))

    def _exactly(self, size: int) -> bytes:
        chunks, left = [], size
        while left:
            chunk = os.read(self.reading, min(left, 1 << 20))
            if not chunk:
                raise EOFError("the other end has closed the pipe")
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    def poll(self) -> bool:
        return bool(select.select([self.reading], [], [], 0)[0])

    def fileno(self) -> int:
        return self.reading

    def descriptors(self) -> tuple[int, int]:
        return self.reading, self.writing

    def close(self) -> None:
        for descriptor in (self.reading, self.writing):
            with contextlib.suppress(OSError):
                os.close(descriptor)
        self.reading = self.writing = -1


class _Forked:
    """A forked worker process, as much of ``multiprocessing.Process`` as the pool uses."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.exitcode: int | None = None

    def join(self, timeout: float | None = None) -> None:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.exitcode is None:
            try:
                pid, status = os.waitpid(self.pid, 0 if deadline is None else os.WNOHANG)
            except ChildProcessError:
                self.exitcode = -1
                return
            if pid:
                self.exitcode = os.waitstatus_to_exitcode(status)
            elif deadline is not None and time.monotonic() >= deadline:
                return
            else:
                time.sleep(0.001)

    def is_alive(self) -> bool:
        self.join(timeout=0)
        return self.exitcode is None

    def kill(self) -> None:
        import signal

        with contextlib.suppress(OSError):
            os.kill(self.pid, signal.SIGKILL)


def _fork(cache_directory: Path | None, others: list[int]) -> tuple[_Forked, _Channel]:
    """A worker in a forked copy of this process; ``others``: the pipe ends of the workers
    started before, which the new one must not hold (a worker notices that this process has
    gone when its pipe closes, so no other process may keep it open)."""
    tasks_read, tasks_write = os.pipe()
    results_read, results_write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the worker: it never returns into the caller's code
        code = 70
        try:
            for descriptor in (tasks_write, results_read, *others):
                os.close(descriptor)
            _worker_main(_Channel(tasks_read, results_write), cache_directory)
            code = 0
        finally:
            os._exit(code)
    os.close(tasks_read)
    os.close(results_write)
    return _Forked(pid), _Channel(results_read, tasks_write)


def _poll(connection: Any) -> bool:
    try:
        return bool(connection.poll())
    except (EOFError, OSError):
        return False


def _death(exitcode: int | None) -> str:
    if exitcode is None:
        return "it did not exit"
    if exitcode < 0:
        try:
            import signal  # (its enum of every signal takes a while to build: only here)

            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        hint = ", most likely for lack of memory" if name == "SIGKILL" else ""
        return f"killed by {name}{hint}"
    return f"exit code {exitcode}"


def _remove_leftovers(path: str) -> None:
    """The temporary file of a write the dead worker did not finish (``sources.write_atomic``
    names it ``.NAME.XXXXXXXX.tnx2nxdi`` next to the file)."""
    target = os.path.realpath(path)
    directory, name = os.path.split(target)
    with contextlib.suppress(OSError), os.scandir(directory) as entries:
        for entry in entries:
            if entry.name.startswith(f".{name}.") and entry.name.endswith(".tnx2nxdi"):
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)


# -- in a worker ----------------------------------------------------------------------------------


def _worker_main(connection: Any, cache_directory: Path | None) -> None:
    # Ctrl-C reaches the whole process group; the parent decides, the workers finish their file.
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    cache = _Cache.make(cache_directory)
    table: dict[int, Options] = {}
    inbox: deque[Any] = deque()
    try:
        while True:
            if not inbox:
                inbox.append(connection.recv())
            message = inbox.popleft()
            if message is None:
                return
            items, options = message
            table.update(options)
            if not _work_on(connection, items, table, cache, inbox):
                return
    except (EOFError, OSError):
        return  # the parent has gone: nothing to report to
    except Exception as error:  # a bug here: said in one line, never a traceback
        with contextlib.suppress(Exception):
            connection.send(("failed", f"{type(error).__name__}: {error}", [], []))
        os._exit(70)
    finally:
        connection.close()


#: A worker reads the files the walk listed as regular into this buffer, and screens them
#: there: no bytes object is made for a file the screen rules out.
_BUFFER = bytearray(_FIRST_READ)
_READV = hasattr(os, "readv")


def _peek(path: str, buffers: list[bytearray]) -> int:
    """How many bytes of ``path`` were read into ``buffers[0]``; -1 when it could not be read
    (``read_file`` then says why) or the platform cannot read into a buffer (Windows)."""
    if not _READV:
        return -1
    try:
        descriptor = os.open(path, _OPEN_FLAGS)
    except OSError:
        return -1
    try:
        return os.readv(descriptor, buffers)
    except OSError:
        return -1
    finally:
        os.close(descriptor)


def _passes(buffer: bytearray, size: int) -> bool:
    """``needs_handler`` on the first ``size`` bytes of ``buffer``."""
    for gate in _GATES:
        if buffer.find(gate, 0, size) >= 0:
            return any(buffer.find(marker, 0, size) >= 0 for marker in PREFILTER_MARKERS)
    return False


def _work_on(
    connection: Any, items: list[tuple[int, str, int, int]],
    table: dict[int, Options], cache: _Cache | None, inbox: deque[Any],
) -> bool:
    """Read, screen and migrate a task's files; False when the worker is to stop. Before each
    migration the worker says which file it is on (with the results so far), and after it sends
    the result, so that if it dies the parent knows which file did it and which are left."""
    results: list[tuple[int, FileResult]] = []
    skipped: list[int] = []
    buffers = [_BUFFER]
    for index, path, number, regular in items:
        size = _peek(path, buffers) if regular else -1
        if 0 <= size < _FIRST_READ:
            if not _passes(_BUFFER, size):
                skipped.append(index)
                continue
            data = bytes(_BUFFER[:size])
        else:
            try:
                data = read_file(path, bool(regular))
            except SourceError as error:
                results.append((index, FileResult(path, error=str(error))))
                continue
            if not needs_handler(data):
                skipped.append(index)
                continue
        while connection.poll():  # a stop request overtakes the batches waiting behind it
            inbox.append(connection.recv())
        if None in inbox:
            return False
        connection.send(("started", index, results, skipped))
        results, skipped = [], []
        try:
            result = handle(path, data, table[number], cache)
        except KeyboardInterrupt:
            connection.send(("interrupted", results, skipped))
            return False
        connection.send(("finished", index, result, [], []))
    connection.send(("done", results, skipped))
    return True
