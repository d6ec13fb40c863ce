"""Rendering results: text, JSON, GitHub annotations, the markdown PR comment, colored diffs.
(SARIF and the JSON schema: tests/test_machine_reports.py.)"""

from __future__ import annotations

import json
from typing import get_args

import click

from tnx2nxdi import report
from tnx2nxdi.findings import FileResult, Finding, RunResult
from tnx2nxdi.options import OutputFormat

PARSE = Finding("TNX998", "invalid syntax", 2, 7, fixed=False, end_line=2, end_column=9)
DOCS = "https://example.org/tnx2nxdi/docs/rules.md"

DROPPED = Finding("TNX303", "attention_layout='BSH' has no NxDI equivalent | removed", 3, 1,
                  fixed=False)
MIGRATED = Finding("TNX201", "LlamaForSampling.from_pretrained(...) migrated", 3, 1, fixed=True)
CELL = Finding("TNX990", "NeuronConfig still comes from transformers_neuronx", 2, 5,
               fixed=False, cell=4)


def run() -> RunResult:
    return RunResult([
        FileResult("src/serve.py", "a = 1\n", "a = 2\n", (MIGRATED, DROPPED)),
        FileResult("src/clean.py", "x = 1\n", "x = 1\n"),
        FileResult("nb/demo.ipynb", "", "", (CELL,)),
        FileResult("src/broken.py", error="cannot parse: invalid syntax (line 2, column 7)",
                   error_finding=PARSE),
        FileResult("src/unreadable.py", error="binary file (contains NUL bytes)"),
        FileResult("src/skipped.py", skipped=True),
    ])


def test_text_lists_what_needs_a_person_unless_show_fixes() -> None:
    text = report.render_findings(run(), "text", show_fixes=False)
    assert text.splitlines() == [
        "src/serve.py:3:1: TNX303 attention_layout='BSH' has no NxDI equivalent | removed",
        "nb/demo.ipynb[cell 4]:2:5: TNX990 NeuronConfig still comes from transformers_neuronx",
        "src/broken.py:2:7: TNX998 invalid syntax",
        "src/unreadable.py: error: binary file (contains NUL bytes)",
    ]
    shown = report.render_findings(run(), "text", show_fixes=True)
    assert "src/serve.py:3:1: TNX201 [fixed] LlamaForSampling" in shown


def test_json_document_rows_carry_location_code_fix_and_no_link_by_default() -> None:
    document = json.loads(report.render_findings(run(), "json", show_fixes=False))
    rows = document["findings"]
    dropped = next(row for row in rows if row["code"] == "TNX303")
    assert dropped == {
        "path": "src/serve.py", "line": 3, "column": 1, "end_line": None, "end_column": None,
        "cell": None, "file_line": None, "file_column": None, "code": "TNX303",
        "name": "option-dropped", "message": DROPPED.message, "fixed": False, "ignored": False,
        "url": None,
    }
    assert next(row for row in rows if row["code"] == "TNX201")["fixed"] is True
    parse = next(row for row in rows if row["code"] == "TNX998")
    assert (parse["path"], parse["line"], parse["column"]) == ("src/broken.py", 2, 7)
    statuses = {file["path"]: file["status"] for file in document["files"]}
    assert statuses == {"src/serve.py": "would-migrate", "src/clean.py": "unchanged",
                        "nb/demo.ipynb": "unchanged", "src/broken.py": "error",
                        "src/unreadable.py": "error", "src/skipped.py": "skipped"}
    assert document["rules"]["TNX303"]["help"] == report.RULE_BY_CODE["TNX303"].help
    assert document["rules"]["TNX303"]["url"] is None
    assert document["summary"]["errors"] == 2 and document["version"] == 1


def test_json_links_and_diffs_when_asked() -> None:
    document = report.json_report(run(), "diff", DOCS)
    dropped = next(row for row in document["findings"]  # type: ignore[attr-defined]
                   if row["code"] == "TNX303")
    assert dropped["url"] == DOCS + "#tnx303"
    serve = document["files"][0]  # type: ignore[index]
    assert serve["diff"] == "--- src/serve.py\n+++ src/serve.py\n@@ -1 +1 @@\n-a = 1\n+a = 2\n"


def test_github_annotations() -> None:
    lines = report.render_findings(run(), "github", show_fixes=False).splitlines()
    assert lines[0].startswith("::notice file=src/serve.py,line=3,col=1,title=TNX201 model-class::")
    assert lines[1] == (
        "::warning file=src/serve.py,line=3,col=1,title=TNX303 option-dropped::"
        "attention_layout='BSH' has no NxDI equivalent | removed"
    )
    assert ("::error file=src/broken.py,line=2,col=7,endLine=2,endColumn=9,"
            "title=TNX998 parse-error::invalid syntax") in lines
    assert "::error file=src/unreadable.py::binary file (contains NUL bytes)" in lines


def test_github_annotation_of_a_notebook_is_on_the_file_line_and_names_the_cell() -> None:
    cell = Finding("TNX303", "dropped", 2, 5, fixed=False, cell=4, end_line=2, end_column=9,
                   file_line=111, file_column=10)
    [line] = report.render_findings(RunResult([FileResult("nb.ipynb", findings=(cell,))]),
                                    "github", show_fixes=False).splitlines()
    assert line == ("::warning file=nb.ipynb,line=111,col=10,title=TNX303 option-dropped::"
                    "cell 4, line 2: dropped")


def test_markdown_summary_by_rule_and_file_and_findings() -> None:
    text = report.render_findings(run(), "markdown", show_fixes=False, mode="check")
    assert text.startswith("## tnx2nxdi\n\n1 file would be migrated, ")
    assert "### By rule\n" in text
    assert ("| TNX303 `option-dropped`: A TNx option has no NxDI equivalent and was removed "
            "| 1 | 0 |\n") in text
    assert "| TNX201 `model-class`: " in text and "| 0 | 1 |\n" in text
    assert "| `src/serve.py` | would be migrated | 1 | 1 |\n" in text
    assert "| `nb/demo.ipynb` | unchanged | 1 | 0 |\n" in text
    assert ("| `src/broken.py` | error: cannot parse: invalid syntax (line 2, column 7) | 0 | 0 |\n"
            in text)
    assert "clean.py" not in text and "skipped.py" not in text  # nothing to say about them
    assert (
        "| `src/serve.py:3:1` | TNX303 | "
        "attention_layout='BSH' has no NxDI equivalent \\| removed |\n"
    ) in text
    assert "| `src/broken.py:2:7` | TNX998 | invalid syntax |\n" in text
    assert "| `nb/demo.ipynb[cell 4]:2:5` | TNX990 |" in text
    assert "](" not in text, "no link without docs-url"
    assert "Migrated automatically" not in text and "```diff" not in text


def test_markdown_links_only_to_the_published_page() -> None:
    text = report.render_markdown(run(), "check", show_fixes=False, docs_url=DOCS)
    assert f"| `src/serve.py:3:1` | [TNX303]({DOCS}#tnx303) |" in text


def test_markdown_show_fixes_and_diffs_in_diff_mode() -> None:
    text = report.render_findings(run(), "markdown", show_fixes=True, mode="diff")
    assert "<details><summary>Migrated automatically (1)</summary>" in text
    assert "<details><summary>Diff of <code>src/serve.py</code></summary>" in text
    assert "```diff\n--- src/serve.py\n+++ src/serve.py\n@@ -1 +1 @@\n-a = 1\n+a = 2\n```\n" in text


def test_markdown_diff_fences_survive_backticks_and_the_budget() -> None:
    ticks = FileResult("t.py", "s = '```'\n", "s = '````'\n")
    text = report.render_markdown(RunResult([ticks]), "diff", show_fixes=False)
    assert "`````diff\n" in text and text.rstrip().endswith("</details>")
    huge = FileResult("big.py", "x = 1\n", "x = 2\n" + "y = 3\n" * report.MARKDOWN_DIFF_BUDGET)
    text = report.render_markdown(RunResult([huge]), "diff", show_fixes=False)
    assert "Diff of `big.py` and later files left out" in text
    assert len(text) < report.MARKDOWN_DIFF_BUDGET


def test_markdown_of_a_huge_run_fits_a_comment_and_says_what_it_left_out() -> None:
    findings = tuple(Finding("TNX303", f"option_{i}='x' has no NxDI equivalent; removed", i, 5,
                             fixed=False) for i in range(1, 60))
    fixed = tuple(Finding("TNX201", "LlamaForSampling.from_pretrained(...) migrated", i, 9,
                          fixed=True) for i in range(1, 30))
    files = [FileResult(f"services/team_{n}/inference/serve_{n}.py", "a\n", "b\n" * 300,
                        (*findings, *fixed)) for n in range(400)]
    text = report.render_markdown(RunResult(files), "diff", show_fixes=True)
    assert len(text) <= report.MARKDOWN_LIMIT < 65_536
    assert "was removed | 23600 | 0 |\n" in text
    assert "NxDI application class | 0 | 11600 |\n" in text
    assert "more files left out so that this report fits a pull-request comment" in text
    assert "more findings left out so that this report fits a pull-request comment" in text
    assert "`tnx2nxdi --check --output-format json`" in text
    assert text.count("<details>") == text.count("</details>")


def test_colorized_diff_and_stripping() -> None:
    diff = "--- a.py\n+++ a.py\n@@ -1 +1 @@\n-a = 1\n+a = 2\n same\n"
    colored = report.colorize_diff(diff)
    assert click.style("-a = 1", fg="red") + "\n" in colored
    assert click.style("+a = 2", fg="green") + "\n" in colored
    assert click.style("@@ -1 +1 @@", fg="cyan") in colored
    assert click.unstyle(colored) == diff


def test_summary_line() -> None:
    assert report.summary(run(), "write") == (
        "1 file migrated, 3 left unchanged, 2 findings need attention, "
        "2 files could not be processed."
    )
    assert report.summary(RunResult(), "check").startswith("No files to migrate")


def test_github_properties_are_escaped() -> None:
    odd = FileResult("dir,a:b/x.py", findings=(DROPPED,))
    line = report.render_findings(RunResult([odd]), "github", show_fixes=False).splitlines()[0]
    assert line.startswith("::warning file=dir%2Ca%3Ab/x.py,line=3,col=1,")


def test_summary_names_the_suffixes_it_looked_for() -> None:
    assert report.summary(RunResult(), "write") == (
        "No files to migrate (no .py, .ipynb, .sh files found)."
    )


def test_the_output_format_type_lists_the_formats() -> None:
    assert get_args(OutputFormat) == report.OUTPUT_FORMATS
