"""Runs a migration over files: discovery, reading, the per-kind handler, writing.

``run(paths, options)`` is the callable API the CLI is a thin layer over. LibCST is imported only
when a file passes the byte prefilter, so a run over a tree without TNx never pays for it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

from tnx2nxdi import discovery
from tnx2nxdi.findings import FileResult, Finding, RunResult
from tnx2nxdi.mappings import PREFILTER_MARKERS
from tnx2nxdi.options import Options
from tnx2nxdi.sources import SourceError, decode_python, encode_python, read_bytes, write_atomic


@dataclass(frozen=True)
class Outcome:
    """What a handler made of one input: texts for diffs and reports, bytes to write."""

    original: str
    migrated: str
    data: bytes
    findings: tuple[Finding, ...] = ()
    error: str | None = None
    diff_units: tuple[tuple[str, str, str], ...] | None = None


Handler = Callable[[bytes, Options], Outcome]

#: File kinds by suffix: "module:function" of the handler, imported only when needed.
HANDLERS: dict[str, str] = {
    ".py": "tnx2nxdi.runner:migrate_python",
    ".sh": "tnx2nxdi.shell:migrate_shell",
    ".ipynb": "tnx2nxdi.notebook:migrate_notebook",
}
DEFAULT_HANDLER = HANDLERS[".py"]


def run(paths: Sequence[str], options: Options) -> RunResult:
    files = list(discovery.gather(paths, options.exclude, force_exclude=options.force_exclude))
    result = RunResult()
    if options.jobs > 1 and len(files) > 1:
        with ProcessPoolExecutor(max_workers=min(options.jobs, len(files))) as pool:
            result.files.extend(pool.map(process_path, files, _repeat(options, len(files))))
    else:
        result.files.extend(process_path(path, options) for path in files)
    return result


def _repeat(options: Options, count: int) -> Iterable[Options]:
    return (options for _ in range(count))


def process_path(path: Path, options: Options) -> FileResult:
    """Migrate one file; write it in place when ``options.mode`` is "write"."""
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


def process_bytes(data: bytes, options: Options, shown: str) -> tuple[FileResult, bytes]:
    """The result for ``data`` and the bytes its migration writes (``data`` when unchanged)."""
    if not any(marker in data for marker in PREFILTER_MARKERS):
        return FileResult(shown, skipped=True), data
    outcome = handler_for(shown)(data, replace(options, source_path=shown))
    result = FileResult(
        shown, outcome.original, outcome.migrated, outcome.findings, outcome.error,
        outcome.diff_units,
    )
    return result, (outcome.data if result.changed and outcome.error is None else data)


def handler_for(shown: str) -> Handler:
    spec = HANDLERS.get(Path(shown).suffix, DEFAULT_HANDLER)
    module, _, function = spec.partition(":")
    handler: Handler = getattr(importlib.import_module(module), function)
    return handler


def migrate_python(data: bytes, options: Options) -> Outcome:
    from tnx2nxdi.migrate import migrate_source  # LibCST is imported here, not at start-up

    try:
        decoded = decode_python(data)
    except SourceError as error:
        return Outcome("", "", data, error=str(error))
    migration = migrate_source(decoded.text, options)
    new_data = data if migration.code == decoded.text else encode_python(migration.code, decoded)
    return Outcome(decoded.text, migration.code, new_data, migration.findings, migration.error)
