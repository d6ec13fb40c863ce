"""Assertions shared by the transform tests: migrated, unchanged, parse and fixed point."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

from tnx2nxdi.findings import Finding
from tnx2nxdi.kinds.python import migrate_source
from tnx2nxdi.options import Options

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
