"""Which files a run looks at: explicit files always, directories walked in a fixed order.

Walking a directory skips version control, environments and caches, ``.gitignore``d paths (when
the directory is inside a git work tree: git itself is asked, once per directory named on the
command line) and paths matching ``--exclude`` globs. Files named explicitly are always processed
unless ``force_exclude`` is set (what a pre-commit hook wants: it names every staged file).
"""

from __future__ import annotations

import fnmatch
import glob
import os
import subprocess
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

#: Suffixes found when walking directories; explicitly named files are taken whatever their name.
SUFFIXES: tuple[str, ...] = (".py", ".ipynb", ".sh")
#: Directory names never walked into (version control, environments, caches, build output,
#: and a copy of TNx's own package source: NxDI replaces that package as a whole, so there is
#: nothing in it to migrate; a directory of that name is the package, since it would shadow
#: the installed one on import).
SKIP_DIRS = frozenset({
    ".git", ".hg", ".svn", ".venv", "venv", ".tox", ".nox", "__pycache__", "node_modules",
    ".mypy_cache", ".pytest_cache", ".ruff_cache", ".ipynb_checkpoints", "site-packages",
    "build", "dist", ".eggs", "transformers_neuronx",
})
#: A git call that takes longer than this is abandoned (nothing is then skipped for git).
GIT_TIMEOUT = 60


def gather(
    paths: Iterable[str], exclude: Sequence[str] = (), *, force_exclude: bool = False
) -> Iterator[Path]:
    """Files to process, each once, in a deterministic order (explicit order, then sorted).

    ``exclude`` holds globs as made by :func:`anchor`: a pattern without ``/`` matches a file or
    directory name anywhere; one with ``/`` matches an absolute path.
    """
    excluder = Excluder(exclude)
    explicit = [Path(raw) for raw in paths]
    ignored = _git_ignored([p for p in explicit if not p.is_dir()]) if force_exclude else set()
    seen: set[str] = set()
    for path in explicit:
        if force_exclude and (excluder.excludes_path(path) or os.path.abspath(path) in ignored):
            continue
        candidates = _walk(path, excluder) if path.is_dir() else iter([path])
        under = _RealPaths(path) if path.is_dir() else None
        for candidate in candidates:
            key = under.of(candidate) if under is not None else os.path.realpath(candidate)
            if key not in seen:
                seen.add(key)
                yield candidate


class _RealPaths:
    """Real paths of walked files from one ``realpath`` of their root: the walk follows no
    links, so below the root a path is already real (``realpath`` per file costs a system call
    per component: a third of a 10,000-file run, docs/performance.md)."""

    def __init__(self, root: Path) -> None:
        self.real = os.path.realpath(root)
        self.prefix = os.path.join(os.path.abspath(root), "")

    def of(self, path: Path) -> str:
        absolute = os.path.abspath(path)
        if not absolute.startswith(self.prefix):
            return os.path.realpath(path)
        return os.path.join(self.real, absolute[len(self.prefix):])


def anchor(pattern: str, base: Path) -> str:
    """A user's glob made independent of the working directory: patterns with a ``/`` are
    relative to ``base`` (the directory of the configuration file, or the current directory
    for ``--exclude``); bare names (``legacy``, ``*_old.py``) match at any depth."""
    cleaned = pattern.strip()
    while cleaned.startswith("./"):
        cleaned = cleaned[2:]
    cleaned = cleaned.rstrip("/") or cleaned
    if "/" not in cleaned or os.path.isabs(cleaned):
        return cleaned
    return glob.escape(os.path.abspath(base)) + "/" + cleaned


class Excluder:
    """Matches paths against anchored exclude globs (``*`` also matches ``/``)."""

    def __init__(self, patterns: Sequence[str]) -> None:
        self.names = [p for p in patterns if "/" not in p]
        self.paths = [p for p in patterns if "/" in p]

    def __bool__(self) -> bool:
        return bool(self.names or self.paths)

    def matches(self, path: Path) -> bool:
        """The path itself (not its parents) matches a pattern."""
        if any(fnmatch.fnmatchcase(path.name, pattern) for pattern in self.names):
            return True
        if not self.paths:
            return False
        absolute = Path(os.path.abspath(path)).as_posix()
        return any(fnmatch.fnmatchcase(absolute, pattern) for pattern in self.paths)

    def excludes_path(self, path: Path) -> bool:
        """The path or one of its directories matches (for explicitly named paths).

        Bare names are matched against the parts of the path as written, so ``--exclude tmp``
        does not exclude every file of a checkout that happens to live under ``/tmp``.
        """
        if not self:
            return False
        if any(fnmatch.fnmatchcase(part, pattern) for part in path.parts for pattern in self.names):
            return True
        absolute = Path(os.path.abspath(path))
        return any(
            fnmatch.fnmatchcase(candidate.as_posix(), pattern)
            for candidate in (absolute, *absolute.parents)
            for pattern in self.paths
        )


def _walk(root: Path, excluder: Excluder) -> Iterator[Path]:
    visible = _git_visible(root)
    for directory, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(
            d for d in dirnames
            if not _skipped(Path(directory, d), excluder)
            and (visible is None or _relative(Path(directory, d), root) in visible.directories)
        )
        for name in sorted(filenames):
            candidate = Path(directory, name)
            if (
                candidate.suffix in SUFFIXES
                and not candidate.is_symlink()
                and not excluder.matches(candidate)
                and (visible is None or _relative(candidate, root) in visible.files)
            ):
                yield candidate


def _skipped(directory: Path, excluder: Excluder) -> bool:
    name = directory.name
    return (
        name in SKIP_DIRS
        or name.endswith(".egg-info")
        or directory.is_symlink()
        or (directory / "pyvenv.cfg").exists()
        or excluder.matches(directory)
    )


def _relative(path: Path, root: Path) -> str:
    return os.path.normpath(os.path.relpath(path, root))


class _Visible:
    """The files git does not ignore under a root (tracked, or untracked and not ignored)."""

    def __init__(self, files: set[str]) -> None:
        self.files = files
        self.directories: set[str] = set()
        for name in files:
            parent = os.path.dirname(name)
            while parent and parent not in self.directories:
                self.directories.add(parent)
                parent = os.path.dirname(parent)


def _git_visible(root: Path) -> _Visible | None:
    """Ask git which files under ``root`` are not ignored; None outside a git work tree (or
    without git), where nothing is skipped for git's sake. A directory named on the command line
    that git ignores as a whole is walked like one outside git: naming it is asking for it."""
    output = _git(root, "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", ".")
    if output is None:
        return None
    visible = _Visible({os.path.normpath(name) for name in output.split("\0") if name})
    if not visible.files and _git(root, "check-ignore", "-q", ".") is not None:
        return None
    return visible


def _git_ignored(files: Sequence[Path]) -> set[str]:
    """Absolute paths of the given files that git ignores: one git call when they all belong to
    the work tree of the current directory (a pre-commit run), else one per directory."""
    if not files:
        return set()
    absolute = [os.path.abspath(path) for path in files]
    together = _check_ignore(Path.cwd(), absolute)
    if together is not None:
        return together
    by_directory: dict[str, list[str]] = {}
    for path in absolute:
        by_directory.setdefault(os.path.dirname(path), []).append(path)
    ignored: set[str] = set()
    for directory, paths in by_directory.items():
        if os.path.isdir(directory):
            ignored |= _check_ignore(Path(directory), paths) or set()
    return ignored


def _check_ignore(cwd: Path, paths: Sequence[str]) -> set[str] | None:
    """The ignored ones of ``paths`` (absolute), or None when git cannot say (outside git, or
    a path outside the work tree of ``cwd``)."""
    output = _git(cwd, "check-ignore", "-z", "--stdin", stdin="\0".join(paths) + "\0",
                  ok_codes=(0, 1))
    if output is None:
        return None
    return {os.path.abspath(os.path.join(cwd, name)) for name in output.split("\0") if name}


def _git(
    cwd: Path, *args: str, stdin: str | None = None, ok_codes: tuple[int, ...] = (0,)
) -> str | None:
    try:
        completed = subprocess.run(
            ["git", *args], cwd=cwd, input=stdin.encode("utf-8", "surrogateescape")
            if stdin is not None else None, capture_output=True, timeout=GIT_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if completed.returncode not in ok_codes:
        return None
    return completed.stdout.decode("utf-8", "surrogateescape")
