"""TNX4xx: to_neuron/save/load become compile/load, in the right order, and only when needed."""

from __future__ import annotations

from tests.helpers import codes, migrate

HEAD = ("from transformers_neuronx import LlamaForSampling\n"
        "m = LlamaForSampling.from_pretrained('/m/x')\n")


def lifecycle(body: str, **options: object) -> tuple[str, list[str]]:
    code, findings = migrate(HEAD + body, **options)
    return code[code.index("m = NeuronLlamaForCausalLM"):], codes(findings)


def test_compile_only_when_the_model_is_never_run() -> None:
    code, found = lifecycle("m.to_neuron()\n")
    assert code.endswith('config)\nm.compile("x-nxdi-compiled")\n')
    assert "TNX401" in found


def test_compile_and_load_when_the_model_runs_afterwards() -> None:
    code, _ = lifecycle("m.to_neuron()\nprint(m)\n")
    assert 'm.compile("x-nxdi-compiled")\nm.load("x-nxdi-compiled")\nprint(m)' in code


def test_compiled_model_path_option() -> None:
    code, _ = lifecycle("m.to_neuron()\n", compiled_model_path="/srv/compiled")
    assert 'm.compile("/srv/compiled")' in code


def test_sharded_weights_from_a_variable_is_passed_through() -> None:
    code, _ = migrate(HEAD + "m.to_neuron()\nm.save('out', sharded_weights=presharded)\n")
    assert "save_sharded_checkpoint=presharded" in code


def test_save_without_sharding_on_new_releases_needs_no_flag() -> None:
    code, _ = migrate(HEAD + "m.to_neuron()\nm.save('out')\n")
    assert "save_sharded_checkpoint" not in code


def test_load_of_tnx_artifacts_needs_a_person() -> None:
    code, found = lifecycle("m.load('artifacts')\nm.to_neuron()\n")
    assert "TNX403" in found
    assert "to_neuron" not in code and "m.load('artifacts')" in code


def test_a_to_neuron_result_used_as_a_value_is_not_rewritten() -> None:
    code, found = lifecycle("ready = m.to_neuron()\n")
    assert "TNX902" in found and "ready = m.to_neuron()" in code


def test_reset_stays_unknown_methods_are_marked() -> None:
    code, found = lifecycle("m.to_neuron()\nm.reset()\nm.enable_speculative_decoder(4)\n")
    assert "m.reset()" in code
    assert "TNX902" in found
    assert "# TODO(tnx2nxdi): TNX902 enable_speculative_decoder() has no NxDI" in code
