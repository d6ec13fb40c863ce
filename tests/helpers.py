"""Assertions shared by the step tests (migrated, unchanged, parse and fixed point) and the
fixture files of every kind, run through the real pipeline."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

from tnx2nxdi.findings import FileResult, Finding
from tnx2nxdi.kinds.python import migrate_source
from tnx2nxdi.options import Options
from tnx2nxdi.runner import process_bytes

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"


def migrate(
    source: str, path: str | None = None, **options: object
) -> tuple[str, tuple[Finding, ...]]:
    result = migrate_source(source, Options(**options), path)  # type: ignore[arg-type]
    assert result.error is None, result.error
    return result.code, result.findings


def assert_migrated(before: str, after: str, **options: object) -> tuple[Finding, ...]:
    """``before`` becomes exactly ``after``; ``after`` compiles and is a fixed point."""
    before, after = textwrap.dedent(before), textwrap.dedent(after)
    code, findings = migrate(before, **options)
    assert code == after
    assert_valid_fixed_point(after, **options)
    return findings


def assert_unchanged(source: str, **options: object) -> tuple[Finding, ...]:
    source = textwrap.dedent(source)
    code, findings = migrate(source, **options)
    assert code == source
    return findings


def assert_valid_fixed_point(code: str, **options: object) -> None:
    ast.parse(code)
    compile(code, "<expected>", "exec", dont_inherit=True)
    again, _ = migrate(code, **options)
    assert again == code, "a second run changed the output"


def codes(findings: tuple[Finding, ...]) -> list[str]:
    return [finding.code for finding in findings]


def render(findings: tuple[Finding, ...]) -> str:
    """The ``.findings.txt`` format: one ``line:col: CODE [fixed] message`` per finding."""
    lines = []
    for finding in findings:
        cell = f"cell {finding.cell}: " if finding.cell is not None else ""
        fixed = " [fixed]" if finding.fixed else ""
        lines.append(f"{cell}{finding.line}:{finding.column}: {finding.code}{fixed} "
                     f"{finding.message}")
    return "".join(line + "\n" for line in lines)


# -- fixture files of every kind ------------------------------------------------------------------

#: The file kinds fixtures exist for (``tnx2nxdi.kinds.KINDS`` has a handler for each).
FIXTURE_SUFFIXES = (".py", ".ipynb", ".sh")
_OPTIONS_PREFIX = "# tnx2nxdi-options:"


def fixture_files(role: str) -> list[Path]:
    """``fixtures/<concern>/<case>.<role>.<ext>`` of every kind (role: "in", "out" or "noop")."""
    return sorted(
        path for suffix in FIXTURE_SUFFIXES for path in FIXTURES.glob(f"*/*.{role}{suffix}")
    )


def _first_line_settings(path: Path) -> dict[str, str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    if not lines or not lines[0].startswith(_OPTIONS_PREFIX):
        return {}
    pairs = (item.split("=", 1) for item in lines[0][len(_OPTIONS_PREFIX):].split())
    return dict(pairs)


def fixture_options(path: Path) -> dict[str, str]:
    """A first-line comment ``# tnx2nxdi-options: target_version=2.22`` sets options."""
    settings = _first_line_settings(path)
    settings.pop("path", None)
    return settings


def fixture_placement(path: Path) -> str | None:
    """``path=pkg/__init__.py`` in the options line: the fixture is migrated as if it sat there,
    under its own directory (what a file's name or package decides: ``__init__.py``, TNx's own
    package)."""
    return _first_line_settings(path).get("path")


def fixture_path(path: Path) -> str:
    """The path a fixture is migrated under."""
    placed = fixture_placement(path)
    return str(path.parent / placed) if placed else str(path)


def fixture_partner(source: Path, role: str) -> Path:
    """The ``.out.<ext>`` or ``.findings.txt`` file of ``<case>.in.<ext>``."""
    case, _, _ = source.name.partition(".")
    return source.with_name(f"{case}.findings.txt" if role == "findings" else
                            f"{case}.{role}{source.suffix}")


def process_fixture(path: Path, data: bytes | None = None) -> tuple[FileResult, bytes]:
    """The real pipeline (``runner.process_bytes``) on a fixture, or on ``data`` under its name
    and options; a fixture never fails to migrate."""
    options = Options(**fixture_options(path))  # type: ignore[arg-type]
    result, new_data = process_bytes(path.read_bytes() if data is None else data, options,
                                     fixture_path(path))
    assert result.error is None, result.error
    return result, new_data
