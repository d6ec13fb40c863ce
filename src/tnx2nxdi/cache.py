"""Results of earlier runs, so that a repeated run over unchanged files does no LibCST work.

Pre-commit runs and CI jobs look at the same files again and again. A file the byte screen passes
costs a LibCST parse (and the LibCST import, 0.16 s); its result is kept here, under a key that
is a hash of everything the result depends on:

- the file's bytes and its kind (by suffix);
- the settings that change results: target release, compiled-model path, select and ignore
  (each file's own, after flags and its ``pyproject.toml`` are merged); what only changes how
  results are printed (output format, ``--show-fixes``, ``docs-url``) is not in it, since an
  entry holds the whole result (texts, findings with their positions, the error and its
  position) and reports are made from it each run;
- the tool: its version and a fingerprint of its installed code (name, size and modification
  time of every file of the package, so an edited or reinstalled copy never reads the entries of
  another), the Python running it, and the installed LibCST and nbformat (same fingerprint);
- for shell scripts, the ``bash`` that checks them (``bash -n``).

A migration also looks outside the file: the model step reads the ``config.json`` of the
checkpoint a program names (a string literal, or a name bound to one, relative to the program's
directory), and asks whether a literal that looks like a Hugging Face Hub id (``org/name``) is a
local directory there (``steps/models.py``). So the key of a Python program or notebook also
holds, for every string literal in it, the bytes of ``LITERAL/config.json`` (or that there is
none), and for every Hub-id-like literal whether ``LITERAL`` is a directory
(``outside_inputs``): a changed, added or removed checkpoint config or directory is a miss. A
test fails when a step starts reading anything else. Internal errors are never stored. An entry
that cannot be read is a miss. In write mode a file that would change is migrated again (its new
bytes are what is written).

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
import re
import sys
from pathlib import Path
from typing import Any

import tnx2nxdi
from tnx2nxdi.findings import FileResult, Finding
from tnx2nxdi.kinds import kind_for
from tnx2nxdi.mappings import HUB_ID_PATTERN
from tnx2nxdi.options import Options

#: Environment variable naming the cache directory.
ENV_DIRECTORY = "TNX2NXDI_CACHE_DIR"
#: The layout of entries; a change makes every older entry unreachable.
FORMAT = "2"
#: Where a string literal may start, and the literal from there (one line, or triple-quoted):
#: matched at every quote, so the strings found are a superset of the program's literals.
_QUOTE = re.compile(r"['\"]")
_STRING_AT = re.compile(
    r"'''(?:[^\\]|\\.)*?'''"  # triple-quoted, over lines
    r'|"""(?:[^\\]|\\.)*?"""'
    r"|'(?:[^'\\\n\r]|\\.)*'"  # one line
    r'|"(?:[^"\\\n\r]|\\.)*"',
    re.S,
)
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
        outside = outside_inputs(data, path, kind)
        if outside is None:
            return None
        digest = hashlib.sha256(self._fingerprint())
        digest.update(_settings(options, kind).encode())
        digest.update(outside)
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


def outside_inputs(data: bytes, path: str, kind: str) -> bytes | None:
    """What a migration of ``data`` (read from ``path``) may read besides it (see the module
    docstring), as bytes for the key; None when the program's text cannot be read (its result
    is then not cached)."""
    if kind == kind_for("x.sh").name:
        return b""  # scripts: nothing but bash, which the settings part of the key holds
    texts = _program_texts(data, kind)
    if texts is None:
        return None
    import hashlib

    base = Path(path).parent
    found = []
    for literal in sorted({value for text in texts for value in _literals(text)}):
        try:
            place = Path(literal) if Path(literal).is_absolute() else base / literal
            try:
                state = hashlib.sha256((place / "config.json").read_bytes()).hexdigest()
            except OSError:
                state = "no config"
            if re.match(HUB_ID_PATTERN, literal):
                state += " directory" if place.is_dir() else " no directory"
        except ValueError:  # a NUL in the text: no path
            continue
        found.append(f"{literal!r} {state}")
    return "\n".join(found).encode("utf-8", "surrogateescape")


def _program_texts(data: bytes, kind: str) -> list[str] | None:
    """The Python source of a file: a program decoded as Python decodes it, or a notebook's
    code cells."""
    import codecs

    if kind == kind_for("x.ipynb").name:
        import json

        try:
            notebook = json.loads(data[len(codecs.BOM_UTF8):] if data.startswith(
                codecs.BOM_UTF8) else data)
            return ["".join(cell["source"]) if isinstance(cell["source"], list)
                    else str(cell["source"]) for cell in notebook["cells"]
                    if cell.get("cell_type") == "code"]
        except (ValueError, TypeError, KeyError, AttributeError):
            return None
    import io
    import tokenize

    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        return [data.decode("utf-8" if encoding == "utf-8-sig" else encoding)]
    except (SyntaxError, UnicodeDecodeError, LookupError):
        return None


def _literals(text: str) -> set[str]:
    """Every string a literal of ``text`` may stand for: each quoted run, unquoted as written
    and as Python reads its escapes (a superset: a quote in a comment starts one too)."""
    import codecs

    found = set()
    for quote in _QUOTE.finditer(text):
        match = _STRING_AT.match(text, quote.start())
        if match is None:
            continue
        written = match.group()
        width = 3 if len(written) >= 6 and written[:3] in ("'''", '"""') else 1
        inner = written[width:-width]
        found.add(inner)
        if "\\" in inner:  # the escapes as a (non-raw) string literal reads them
            try:
                found.add(codecs.decode(inner.encode("latin-1", "backslashreplace"),
                                        "unicode_escape"))
            except UnicodeDecodeError:
                continue
    return found


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
        "error_finding": None if result.error_finding is None else dataclasses.asdict(
            result.error_finding),
    }


def _result(entry: dict[str, Any], path: str) -> FileResult:
    original = entry["original"]
    migrated = original if entry["same"] else entry["migrated"]
    units = entry["diff_units"]
    error_finding = entry["error_finding"]
    return FileResult(
        path, original, migrated,
        tuple(Finding(**finding) for finding in entry["findings"]),
        entry["error"],
        None if units is None else tuple((str(a), str(b), str(c)) for a, b, c in units),
        bool(entry["skipped"]),
        error_finding=None if error_finding is None else Finding(**error_finding),
    )
