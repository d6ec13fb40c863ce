"""Every fixture pair of every file kind, through the real pipeline (``runner.process_bytes``):
``<case>.in.<ext>`` becomes ``<case>.out.<ext>`` byte for byte with the findings of
``<case>.findings.txt``; ``<case>.noop.<ext>`` stays byte-identical and reports no fix. Outputs
are valid for their kind (Python compiles, shell passes ``bash -n``, a notebook passes nbformat
and differs only in code-cell sources) and are fixed points. ``pytest --update-fixtures``
rewrites the expectations (then read every changed file)."""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nbformat
import pytest

from tests.helpers import (
    FIXTURE_SUFFIXES,
    FIXTURES,
    fixture_files,
    fixture_options,
    fixture_partner,
    process_fixture,
    render,
)

PAIRS = fixture_files("in")
NOOPS = fixture_files("noop")
BASH = shutil.which("bash")


def _id(path: Path) -> str:
    return f"{path.parent.name}/{path.name.split('.')[0]}"


def _options(path: Path) -> dict[str, object]:
    return dict(fixture_options(path))


def _python_is_valid(old: bytes, new: bytes) -> None:
    text = new.decode("utf-8")
    ast.parse(text)
    compile(text, "<expected>", "exec", dont_inherit=True)


def _shell_is_valid(old: bytes, new: bytes) -> None:
    if BASH is None:
        pytest.skip("bash is not installed")
    done = subprocess.run([BASH, "-n"], input=new, capture_output=True, check=False)
    assert done.returncode == 0, done.stderr.decode()


def _without_sources(data: bytes) -> dict[str, Any]:
    notebook: dict[str, Any] = json.loads(data)
    for cell in notebook["cells"]:
        cell["source"] = None
    return notebook


def _notebook_is_valid(old: bytes, new: bytes) -> None:
    """Still a valid notebook, and nothing but code-cell sources changed."""
    nbformat.validate(json.loads(new))
    assert _without_sources(new) == _without_sources(old)
    for before, after in zip(json.loads(old)["cells"], json.loads(new)["cells"], strict=True):
        if before["cell_type"] != "code":
            assert after["source"] == before["source"]


#: What a migrated file of each kind must still be.
VALID: dict[str, Callable[[bytes, bytes], None]] = {
    ".py": _python_is_valid,
    ".sh": _shell_is_valid,
    ".ipynb": _notebook_is_valid,
}


@pytest.mark.parametrize("source", PAIRS, ids=_id)
def test_fixture_pair(source: Path, update_fixtures: bool) -> None:
    expected, findings_file = fixture_partner(source, "out"), fixture_partner(source, "findings")
    data = source.read_bytes()
    result, new_data = process_fixture(source)
    if update_fixtures:
        expected.write_bytes(new_data)
        findings_file.write_text(render(result.findings), encoding="utf-8")
    assert new_data == expected.read_bytes()
    assert render(result.findings) == findings_file.read_text(encoding="utf-8")
    assert new_data != data, "a pair must change something; use .noop.<ext> otherwise"
    assert result.changed
    VALID[source.suffix](data, new_data)
    # A fixed point: the second run writes nothing and finds only what still needs a person.
    again, again_data = process_fixture(source, new_data)
    assert again_data == new_data, "a second run changed the output"
    assert [f for f in again.findings if f.fixed] == []


@pytest.mark.parametrize("source", NOOPS, ids=_id)
def test_noop_fixture(source: Path) -> None:
    data = source.read_bytes()
    result, new_data = process_fixture(source)
    assert new_data == data
    assert not result.changed
    assert not [f for f in result.findings if f.fixed], "a no-op fixture cannot report fixes"
    if source.suffix == ".sh":
        # A script that does not start vLLM on Neuron is not touched, nor reported on.
        assert result.findings == ()


@pytest.mark.parametrize("suffix", FIXTURE_SUFFIXES)
def test_there_are_fixtures_of_every_kind(suffix: str) -> None:
    pairs = [path for path in PAIRS if path.suffix == suffix]
    noops = [path for path in NOOPS if path.suffix == suffix]
    assert len(pairs) >= 3 and len(noops) >= 2, suffix


def test_every_pair_is_complete() -> None:
    """No stray expectations: each ``.out.<ext>`` and ``.findings.txt`` has its ``.in.<ext>``."""
    cases = {(path.parent, path.name.split(".")[0]) for path in PAIRS}
    for path in fixture_files("out"):
        assert (path.parent, path.name.split(".")[0]) in cases, path
    for path in sorted(FIXTURES.glob("*/*.findings.txt")):
        assert (path.parent, path.name.split(".")[0]) in cases, path
