"""Rendering results for people and for CI: findings, diffs and the summary line.

Formats: ``text`` (``path:line:col: TNXnnn message``), ``json`` (one document, described by
``docs/report.schema.json``), ``github`` (workflow annotations), ``markdown`` (a pull-request
comment that always fits GitHub's limit) and ``sarif`` (:mod:`tnx2nxdi.sarif`, for code scanning).
A rule link is written only when ``docs_url`` names where the rules page is published.
"""

from __future__ import annotations

import difflib
import json
from collections import Counter
from collections.abc import Iterator

import click

from tnx2nxdi import __version__
from tnx2nxdi.discovery import SUFFIXES
from tnx2nxdi.findings import FileResult, Finding, RunResult
from tnx2nxdi.rules import RULE_BY_CODE

OUTPUT_FORMATS = ("text", "json", "github", "markdown", "sarif")
#: The version of the JSON document's layout (``docs/report.schema.json``).
JSON_VERSION = 1
#: GitHub refuses pull-request comments longer than 65,536 characters; the report stays under
#: this, which leaves room for what the workflow adds (a marker line).
MARKDOWN_LIMIT = 60_000
#: Embedded diffs stop well before the limit (tables come first).
MARKDOWN_DIFF_BUDGET = 40_000
#: The share of the limit each table may take before its rows are left out.
_TABLE_BUDGETS = {"files": 12_000, "attention": 30_000, "fixed": 8_000}
_FULL_REPORT = ("the whole report is `tnx2nxdi --check --output-format json` (the example "
                "workflow keeps it as the artifact `tnx2nxdi-report`)")


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


def rule_url(code: str, docs_url: str | None) -> str | None:
    rule = RULE_BY_CODE.get(code)
    return rule.url(docs_url) if rule is not None else None


def render_findings(
    run: RunResult, output_format: str, *, show_fixes: bool, mode: str = "check",
    docs_url: str | None = None,
) -> str:
    if output_format == "json":
        return json.dumps(json_report(run, mode, docs_url), indent=2) + "\n"
    if output_format == "sarif":
        from tnx2nxdi import sarif

        return json.dumps(sarif.document(run, show_fixes=show_fixes, docs_url=docs_url),
                          indent=2) + "\n"
    if output_format == "markdown":
        return render_markdown(run, mode, show_fixes=show_fixes, docs_url=docs_url)
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
        return _annotation(level, result, finding)
    fixed = " [fixed]" if finding.fixed else ""
    ignored = " [ignored]" if finding.ignored else ""
    return f"{location(result, finding)}: {finding.code}{fixed}{ignored} {finding.message}"


def _error_line(result: FileResult, output_format: str) -> str:
    located = result.error_finding
    if output_format == "github":
        if located is not None:
            return _annotation("error", result, located)
        return f"::error file={_property(result.path)}::{_escape(result.error or '')}"
    if located is not None:
        return f"{location(result, located)}: {located.code} {located.message}"
    return f"{result.path}: error: {result.error}"


def _annotation(level: str, result: FileResult, finding: Finding) -> str:
    """A workflow command GitHub shows on the file's line. A notebook's line is the line of the
    notebook file holding that cell line; the message says which cell and line it is."""
    rule = RULE_BY_CODE.get(finding.code)
    title = f"{finding.code} {rule.name}" if rule is not None else finding.code
    message = finding.message
    if finding.cell is not None:
        message = f"cell {finding.cell}, line {finding.line}: {message}"
        where = f"line={finding.file_line or 1},col={finding.file_column or 1}"
    else:
        where = f"line={finding.line},col={finding.column}"
        if finding.end_line is not None:
            where += f",endLine={finding.end_line}"
            if finding.end_line == finding.line and finding.end_column is not None:
                where += f",endColumn={finding.end_column}"
    return (f"::{level} file={_property(result.path)},{where},title={_property(title)}::"
            f"{_escape(message)}")


def _escape(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    """A workflow-command property value: ``:`` and ``,`` would end it early."""
    return _escape(text).replace(":", "%3A").replace(",", "%2C")


# -- json: one document ----------------------------------------------------------------------


def json_report(run: RunResult, mode: str, docs_url: str | None = None) -> dict[str, object]:
    """The ``--output-format json`` document (``docs/report.schema.json``): every file with its
    status (and its diff in ``--diff`` mode), every finding, and the rules they name."""
    files: list[dict[str, object]] = []
    findings: list[dict[str, object]] = []
    for result in run.files:
        files.append({
            "path": result.path, "status": file_status(result, mode), "error": result.error,
            "diff": unified_diff(result) if mode == "diff" and result.changed else None,
        })
        extra = (result.error_finding,) if result.error_finding is not None else ()
        findings += [_json_finding(result, finding, docs_url)
                     for finding in (*extra, *result.findings)]
    codes = sorted({str(row["code"]) for row in findings})
    return {
        "version": JSON_VERSION,
        "tool": {"name": "tnx2nxdi", "version": __version__},
        "mode": mode,
        "summary": {
            "files": len(run.files), "changed": len(run.changed),
            "unchanged": len([r for r in run.files if r.error is None and not r.changed]),
            "errors": len(run.errors), "need_attention": run.attention, "ignored": run.ignored,
            "text": summary(run, mode),
        },
        "files": files,
        "findings": findings,
        "rules": {code: _json_rule(code, docs_url) for code in codes if code in RULE_BY_CODE},
    }


def file_status(result: FileResult, mode: str) -> str:
    if result.error is not None:
        return "error"
    if result.changed:
        return "migrated" if mode == "write" else "would-migrate"
    return "skipped" if result.skipped else "unchanged"


def _json_finding(result: FileResult, finding: Finding, docs_url: str | None) -> dict[str, object]:
    rule = RULE_BY_CODE.get(finding.code)
    return {
        "path": result.path, "line": finding.line, "column": finding.column,
        "end_line": finding.end_line, "end_column": finding.end_column,
        "cell": finding.cell, "file_line": finding.file_line, "file_column": finding.file_column,
        "code": finding.code, "name": rule.name if rule is not None else None,
        "message": finding.message, "fixed": finding.fixed, "ignored": finding.ignored,
        "url": rule_url(finding.code, docs_url),
    }


def _json_rule(code: str, docs_url: str | None) -> dict[str, object]:
    rule = RULE_BY_CODE[code]
    return {"name": rule.name, "summary": rule.summary, "fix": rule.fix, "help": rule.help,
            "url": rule.url(docs_url)}


# -- markdown: a pull-request comment ------------------------------------------------------------


def render_markdown(
    run: RunResult, mode: str, *, show_fixes: bool, docs_url: str | None = None
) -> str:
    """A summary by rule and by file, the findings that need a person and, in ``--diff`` mode,
    the diffs folded away. It always fits a pull-request comment (``MARKDOWN_LIMIT``): rows
    and diffs that do not fit are left out, and a line says how many and where to see them."""
    out = ["## tnx2nxdi\n", "\n", summary(run, mode) + "\n"]
    out += _by_rule(run, docs_url)
    listed = [r for r in run.files if r.changed or r.findings or r.error is not None]
    if listed:
        rows = [f"| `{_cell(r.path)}` | {_status(r, mode)} | {len(r.needs_attention)} | "
                f"{len(r.findings) - len(r.needs_attention) - len(r.ignored)} |\n"
                for r in listed]
        out += ["\n", "### By file\n", "\n", "| file | result | need a person | migrated |\n",
                "|---|---|---:|---:|\n"]
        out += _fitting(rows, _TABLE_BUDGETS["files"], "files")
    attention_rows = [(r, f) for r in run.files for f in _errors_and_attention(r)]
    if attention_rows:
        out += ["\n", "### Needs a person\n", "\n"]
        out += _finding_table(attention_rows, _TABLE_BUDGETS["attention"], docs_url)
    fixed_rows = [(r, f) for r in run.files for f in r.findings if f.fixed or f.ignored]
    if show_fixes and fixed_rows:
        out += ["\n", "<details><summary>Migrated automatically "
                f"({len(fixed_rows)})</summary>\n", "\n"]
        out += _finding_table(fixed_rows, _TABLE_BUDGETS["fixed"], docs_url) + [
            "\n", "</details>\n"]
    if mode == "diff" and run.changed:
        room = MARKDOWN_LIMIT - sum(len(part) for part in out) - 400
        out += ["\n"] + _markdown_diffs(run, min(MARKDOWN_DIFF_BUDGET, max(0, room)))
    text = "".join(out)
    if len(text) > MARKDOWN_LIMIT:  # the tables' budgets make this unreachable; never break
        cut = text.rfind("\n", 0, MARKDOWN_LIMIT - 400) + 1
        text = text[:cut] + (f"\n*The rest was left out to fit a pull-request comment; "
                             f"{_FULL_REPORT}.*\n")
    return text


def _errors_and_attention(result: FileResult) -> Iterator[Finding]:
    if result.error_finding is not None:
        yield result.error_finding
    yield from result.needs_attention


def _by_rule(run: RunResult, docs_url: str | None) -> list[str]:
    attention: Counter[str] = Counter()
    fixed: Counter[str] = Counter()
    for result in run.files:
        for finding in _errors_and_attention(result):
            attention[finding.code] += 1
        for finding in result.findings:
            if finding.fixed and not finding.ignored:
                fixed[finding.code] += 1
    codes = sorted(set(attention) | set(fixed), key=lambda c: (-attention[c], -fixed[c], c))
    if not codes:
        return []
    out = ["\n", "### By rule\n", "\n", "| rule | need a person | migrated |\n",
           "|---|---:|---:|\n"]
    for code in codes:
        rule = RULE_BY_CODE.get(code)
        name = f" `{rule.name}`: {_cell(rule.summary)}" if rule is not None else ""
        out.append(f"| {_code_link(code, docs_url)}{name} | {attention[code]} | "
                   f"{fixed[code]} |\n")
    return out


def _fitting(rows: list[str], budget: int, what: str) -> list[str]:
    """As many rows as fit ``budget`` characters, then one line saying what was left out."""
    kept: list[str] = []
    used = 0
    for row in rows:
        if used + len(row) > budget:
            left = len(rows) - len(kept)
            return kept + ["\n", f"*{left} more {what} left out so that this report fits a "
                                 f"pull-request comment; {_FULL_REPORT}.*\n"]
        kept.append(row)
        used += len(row)
    return kept


def _status(result: FileResult, mode: str) -> str:
    if result.error is not None:
        return f"error: {_cell(result.error)}"
    if result.changed:
        return "migrated" if mode == "write" else "would be migrated"
    return "unchanged"


def _code_link(code: str, docs_url: str | None) -> str:
    link = rule_url(code, docs_url)
    return f"[{code}]({link})" if link else code


def _finding_table(
    rows: list[tuple[FileResult, Finding]], budget: int, docs_url: str | None
) -> list[str]:
    lines = [f"| `{_cell(location(result, finding))}` | {_code_link(finding.code, docs_url)} | "
             f"{_cell(finding.message)} |\n" for result, finding in rows]
    return ["| location | rule | message |\n", "|---|---|---|\n"] + _fitting(
        lines, budget, "findings")


def _markdown_diffs(run: RunResult, budget: int) -> list[str]:
    out = []
    for result in run.changed:
        diff = unified_diff(result)
        fence = "`" * max(3, _longest_backtick_run(diff) + 1)
        block = [f"<details><summary>Diff of <code>{_html(result.path)}</code></summary>\n",
                 "\n", f"{fence}diff\n", diff, f"{fence}\n", "\n", "</details>\n"]
        if sum(len(part) for part in block) > budget:
            out.append(f"\n*Diff of `{_cell(result.path)}` and later files left out (too long "
                       "for a comment); run `tnx2nxdi --diff` locally.*\n")
            break
        budget -= sum(len(part) for part in block)
        out += block
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
