"""Rendering results for people and for CI: findings, diffs and the summary line."""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterator

import click

from tnx2nxdi.discovery import SUFFIXES
from tnx2nxdi.findings import FileResult, Finding, RunResult
from tnx2nxdi.rules import RULE_BY_CODE

OUTPUT_FORMATS = ("text", "json", "github", "markdown")
#: Pull-request comments are limited to 65,536 characters; embedded diffs stop well before.
MARKDOWN_DIFF_BUDGET = 40_000


def location(result: FileResult, finding: Finding) -> str:
    cell = f"[cell {finding.cell}]" if finding.cell is not None else ""
    return f"{result.path}{cell}:{finding.line}:{finding.column}"


def shown_findings(
    result: FileResult, *, show_fixes: bool, show_ignored: bool = False
) -> Iterator[Finding]:
    for finding in result.findings:
        if finding.ignored and not show_ignored:
            continue
        if show_fixes or not finding.fixed or finding.ignored:
            yield finding


def render_findings(
    run: RunResult, output_format: str, *, show_fixes: bool, mode: str = "check"
) -> str:
    if output_format == "json":
        return json.dumps(_json(run), indent=2) + "\n"
    if output_format == "markdown":
        return render_markdown(run, mode, show_fixes=show_fixes)
    lines = []
    for result in run.files:
        if result.error is not None:
            lines.append(_error_line(result, output_format))
        shown = shown_findings(result, show_fixes=show_fixes or output_format != "text",
                               show_ignored=show_fixes and output_format == "text")
        for finding in shown:
            lines.append(_finding_line(result, finding, output_format))
    return "".join(line + "\n" for line in lines)


def _finding_line(result: FileResult, finding: Finding, output_format: str) -> str:
    if output_format == "github":
        level = "notice" if finding.fixed else "warning"
        title = f"{finding.code} {RULE_BY_CODE[finding.code].name}" if (
            finding.code in RULE_BY_CODE) else finding.code
        return (
            f"::{level} file={_property(result.path)},line={finding.line},"
            f"col={finding.column},title={_property(title)}::{_escape(finding.message)}"
        )
    fixed = " [fixed]" if finding.fixed else ""
    ignored = " [ignored]" if finding.ignored else ""
    return f"{location(result, finding)}: {finding.code}{fixed}{ignored} {finding.message}"


def _error_line(result: FileResult, output_format: str) -> str:
    if output_format == "github":
        return f"::error file={_property(result.path)}::{_escape(result.error or '')}"
    return f"{result.path}: error: {result.error}"


def _escape(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    """A workflow-command property value: ``:`` and ``,`` would end it early."""
    return _escape(text).replace(":", "%3A").replace(",", "%2C")


def _json(run: RunResult) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for result in run.files:
        if result.error is not None:
            rows.append({"path": result.path, "line": 1, "column": 1, "code": "error",
                         "message": result.error, "fixed": False, "cell": None, "url": None,
                         "ignored": False})
        for finding in result.findings:
            rows.append({
                "path": result.path, "line": finding.line, "column": finding.column,
                "code": finding.code, "message": finding.message, "fixed": finding.fixed,
                "cell": finding.cell, "url": _link(finding.code), "ignored": finding.ignored,
            })
    return rows


def _link(code: str) -> str | None:
    rule = RULE_BY_CODE.get(code)
    return rule.anchor if rule is not None else None


# -- markdown: a pull-request comment ------------------------------------------------------------


def render_markdown(run: RunResult, mode: str, *, show_fixes: bool) -> str:
    """A summary table of the files that matter, the findings that need a person and, in
    ``--diff`` mode, the diffs folded away (the whole thing fits a pull-request comment)."""
    out = ["## tnx2nxdi\n", "\n", summary(run, mode) + "\n"]
    listed = [r for r in run.files if r.changed or r.findings or r.error is not None]
    if listed:
        out += ["\n", "| file | result | need attention | migrated |\n", "|---|---|---:|---:|\n"]
        for result in listed:
            attention = len(result.needs_attention)
            fixed = len(result.findings) - attention - len(result.ignored)
            out.append(f"| `{_cell(result.path)}` | {_status(result, mode)} | {attention} "
                       f"| {fixed} |\n")
    attention_rows = [(r, f) for r in run.files for f in r.needs_attention]
    if attention_rows:
        out += ["\n", "### Needs a person\n", "\n"] + _finding_table(attention_rows)
    fixed_rows = [(r, f) for r in run.files for f in r.findings if f.fixed or f.ignored]
    if show_fixes and fixed_rows:
        out += ["\n", "<details><summary>Migrated automatically "
                f"({len(fixed_rows)})</summary>\n", "\n"]
        out += _finding_table(fixed_rows) + ["\n", "</details>\n"]
    if mode == "diff" and run.changed:
        out += ["\n"] + _markdown_diffs(run)
    return "".join(out)


def _status(result: FileResult, mode: str) -> str:
    if result.error is not None:
        return f"error: {_cell(result.error)}"
    if result.changed:
        return "migrated" if mode == "write" else "would be migrated"
    return "unchanged"


def _finding_table(rows: list[tuple[FileResult, Finding]]) -> list[str]:
    out = ["| location | rule | message |\n", "|---|---|---|\n"]
    for result, finding in rows:
        link = _link(finding.code)
        code = f"[{finding.code}]({link})" if link else finding.code
        out.append(f"| `{_cell(location(result, finding))}` | {code} | "
                   f"{_cell(finding.message)} |\n")
    return out


def _markdown_diffs(run: RunResult) -> list[str]:
    out = []
    budget = MARKDOWN_DIFF_BUDGET
    for result in run.changed:
        diff = unified_diff(result)
        if len(diff) > budget:
            out.append(f"\n*Diff of `{_cell(result.path)}` and later files left out (too long "
                       "for a comment); run `tnx2nxdi --diff` locally.*\n")
            break
        budget -= len(diff)
        fence = "`" * max(3, _longest_backtick_run(diff) + 1)
        out += [f"<details><summary>Diff of <code>{_html(result.path)}</code></summary>\n",
                "\n", f"{fence}diff\n", diff, f"{fence}\n", "\n", "</details>\n"]
    return out


def _cell(text: str) -> str:
    """Text safe inside a markdown table cell (one line, no column breaks)."""
    return " ".join(text.split()).replace("|", "\\|")


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _longest_backtick_run(text: str) -> int:
    longest = current = 0
    for char in text:
        current = current + 1 if char == "`" else 0
        longest = max(longest, current)
    return longest


# -- diffs ---------------------------------------------------------------------------------------


_DIFF_STYLES = (("+++", {"bold": True}), ("---", {"bold": True}), ("@@", {"fg": "cyan"}),
                ("+", {"fg": "green"}), ("-", {"fg": "red"}))


def colorize_diff(diff: str) -> str:
    """ANSI colors for a unified diff (click strips them again when color is off)."""
    lines = []
    for line in diff.splitlines(keepends=True):
        body, end = (line[:-1], "\n") if line.endswith("\n") else (line, "")
        style = next((kw for prefix, kw in _DIFF_STYLES if body.startswith(prefix)), None)
        lines.append((click.style(body, **style) if style else body) + end)
    return "".join(lines)


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
    if run.ignored:
        parts.append(f"{_count(run.ignored, 'finding')} ignored (--select/--ignore; "
                     "--show-fixes lists them)")
    if run.errors:
        parts.append(f"{_count(len(run.errors), 'file')} could not be processed")
    if not run.files:
        return f"No files to migrate (no {', '.join(SUFFIXES)} files found)."
    return ", ".join(parts) + "."


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"
