"""The file kinds tnx2nxdi migrates, by suffix: the one table discovery, the runner, reports and
the pre-commit hook definition are checked against.

Each handler turns a file's bytes into an :class:`~tnx2nxdi.findings.Outcome`. The table holds
small functions that import their module on first use, so a run that meets no such file (or
only files the byte screen rules out) never imports LibCST or nbformat.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

from tnx2nxdi.findings import Outcome
from tnx2nxdi.options import Options

#: data, options, the file's path as shown (None for standard input without a name).
Handler = Callable[[bytes, Options, "str | None"], Outcome]


def _python(data: bytes, options: Options, path: str | None) -> Outcome:
    from tnx2nxdi.kinds import python  # LibCST is imported here, not at start-up

    return python.migrate_python(data, options, path)


def _notebook(data: bytes, options: Options, path: str | None) -> Outcome:
    from tnx2nxdi.kinds import notebook

    return notebook.migrate_notebook(data, options, path)


def _shell(data: bytes, options: Options, path: str | None) -> Outcome:
    from tnx2nxdi.kinds import shell

    return shell.migrate_shell(data, options, path)


@dataclass(frozen=True)
class Kind:
    name: str
    handler: Handler


KINDS: dict[str, Kind] = {
    ".py": Kind("Python", _python),
    ".ipynb": Kind("notebook", _notebook),
    ".sh": Kind("shell script", _shell),
}
#: What a file with another suffix (named explicitly, or standard input) is read as.
DEFAULT_KIND = KINDS[".py"]
SUFFIXES: frozenset[str] = frozenset(KINDS)


def kind_for(path: str | None) -> Kind:
    if path is None:
        return DEFAULT_KIND
    return KINDS.get(os.path.splitext(path)[1], DEFAULT_KIND)
