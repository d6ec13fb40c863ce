"""Project settings: ``[tool.tnx2nxdi]`` in the nearest ``pyproject.toml``.

The file is found by walking up from the deepest directory that holds every path of the run (the
current directory for standard input, or the directory of ``--stdin-filename``); a
``pyproject.toml`` without a ``[tool.tnx2nxdi]`` table is passed over. Command-line flags win over
these settings (the CLI merges them). Unknown keys and bad values are errors that name the file
and the key (exit code 2).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tnx2nxdi import discovery, rules
from tnx2nxdi.mappings import TARGET_VERSIONS

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

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


def load(paths: Sequence[str], stdin_filename: str | None = None) -> Settings:
    """The settings of the nearest pyproject.toml with a ``[tool.tnx2nxdi]`` table."""
    for directory in _start(paths, stdin_filename).resolve().joinpath("_").parents:
        candidate = directory / FILENAME
        if candidate.is_file() and _mentions_section(candidate):
            table = _table(candidate)
            if table is not None:
                return _settings(candidate, table)
    return Settings()


def _table(source: Path) -> dict[str, object] | None:
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
