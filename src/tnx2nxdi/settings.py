"""Project settings: ``[tool.tnx2nxdi]`` in the nearest ``pyproject.toml`` above each file.

Configuration is per file, as in Ruff: a file's settings come from the nearest ``pyproject.toml``
above it that has a ``[tool.tnx2nxdi]`` table (a ``pyproject.toml`` without one is passed over),
so what a file's run reports never depends on what else was named on the command line.
Standard input is looked up from the directory of ``--stdin-filename`` (else the current
directory). Command-line flags win over these settings (:class:`Configuration` merges them).
Unknown keys and bad values are errors that name the file and the key (exit code 2).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from tnx2nxdi import discovery, rules
from tnx2nxdi.mappings import TARGET_VERSIONS
from tnx2nxdi.options import Options

FILENAME = "pyproject.toml"
SECTION = "tnx2nxdi"
#: The keys ``[tool.tnx2nxdi]`` accepts (the spelling of the matching command-line flags).
KEYS = ("select", "ignore", "exclude", "target-version", "compiled-model-path", "docs-url")


class SettingsError(Exception):
    """The configuration cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class Settings:
    #: The pyproject.toml the settings come from (None: no configuration found).
    source: Path | None = None
    select: frozenset[str] | None = None
    ignore: frozenset[str] = frozenset()
    #: Anchored to the directory of ``source`` (see ``discovery.anchor``).
    exclude: tuple[str, ...] = ()
    target_version: str | None = None
    compiled_model_path: str | None = None
    #: Where the rules page is published (an absolute URL): rule links in reports point there.
    docs_url: str | None = None


#: The Options fields ``[tool.tnx2nxdi]`` can set (``Settings`` has a field of each name).
FIELDS = ("select", "ignore", "exclude", "target_version", "compiled_model_path")


def load(paths: Sequence[str], stdin_filename: str | None = None) -> Settings:
    """The settings of the nearest pyproject.toml with a ``[tool.tnx2nxdi]`` table above the
    deepest directory holding every path (for standard input: see the module docstring)."""
    return Configuration(Options()).settings_of(str(_start(paths, stdin_filename)))


class Configuration:
    """Each file's :class:`Options`: a flag given on the command line (named in ``given``) wins,
    else the setting of the file's own ``pyproject.toml``, else the default in ``flags``.

    Directories are looked up once each (memoized), so a walk over a tree asks the file system
    about one ``pyproject.toml`` per directory.
    """

    def __init__(self, flags: Options, given: Collection[str] = ()) -> None:
        self.flags = flags
        self.given = frozenset(given)
        self._settings: dict[str, Settings] = {}  # real directory -> its settings
        self._reals: dict[str, str] = {}  # directory as written -> its real path
        self._by_directory: dict[str, Options] = {}  # directory as written -> options
        self._options: dict[Path | None, Options] = {}  # settings source -> options

    def options_for(self, path: str) -> Options:
        """The options of the file ``path`` (raises SettingsError for a broken configuration)."""
        return self.options_in(os.path.dirname(path) or os.curdir)

    def options_in(self, directory: str) -> Options:
        """The options of files directly in ``directory``."""
        options = self._by_directory.get(directory)
        if options is None:
            found = self.settings_of(directory)
            options = self._options.get(found.source)
            if options is None:
                options = self._options[found.source] = self._merge(found)
            self._by_directory[directory] = options
        return options

    def exclude_in(self, directory: str) -> tuple[str, ...]:
        """The exclude globs for the entries of ``directory`` (a walk asks once per directory).
        A broken configuration excludes nothing here: its files report the error."""
        try:
            return self.options_in(directory).exclude
        except SettingsError:
            return self.flags.exclude

    def settings_of(self, directory: str) -> Settings:
        """The settings of the nearest ``pyproject.toml`` with our table at or above
        ``directory``."""
        real = self._real(directory)
        chain = []
        found: Settings | None = None
        while True:
            known = self._settings.get(real)
            if known is not None:
                found = known
                break
            chain.append(real)
            found = _settings_in(real)
            if found is not None:
                break
            parent = os.path.dirname(real)
            if parent == real:
                found = Settings()
                break
            real = parent
        for visited in chain:
            self._settings[visited] = found
        return found

    def _real(self, directory: str) -> str:
        """``realpath(directory)``, from the parent's when the directory is no link: a walk
        asks for every directory of a tree, and ``realpath`` costs a system call per part."""
        known = self._reals.get(directory)
        if known is None:
            path = directory.rstrip(os.sep) or directory
            parent, name = os.path.split(path)
            if parent and name not in ("", os.curdir, os.pardir) and not os.path.islink(path):
                known = os.path.join(self._real(os.path.join(parent, "")), name)
            else:
                known = os.path.realpath(directory or os.curdir)
            self._reals[directory] = known
        return known

    def _merge(self, found: Settings) -> Options:
        changes = {
            name: getattr(found, name) for name in FIELDS
            if name not in self.given and getattr(found, name) is not None
        }
        return replace(self.flags, **changes) if changes else self.flags


def _settings_in(directory: str) -> Settings | None:
    """The settings of ``directory/pyproject.toml`` when it has our table, else None."""
    candidate = Path(directory, FILENAME)
    if candidate.is_file() and _mentions_section(candidate):
        table = _table(candidate)
        if table is not None:
            return _settings(candidate, table)
    return None


def _table(source: Path) -> dict[str, object] | None:
    # Imported only when a pyproject.toml mentions the tool: most runs never parse TOML.
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on Python 3.10 only
        import tomli as tomllib

    try:
        with source.open("rb") as stream:
            document = tomllib.load(stream)
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise SettingsError(f"{source}: cannot read: {error}") from None
    tool = document.get("tool")
    table = tool.get(SECTION) if isinstance(tool, dict) else None
    if table is None:
        return None
    if not isinstance(table, dict):
        raise SettingsError(f"{source}: [tool.{SECTION}] must be a table")
    return table


def _settings(source: Path, table: dict[str, object]) -> Settings:
    unknown = sorted(set(table) - set(KEYS))
    if unknown:
        raise SettingsError(
            f"{source}: unknown key {unknown[0]!r} in [tool.{SECTION}] "
            f"(known keys: {', '.join(KEYS)})"
        )
    where = f"{source}: [tool.{SECTION}]"
    target_version = _string(table, "target-version", where)
    if target_version is not None and target_version not in TARGET_VERSIONS:
        raise SettingsError(
            f"{where} target-version: {target_version!r} is not one of "
            f"{', '.join(TARGET_VERSIONS)}"
        )
    return Settings(
        source=source,
        select=_codes(table, "select", where),
        ignore=_codes(table, "ignore", where) or frozenset(),
        exclude=tuple(
            discovery.anchor(glob, source.parent)
            for glob in _strings(table, "exclude", where) or ()
        ),
        target_version=target_version,
        compiled_model_path=_string(table, "compiled-model-path", where),
        docs_url=docs_url(_string(table, "docs-url", where), f"{where} docs-url"),
    )


def docs_url(value: str | None, where: str) -> str | None:
    """A ``docs-url`` value: an absolute http(s) URL of the published rules page."""
    if value is None:
        return None
    from urllib.parse import urlsplit

    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise SettingsError(f"{where}: {value!r} is not an absolute http(s) URL of the published "
                            "rules page (docs/rules.md)")
    return value


def _start(paths: Sequence[str], stdin_filename: str | None) -> Path:
    """The deepest directory holding every path (files count as their directory)."""
    named = [p for p in paths if p != "-"]
    if not named:
        return Path(os.path.dirname(os.path.abspath(stdin_filename))) if stdin_filename else (
            Path.cwd())
    directories = [
        os.path.abspath(p) if os.path.isdir(p) else os.path.dirname(os.path.abspath(p))
        for p in named
    ]
    return Path(os.path.commonpath(directories))


def _mentions_section(path: Path) -> bool:
    # A cheap byte test first: a project's unrelated (or broken) pyproject.toml is not parsed.
    try:
        data = path.read_bytes()
    except OSError:
        return False
    return SECTION.encode() in data


def _codes(table: dict[str, object], key: str, where: str) -> frozenset[str] | None:
    values = _strings(table, key, where)
    if values is None:
        return None
    try:
        return rules.expand(part for value in values for part in value.split(","))
    except ValueError as error:
        raise SettingsError(f"{where} {key}: {error}") from None


def _strings(table: dict[str, object], key: str, where: str) -> list[str] | None:
    value = table.get(key)
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return list(value)
    raise SettingsError(f"{where} {key}: expected a string or a list of strings")


def _string(table: dict[str, object], key: str, where: str) -> str | None:
    value = table.get(key)
    if value is None or isinstance(value, str):
        return value
    raise SettingsError(f"{where} {key}: expected a string")
