"""Notebooks (docs/notebooks.md): code cells migrate as one program, each cell keeps its own
text, IPython lines survive untouched, and the written file differs from the original only in
the ``source`` of changed cells.

The fixture pairs in ``fixtures/notebooks/`` run with every other kind's in
``tests/test_fixtures.py``.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.execution import compare, requested, run_pair
from tests.helpers import FIXTURES
from tests.test_execution import expect_known_bug, known_bug_param
from tests.test_precommit import _git, hook_repo, try_repo  # noqa: F401 (hook_repo: a fixture)
from tnx2nxdi.cli import main
from tnx2nxdi.findings import FileResult
from tnx2nxdi.kinds.notebook import _Cell, _mask, code_cell_sources
from tnx2nxdi.options import Options
from tnx2nxdi.runner import process_bytes

NOTEBOOKS = FIXTURES / "notebooks"
#: Pairs whose code cells run against the fakes (the others still need a person).
EXECUTABLE = ("llama_sampling", "import_after_use", "escaped_string_sources", "comments_kept",
              "install_lines_and_pins")


def migrate_bytes(data: bytes, name: str = "notebook.ipynb", **options: Any) -> FileResult:
    result, new_data = process_bytes(data, Options(**options), name)
    assert result.error is None, result.error
    assert (new_data == data) == (not result.changed)
    assert result.migrated is not None or result.skipped
    return result


def _written(data: bytes, **options: Any) -> bytes:
    result, new_data = process_bytes(data, Options(**options), "notebook.ipynb")
    assert result.error is None, result.error
    return new_data


def _without_sources(text: str) -> dict[str, Any]:
    notebook: dict[str, Any] = json.loads(text)
    for cell in notebook["cells"]:
        cell["source"] = None
    return notebook


# -- layout -------------------------------------------------------------------------------------


def test_jupyter_layout_is_kept_exactly() -> None:
    """Jupyter writes indent 1, sorted keys, raw non-ASCII and a final newline; so does the tool
    for a notebook in that layout: re-serialising the output reproduces it byte for byte."""
    data = (NOTEBOOKS / "llama_sampling.in.ipynb").read_bytes()
    text = _written(data).decode("utf-8")
    assert json.dumps(json.loads(text), indent=1, sort_keys=True, ensure_ascii=False) + "\n" == text
    assert "café" in text and "—" in text


def test_only_changed_source_lines_show_in_a_text_diff() -> None:
    import difflib

    data = (NOTEBOOKS / "llama_sampling.in.ipynb").read_bytes()
    old, new = data.decode().splitlines(), _written(data).decode().splitlines()
    changed = [line for line in difflib.unified_diff(old, new, lineterm="", n=0)
               if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    assert changed
    # Every changed line is a line of a source list ("    \"...\"," at the source indent).
    assert all(line[1:].startswith('    "') or line[1:].strip() == '"source": []'
               for line in changed), changed


# -- execution ----------------------------------------------------------------------------------


def _program(data: bytes) -> str:
    """The code cells as one script, IPython lines replaced by ``pass`` (the fakes cannot run
    a shell), which is how a kernel would run them one after the other."""
    parts = []
    counter = iter(range(1, 1000))
    for number, text in code_cell_sources(data):
        cell = _Cell(number, number, text)
        assert _mask(cell, counter), f"cell {number} is not Python"
        code = re.sub(r"__tnx2nxdi_ipython_\d+__", "pass", cell.masked)
        parts.append(code.rstrip("\n") + "\n")
    return "".join(parts)


@pytest.mark.parametrize("case", [known_bug_param(f"notebooks/{c}", c) for c in EXECUTABLE])
def test_migrated_cells_request_what_the_original_requested(case: str, tmp_path: Path) -> None:
    original = (NOTEBOOKS / f"{case}.in.ipynb").read_bytes()
    migrated = (NOTEBOOKS / f"{case}.out.ipynb").read_bytes()
    assert b"transformers_neuronx" not in b"".join(
        text.encode() for _, text in code_cell_sources(migrated))
    with expect_known_bug(f"notebooks/{case}"):
        tnx, nxdi = run_pair(_program(original), _program(migrated), tmp_path=tmp_path)
        assert requested(tnx), "the original asked the runtime for nothing"
        assert compare(tnx, nxdi) == []


# -- the program: cells, magics, findings -------------------------------------------------------


def _notebook(*sources: str | list[str], markdown: str = "# Title",
              metadata: dict[str, Any] | None = None) -> bytes:
    cells: list[dict[str, Any]] = [
        {"cell_type": "markdown", "id": "m0", "metadata": {}, "source": markdown}]
    for index, source in enumerate(sources):
        cells.append({"cell_type": "code", "execution_count": None, "id": f"c{index}",
                      "metadata": {}, "outputs": [], "source": source})
    notebook = {"cells": cells, "metadata": metadata or {}, "nbformat": 4, "nbformat_minor": 5}
    return (json.dumps(notebook, indent=1, sort_keys=True, ensure_ascii=False) + "\n").encode()


IMPORT = "from transformers_neuronx import LlamaForSampling\n"
BUILD = ('model = LlamaForSampling.from_pretrained("/models/llama", tp_degree=8, amp="bf16")\n'
         "model.to_neuron()\n")


def _cells(data: bytes) -> list[str]:
    return [text for _, text in code_cell_sources(data)]


def test_imports_are_added_to_the_cell_of_the_first_tnx_import() -> None:
    data = _notebook("import torch\n", IMPORT, "x = 1\n", BUILD)
    cells = _cells(_written(data))
    assert cells[0] == "import torch\n"
    assert "from neuronx_distributed_inference.models.llama.modeling_llama import" in cells[1]
    assert "transformers_neuronx" not in "".join(cells)
    assert cells[2] == "x = 1\n"
    assert cells[3].startswith("neuron_config = NeuronConfig(")


def test_tnx_imports_in_two_cells_still_run_in_order(tmp_path: Path) -> None:
    """NxDI imports replace the TNx import they stand for, in its cell; the config cell's
    NeuronConfig moves to the model cell, so every name is imported before it is used."""
    data = _notebook(
        "import torch\nfrom transformers_neuronx import NeuronConfig\n",
        "neuron_config = NeuronConfig(fuse_qkv=True)\n",
        "from transformers_neuronx.llama.model import LlamaForSampling\n",
        'model = LlamaForSampling.from_pretrained("/m/llama", neuron_config=neuron_config)\n'
        "model.to_neuron()\nout = model.sample(torch.tensor([[1, 2]]), sequence_length=32)\n",
    )
    new_data = _written(data)
    cells = _cells(new_data)
    assert cells[0] == "import torch\n" and cells[1] == ""
    assert cells[2].startswith("from neuronx_distributed_inference.models.config import")
    tnx, nxdi = run_pair(_program(data), _program(new_data), tmp_path=tmp_path)
    assert requested(tnx) and compare(tnx, nxdi) == []


@pytest.mark.parametrize("line", [
    "%pip install -U sentencepiece",
    "!neuron-ls",
    "%env NEURON_CC_FLAGS=-O1",
    "files = !ls /models",
    "AutoTokenizer?",
    "??torch.float16",
    "%time x = 1",
    "!pip install a \\\n    b",
])
def test_ipython_lines_are_kept_as_they_are(line: str) -> None:
    data = _notebook(IMPORT + "import torch\n", line + "\n" + BUILD, line)
    cells = _cells(_written(data))
    assert cells[1].startswith(line + "\n")
    assert cells[2] == line
    assert "NeuronLlamaForCausalLM(" in cells[1]


@pytest.mark.parametrize(("line", "message"), [
    ("!python -m transformers_neuronx.gpt_demo", "refers to TNx (transformers_neuronx)"),
    ("LlamaForSampling??", "refers to TNx (LlamaForSampling)"),
])
def test_ipython_lines_naming_tnx_get_a_marker_once(line: str, message: str) -> None:
    data = _notebook(IMPORT + "import torch\n", "x = 1\n" + line + "\n" + BUILD)
    result = migrate_bytes(data)
    (finding,) = [f for f in result.findings if f.code == "TNX102"]
    assert (finding.cell, finding.line, finding.fixed) == (2, 2, False)
    assert message in finding.message
    new_data = _written(data)
    marker = f"# TODO(tnx2nxdi): TNX102 {finding.message}"
    indent = line[: len(line) - len(line.lstrip())]
    assert _cells(new_data)[1].startswith(f"x = 1\n{indent}{marker}\n{line}\n")
    assert _written(new_data) == new_data
    again = migrate_bytes(new_data)
    assert [(f.code, f.cell, f.line) for f in again.findings] == [("TNX102", 2, 2)]
    assert _written(data, ignore=frozenset({"TNX102"})).count(b"TNX102") == 0


#: A model the tool leaves on TNx (TNX901) for a person: the notebook still imports TNx.
DYNAMIC = 'model = LlamaForSampling.from_pretrained("/models/llama", **options)\n'


def test_the_tnx_install_line_installs_nxdi_once_the_notebook_no_longer_uses_tnx() -> None:
    line = "%pip install -U transformers-neuronx \\\n    sentencepiece"
    data = _notebook(IMPORT + "import torch\n", "x = 1\n" + line + "\n" + BUILD)
    result = migrate_bytes(data)
    (finding,) = [f for f in result.findings if f.code == "TNX102"]
    assert (finding.cell, finding.line, finding.fixed) == (2, 2, True)
    new_data = _written(data)
    assert _cells(new_data)[1].startswith(
        "x = 1\n%pip install -U neuronx-distributed-inference \\\n    sentencepiece\n")
    assert _written(new_data) == new_data
    assert [f for f in migrate_bytes(new_data).findings if f.code == "TNX102"] == []


def test_the_tnx_install_line_is_marked_while_the_notebook_still_uses_tnx() -> None:
    line = "!pip install transformers-neuronx==0.12.313"
    data = _notebook(IMPORT, line + "\n" + DYNAMIC)
    result = migrate_bytes(data)
    (finding,) = [f for f in result.findings if f.code == "TNX102"]
    assert not finding.fixed
    assert "pip install --upgrade neuronx-cc==2.* neuronx-distributed-inference" in (
        finding.message)
    assert "still uses TNx" in finding.message
    cell = _cells(_written(data))[1]
    assert cell.startswith(f"# TODO(tnx2nxdi): TNX102 {finding.message}\n{line}\n")


def test_a_notebook_nxdi_cannot_run_keeps_its_install_line_without_a_marker() -> None:
    gptj = "from transformers_neuronx.gptj.model import GPTJForSampling\n"
    build = 'model = GPTJForSampling.from_pretrained("./gpt-j-split", tp_degree=8)\n'
    data = _notebook("!pip install transformers-neuronx transformers==4.36.2\n", gptj + build)
    result = migrate_bytes(data)
    assert [f.code for f in result.findings] == ["TNX203"]
    assert _cells(_written(data))[0] == "!pip install transformers-neuronx transformers==4.36.2\n"


@pytest.mark.parametrize(("line", "target", "flagged"), [
    ("!pip install transformers==4.40.0 tokenizers==0.19.1", "2.29", True),
    ("%pip install 'transformers<4.48' sentencepiece", "2.24", True),
    ("%pip install 'transformers<4.48' sentencepiece", "2.21", False),
    ("!pip install transformers>=4.43.3 # need RoPE scaling", "2.29", False),
    ("!pip install -U transformers~=4.57.0", "2.29", False),
])
def test_transformers_pins_nxdi_cannot_run_with_are_marked(
    line: str, target: str, flagged: bool
) -> None:
    data = _notebook(line + "\n", IMPORT + "import torch\n" + BUILD)
    pins = [f for f in migrate_bytes(data, target_version=target).findings
            if f.code == "TNX103"]
    assert len(pins) == int(flagged)
    if flagged:
        pin = {"2.29": "4.57", "2.24": "4.51"}[target]
        assert f"requires transformers=={pin}.*" in pins[0].message
        assert not pins[0].fixed


def test_indented_escape_and_cell_magic() -> None:
    cell = "%%time\nif True:\n    !neuron-top\n" + BUILD
    cells = _cells(_written(_notebook(IMPORT + "import torch\n", cell)))
    assert cells[1].startswith("%%time\nif True:\n    !neuron-top\nneuron_config = NeuronConfig(")


def test_lines_that_only_look_like_ipython_are_python() -> None:
    """A ``%`` continuing an expression, or ``!`` inside a triple-quoted string, is Python."""
    cell = _Cell(1, 1, 'y = (10\n     % 3)\ntext = """\n!not a shell escape\n"""\n!ls\n')
    assert _mask(cell, iter(range(1, 10)))
    assert cell.masked == 'y = (10\n     % 3)\ntext = """\n!not a shell escape\n"""\n' \
        "__tnx2nxdi_ipython_1__\n"


def test_line_numbers_are_pythons_even_with_form_feeds() -> None:
    cell = _Cell(1, 1, "x = 1  # \x0c!not a new line\n!ls\ny = '\u2028'\n")
    assert _mask(cell, iter(range(1, 10)))
    assert cell.masked == "x = 1  # \x0c!not a new line\n__tnx2nxdi_ipython_1__\ny = '\u2028'\n"
    assert cell.ipython == [(1, 2, "!ls\n")]


def test_cells_with_a_non_python_cell_magic_are_left_out() -> None:
    bash = "%%bash\npython -c 'from transformers_neuronx import LlamaForSampling'\n"
    data = _notebook(IMPORT + "import torch\n", BUILD, bash)
    cells = _cells(_written(data))
    assert cells[2] == bash
    assert "NeuronLlamaForCausalLM(" in cells[1]


def test_findings_carry_the_cell_and_the_line_in_it() -> None:
    data = _notebook("import torch\n", IMPORT, "x = 1\n\n" + BUILD + "model.reset()\n")
    result = migrate_bytes(data)
    by_code = {finding.code: finding for finding in result.findings}
    assert (by_code["TNX101"].cell, by_code["TNX101"].line) == (2, 1)
    assert (by_code["TNX201"].cell, by_code["TNX201"].line) == (3, 3)
    assert (by_code["TNX401"].cell, by_code["TNX401"].line) == (3, 4)


def test_markers_go_into_the_cell_and_are_reported_again() -> None:
    data = _notebook(IMPORT + "import torch\n", BUILD, "model.enable_speculative_decoder(4)")
    new_data = _written(data)
    cells = _cells(new_data)
    assert cells[2].startswith("# TODO(tnx2nxdi): TNX902")
    assert cells[2].endswith("model.enable_speculative_decoder(4)")
    assert _written(new_data) == new_data
    again = migrate_bytes(new_data)
    assert [(f.code, f.cell, f.line) for f in again.findings] == [("TNX902", 3, 1)]


def test_a_notebook_for_another_kernel_is_left_alone() -> None:
    data = _notebook(IMPORT, BUILD, metadata={"kernelspec": {
        "display_name": "R", "language": "R", "name": "ir"}})
    result = migrate_bytes(data)
    assert not result.changed and result.findings == ()


def test_source_as_one_string_stays_a_string() -> None:
    data = _notebook(IMPORT + "import torch\n" + BUILD.rstrip("\n"))
    cell = json.loads(_written(data))["cells"][1]
    assert isinstance(cell["source"], str)
    assert "NeuronLlamaForCausalLM(" in cell["source"] and not cell["source"].endswith("\n")


def test_an_unparsable_cell_is_an_error_naming_the_cell() -> None:
    data = _notebook(IMPORT, "import torch\n", BUILD + "model.sample(ids,\n")
    result, new_data = process_bytes(data, Options(), "n.ipynb")
    assert new_data == data
    assert result.error is not None and result.error.startswith("cannot parse: cell 3, line ")


def test_top_level_await_is_an_error_naming_the_cell() -> None:
    data = _notebook(IMPORT, "import asyncio\nawait asyncio.sleep(0)\n")
    result, new_data = process_bytes(data, Options(), "n.ipynb")
    assert new_data == data
    assert result.error == "cannot migrate: cell 2, line 2: 'await' outside function"


def test_crlf_notebook_keeps_its_newlines() -> None:
    data = _notebook(IMPORT + "import torch\n", BUILD).replace(b"\n", b"\r\n")
    new_data = _written(data)
    assert b"NeuronLlamaForCausalLM(" in new_data
    assert new_data.count(b"\n") == new_data.count(b"\r\n")
    assert _written(new_data) == new_data


def test_crlf_in_cell_sources_is_kept() -> None:
    source = (IMPORT + "import torch\n%pip install -U transformers-neuronx\n" + BUILD)
    data = _notebook(source.replace("\n", "\r\n").rstrip("\r\n"))
    new_cell = _cells(_written(data))[0]
    assert "NeuronLlamaForCausalLM(" in new_cell
    assert new_cell.count("\n") == new_cell.count("\r\n") and not new_cell.endswith("\n")
    assert "\r\n%pip install -U neuronx-distributed-inference\r\n" in new_cell


def test_stdin_with_a_notebook_name(tmp_path: Path) -> None:
    data = _notebook(IMPORT + "import torch\n", BUILD)
    outcome = CliRunner().invoke(main, ["-", "--stdin-filename", "nb.ipynb"], input=data)
    assert outcome.exit_code == 1
    assert b"NeuronLlamaForCausalLM(" in outcome.stdout_bytes
    nbformat.validate(json.loads(outcome.stdout_bytes))


# -- the CLI ------------------------------------------------------------------------------------


def test_diff_is_per_cell(tmp_path: Path) -> None:
    path = tmp_path / "demo.ipynb"
    path.write_bytes(_notebook("import torch\n", IMPORT, "x = 1\n", BUILD))
    outcome = CliRunner().invoke(main, ["--diff", str(path)])
    assert outcome.exit_code == 1, outcome.output
    assert f"--- {path}:cell 2\n+++ {path}:cell 2\n" in outcome.output
    assert f"{path}:cell 4" in outcome.output
    assert f"{path}:cell 1" not in outcome.output and f"{path}:cell 3" not in outcome.output


def test_directories_are_walked_for_notebooks_and_invalid_ones_fail_alone(tmp_path: Path) -> None:
    good = tmp_path / "a_good.ipynb"
    good.write_bytes(_notebook("import torch\n", IMPORT, BUILD))
    broken = tmp_path / "b_broken.ipynb"
    broken_data = _notebook(IMPORT).replace(b'"nbformat": 4', b'"nbformat": "four"')
    broken.write_bytes(broken_data)
    plain = tmp_path / "c_no_tnx.ipynb"
    plain_data = _notebook("print('hello')\n").replace(b"\n ", b"\n  ")
    plain.write_bytes(plain_data)
    outcome = CliRunner().invoke(main, [str(tmp_path)])
    assert outcome.exit_code == 2, outcome.output
    assert f"{broken}: error: invalid notebook" in outcome.output
    assert broken.read_bytes() == broken_data
    assert plain.read_bytes() == plain_data
    assert b"NeuronLlamaForCausalLM" in good.read_bytes()


def test_check_and_json_output(tmp_path: Path) -> None:
    path = tmp_path / "demo.ipynb"
    data = _notebook(IMPORT + "import torch\n", BUILD)
    path.write_bytes(data)
    outcome = CliRunner().invoke(main, ["--check", "--output-format", "json", str(path)])
    assert outcome.exit_code == 1
    rows = json.loads(outcome.output)["findings"]
    assert {row["cell"] for row in rows} == {1, 2}
    text = data.decode().splitlines()
    for row in rows:  # the notebook file's own line holds the cell's code at that column
        at = text[row["file_line"] - 1][row["file_column"] - 1:]
        assert at.startswith(("from", "model", "LlamaForSampling")), at
    assert path.read_bytes() == data


def test_non_notebook_runs_do_not_import_nbformat(tmp_path: Path) -> None:
    script = tmp_path / "s.py"
    script.write_text(IMPORT + BUILD)
    code = (
        "import sys\nfrom tnx2nxdi.runner import run\nfrom tnx2nxdi.options import Options\n"
        f"run([{str(script)!r}], Options(mode='check'))\n"
        "assert 'nbformat' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# -- generated notebooks ------------------------------------------------------------------------

_SNIPPETS = (
    "import torch\n", IMPORT, "from transformers_neuronx import NeuronConfig\n",
    "neuron_config = NeuronConfig()\n",
    'model = LlamaForSampling.from_pretrained("/m/llama", tp_degree=8)\n',
    "model.to_neuron()\n", "out = model.sample(ids, sequence_length=64)\n",
    "ids = torch.tensor([[1, 2]])\n", "%pip install -U sentencepiece\n", "!neuron-ls\n",
    "%env NEURON_CC_FLAGS=-O1\n", "files = !ls\n", "torch?\n", "if True:\n    !echo hi\n",
    "x = (1\n     % 2)\n", "s = '''\n!inside\n'''\n", "# a comment\n", "\n",
    "def f():\n    return model\n", "%pip install transformers-neuronx\n",
)


def _cell_sources(draw: st.DrawFn) -> list[str]:
    count = draw(st.integers(min_value=1, max_value=5))
    cells = []
    for _ in range(count):
        parts = draw(st.lists(st.sampled_from(_SNIPPETS), max_size=4))
        text = "".join(parts)
        if draw(st.booleans()):
            text = text.rstrip("\n")  # Jupyter stores no final newline
        if draw(st.booleans()) and text:
            text = "%%time\n" + text
        cells.append(text)
    return cells


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.composite(_cell_sources)(), st.booleans())
def test_generated_notebooks_keep_ipython_lines_and_reach_a_fixed_point(
    sources: list[str], as_lines: bool
) -> None:
    data = _notebook(*[s.splitlines(keepends=True) if as_lines else s for s in sources])
    result, new_data = process_bytes(data, Options(), "gen.ipynb")
    if result.error is not None:
        assert new_data == data
        assert result.error.startswith(("cannot parse: cell", "cannot migrate: cell")), (
            result.error)
        return
    nbformat.validate(json.loads(new_data))
    assert _without_sources(new_data.decode()) == _without_sources(data.decode())
    for old, new in zip(sources, _cells(new_data), strict=True):
        ipython = [line for line in old.splitlines() if line.lstrip().startswith(("%", "!"))
                   and "inside" not in line]
        kept = [line for line in new.splitlines() if line.lstrip().startswith(("%", "!"))
                and "inside" not in line]
        # Kept as they are, but for the TNx install line of a notebook that moved to NxDI.
        assert [line.replace("neuronx-distributed-inference", "transformers-neuronx")
                for line in kept] == ipython
    again, again_data = process_bytes(new_data, Options(), "gen.ipynb")
    assert again.error is None and again_data == new_data


# -- pre-commit ---------------------------------------------------------------------------------


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_precommit_hook_migrates_staged_notebooks(hook_repo: Path, tmp_path: Path) -> None:  # noqa: F811
    repo = tmp_path / "project"
    repo.mkdir()
    sample = (NOTEBOOKS / "llama_sampling.in.ipynb").read_bytes()
    clean = (NOTEBOOKS / "no_tnx.noop.ipynb").read_bytes()
    (repo / "sample.ipynb").write_bytes(sample)
    (repo / "clean.ipynb").write_bytes(clean)
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    result = try_repo(hook_repo, repo, "tnx2nxdi")
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "files were modified by this hook" in output
    assert "sample.ipynb[cell 1]:1:1: TNX103" in output
    assert (repo / "sample.ipynb").read_bytes() == (
        NOTEBOOKS / "llama_sampling.out.ipynb").read_bytes()
    assert (repo / "clean.ipynb").read_bytes() == clean


def test_a_cell_that_does_not_parse_is_tnx998_at_the_cell_and_the_file_line(
    tmp_path: Path,
) -> None:
    path = tmp_path / "broken.ipynb"
    path.write_bytes(_notebook(IMPORT, ["x = 1\n", "print 'hi'\n"]))
    with pytest.raises(SyntaxError) as python:
        compile("x = 1\nprint 'hi'\n", "cell", "exec")
    text = CliRunner().invoke(main, ["--check", str(path)])
    assert text.exit_code == 2
    assert f"{path}[cell 2]:2:{python.value.offset}: TNX998 {python.value.msg}" in text.output
    github = CliRunner().invoke(main, ["--check", "--output-format", "github", str(path)])
    [line] = [line for line in github.output.splitlines() if line.startswith("::error")]
    file_line = next(number for number, content in enumerate(path.read_text().splitlines(), 1)
                     if "print 'hi'" in content)
    assert line.startswith(f"::error file={path},line={file_line},")
    assert f"title=TNX998 parse-error::cell 2, line 2: {python.value.msg}" in line
