"""Results of earlier runs, so that a repeated run over unchanged files does no LibCST work.

Pre-commit runs and CI jobs look at the same files again and again. A file the byte screen passes
costs a LibCST parse (and the LibCST import, 0.16 s); its result is kept here, under a key that
is a hash of everything the result depends on:

- the file's bytes and its kind (by suffix);
- the settings that change results: target release, compiled-model path, select and ignore
  (each file's own, after flags and its ``pyproject.toml`` are merged);
- the tool: its version and a fingerprint of its installed code (name, size and modification
  time of every file of the package, so an edited or reinstalled copy never reads the entries of
  another), the Python running it, and the installed LibCST and nbformat (same fingerprint);
- for shell scripts, the ``bash`` that checks them (``bash -n``).

One migration reads another file: a program that builds a model with an auto-model class
(``AUTO_MODEL_READERS``) has the family read from the ``config.json`` of the checkpoint it
names, a string literal, relative to the program's directory (``steps/models.py``). For such a
program the key also holds, for every string literal of the program, the bytes of
``LITERAL/config.json`` (or that there is none): a changed, added or removed config is a miss.
Internal errors are never stored. An entry that cannot be read is a miss. In write mode a file
that would change is migrated again (its new bytes are what is written).

Entries are small JSON files named by their key, written atomically, in the user's cache
directory (``~/.cache/tnx2nxdi`` on Linux, or ``$XDG_CACHE_HOME/tnx2nxdi``;
``~/Library/Caches/tnx2nxdi`` on macOS; ``%LOCALAPPDATA%\\tnx2nxdi\\Cache`` on Windows), or
``$TNX2NXDI_CACHE_DIR``. Nothing is written into the user's repository, and because keys hold no
path, checkouts and worktrees of one project share entries. The directory can be deleted at any
time; ``--no-cache`` neither reads nor writes it. A cache that cannot be written is silently not
used.

Only the directory's location is asked for at start-up (``default_directory``): the modules that
hash, read and write entries are imported with the first file that needs them.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from typing import Any

import tnx2nxdi
from tnx2nxdi.findings import FileResult, Finding
from tnx2nxdi.kinds import kind_for
from tnx2nxdi.mappings import AUTO_MODEL_CLASSES
from tnx2nxdi.options import Options

#: Environment variable naming the cache directory.
ENV_DIRECTORY = "TNX2NXDI_CACHE_DIR"
#: The layout of entries; a change makes every older entry unreachable.
FORMAT = "1"
#: Bytes whose presence means the migration may read a file next to the program (the
#: checkpoint's config.json of an auto-model class): see ``checkpoint_configs``.
AUTO_MODEL_READERS: tuple[bytes, ...] = tuple(sorted(
    {name.rsplit(".", 1)[-1].encode() for name in AUTO_MODEL_CLASSES}
))
#: Standard marker that tells backup and archiving tools to skip the directory.
_CACHEDIR_TAG = (
    "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# This file is a cache directory tag created by tnx2nxdi.\n"
)


def default_directory() -> Path:
    """Where entries live unless ``$TNX2NXDI_CACHE_DIR`` says otherwise."""
    configured = os.environ.get(ENV_DIRECTORY)
    if configured:
        return Path(configured)
    home = Path.home()
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA")
        return (Path(base) if base else home / "AppData" / "Local") / "tnx2nxdi" / "Cache"
    if sys.platform == "darwin":
        return home / "Library" / "Caches" / "tnx2nxdi"
    base = os.environ.get("XDG_CACHE_HOME")
    return (Path(base) if base and os.path.isabs(base) else home / ".cache") / "tnx2nxdi"


class Cache:
    """Entries under ``directory``; every method fails quietly (a cache is only a shortcut)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.entries = directory / f"v{FORMAT}"
        self._tool: bytes | None = None
        self._tagged = False

    def key(self, data: bytes, path: str, options: Options) -> str | None:
        """The key of ``data`` read from ``path`` under ``options``; None when its result must
        not be cached."""
        import hashlib

        kind = kind_for(path).name
        digest = hashlib.sha256(self._fingerprint())
        digest.update(_settings(options, kind).encode())
        if any(reader in data for reader in AUTO_MODEL_READERS):
            configs = checkpoint_configs(data, path)
            if configs is None:
                return None
            digest.update(configs)
        digest.update(b"\0")
        digest.update(data)
        return digest.hexdigest()

    def load(self, key: str, path: str) -> FileResult | None:
        import json

        try:
            with open(self._entry(key), "rb") as stream:
                entry = json.loads(stream.read())
            return _result(entry, path)
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            return None

    def store(self, key: str, result: FileResult) -> None:
        import json
        import tempfile

        if not cacheable(result):
            return
        target = self._entry(key)
        with contextlib.suppress(OSError, ValueError, TypeError):
            target.parent.mkdir(parents=True, exist_ok=True)
            self._tag()
            handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".", suffix=".tmp")
            try:
                with os.fdopen(handle, "w", encoding="utf-8") as stream:
                    json.dump(_entry(result), stream, ensure_ascii=False)
                os.replace(temporary, target)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(temporary)
                raise

    def _entry(self, key: str) -> Path:
        return self.entries / key[:2] / f"{key[2:]}.json"

    def _tag(self) -> None:
        if self._tagged:
            return
        self._tagged = True
        tag = self.directory / "CACHEDIR.TAG"
        if not tag.exists():
            tag.write_text(_CACHEDIR_TAG, encoding="ascii")

    def _fingerprint(self) -> bytes:
        if self._tool is None:
            self._tool = tool_fingerprint().encode("utf-8", "surrogateescape")
        return self._tool


def checkpoint_configs(data: bytes, path: str) -> bytes | None:
    """What a migration of ``data`` (read from ``path``) may read besides it: the
    ``config.json`` of every string literal of the program taken as a checkpoint directory,
    relative to the program's directory (the auto-model step reads the config of the checkpoint
    literal it is given). The bytes of each, or that it cannot be read; None when the program
    cannot be tokenized (its result is then not cached)."""
    import ast
    import hashlib
    import io
    import tokenize

    try:
        tokens = list(tokenize.tokenize(io.BytesIO(data).readline))
    except (tokenize.TokenError, SyntaxError, UnicodeDecodeError):
        return None
    literals = set()
    for token in tokens:
        if token.type == tokenize.STRING:
            try:
                value = ast.literal_eval(token.string)
            except (ValueError, SyntaxError):
                continue  # an f-string: never read as a path
            if isinstance(value, str):
                literals.add(value)
    base = Path(path).parent
    found = []
    for literal in sorted(literals):
        config = Path(literal) / "config.json" if Path(literal).is_absolute() else (
            base / literal / "config.json")
        try:
            state = hashlib.sha256(config.read_bytes()).hexdigest()
        except (OSError, ValueError):
            state = "unreadable"
        found.append(f"{literal!r} {state}")
    return "\n".join(found).encode("utf-8", "surrogateescape")


def cacheable(result: FileResult) -> bool:
    """Internal errors (a bug, a worker that died, memory) may not happen again: never kept."""
    return result.error is None or not result.error.startswith("TNX999")


def tool_fingerprint() -> str:
    """Everything about the running tool that can change a result, as one line."""
    parts = [
        f"format {FORMAT}", f"tnx2nxdi {tnx2nxdi.__version__}",
        f"python {sys.version} {sys.implementation.name}",
        _tree_fingerprint(Path(tnx2nxdi.__file__).parent, recursive=True),
    ]
    for package in ("libcst", "nbformat"):
        # Their top-level files (version, native parser) are rewritten by any upgrade.
        location = _package_directory(package)
        parts.append(f"{package} {_tree_fingerprint(location) if location else 'missing'}")
    return "\n".join(parts)


def _tree_fingerprint(root: Path, *, recursive: bool = False) -> str:
    """Names, sizes and modification times of a package's files: an upgrade, a reinstall or an
    edited checkout gives another fingerprint."""
    import hashlib

    found = []
    for directory, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(name for name in dirnames if name != "__pycache__") if (
            recursive) else []
        for name in sorted(filenames):
            if name.endswith((".pyc", ".pyo")):
                continue
            path = os.path.join(directory, name)
            with contextlib.suppress(OSError):
                info = os.stat(path)
                found.append(f"{os.path.relpath(path, root)}:{info.st_size}:{info.st_mtime_ns}")
    digest = hashlib.sha256("\n".join(found).encode("utf-8", "surrogateescape"))
    return f"{root} {digest.hexdigest()}"


def _package_directory(name: str) -> Path | None:
    """Where ``import name`` would find the package, without importing it."""
    for entry in sys.path:
        candidate = Path(entry or os.curdir, name)
        if (candidate / "__init__.py").is_file():
            return candidate
    return None


def _settings(options: Options, kind: str) -> str:
    """The options that change a result (not the mode, jobs or excludes), and what else the
    kind depends on."""
    select = "*" if options.select is None else ",".join(sorted(options.select))
    parts = [
        f"kind {kind}", f"target {options.target_version}",
        f"compiled {options.compiled_model_path!r}", f"select {select}",
        f"ignore {','.join(sorted(options.ignore))}",
    ]
    if kind == kind_for("x.sh").name:
        parts.append(f"bash {_bash()}")
    return "\n".join(parts)


_BASH: list[str] = []


def _bash() -> str:
    import shutil

    if not _BASH:
        _BASH.append(str(shutil.which("bash")))
    return _BASH[0]


# -- entries ------------------------------------------------------------------------------------


def _entry(result: FileResult) -> dict[str, Any]:
    import dataclasses

    return {
        "original": result.original,
        "migrated": None if result.migrated == result.original else result.migrated,
        "same": result.migrated == result.original,
        "findings": [dataclasses.asdict(finding) for finding in result.findings],
        "error": result.error,
        "diff_units": None if result.diff_units is None else [
            list(unit) for unit in result.diff_units
        ],
        "skipped": result.skipped,
    }


def _result(entry: dict[str, Any], path: str) -> FileResult:
    original = entry["original"]
    migrated = original if entry["same"] else entry["migrated"]
    units = entry["diff_units"]
    return FileResult(
        path, original, migrated,
        tuple(Finding(**finding) for finding in entry["findings"]),
        entry["error"],
        None if units is None else tuple((str(a), str(b), str(c)) for a, b, c in units),
        bool(entry["skipped"]),
    )
