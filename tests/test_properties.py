"""Property tests (docs/reliability.md): on generated Python programs the tool never crashes,
leaves code without TNx byte-identical, and a second run changes nothing.

Programs come from hypothesmith: ``from_grammar()`` writes text from CPython's grammar (odd
spacing, comments, continuation lines), ``from_node()`` builds LibCST trees (real-looking
statements). TNx imports, whole TNx snippets and markers of earlier runs are injected into them, so
that the parser and the rewrite path run, not only the byte prefilter. The number of programs per
test is the hypothesis profile's (tests/conftest.py: ``ci`` 100, ``thorough`` 1000).
"""

from __future__ import annotations

import re

import hypothesmith
import pytest
from hypothesis import assume, event, given
from hypothesis import strategies as st

from tnx2nxdi.engine import Migration
from tnx2nxdi.kinds.python import migrate_source
from tnx2nxdi.options import Options
from tnx2nxdi.runner import process_bytes

OPTIONS = Options()
# Generated programs are full of `1(2)` and `"\\d"`: their SyntaxWarnings are not ours.
pytestmark = pytest.mark.filterwarnings("ignore::SyntaxWarning")
PROGRAMS = st.one_of(hypothesmith.from_grammar(), hypothesmith.from_node())

TNX_IMPORTS = st.sampled_from([
    "import transformers_neuronx\n",
    "import transformers_neuronx as tnx\n",
    "from transformers_neuronx import LlamaForSampling\n",
    "from transformers_neuronx import LlamaForSampling as Llama, NeuronConfig\n",
    "from transformers_neuronx.llama.model import LlamaForSampling\n",
    "from transformers_neuronx.config import GenerationConfig, QuantizationConfig\n",
    "from transformers_neuronx import GPT2ForSamplingWithContextBroadcasting\n",
])
# A whole TNx program, with names no generated program is likely to touch.
TNX_SNIPPET = (
    "\n"
    "from transformers_neuronx import LlamaForSampling as _TnxLlama, NeuronConfig as _TnxConfig\n"
    "_tnx_config = _TnxConfig(fuse_qkv=True)\n"
    "_tnx_model = _TnxLlama.from_pretrained('/m/llama', tp_degree=8, neuron_config=_tnx_config)\n"
    "_tnx_model.to_neuron()\n"
    "_tnx_model.save('_tnx_out')\n"
)
MARKER = "# TODO(tnx2nxdi): TNX901 check this by hand\n"


#: Open bugs these properties found: name -> (the programs it affects, the exception). Each has a
#: strict xfail regression test below; nothing else is excused.
KNOWN_CRASHES: dict[str, tuple[re.Pattern[str], type[Exception]]] = {
    # Fixed: imports in one-line blocks (`if x: import y`) crashed analysis.py (IndexError);
    # test_import_in_one_line_block_does_not_crash keeps it fixed.
}


def migrate(source: str) -> Migration | None:
    """The migration, or None for a program a known bug crashes on (recorded as an event)."""
    try:
        return migrate_source(source, OPTIONS)
    except Exception as error:
        for name, (affects, kind) in KNOWN_CRASHES.items():
            if isinstance(error, kind) and affects.search(source):
                event(f"known bug: {name}")
                return None
        raise


def assert_sound(source: str, result: Migration | None) -> None:
    """An error leaves the source as it was; a migration compiles and is a fixed point."""
    if result is None:
        return
    if result.error is not None:
        assert result.code == source
        return
    compile(result.code, "<migrated>", "exec", dont_inherit=True)
    again = migrate(result.code)
    assert again is not None and again.error is None, again and again.error
    assert again.code == result.code, "a second run changed the output"


def _without_future(source: str) -> str:
    # `from __future__` must come first; a program prefixed with an import would not compile.
    assume("__future__" not in source)
    return source if source.endswith("\n") or not source else source + "\n"


def _is_subsequence(lines: list[str], within: list[str]) -> bool:
    remaining = iter(within)
    return all(any(line == other for other in remaining) for line in lines)


@given(PROGRAMS)
def test_programs_without_tnx_come_back_identical(source: str) -> None:
    result = migrate_source(source, OPTIONS)  # no TNx: no known bug may excuse a crash here
    assert result.code == source
    assert result.findings == ()


@given(PROGRAMS)
def test_runner_keeps_programs_without_tnx_byte_identical(source: str) -> None:
    # A comment naming the package gets the file past the byte prefilter and into the parser.
    try:
        data = ("# uses no transformers_neuronx\n" + source).encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates cannot be in a file
        assume(False)
        raise
    result, new_data = process_bytes(data, OPTIONS, "generated.py")
    assert new_data == data
    assert not result.changed
    assert result.error is None or "parse" in result.error or "Python" in result.error


@given(PROGRAMS, TNX_IMPORTS)
def test_injected_tnx_import_never_crashes_and_is_a_fixed_point(source: str, line: str) -> None:
    source = line + _without_future(source)
    assert_sound(source, migrate(source))


@given(PROGRAMS)
def test_appended_tnx_program_is_migrated_and_the_rest_kept(source: str) -> None:
    program = _without_future(source)
    source = program + TNX_SNIPPET
    result = migrate(source)
    assert_sound(source, result)
    if result is not None and result.error is None:
        assert "_tnx_model = NeuronLlamaForCausalLM('/m/llama', config)" in result.code
        assert "transformers_neuronx" not in result.code.split("# TODO")[0] or any(
            not finding.fixed for finding in result.findings)
        # Every line of the generated program survives, in order.
        assert _is_subsequence(program.splitlines(), result.code.splitlines())


@given(PROGRAMS)
def test_markers_of_an_earlier_run_are_reported_and_kept(source: str) -> None:
    source = _without_future(source) + MARKER
    result = migrate_source(source, OPTIONS)  # markers alone never reach the rewrite
    assert result.code == source
    if result.error is None:
        assert [f.code for f in result.findings if not f.fixed] == ["TNX901"]


IMPORT_IN_ONE_LINE_BLOCK = "import transformers_neuronx\nif True: import os\n"


def test_no_crash_is_excused() -> None:
    assert KNOWN_CRASHES == {}


def test_import_in_one_line_block_does_not_crash() -> None:
    result = migrate_source(IMPORT_IN_ONE_LINE_BLOCK, OPTIONS)
    assert result.error is None
    assert "if True: import os" in result.code


def test_tnx_import_in_one_line_block_is_reported() -> None:
    result = migrate_source("if True: from transformers_neuronx import LlamaForSampling\n", OPTIONS)
    assert [finding.code for finding in result.findings] == ["TNX990"]
