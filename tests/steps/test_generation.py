"""TNX5xx: sample() and the TNx adapter become NxDI generation with the same sampling."""

from __future__ import annotations

import pytest

from tests.helpers import codes, migrate

HEAD = ("from transformers_neuronx import LlamaForSampling\n"
        "m = LlamaForSampling.from_pretrained('/p')\nm.to_neuron()\n")


def generated(call: str) -> tuple[str, list[str]]:
    code, findings = migrate(HEAD + f"out = {call}\n")
    return code[code.index("out = "):], codes(findings)


@pytest.mark.parametrize(("call", "expected"), [
    ("m.sample(ids, 64)", "max_length=64, do_sample=True, top_k=50"),
    ("m.sample(ids, 64, top_k=1)", "max_length=64, do_sample=False)"),
    ("m.sample(input_ids=ids, sequence_length=64, top_k=k)",
     "max_length=64, do_sample=k != 1, top_k=k"),
])
def test_sampling_is_the_same(call: str, expected: str) -> None:
    code, found = generated(call)
    assert expected in code.replace("\n", " ").replace("(     ", "(").replace(",     ", ", ")
    assert "TNX501" in found


@pytest.mark.parametrize("call", [
    "m.sample(ids, 64, stopping_criteria_list=criteria)",
    "m.sample(ids, 64, None, None, 5)",
    "m.sample(ids, **kwargs)",
    "m.sample(ids, 64, cache_ids=positions)",
])
def test_unsupported_sample_calls_are_left_with_a_marker(call: str) -> None:
    code, found = generated(call)
    assert "TNX502" in found
    assert f"out = {call}" in code


def test_adapter_with_keyword_arguments() -> None:
    code, found = migrate(
        "from transformers_neuronx import HuggingFaceGenerationModelAdapter as A\n"
        "adapter = A(config=cfg, model=neuron_model)\n"
        "adapter.reset_generation()\n"
        "adapter.generate(input_ids=ids, max_length=32)\n"
    )
    assert "adapter = HuggingFaceGenerationAdapter(neuron_model)\n" in code
    assert "reset_generation" not in code
    assert codes(found) == ["TNX101", "TNX504", "TNX505"]


def test_adapter_subclass_is_left_for_a_person() -> None:
    source = (
        "from transformers_neuronx.generation_utils import HuggingFaceGenerationModelAdapter\n"
        "class Batched(HuggingFaceGenerationModelAdapter):\n"
        "    pass\n"
    )
    code, found = migrate(source)
    # A subclass of a TNx class is built on TNx: one file-level finding, nothing rewritten.
    assert codes(found) == ["TNX920"]
    assert code.endswith(source)
