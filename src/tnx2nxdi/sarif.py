"""SARIF 2.1.0 (``--output-format sarif``): one run of one tool, the subset GitHub code scanning
reads.

* One reporting descriptor per rule that has results: ``shortDescription`` is the rule's
  summary, ``fullDescription`` its description, ``help`` its full help (``--explain``), and
  ``helpUri`` only when ``docs-url`` names the published rules page.
* One result per finding shown (what needs a person; what was migrated too with
  ``--show-fixes``, as ``note``), and one ``error`` result per TNX998 parse error. Paths are
  URIs relative to the current directory (``%SRCROOT%``), so run it from the repository root.
* A notebook finding's region is the line of the notebook file that holds the cell's line; the
  message starts with the cell and its line, and ``properties`` carry both.
* Files that could not be read or processed, and results left out past GitHub's limit of
  25,000 per run, are tool execution notifications.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import quote

from tnx2nxdi import __version__
from tnx2nxdi.findings import FileResult, Finding, RunResult
from tnx2nxdi.rules import ERROR_CODES, RULE_BY_CODE

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
VERSION = "2.1.0"
#: GitHub code scanning takes at most this many results per run.
MAX_RESULTS = 25_000
_LEVEL = {True: "note", False: "warning"}


def document(run: RunResult, *, show_fixes: bool, docs_url: str | None = None) -> dict[str, object]:
    results: list[dict[str, object]] = []
    notifications: list[dict[str, object]] = []
    rule_index: dict[str, int] = {}
    for result in run.files:
        if result.error_finding is not None:
            results.append(_result(result, result.error_finding, "error", rule_index))
        elif result.error is not None:
            notifications.append(_notification("error", result.error, result.path))
        for finding in result.findings:
            if show_fixes or not (finding.fixed or finding.ignored):  # what text shows
                results.append(_result(result, finding, _LEVEL[finding.fixed], rule_index))
    if len(results) > MAX_RESULTS:
        notifications.append(_notification(
            "warning", f"{len(results) - MAX_RESULTS} results left out: GitHub code scanning "
            f"takes at most {MAX_RESULTS} per run (run tnx2nxdi --check for all of them)"))
        results = results[:MAX_RESULTS]
    driver: dict[str, object] = {
        "name": "tnx2nxdi", "version": __version__, "semanticVersion": __version__,
        "rules": [_rule(code, docs_url) for code in rule_index],
    }
    if docs_url:
        driver["informationUri"] = docs_url
    return {
        "$schema": SCHEMA,
        "version": VERSION,
        "runs": [{
            "tool": {"driver": driver},
            "originalUriBaseIds": {"%SRCROOT%": {"uri": Path.cwd().as_uri() + "/"}},
            "columnKind": "unicodeCodePoints",
            "invocations": [{
                "executionSuccessful": not run.errors,
                "toolExecutionNotifications": notifications,
            }],
            "results": results,
        }],
    }


def _rule(code: str, docs_url: str | None) -> dict[str, object]:
    rule = RULE_BY_CODE.get(code)
    if rule is None:  # a code outside the registry (a bug elsewhere): still a valid descriptor
        return {"id": code}
    level = "error" if code in ERROR_CODES else "note" if rule.fix == "fix" else "warning"
    descriptor: dict[str, object] = {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": rule.description},
        "help": {"text": rule.help},
        "defaultConfiguration": {"level": level},
        "properties": {"tags": ["migration", "transformers-neuronx"], "fix": rule.fix},
    }
    url = rule.url(docs_url)
    if url:
        descriptor["helpUri"] = url
    return descriptor


def _result(
    result: FileResult, finding: Finding, level: str, rule_index: dict[str, int]
) -> dict[str, object]:
    index = rule_index.setdefault(finding.code, len(rule_index))
    message = finding.message
    properties: dict[str, object] = {"fixed": finding.fixed}
    if finding.cell is not None:
        message = f"cell {finding.cell}, line {finding.line}: {message}"
        region: dict[str, int] = {"startLine": finding.file_line or 1,
                                  "startColumn": finding.file_column or 1}
        properties.update(cell=finding.cell, cellLine=finding.line, cellColumn=finding.column)
    else:
        region = {"startLine": finding.line, "startColumn": finding.column}
        if finding.end_line is not None and finding.end_column is not None:
            region.update(endLine=finding.end_line, endColumn=finding.end_column)
    out: dict[str, object] = {
        "ruleId": finding.code,
        "ruleIndex": index,
        "level": level,
        "message": {"text": message},
        "locations": [{"physicalLocation": {
            "artifactLocation": _artifact(result.path), "region": region,
        }}],
        "properties": properties,
    }
    if finding.ignored:
        out["suppressions"] = [{"kind": "external",
                                "justification": "deselected with --select/--ignore"}]
    return out


def _notification(level: str, text: str, path: str | None = None) -> dict[str, object]:
    note: dict[str, object] = {"level": level, "message": {"text": text}}
    if path is not None:
        note["locations"] = [{"physicalLocation": {"artifactLocation": _artifact(path)}}]
    return note


def _artifact(path: str) -> dict[str, str]:
    """A relative URI under ``%SRCROOT%`` (the current directory), or a ``file:`` URI."""
    absolute = os.path.abspath(path)
    try:
        relative = os.path.relpath(absolute)
    except ValueError:  # another drive (Windows)
        relative = ""
    if relative and not relative.startswith(".."):
        return {"uri": quote(Path(relative).as_posix()), "uriBaseId": "%SRCROOT%"}
    return {"uri": Path(absolute).as_uri()}
