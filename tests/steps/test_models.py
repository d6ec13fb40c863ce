"""TNX2xx: model classes by family, matched by what was imported, never by name alone."""

from __future__ import annotations

import pytest

from tests.helpers import assert_unchanged, codes, migrate


@pytest.mark.parametrize(("module", "cls", "family"), [
    ("transformers_neuronx.gpt2.model", "GPT2ForSampling", "GPT-2"),
    ("transformers_neuronx", "GPT2ForSamplingWithContextBroadcasting", "GPT-2"),
    ("transformers_neuronx", "GPTJForSampling", "GPT-J"),
    ("transformers_neuronx.gptneox.model", "GPTNeoXForSampling", "GPT-NeoX"),
    ("transformers_neuronx", "BloomForSampling", "BLOOM"),
    ("transformers_neuronx.opt.model", "OPTForSampling", "OPT"),
])
def test_unsupported_families_are_left_with_a_marker(module: str, cls: str, family: str) -> None:
    source = f"from {module} import {cls}\nm = {cls}.from_pretrained('/p', tp_degree=2)\n" \
             "m.to_neuron()\n"
    code, findings = migrate(source)
    assert codes(findings) == ["TNX203"]
    assert f"TNX203 {family} has no NxDI model" in code
    assert code.replace(code.splitlines()[1] + "\n", "") == source  # nothing else changed


@pytest.mark.parametrize(("cls", "application"), [
    ("LlamaForSampling", "NeuronLlamaForCausalLM"),
    ("MistralForSampling", "NeuronLlamaForCausalLM"),
    ("MixtralForSampling", "NeuronMixtralForCausalLM"),
])
def test_supported_families(cls: str, application: str) -> None:
    code, findings = migrate(f"from transformers_neuronx import {cls}\n"
                             f"m = {cls}.from_pretrained('/p')\n")
    assert f"m = {application}('/p', config)" in code
    assert ("TNX202" in codes(findings)) == (cls == "MistralForSampling")


@pytest.mark.parametrize(("checkpoint", "application"), [
    ("'meta-llama/CodeLlama-7b-hf'", "NeuronLlamaForCausalLM"),
    ("'/models/Mixtral-8x7B'", "NeuronMixtralForCausalLM"),
])
def test_auto_model_resolved_from_a_literal_checkpoint(checkpoint: str, application: str) -> None:
    code, _ = migrate("from transformers_neuronx import NeuronAutoModelForCausalLM as Auto\n"
                      f"m = Auto.from_pretrained({checkpoint})\n")
    assert f"m = {application}(" in code


def test_auto_model_of_unknown_family_is_left_with_a_marker() -> None:
    code, findings = migrate("from transformers_neuronx import NeuronAutoModelForCausalLM\n"
                             "m = NeuronAutoModelForCausalLM.from_pretrained('/models/phi')\n")
    assert codes(findings) == ["TNX204"]
    assert "NeuronAutoModelForCausalLM.from_pretrained('/models/phi')" in code


def test_a_local_class_shadowing_the_import_is_not_tnx() -> None:
    assert_unchanged(
        "def f():\n"
        "    class LlamaForSampling:\n"
        "        pass\n"
        "    return LlamaForSampling\n"
    )


def test_a_function_local_import_does_not_leak_into_other_functions() -> None:
    source = (
        "from transformers_neuronx import NeuronConfig\n"
        "def a():\n"
        "    from transformers_neuronx import LlamaForSampling\n"
        "    return LlamaForSampling\n"
        "def b(LlamaForSampling):\n"
        "    return LlamaForSampling.from_pretrained('/p')\n"
    )
    code, findings = migrate(source)
    assert "return LlamaForSampling.from_pretrained('/p')" in code
    assert "TNX201" not in codes(findings)


def test_two_statements_on_one_line_are_left_as_they_are() -> None:
    code, findings = migrate("from transformers_neuronx import LlamaForSampling\n"
                             "x = 1; m = LlamaForSampling.from_pretrained('/p')\n")
    assert "TNX901" in codes(findings)
    assert "x = 1; m = LlamaForSampling.from_pretrained('/p')" in code


def test_generated_names_avoid_the_programs_own() -> None:
    code, _ = migrate("from transformers_neuronx import LlamaForSampling\n"
                      "config = {'debug': True}\nneuron_config = None\n"
                      "m = LlamaForSampling.from_pretrained('/p')\n")
    assert "m_neuron_config = NeuronConfig(" in code
    assert "inference_config = LlamaInferenceConfig(m_neuron_config," in code
    assert "config = {'debug': True}" in code


def test_self_attribute_models_in_classes() -> None:
    code, _ = migrate(
        "from transformers_neuronx import LlamaForSampling\n"
        "class S:\n"
        "    def __init__(self):\n"
        "        self.m = LlamaForSampling.from_pretrained('/p')\n"
        "        self.m.to_neuron()\n"
        "    def go(self, ids):\n"
        "        return self.m.sample(ids, 32)\n"
    )
    assert "self.m = NeuronLlamaForCausalLM('/p', config)" in code
    assert "self.m.load(" in code
    assert "HuggingFaceGenerationAdapter(self.m).generate(" in code


def test_auto_model_family_from_a_config_json_next_to_the_script(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "ckpt").mkdir()
    (tmp_path / "ckpt" / "config.json").write_text('{"model_type": "mixtral"}')
    script = tmp_path / "serve.py"
    source = ("from transformers_neuronx import NeuronAutoModelForCausalLM\n"
              "m = NeuronAutoModelForCausalLM.from_pretrained('./ckpt')\n")
    code, _ = migrate(source, path=str(script))
    assert "m = NeuronMixtralForCausalLM('./ckpt', config)" in code
    code, findings = migrate(source, path=str(tmp_path / "elsewhere" / "serve.py"))
    assert codes(findings) == ["TNX204"]
