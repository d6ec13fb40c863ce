"""Rendering results for people and for CI: findings, diffs and the summary line."""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterator

from tnx2nxdi.findings import FileResult, Finding, RunResult
from tnx2nxdi.rules import RULE_BY_CODE

OUTPUT_FORMATS = ("text", "json", "github")


def location(result: FileResult, finding: Finding) -> str:
    cell = f"[cell {finding.cell}]" if finding.cell is not None else ""
    return f"{result.path}{cell}:{finding.line}:{finding.column}"


def shown_findings(result: FileResult, *, show_fixes: bool) -> Iterator[Finding]:
    for finding in result.findings:
        if show_fixes or not finding.fixed:
            yield finding


def render_findings(run: RunResult, output_format: str, *, show_fixes: bool) -> str:
    if output_format == "json":
        return json.dumps(_json(run), indent=2) + "\n"
    lines = []
    for result in run.files:
        if result.error is not None:
            lines.append(_error_line(result, output_format))
        for finding in shown_findings(result, show_fixes=show_fixes or output_format != "text"):
            lines.append(_finding_line(result, finding, output_format))
    return "".join(line + "\n" for line in lines)


def _finding_line(result: FileResult, finding: Finding, output_format: str) -> str:
    if output_format == "github":
        level = "notice" if finding.fixed else "warning"
        title = f"{finding.code} {RULE_BY_CODE[finding.code].name}" if (
            finding.code in RULE_BY_CODE) else finding.code
        return (
            f"::{level} file={result.path},line={finding.line},col={finding.column},"
            f"title={title}::{_escape(finding.message)}"
        )
    fixed = " [fixed]" if finding.fixed else ""
    return f"{location(result, finding)}: {finding.code}{fixed} {finding.message}"


def _error_line(result: FileResult, output_format: str) -> str:
    if output_format == "github":
        return f"::error file={result.path}::{_escape(result.error or '')}"
    return f"{result.path}: error: {result.error}"


def _escape(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _json(run: RunResult) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for result in run.files:
        if result.error is not None:
            rows.append({"path": result.path, "line": 1, "column": 1, "code": "error",
                         "message": result.error, "fixed": False, "cell": None})
        for finding in result.findings:
            rows.append({
                "path": result.path, "line": finding.line, "column": finding.column,
                "code": finding.code, "message": finding.message, "fixed": finding.fixed,
                "cell": finding.cell,
            })
    return rows


def unified_diff(result: FileResult) -> str:
    if result.diff_units is not None:
        return "".join(
            _diff(old, new, f"{result.path}:{label}") for label, old, new in result.diff_units
        )
    return _diff(result.original or "", result.migrated or "", result.path)


def _diff(old: str, new: str, label: str) -> str:
    lines = difflib.unified_diff(
        old.splitlines(keepends=True), new.splitlines(keepends=True),
        fromfile=label, tofile=label,
    )
    out = []
    for line in lines:
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)


def summary(run: RunResult, mode: str) -> str:
    changed = len(run.changed)
    processed = [r for r in run.files if r.error is None]
    unchanged = len(processed) - changed
    verb = "migrated" if mode == "write" else "would be migrated"
    parts = [
        f"{_count(changed, 'file')} {verb}",
        f"{unchanged} left unchanged",
        f"{_count(run.attention, 'finding')} need{'s' if run.attention == 1 else ''} attention",
    ]
    if run.errors:
        parts.append(f"{_count(len(run.errors), 'file')} could not be processed")
    if not run.files:
        return "No files to migrate (no .py files found)."
    return ", ".join(parts) + "."


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"
