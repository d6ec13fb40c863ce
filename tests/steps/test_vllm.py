"""TNX6xx: vLLM programs for Neuron select NxDI and get their override_neuron_config translated
through the option mapping; GPU programs, programs already on NxDI and look-alike classes are
left alone. Fixture pairs live in fixtures/vllm; each migrated fixture is also run against the
fake vLLM (which rejects keys NxDI does not read) and compared with its original."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.execution import NXDI_FRAMEWORK, compare, requested, run_program
from tests.helpers import FIXTURES, assert_migrated, assert_unchanged, codes
from tests.test_execution import executable, prepare
from tests.test_fixtures import _options
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


def test_speculation_with_one_sequence_is_fine() -> None:
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
