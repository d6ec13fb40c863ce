"""What each mode and verbosity prints, and where: write mode names the files it changed,
``-q`` leaves only errors, ``-v`` adds the settings file and per-file times, ``--check --diff``
is a diff, and ``--check -`` reports on standard output like ``--check FILE``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tnx2nxdi.cli import main

TNX = (
    "from transformers_neuronx import LlamaForSampling\n"
    "model = LlamaForSampling.from_pretrained('/m/llama', tp_degree=8, attention_layout='BSH')\n"
)
BROKEN = "import transformers_neuronx\ndef f(:\n"


def invoke(*args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / "a.py").write_text(TNX)
    (tmp_path / "b.py").write_text(TNX)
    (tmp_path / "plain.py").write_text("x = 1\n")
    return tmp_path


def test_write_mode_names_each_file_it_changed(tree: Path) -> None:
    result = invoke(str(tree))
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[:2] == [f"Migrated {tree / 'a.py'}", f"Migrated {tree / 'b.py'}"]
    assert "plain.py" not in result.stdout
    assert lines[-1].startswith("2 files migrated, 1 left unchanged")


def test_quiet_prints_nothing_but_keeps_the_exit_code(tree: Path) -> None:
    result = invoke("-q", "--check", str(tree))
    assert (result.exit_code, result.stdout, result.stderr) == (1, "", "")
    written = invoke("--quiet", str(tree))
    assert (written.exit_code, written.stdout, written.stderr) == (1, "", "")
    assert "NeuronLlamaForCausalLM" in (tree / "a.py").read_text()


def test_quiet_still_prints_errors_on_stderr(tree: Path) -> None:
    (tree / "broken.py").write_text(BROKEN)
    result = invoke("-q", "--check", str(tree))
    assert result.exit_code == 2 and result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith(f"{tree / 'broken.py'}:2:") and " TNX998 " in line


def test_quiet_diff_still_prints_the_diff(tree: Path) -> None:
    result = invoke("-q", "--diff", str(tree / "a.py"))
    assert result.exit_code == 1 and result.stdout.startswith("--- ") and result.stderr == ""


def test_verbose_adds_the_settings_file_and_each_files_time(tree: Path) -> None:
    (tree / "pyproject.toml").write_text('[tool.tnx2nxdi]\ntarget-version = "2.29"\n')
    result = invoke("-v", "--check", "-j", "1", str(tree))
    assert result.exit_code == 1
    err = result.stderr.splitlines()
    assert err[0] == f"Settings: {tree / 'pyproject.toml'}"
    timed = [line for line in err if line.startswith(str(tree / "a.py"))]
    assert len(timed) == 1 and timed[0].endswith(" s")
    assert f"{tree / 'plain.py'}: skipped (no TNx marker, not parsed)" in err
    assert err[-1].startswith("3 files, ") and err[-1].endswith(" s in migration")
    assert "Would migrate" in result.stdout  # stdout is as without -v


def test_check_and_diff_together_print_the_diff_and_write_nothing(tree: Path) -> None:
    both = invoke("--check", "--diff", str(tree / "a.py"))
    alone = invoke("--diff", str(tree / "a.py"))
    assert both.exit_code == alone.exit_code == 1
    assert both.stdout == alone.stdout and both.stdout.startswith("--- ")
    assert both.stderr == alone.stderr and "TNX304" in both.stderr
    assert (tree / "a.py").read_text() == TNX


def test_check_of_standard_input_reports_on_stdout() -> None:
    result = invoke("--check", "-", input=TNX)
    assert result.exit_code == 1 and result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[0] == "Would migrate <stdin>.py"
    assert lines[1].startswith("<stdin>.py:2:67: TNX304 attention_layout='BSH'")
    assert lines[-1].startswith("1 file would be migrated")
    clean = invoke("--check", "-", input="x = 1\n")
    assert clean.exit_code == 0 and "Would migrate" not in clean.stdout


def test_standard_input_in_write_mode_keeps_stdout_for_the_code() -> None:
    result = invoke("-", input=TNX)
    assert result.exit_code == 1
    assert result.stdout.startswith("import torch\n") and "Migrated" not in result.stdout
    assert "TNX304" in result.stderr


def test_docs_url_must_be_absolute(tree: Path) -> None:
    result = invoke("--check", "--docs-url", "docs/rules.md", str(tree))
    assert result.exit_code == 2 and "absolute http(s) URL" in result.stderr
    (tree / "pyproject.toml").write_text('[tool.tnx2nxdi]\ndocs-url = "rules.md"\n')
    configured = invoke("--check", str(tree))
    assert configured.exit_code == 2 and "docs-url" in configured.stderr


def test_a_real_run_names_what_it_migrated_and_is_quiet_when_asked(tree: Path) -> None:
    command = [sys.executable, "-m", "tnx2nxdi"]
    run = subprocess.run([*command, "a.py", "plain.py"], cwd=tree, capture_output=True,
                         text=True, check=False)
    assert run.returncode == 1 and run.stdout.startswith("Migrated a.py\n")
    quiet = subprocess.run([*command, "-q", "--check", "b.py"], cwd=tree, capture_output=True,
                           text=True, check=False)
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (1, "", "")
