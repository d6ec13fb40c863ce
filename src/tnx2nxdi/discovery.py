"""Which files a run looks at: explicit files always, directories walked in a fixed order.

Walking a directory skips version control, environments and caches, ``.gitignore``d paths (when
the directory is inside a git work tree: git itself is asked, once per directory named on the
command line) and paths matching the exclude globs (which may differ per directory: each
directory's own configuration decides, see ``settings.Configuration``). Files named explicitly
are always processed unless ``force_exclude`` is set (what a pre-commit hook wants: it names every
staged file).

Paths are plain strings, built by joining names (the walk follows no links, so a path below a
walked root needs no ``realpath``), and ``os.scandir`` tells files from directories without a
system call per file: walking is a small part of a run's time (docs/performance.md).
"""

from __future__ import annotations

import operator
import os
import stat
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

from tnx2nxdi.mappings import TNX_PACKAGE_DIRECTORY

#: Suffixes found when walking directories; explicitly named files are taken whatever their name.
SUFFIXES: tuple[str, ...] = (".py", ".ipynb", ".sh")
#: Directory names never walked into (version control, environments, caches, build output,
#: and a copy of TNx's own package source: NxDI replaces that package as a whole, so there is
#: nothing in it to migrate; a directory of that name is the package, since it would shadow
#: the installed one on import).
SKIP_DIRS = frozenset({
    ".git", ".hg", ".svn", ".venv", "venv", ".tox", ".nox", "__pycache__", "node_modules",
    ".mypy_cache", ".pytest_cache", ".ruff_cache", ".ipynb_checkpoints", "site-packages",
    "build", "dist", ".eggs", TNX_PACKAGE_DIRECTORY,
})
#: A git call that takes longer than this is abandoned (nothing is then skipped for git).
GIT_TIMEOUT = 60
#: A directory -> the (anchored) exclude globs that apply to its entries.
ExcludeIn = Callable[[str], Sequence[str]]


def gather(
    paths: Iterable[str], exclude: Sequence[str] = (), *, force_exclude: bool = False,
    exclude_in: ExcludeIn | None = None,
) -> Iterator[str]:
    """Files to process, each once, in a deterministic order (explicit order, then sorted).

    ``exclude`` holds globs as made by :func:`anchor`: a pattern without ``/`` matches a file or
    directory name anywhere; one with ``/`` matches an absolute path. ``exclude_in``, when given,
    replaces ``exclude`` with the globs of each directory (``settings.Configuration``).
    """
    for _, files, _ in gather_groups(paths, exclude, force_exclude=force_exclude,
                                     exclude_in=exclude_in):
        yield from files


#: A directory's files as :func:`gather_groups` hands them out: the directory as the start of
#: their paths ("" for the current directory), the paths, and for each one byte, 1 where the
#: walk saw a regular file (from the directory listing, no system call; 0 for a file named
#: explicitly, which is not known).
Group = tuple[str, list[str], bytes]


def gather_groups(
    paths: Iterable[str], exclude: Sequence[str] = (), *, force_exclude: bool = False,
    exclude_in: ExcludeIn | None = None,
) -> Iterator[Group]:
    """What :func:`gather` yields, directory by directory (a file named explicitly is a group
    of its own): a run over a large tree handles its files a directory at a time."""
    excluders = _Excluders(exclude, exclude_in)
    explicit = [str(Path(raw)) for raw in paths]
    directories = {path for path in explicit if os.path.isdir(path)}
    ignored = _git_ignored([p for p in explicit if p not in directories]) if force_exclude else (
        set())
    seen: set[str] | None = set() if len(explicit) > 1 else None  # one path: nothing twice
    for path in explicit:
        if force_exclude and (
            excluders.of(os.path.dirname(path) or os.curdir).excludes_path(path)
            or os.path.abspath(path) in ignored
        ):
            continue
        if path not in directories:
            if seen is None or _add(seen, _real_file(path)):
                yield path[:_last_separator(path) + 1], [path], b"\0"
            continue
        real = os.path.join(os.path.realpath(path), "") if seen is not None else ""
        for start, relative, names, regular in _walk(path, excluders):
            if seen is not None:
                kept = [index for index, name in enumerate(names)
                        if _add(seen, real + relative + name)]
                if len(kept) < len(names):
                    names = [names[index] for index in kept]
                    regular = bytearray(regular[index] for index in kept)
            if names:
                yield start, [start + name for name in names], bytes(regular)


def _last_separator(path: str) -> int:
    if os.altsep:  # Windows: either separator may end the directory
        return max(path.rfind(os.sep), path.rfind(os.altsep))
    return path.rfind(os.sep)


def _add(seen: set[str], key: str) -> bool:
    if key in seen:
        return False
    seen.add(key)
    return True


def _real_file(path: str) -> str:
    """``realpath`` of a named file; a file that is no link needs only its directory's."""
    try:
        is_link = stat.S_ISLNK(os.lstat(path).st_mode)
    except OSError:
        is_link = False
    if is_link:
        return os.path.realpath(path)
    directory, name = os.path.split(path)
    return os.path.join(os.path.realpath(directory or os.curdir), name)


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
    import glob

    return glob.escape(os.path.abspath(base)) + "/" + cleaned


class Excluder:
    """Matches paths against anchored exclude globs (``*`` also matches ``/``)."""

    def __init__(self, patterns: Sequence[str]) -> None:
        self.names = [p for p in patterns if "/" not in p]
        self.paths = [p for p in patterns if "/" in p]
        self._match: Callable[[str, str], bool] = _no_match
        if patterns:  # imported only by runs that exclude something
            import fnmatch

            self._match = fnmatch.fnmatchcase

    def __bool__(self) -> bool:
        return bool(self.names or self.paths)

    def matches(self, path: str | Path, name: str | None = None) -> bool:
        """The path itself (not its parents) matches a pattern (``name``: its last part, when
        the caller has it)."""
        if name is None:
            name = os.path.basename(path)
        if any(self._match(name, pattern) for pattern in self.names):
            return True
        if not self.paths:
            return False
        absolute = Path(os.path.abspath(path)).as_posix()
        return any(self._match(absolute, pattern) for pattern in self.paths)

    def excludes_path(self, path: str | Path) -> bool:
        """The path or one of its directories matches (for explicitly named paths).

        Bare names are matched against the parts of the path as written, so ``--exclude tmp``
        does not exclude every file of a checkout that happens to live under ``/tmp``.
        """
        if not self:
            return False
        parts = Path(path).parts
        if any(self._match(part, pattern) for part in parts for pattern in self.names):
            return True
        absolute = Path(os.path.abspath(path))
        return any(
            self._match(candidate.as_posix(), pattern)
            for candidate in (absolute, *absolute.parents)
            for pattern in self.paths
        )


def _no_match(name: str, pattern: str) -> bool:
    return False


class _Excluders:
    """The Excluder of each directory: one per distinct set of globs."""

    def __init__(self, exclude: Sequence[str], exclude_in: ExcludeIn | None) -> None:
        self.exclude_in = exclude_in
        self.fixed = Excluder(exclude)
        self.made: dict[tuple[str, ...], Excluder] = {}

    def of(self, directory: str) -> Excluder:
        if self.exclude_in is None:
            return self.fixed
        patterns = tuple(self.exclude_in(directory))
        excluder = self.made.get(patterns)
        if excluder is None:
            excluder = self.made[patterns] = Excluder(patterns)
        return excluder


def _walk(root: str, excluders: _Excluders) -> Iterator[tuple[str, str, list[str], bytearray]]:
    """The files below ``root``, a directory at a time: ``(the directory as the start of its
    paths, the same relative to root, the files' names, whether each is a regular file)``. Each
    directory's files come in name order, then its subdirectories in name order, as with
    ``os.walk`` and sorted names. Other entries with a suffix (a FIFO) are listed too: reading
    reports them."""
    visible = _git_visible(root)
    separator = os.sep
    start = "" if root == os.curdir else root if root.endswith(separator) else root + separator
    pending = [(root, start, "")]
    while pending:
        directory, start, relative = pending.pop()
        try:
            with os.scandir(directory) as scan:
                entries = sorted(scan, key=_NAME)
        except OSError:  # unreadable or vanished: os.walk's default is to pass over it
            continue
        excluder = excluders.of(directory)
        excluding = bool(excluder)
        below: list[tuple[str, str, str]] = []
        names: list[str] = []
        regular = bytearray()
        for entry in entries:
            if entry.is_symlink():  # links are never followed, files or directories
                continue
            name = entry.name
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                continue
            if is_dir:
                child = relative + name
                if not _skipped(start + name, name, excluder) and (
                    visible is None or child in visible.directories
                ):
                    below.append((start + name, start + name + separator, child + separator))
            elif (
                # Path(name).suffix in SUFFIXES: a name that is its only dot and suffix
                # (".py") has none
                name.endswith(SUFFIXES)
                and name.rfind(".") > 0
                and not (excluding and excluder.matches(start + name, name))
                and (visible is None or relative + name in visible.files)
            ):
                names.append(name)
                try:
                    regular.append(entry.is_file(follow_symlinks=False))
                except OSError:
                    regular.append(False)
        if names:
            yield start, relative, names, regular
        pending.extend(reversed(below))


_NAME = operator.attrgetter("name")


def _skipped(directory: str, name: str, excluder: Excluder) -> bool:
    return (
        name in SKIP_DIRS
        or name.endswith(".egg-info")
        or os.path.exists(os.path.join(directory, "pyvenv.cfg"))
        or (bool(excluder) and excluder.matches(directory, name))
    )


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


def _git_visible(root: str) -> _Visible | None:
    """Ask git which files under ``root`` are not ignored; None outside a git work tree (or
    without git), where nothing is skipped for git's sake. A directory named on the command line
    that git ignores as a whole is walked like one outside git: naming it is asking for it."""
    if not _maybe_in_git(root):
        return None
    output = _git(root, "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", ".")
    if output is None:
        return None
    names = [name for name in output.split("\0") if name]
    if os.sep != "/":  # git writes "/"; paths here are joined with the platform's separator
        names = [os.path.normpath(name) for name in names]
    visible = _Visible(set(names))
    if not visible.files and _git(root, "check-ignore", "-q", ".") is not None:
        return None
    return visible


def _maybe_in_git(directory: str) -> bool:
    """Whether git could see a work tree at ``directory``: a ``.git`` (directory or file) in it
    or above it, or a repository named by the environment. Outside one, starting git only to
    hear "not a git repository" would cost more than walking a small tree."""
    if os.environ.get("GIT_DIR") or os.environ.get("GIT_WORK_TREE"):
        return True
    current = os.path.abspath(directory)
    while True:
        if os.path.lexists(os.path.join(current, ".git")):
            return True
        parent = os.path.dirname(current)
        if parent == current:
            return False
        current = parent


def _git_ignored(files: Sequence[str]) -> set[str]:
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
    cwd: str | Path, *args: str, stdin: str | None = None, ok_codes: tuple[int, ...] = (0,)
) -> str | None:
    import subprocess  # a run that asks git nothing (a named file) does not load it

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
