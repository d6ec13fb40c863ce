"""Which files a run looks at: explicit files always, directories walked in a fixed order."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

#: Suffixes found when walking directories; explicitly named files are taken whatever their name.
SUFFIXES: tuple[str, ...] = (".py", ".ipynb")
#: Directory names never walked into (version control, environments, caches, build output).
SKIP_DIRS = frozenset({
    ".git", ".hg", ".svn", ".venv", "venv", ".tox", ".nox", "__pycache__", "node_modules",
    ".mypy_cache", ".pytest_cache", ".ruff_cache", ".ipynb_checkpoints", "site-packages",
    "build", "dist", ".eggs",
})


def gather(paths: Iterable[str]) -> Iterator[Path]:
    """Files to process, each once, in a deterministic order (explicit order, then sorted)."""
    seen: set[str] = set()
    for raw in paths:
        path = Path(raw)
        candidates = _walk(path) if path.is_dir() else iter([path])
        for candidate in candidates:
            key = os.path.realpath(candidate)
            if key not in seen:
                seen.add(key)
                yield candidate


def _walk(root: Path) -> Iterator[Path]:
    for directory, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not _skipped(Path(directory, d)))
        for name in sorted(filenames):
            candidate = Path(directory, name)
            if candidate.suffix in SUFFIXES and not candidate.is_symlink():
                yield candidate


def _skipped(directory: Path) -> bool:
    name = directory.name
    return (
        name in SKIP_DIRS
        or name.endswith(".egg-info")
        or directory.is_symlink()
        or (directory / "pyvenv.cfg").exists()
    )
