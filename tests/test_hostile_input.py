"""Hostile or odd input: each gives a clear one-line error or a correct result, never a crash,
and a file that cannot be migrated is left byte for byte as it was (docs/reliability.md).

Every case runs the real command (click's CliRunner) on real files in a temporary directory.
"""

from __future__ import annotations

import ast
import codecs
import json
import os
import re
import sys
import warnings
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tnx2nxdi.cli import main

TNX = (
    "from transformers_neuronx import LlamaForSampling\n"
    "\n"
    "model = LlamaForSampling.from_pretrained('/m/llama', tp_degree=8, amp='bf16')\n"
    "model.to_neuron()\n"
    "model.save('out')\n"
)
MIGRATED_CALL = "model = NeuronLlamaForCausalLM('/m/llama', config)"


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def error_lines(result: Result) -> list[str]:
    return [line for line in result.output.splitlines()
            if ": error: " in line or re.search(r":\d+:\d+: TNX998 ", line)]


def one_error(result: Result, path: Path, *words: str) -> str:
    """The run reported exactly one error, on one line, for ``path``, containing ``words``
    (a file that does not parse: ``path:line:col: TNX998 <Python's message>``)."""
    assert result.exit_code == 2, result.output
    [line] = error_lines(result)
    assert re.match(re.escape(str(path)) + r"(: error: |:\d+:\d+: TNX998 )", line), line
    for word in words:
        assert word in line
    return line


def compiles(data: bytes) -> None:
    compile(data, "<migrated>", "exec", dont_inherit=True)  # bytes: Python decodes it itself


# --- empty, binary, encodings ------------------------------------------------------------------

def test_empty_file_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "empty.py"
    path.write_bytes(b"")
    result = run(str(path))
    assert result.exit_code == 0
    assert path.read_bytes() == b""


def test_binary_file_named_py_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "blob.py"
    data = b"\x7fELF\x02\x01\x00\x00transformers_neuronx\x00\xff\xfe"
    path.write_bytes(data)
    one_error(run(str(path)), path, "binary file")
    assert path.read_bytes() == data


def test_binary_file_without_tnx_bytes_is_skipped_untouched(tmp_path: Path) -> None:
    path = tmp_path / "blob.py"
    data = bytes(range(256)) * 4
    path.write_bytes(data)
    assert run(str(path)).exit_code == 0
    assert path.read_bytes() == data


def test_non_utf8_without_cookie_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "latin.py"
    data = ("# caf\xe9\n" + TNX).encode("latin-1")
    path.write_bytes(data)
    one_error(run(str(path)), path, "not UTF-8", "coding cookie")
    assert path.read_bytes() == data


def test_latin1_with_cookie_stays_latin1_byte_for_byte(tmp_path: Path) -> None:
    path = tmp_path / "latin.py"
    head = "# -*- coding: latin-1 -*-\n# caf\xe9 cr\xe8me\n"
    tail = "greeting = 'na\xefve \xfcber'\n"
    path.write_bytes((head + TNX + tail).encode("latin-1"))
    assert run(str(path)).exit_code == 1
    data = path.read_bytes()
    assert data.startswith(head.encode("latin-1"))
    assert data.endswith(tail.encode("latin-1"))
    assert MIGRATED_CALL.encode() in data
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")  # still latin-1, not re-encoded as UTF-8
    compiles(data)
    assert run(str(path)).exit_code == 0  # fixed point


def test_bad_coding_cookie_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "cookie.py"
    data = b"# -*- coding: no-such-codec -*-\n" + TNX.encode()
    path.write_bytes(data)
    one_error(run(str(path)), path, "coding cookie")
    assert path.read_bytes() == data


def test_utf8_bom_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "bom.py"
    path.write_bytes(codecs.BOM_UTF8 + ("# \u00e9t\u00e9\n" + TNX).encode())
    assert run(str(path)).exit_code == 1
    data = path.read_bytes()
    assert data.startswith(codecs.BOM_UTF8 + "# \u00e9t\u00e9\n".encode())
    assert data.count(codecs.BOM_UTF8) == 1
    assert MIGRATED_CALL.encode() in data
    compiles(data)


# --- newlines, tabs, form feeds ------------------------------------------------------------------

def test_crlf_file_stays_crlf(tmp_path: Path) -> None:
    path = tmp_path / "crlf.py"
    path.write_bytes(TNX.replace("\n", "\r\n").encode())
    assert run(str(path)).exit_code == 1
    data = path.read_bytes()
    assert MIGRATED_CALL.encode() in data
    assert data.count(b"\n") == data.count(b"\r\n")  # no bare LF was introduced
    compiles(data)
    assert run(str(path)).exit_code == 0


def test_mixed_newlines_keep_untouched_lines_byte_for_byte(tmp_path: Path) -> None:
    path = tmp_path / "mixed.py"
    before = "import os\r\nx = 1\n"
    after = "y = 2\r\nprint(x, y)\n"
    path.write_bytes((before + TNX + after).encode())
    assert run(str(path)).exit_code == 1
    data = path.read_bytes()
    assert data.startswith(before.encode())
    assert data.endswith(after.encode())
    assert b"\r\r" not in data
    compiles(data)
    assert run(str(path)).exit_code == 0


def test_tab_indented_function_is_migrated_with_tabs(tmp_path: Path) -> None:
    path = tmp_path / "tabs.py"
    source = (
        "from transformers_neuronx import LlamaForSampling\n"
        "\n"
        "def build():\n"
        "\tmodel = LlamaForSampling.from_pretrained('/m/llama', tp_degree=8)\n"
        "\tmodel.to_neuron()\n"
        "\treturn model\n"
    )
    path.write_bytes(source.encode())
    assert run(str(path)).exit_code == 1
    text = path.read_text()
    assert "\tmodel = NeuronLlamaForCausalLM('/m/llama', config)\n" in text
    assert "\treturn model\n" in text
    assert "\n    " not in text.split("def build():", 1)[1]  # no space indentation mixed in
    compiles(text.encode())


def test_form_feeds_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "ff.py"
    path.write_bytes(("\x0c\n" + TNX + "\x0c\n\ndef later():\n    return 1\n").encode())
    assert run(str(path)).exit_code == 1
    data = path.read_bytes()
    assert data.count(b"\x0c") == 2
    assert data.endswith(b"\x0c\n\ndef later():\n    return 1\n")
    compiles(data)


# --- size and depth -------------------------------------------------------------------------------

def _filler(size: int) -> str:
    block = "".join(f"def helper_{i}(value):\n    return value + {i}  # filler\n\n"
                    for i in range(1000))
    return block * (size // len(block) + 1)


def test_ten_megabyte_file_without_tnx_is_skipped_byte_identical(tmp_path: Path) -> None:
    path = tmp_path / "huge.py"
    data = _filler(10 * 2**20).encode()
    path.write_bytes(data)
    result = run(str(path))
    assert result.exit_code == 0
    assert path.read_bytes() == data


@pytest.mark.skipif(not os.environ.get("TNX2NXDI_SLOW_TESTS"),
                    reason="minutes of LibCST parsing; set TNX2NXDI_SLOW_TESTS=1")
def test_ten_megabyte_file_with_tnx_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "huge.py"
    filler = _filler(10 * 2**20)
    path.write_bytes((TNX + filler).encode())
    assert run(str(path)).exit_code == 1
    data = path.read_bytes()
    assert MIGRATED_CALL.encode() in data
    assert data.endswith(filler.encode())


def test_quarter_megabyte_file_with_tnx_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "big.py"
    filler = _filler(2**18)
    path.write_bytes((TNX + filler).encode())
    assert run(str(path)).exit_code == 1
    data = path.read_bytes()
    assert MIGRATED_CALL.encode() in data
    assert data.endswith(filler.encode())


@pytest.mark.parametrize("expression", [
    "(" * 5000 + "1" + ")" * 5000,  # LibCST's native parser would overflow the C stack
    "1" + " + 1" * 50000,
    "not " * 5000 + "x",
    "[" * 300 + "]" * 300,
    "f" + "()" * 3000,
])
def test_nesting_beyond_the_recursion_limit_is_one_error_and_the_run_goes_on(
    tmp_path: Path, expression: str
) -> None:
    deep = tmp_path / "deep.py"
    data = f"import transformers_neuronx\nx = {expression}\n".encode()
    deep.write_bytes(data)
    fine = tmp_path / "fine.py"
    fine.write_text(TNX)
    result = run(str(deep), str(fine))
    line = one_error(result, deep, "nested too deeply")
    assert len(line) < 200
    assert deep.read_bytes() == data
    assert MIGRATED_CALL in fine.read_text()


def test_nesting_python_accepts_but_codegen_cannot_is_one_error(tmp_path: Path) -> None:
    path = tmp_path / "chain.py"
    data = ("import transformers_neuronx\nx = a" + ".b" * 1500 + "\n").encode()
    path.write_bytes(data)
    result = run(str(path))
    if result.exit_code == 2:
        one_error(result, path, "nested too deeply")
    else:  # a LibCST that copes: a correct, unchanged result is just as good
        assert result.exit_code in (0, 1)
    assert path.read_bytes() == data  # only an import: nothing to migrate


# --- newer syntax ---------------------------------------------------------------------------------

def test_match_statement_around_tnx_code_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "match.py"
    source = (
        "from transformers_neuronx import LlamaForSampling\n"
        "\n"
        "def build(kind):\n"
        "    match kind:\n"
        "        case 'llama':\n"
        "            model = LlamaForSampling.from_pretrained('/m/llama', tp_degree=8)\n"
        "            model.to_neuron()\n"
        "            return model\n"
        "        case _:\n"
        "            raise ValueError(kind)\n"
    )
    path.write_text(source)
    assert run(str(path)).exit_code == 1
    text = path.read_text()
    assert "            model = NeuronLlamaForCausalLM('/m/llama', config)\n" in text
    assert "        case _:\n            raise ValueError(kind)\n" in text
    ast.parse(text)


PEP695 = (
    "from transformers_neuronx import LlamaForSampling\n"
    "\n"
    "type Path = str\n"
    "\n"
    "def first[T](items: list[T]) -> T:\n"
    "    return items[0]\n"
    "\n"
    "model = LlamaForSampling.from_pretrained('/m/llama', tp_degree=8)\n"
    "model.to_neuron()\n"
)


def test_pep695_syntax(tmp_path: Path) -> None:
    """Python 3.12 syntax: migrated where this Python can check the result, else one clear error
    and the file untouched (the output of a migration is never written unchecked)."""
    path = tmp_path / "generic.py"
    path.write_text(PEP695)
    result = run(str(path))
    if sys.version_info >= (3, 12):
        assert result.exit_code == 1, result.output
        text = path.read_text()
        assert "type Path = str\n" in text and "def first[T](items: list[T]) -> T:\n" in text
        assert "model = NeuronLlamaForCausalLM('/m/llama', config)\n" in text
    else:
        line = one_error(result, path, f"this Python, {sys.version_info[0]}."
                         f"{sys.version_info[1]}, cannot compile", "TNX998")
        assert line.startswith(f"{path}:3:")  # where this Python stops: `type Path = str`
        assert path.read_text() == PEP695


def test_syntax_error_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.py"
    data = b"import transformers_neuronx\ndef f(:\n    pass\n"
    path.write_bytes(data)
    line = one_error(run(str(path)), path, "TNX998")
    with pytest.raises(SyntaxError) as python:
        compile(data, "broken.py", "exec")
    assert line == f"{path}:{python.value.lineno}:{python.value.offset}: TNX998 {python.value.msg}"
    assert path.read_bytes() == data


# --- notebooks and directories --------------------------------------------------------------------

def test_notebook_with_broken_json_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.ipynb"
    data = b'{"cells": [{"cell_type": "code", "source": "import transformers_neuronx'
    path.write_bytes(data)
    one_error(run(str(path)), path, "notebook", "JSON")
    assert path.read_bytes() == data


def test_notebook_that_is_json_but_not_a_notebook_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "list.ipynb"
    data = json.dumps(["transformers_neuronx"]).encode()
    path.write_bytes(data)
    result = run(str(path))
    one_error(result, path, "notebook")
    assert path.read_bytes() == data


def test_directory_without_python_files_exits_0_with_a_message(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "README.txt").write_text("transformers_neuronx\n")
    (tmp_path / "data.json").write_text("{}")
    result = run(str(tmp_path))
    assert result.exit_code == 0
    assert "No files to migrate" in result.output


def test_empty_directory_exits_0_with_a_message(tmp_path: Path) -> None:
    result = run(str(tmp_path))
    assert result.exit_code == 0
    assert "No files to migrate" in result.output


def test_missing_file_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.py"
    one_error(run(str(path)), path, "no such file")


def test_syntax_warnings_of_user_code_are_not_printed(tmp_path: Path) -> None:
    path = tmp_path / "warns.py"
    path.write_text('import re\npattern = re.compile("\\d+")\nodd = 1(2)\n' + TNX)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = run(str(path))
    assert result.exit_code == 1
    assert "SyntaxWarning" not in result.output
    assert [w for w in caught if issubclass(w.category, SyntaxWarning)] == []


def test_fifo_named_py_does_not_block_the_run(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.py"
    os.mkfifo(fifo)
    fine = tmp_path / "fine.py"
    fine.write_text(TNX)
    result = run(str(tmp_path))  # walked, not named: the walk finds it like any .py file
    one_error(result, fifo, "not a regular file")
    assert MIGRATED_CALL in fine.read_text()


def test_device_named_explicitly_is_refused(tmp_path: Path) -> None:
    one_error(run("/dev/zero"), Path("/dev/zero"), "not a regular file")


def test_syntax_warnings_of_notebook_cells_are_not_printed(tmp_path: Path) -> None:
    path = tmp_path / "warns.ipynb"
    cell = {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
            "source": ["odd = 1(2)\n", TNX]}
    path.write_text(json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4,
                                "nbformat_minor": 5}))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = run(str(path))
    assert result.exit_code == 1, result.output
    assert "SyntaxWarning" not in result.output
    assert [w for w in caught if issubclass(w.category, SyntaxWarning)] == []


def test_syntax_warnings_are_not_printed_from_suppressions_or_notebook_cells(
    tmp_path: Path,
) -> None:
    """Python 3.12+ warns about "\\d" while parsing: every parse of user code is quiet."""
    script = tmp_path / "warns.py"
    script.write_text('import re\npattern = re.compile("\\d+")  # tnx2nxdi: ignore\n' + TNX)
    cell = 'import re\npattern = re.compile("\\d+")\n' + TNX
    notebook = tmp_path / "warns.ipynb"
    notebook.write_text(json.dumps({
        "cells": [{"cell_type": "code", "execution_count": None, "id": "c0", "metadata": {},
                   "outputs": [], "source": cell}],
        "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = run("-j", "1", str(script), str(notebook))
    assert result.exit_code == 1, result.output
    assert [w for w in caught if issubclass(w.category, SyntaxWarning)] == []
