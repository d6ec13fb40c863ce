"""TNX6xx: vLLM programs for Neuron select NxDI and get their override_neuron_config translated
through the option mapping; GPU programs, programs already on NxDI and look-alike classes are
left alone. Fixture pairs live in fixtures/vllm; each migrated fixture is also run against the
fake vLLM (which rejects keys NxDI does not read) and compared with its original."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.execution import NXDI_FRAMEWORK, compare, requested, run_program
from tests.helpers import FIXTURES, assert_migrated, assert_unchanged, codes, migrate, render
from tests.test_execution import executable, prepare
from tests.test_fixtures import _options
from tests.test_notebook import _program as notebook_program
from tnx2nxdi.findings import FileResult
from tnx2nxdi.options import Options
from tnx2nxdi.runner import process_bytes

ENV = 'os.environ["VLLM_NEURON_FRAMEWORK"] = "neuronx-distributed-inference"'
TODO = "# TODO(tnx2nxdi):"
KEEP = "make sure it uses only NxDI NeuronConfig keys"
SPECULATION = ("TNX604 with NxDI 2.21, vLLM (the fork's v0.6.x-neuron branch) supports "
               "speculative decoding only with one sequence at a time: set max_num_seqs to 1 or "
               "turn speculation off")
VLLM_PAIRS = sorted((FIXTURES / "vllm").glob("*.in.py"))


@pytest.mark.parametrize("source", [p for p in VLLM_PAIRS if executable(p)],
                         ids=lambda p: p.name.split(".")[0])
def test_migrated_fixture_asks_the_nxdi_backend_for_the_same_engine(
    source: Path, tmp_path: Path
) -> None:
    migrated = source.with_name(source.name.replace(".in.py", ".out.py")).read_text()
    version = str(_options(source).get("target_version", "2.29"))
    prepare(source, tmp_path)
    original = run_program(source.read_text(), "tnx", tmp_path=tmp_path / "tnx",
                           nxdi_version=version)
    events = run_program(migrated, "nxdi", tmp_path=tmp_path / "nxdi", nxdi_version=version)
    engines = [event for event in requested(events) if event["kind"] == "vllm_engine"]
    assert engines and all(engine["framework"] == NXDI_FRAMEWORK for engine in engines)
    assert compare(original, events) == []


def test_nxdi_keys_are_kept_next_to_translated_tnx_keys() -> None:
    findings = assert_migrated(
        """\
        import os
        from vllm import LLM

        llm = LLM(model="m", device="neuron", override_neuron_config={
            "skip_warmup": True, "fuse_qkv": True, "kv_cache_quant": True})
        """,
        f"""\
        import os
        from vllm import LLM

        {ENV}

        llm = LLM(model="m", device="neuron", override_neuron_config={{
            "skip_warmup": True, "fused_qkv": True, "kv_cache_quant": True}})
        """,
    )
    assert codes(findings) == ["TNX601", "TNX602"]


def test_module_attribute_access_and_future_import() -> None:
    assert_migrated(
        """\
        from __future__ import annotations

        import vllm

        engine = vllm.EngineArgs(model="m", override_neuron_config={"on_device_generation": None})
        """,
        f"""\
        from __future__ import annotations

        import os

        import vllm

        {ENV}

        engine = vllm.EngineArgs(model="m")
        """,
    )


def test_setdefault_of_the_tnx_framework_is_rewritten_not_duplicated() -> None:
    findings = assert_migrated(
        """\
        import os
        from vllm import LLM

        os.environ.setdefault('VLLM_NEURON_FRAMEWORK', 'transformers-neuronx')
        llm = LLM(model="m", tensor_parallel_size=2)
        """,
        """\
        import os
        from vllm import LLM

        os.environ.setdefault('VLLM_NEURON_FRAMEWORK', 'neuronx-distributed-inference')
        llm = LLM(model="m", tensor_parallel_size=2)
        """,
    )
    assert codes(findings) == ["TNX601"]


def test_one_framework_line_for_several_engines() -> None:
    before = """\
        from vllm import LLM

        a = LLM(model="a", device="neuron")
        b = LLM(model="b", device="neuron")
        """
    after = f"""\
        import os

        from vllm import LLM

        {ENV}

        a = LLM(model="a", device="neuron")
        b = LLM(model="b", device="neuron")
        """
    assert codes(assert_migrated(before, after)) == ["TNX601"]


def test_override_the_tool_cannot_read_is_left_with_a_marker() -> None:
    findings = assert_migrated(
        """\
        import os
        from vllm import LLM
        from settings import load_overrides

        llm = LLM(model="m", device="neuron", override_neuron_config=load_overrides())
        """,
        f"""\
        import os
        from vllm import LLM
        from settings import load_overrides

        {ENV}

        {TODO} TNX603 override_neuron_config left as it is (load_overrides() cannot be read \
statically): {KEEP}
        llm = LLM(model="m", device="neuron", override_neuron_config=load_overrides())
        """,
    )
    assert [f.code for f in findings if not f.fixed] == ["TNX603"]


def test_a_dict_changed_after_it_is_built_is_not_followed() -> None:
    findings = assert_migrated(
        """\
        import os
        from vllm import LLM

        overrides = {"fuse_qkv": True}
        overrides.update(extra)
        llm = LLM(model="m", override_neuron_config=overrides)
        """,
        f"""\
        import os
        from vllm import LLM

        {ENV}

        overrides = {{"fuse_qkv": True}}
        overrides.update(extra)
        {TODO} TNX603 override_neuron_config left as it is (overrides is not a dict the tool \
can follow): {KEEP}
        llm = LLM(model="m", override_neuron_config=overrides)
        """,
    )
    assert "TNX603" in codes(findings)


def test_speculation_with_the_default_batch_is_reported_for_2_21_only() -> None:
    before = """\
        import os
        from vllm import LLM

        llm = LLM(model="m", device="neuron", speculative_model="d", num_speculative_tokens=4)
        """
    findings = assert_migrated(
        before,
        f"""\
        import os
        from vllm import LLM

        {ENV}

        {TODO} {SPECULATION}
        llm = LLM(model="m", device="neuron", speculative_model="d", num_speculative_tokens=4)
        """,
        target_version="2.21",
    )
    assert "TNX604" in codes(findings)
    # The neuron-2.22+ fork branches (and NxDI) speculate with any batch size.
    later = assert_migrated(before, f"""\
        import os
        from vllm import LLM

        {ENV}

        llm = LLM(model="m", device="neuron", speculative_model="d", num_speculative_tokens=4)
        """, target_version="2.22")
    assert codes(later) == ["TNX601"]


def test_speculation_with_one_sequence_is_fine_on_2_21_too() -> None:
    findings = assert_migrated(
        """\
        import os
        from vllm import LLM

        llm = LLM(model="m", device="neuron", speculative_model="d", max_num_seqs=1)
        """,
        f"""\
        import os
        from vllm import LLM

        {ENV}

        llm = LLM(model="m", device="neuron", speculative_model="d", max_num_seqs=1)
        """,
        target_version="2.21",
    )
    assert codes(findings) == ["TNX601"]


def test_json_override_keeps_its_quotes_and_compact_style() -> None:
    assert_migrated(
        """\
        import os
        from vllm import LLM

        llm = LLM(model="m", device="neuron", override_neuron_config='{"fuse_qkv":true}')
        """,
        f"""\
        import os
        from vllm import LLM

        {ENV}

        llm = LLM(model="m", device="neuron", override_neuron_config='{{"fused_qkv":true}}')
        """,
    )


def test_a_framework_taken_from_a_variable_is_reported_not_overwritten() -> None:
    findings = assert_migrated(
        """\
        import os
        from vllm import LLM

        os.environ["VLLM_NEURON_FRAMEWORK"] = backend
        llm = LLM(model="m", device="neuron")
        """,
        f"""\
        import os
        from vllm import LLM

        {TODO} TNX603 VLLM_NEURON_FRAMEWORK is set to backend; make sure it is \
'neuronx-distributed-inference'
        os.environ["VLLM_NEURON_FRAMEWORK"] = backend
        llm = LLM(model="m", device="neuron")
        """,
    )
    assert codes(findings) == ["TNX603"]


def test_vllm_imported_but_no_neuron_engine_is_unchanged() -> None:
    assert_unchanged(
        """\
        from vllm import SamplingParams
        params = SamplingParams(top_k=1)
        print("neuron")
        """
    )


def test_prefilter_lets_neuron_vllm_programs_through_and_skips_gpu_ones() -> None:
    neuron = b"from vllm import LLM\nllm = LLM(model='m', device='neuron')\n"
    gpu = b"from vllm import LLM\nllm = LLM(model='m')\n"
    result, data = process_bytes(neuron, Options(mode="check"), "serve.py")
    assert result.changed and b"neuronx-distributed-inference" in data
    result, _ = process_bytes(gpu, Options(mode="check"), "serve.py")
    assert result.skipped


# -- notebooks ------------------------------------------------------------------------------------

NOTEBOOKS = FIXTURES / "vllm_notebooks"
NOTEBOOK_PAIRS = sorted(NOTEBOOKS.glob("*.in.ipynb"))
#: Draft checkpoints the notebooks' cells read (their config.json is patched in a cell).
NOTEBOOK_FILES = {"eagle_speculation": {"Llama-3.1-8B-EAGLE-Draft/config.json": "{}"}}


def _notebook_migration(data: bytes) -> tuple[FileResult, bytes]:
    result, new_data = process_bytes(data, Options(), "notebook.ipynb")
    assert result.error is None, result.error
    return result, new_data


@pytest.mark.parametrize("source", NOTEBOOK_PAIRS, ids=lambda p: p.name.split(".")[0])
def test_vllm_notebook_pair(source: Path, update_fixtures: bool) -> None:
    expected = source.with_name(source.name.replace(".in.ipynb", ".out.ipynb"))
    findings_file = source.with_name(source.name.replace(".in.ipynb", ".findings.txt"))
    result, new_data = _notebook_migration(source.read_bytes())
    if update_fixtures:
        expected.write_bytes(new_data)
        findings_file.write_text(render(result.findings))
    assert new_data == expected.read_bytes()
    assert render(result.findings) == findings_file.read_text()
    assert new_data != source.read_bytes(), "the notebook must be seen and migrated"
    again, same = _notebook_migration(new_data)
    assert same == new_data and [f for f in again.findings if f.fixed] == []


@pytest.mark.parametrize("source", sorted(NOTEBOOKS.glob("*.noop.ipynb")),
                         ids=lambda p: p.name.split(".")[0])
def test_vllm_notebook_noop(source: Path) -> None:
    result, new_data = _notebook_migration(source.read_bytes())
    assert new_data == source.read_bytes() and result.findings == ()


@pytest.mark.parametrize("source", NOTEBOOK_PAIRS, ids=lambda p: p.name.split(".")[0])
def test_migrated_notebook_asks_the_nxdi_backend_for_the_same_engine(
    source: Path, tmp_path: Path
) -> None:
    case = source.name.split(".")[0]
    migrated = source.with_name(f"{case}.out.ipynb").read_bytes()
    for side in ("tnx", "nxdi"):
        for name, content in NOTEBOOK_FILES.get(case, {}).items():
            (tmp_path / side / name).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / side / name).write_text(content)
        (tmp_path / side).mkdir(exist_ok=True)
    original = run_program(notebook_program(source.read_bytes()), "tnx", tmp_path=tmp_path / "tnx")
    events = run_program(notebook_program(migrated), "nxdi", tmp_path=tmp_path / "nxdi")
    assert [e for e in requested(original) if e["kind"] == "vllm_engine"]
    assert compare(original, events) == []


def test_a_notebook_escapes_its_quotes_and_is_still_screened_in() -> None:
    cell = 'from vllm import LLM\nllm = LLM(model="/m", device="neuron")\n'
    notebook = {"cells": [{"cell_type": "code", "execution_count": None, "id": "a",
                           "metadata": {}, "outputs": [], "source": cell}],
                "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    data = json.dumps(notebook).encode()
    assert b'neuron"' not in data  # the JSON escapes it: neuron\"
    result, new_data = _notebook_migration(data)
    assert result.changed and b"neuronx-distributed-inference" in new_data
    assert codes(result.findings) == ["TNX601"]


# -- quantization, buckets, EAGLE and the V1 plugin -----------------------------------------------

QUANT_KEYS = ('"quantized": True, "quantization_dtype": "int8", '
              '"quantization_type": "per_channel_symmetric", '
              '"quantized_checkpoints_path": "m-quantized-checkpoint"')


def test_neuron_quant_becomes_override_keys_and_the_setting_goes() -> None:
    findings = assert_migrated(
        """\
        import os
        from vllm import LLM

        llm = LLM(model="/models/m", device="neuron", quantization="neuron_quant")
        """,
        f"""\
        import os
        from vllm import LLM

        {ENV}

        {TODO} TNX305 NxDI through vLLM loads the quantized weights from \
quantized_checkpoints_path='m-quantized-checkpoint' and does not create them: create them once \
before vLLM starts, with the model's NxDI class (e.g. \
NeuronLlamaForCausalLM.save_quantized_state_dict(model_path, config)) and the same \
quantization settings
        llm = LLM(model="/models/m", device="neuron", override_neuron_config={{{QUANT_KEYS}, \
"modules_to_not_convert": ["lm_head"]}})
        """,
    )
    assert codes(findings) == ["TNX305", "TNX601", "TNX606"]
    assert "NEURON_QUANT_DTYPE is not set here: vLLM's default 's8' is assumed" in (
        findings[2].message)


def test_on_2_21_lm_head_cannot_be_kept_unquantized_and_that_is_said() -> None:
    code, findings = migrate('from vllm import LLM\n'
                             'llm = LLM(model="/models/m", quantization="neuron_quant")\n',
                             target_version="2.21")
    assert "modules_to_not_convert" not in code.splitlines()[-1]
    assert [(f.code, "lm_head is quantized too" in f.message) for f in findings
            if not f.fixed] == [("TNX303", True), ("TNX305", False)]


def test_another_vllm_quantization_is_marked_not_rewritten() -> None:
    code, findings = migrate('from vllm import LLM\n'
                             'llm = LLM(model="m", device="neuron", quantization="fbgemm_fp8")\n')
    assert 'quantization="fbgemm_fp8"' in code
    assert [f.code for f in findings if not f.fixed] == ["TNX604"]


def test_an_existing_eagle_override_is_not_repeated() -> None:
    code, findings = migrate(
        'from vllm import LLM\n'
        'draft_config = {}\n'
        'draft_config["is_eagle"] = True\n'
        'llm = LLM(model="m", speculative_config={"model": "d", "num_speculative_tokens": 5},\n'
        '          override_neuron_config={"enable_eagle_speculation": True,\n'
        '                                  "enable_fused_speculation": True})\n')
    assert code.count("enable_eagle_speculation") == 1
    assert codes(findings) == ["TNX601"]


def test_speculative_config_method_eagle_asks_nxdi_for_eagle() -> None:
    code, _ = migrate(
        'from vllm import LLM\n'
        'llm = LLM(model="m", device="neuron", max_num_seqs=4,\n'
        '          speculative_config={"model": "d", "method": "eagle",\n'
        '                              "num_speculative_tokens": 4})\n')
    assert code.endswith('          override_neuron_config={\n'
                         '              "enable_eagle_speculation": True,\n'
                         '              "enable_fused_speculation": True,\n'
                         '          })\n')


def test_a_draft_named_eagle_without_the_flag_is_a_question_for_a_person() -> None:
    _, findings = migrate('from vllm import LLM\n'
                          'llm = LLM(model="m", device="neuron", speculative_model="/d/EAGLE-7B",\n'
                          '          num_speculative_tokens=4)\n')
    assert [(f.code, "looks like an EAGLE draft" in f.message) for f in findings
            if not f.fixed] == [("TNX603", True)]
    # Already asking NxDI for EAGLE (the fork's own EAGLE example): nothing to ask.
    code, findings = migrate(
        'from vllm import LLM\n'
        'llm = LLM(model="m", device="neuron", speculative_model="/d/EAGLE-7B",\n'
        '          override_neuron_config={"enable_eagle_speculation": True})\n')
    assert codes(findings) == ["TNX601"] and code.count("enable_eagle_speculation") == 1


def test_buckets_follow_a_max_model_len_bound_to_a_name() -> None:
    code, findings = migrate(
        'import os\nfrom vllm import LLM\n'
        'os.environ["NEURON_TOKEN_GEN_BUCKETS"] = "256,1024"\n'
        'length = 1024\n'
        'llm = LLM(model="m", device="neuron", max_model_len=length)\n')
    assert ('override_neuron_config={"token_generation_buckets": [256, 1024], '
            '"enable_bucketing": True}') in code
    assert [f.code for f in findings if not f.fixed] == []


def test_bucket_variables_make_an_auto_detected_engine_a_neuron_one() -> None:
    code, _ = migrate('import os\nfrom vllm import LLM\n'
                      'os.environ["NEURON_CONTEXT_LENGTH_BUCKETS"] = "128"\n'
                      'llm = LLM(model="m", max_model_len=128)\n')
    assert ENV in code and '"context_encoding_buckets": [128]' in code


def test_an_emptied_json_override_goes_with_its_keyword() -> None:
    assert_migrated(
        """\
        import os
        from vllm import LLM

        llm = LLM(model="m", device="neuron", override_neuron_config='{"fuse_mlp": false}')
        """,
        f"""\
        import os
        from vllm import LLM

        {ENV}

        llm = LLM(model="m", device="neuron")
        """,
    )


def test_an_emptied_override_in_a_variable_becomes_an_empty_dict() -> None:
    code, _ = migrate('from vllm import LLM\n'
                      'overrides = {\n    "attention_layout": "HSB",\n}\n'
                      'llm = LLM(model="m", device="neuron", override_neuron_config=overrides)\n')
    assert "overrides = {}\n" in code


def test_the_v1_plugin_entry_is_translated_renamed_and_removed_when_emptied() -> None:
    findings = assert_migrated(
        """\
        from vllm import LLM

        llm = LLM(model="m", additional_config={"override-neuron-config": {"fuse_qkv": True}})
        plain = LLM(model="m", additional_config=dict(
            override_neuron_config=dict(attention_layout="HSB")))
        """,
        """\
        from vllm import LLM

        llm = LLM(model="m", additional_config={"override_neuron_config": {"fused_qkv": True}})
        plain = LLM(model="m")
        """,
    )
    assert "TNX601" not in codes(findings)  # the plugin always runs NxDI


def test_the_v1_plugin_creates_its_quantized_checkpoint_itself() -> None:
    code, findings = migrate(
        'from vllm import LLM\n'
        'llm = LLM(model="/m", quantization="neuron_quant",\n'
        '          additional_config={"override_neuron_config": {"skip_warmup": True}})\n')
    assert '"quantized": True' in code and "quantization=" not in code
    assert [f.code for f in findings if not f.fixed] == []


def test_quantization_only_is_enough_to_be_screened_in() -> None:
    program = b'from vllm import LLM\nllm = LLM(model="m", quantization="neuron_quant")\n'
    result, data = process_bytes(program, Options(), "serve.py")
    assert result.changed and b'"quantized": True' in data
