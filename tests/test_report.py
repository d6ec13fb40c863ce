"""Rendering results: text, JSON, GitHub annotations, the markdown PR comment, colored diffs."""

from __future__ import annotations

import json
from typing import get_args

import click

from tnx2nxdi import report
from tnx2nxdi.findings import FileResult, Finding, RunResult
from tnx2nxdi.options import OutputFormat

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
        FileResult("src/broken.py", error="cannot parse: line 2: bad"),
        FileResult("src/skipped.py", skipped=True),
    ])


def test_text_lists_what_needs_a_person_unless_show_fixes() -> None:
    text = report.render_findings(run(), "text", show_fixes=False)
    assert text.splitlines() == [
        "src/serve.py:3:1: TNX303 attention_layout='BSH' has no NxDI equivalent | removed",
        "nb/demo.ipynb[cell 4]:2:5: TNX990 NeuronConfig still comes from transformers_neuronx",
        "src/broken.py: error: cannot parse: line 2: bad",
    ]
    shown = report.render_findings(run(), "text", show_fixes=True)
    assert "src/serve.py:3:1: TNX201 [fixed] LlamaForSampling" in shown


def test_json_rows_carry_location_code_fix_and_docs_link() -> None:
    rows = json.loads(report.render_findings(run(), "json", show_fixes=False))
    dropped = next(row for row in rows if row["code"] == "TNX303")
    assert dropped == {
        "path": "src/serve.py", "line": 3, "column": 1, "code": "TNX303",
        "message": DROPPED.message, "fixed": False, "cell": None,
        "url": "docs/rules.md#tnx303", "ignored": False,
    }
    assert next(row for row in rows if row["code"] == "TNX201")["fixed"] is True
    assert next(row for row in rows if row["code"] == "error")["path"] == "src/broken.py"


def test_github_annotations() -> None:
    lines = report.render_findings(run(), "github", show_fixes=False).splitlines()
    assert lines[0].startswith("::notice file=src/serve.py,line=3,col=1,title=TNX201 model-class::")
    assert lines[1] == (
        "::warning file=src/serve.py,line=3,col=1,title=TNX303 option-dropped::"
        "attention_layout='BSH' has no NxDI equivalent | removed"
    )
    assert "::error file=src/broken.py::cannot parse: line 2: bad" in lines


def test_markdown_summary_table_and_findings() -> None:
    text = report.render_findings(run(), "markdown", show_fixes=False, mode="check")
    assert text.startswith("## tnx2nxdi\n\n1 file would be migrated, ")
    assert "| `src/serve.py` | would be migrated | 1 | 1 |\n" in text
    assert "| `nb/demo.ipynb` | unchanged | 1 | 0 |\n" in text
    assert "| `src/broken.py` | error: cannot parse: line 2: bad | 0 | 0 |\n" in text
    assert "clean.py" not in text and "skipped.py" not in text  # nothing to say about them
    assert (
        "| `src/serve.py:3:1` | [TNX303](docs/rules.md#tnx303) | "
        "attention_layout='BSH' has no NxDI equivalent \\| removed |\n"
    ) in text
    assert "| `nb/demo.ipynb[cell 4]:2:5` | [TNX990](docs/rules.md#tnx990) |" in text
    assert "Migrated automatically" not in text and "```diff" not in text


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
        "1 file could not be processed."
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
