"""TNX3xx: options translated through the mapping module; what cannot be translated is said."""

from __future__ import annotations

import pytest

from tests.helpers import codes, migrate

HEAD = "from transformers_neuronx import LlamaForSampling, NeuronConfig, GQA\n"


def config_of(call_args: str, config_args: str = "", **options: object) -> tuple[str, list[str]]:
    source = (HEAD + f"nc = NeuronConfig({config_args})\n"
              f"m = LlamaForSampling.from_pretrained('/p', {call_args}neuron_config=nc)\n")
    code, findings = migrate(source, **options)
    start = code.index("nc = NeuronConfig(")
    return code[start:code.index("\nconfig = ")], codes(findings)


@pytest.mark.parametrize(("amp", "dtype"), [("'f32'", "float32"), ("'f16'", "float16"),
                                            ("'bf16'", "bfloat16")])
def test_amp_becomes_torch_dtype(amp: str, dtype: str) -> None:
    config, _ = config_of(f"amp={amp}, ")
    assert f"torch_dtype=torch.{dtype}," in config


def test_defaults_are_carried_and_reported() -> None:
    config, found = config_of("")
    for expected in ("batch_size=1", "tp_degree=2", "seq_len=2048", "torch_dtype=torch.float32"):
        assert expected in config
    assert "TNX301" in found


def test_amp_in_a_variable_is_translated_at_run_time() -> None:
    config, found = config_of("amp=dtype, ")
    assert '{"f32": torch.float32, "f16": torch.float16, "bf16": torch.bfloat16}[dtype]' in config
    assert "TNX306" in found


def test_n_positions_list_sets_buckets() -> None:
    config, _ = config_of("n_positions=[1024, 512, 2048], ")
    assert "seq_len=2048," in config
    assert "token_generation_buckets=[512, 1024, 2048]," in config
    assert "enable_bucketing=True," in config


def test_n_positions_that_cannot_be_read_is_right_for_an_int_and_for_a_list() -> None:
    config, found = config_of("n_positions=sizes, ")
    assert "seq_len=sizes if isinstance(sizes, int) else max(sizes)," in config
    assert "token_generation_buckets=None if isinstance(sizes, int) else sorted(sizes)," in config
    assert "TNX306" in found


@pytest.mark.parametrize(("estimate", "expected"), [
    ("256", "context_encoding_buckets=[256],"),
    ("[512, 128]", "context_encoding_buckets=[128, 512],"),
])
def test_context_length_estimate(estimate: str, expected: str) -> None:
    config, _ = config_of(f"context_length_estimate={estimate}, ")
    assert expected in config and "enable_bucketing=True" in config


def test_disabled_context_encoding_has_no_equivalent() -> None:
    config, found = config_of("context_length_estimate=0, ")
    assert "context_encoding_buckets" not in config
    assert "TNX303" in found


def test_option_at_its_tnx_default_is_dropped_quietly() -> None:
    config, found = config_of("", "attention_layout='HSB', fuse_qkv=False, "
                                  "group_query_attention=None")
    assert "attention_layout" not in config and "fused_qkv=False" in config
    assert "TNX303" not in found


def test_option_with_no_equivalent_is_named_and_marked() -> None:
    code, findings = migrate(HEAD + "nc = NeuronConfig(sparse_attn=sparse)"
                             "\nm = LlamaForSampling.from_pretrained('/p', neuron_config=nc)\n")
    assert "# TODO(tnx2nxdi): TNX303 sparse_attn=sparse has no NxDI" in code


def test_option_dropped_without_a_change_in_results_leaves_no_marker() -> None:
    code, findings = migrate(HEAD + "nc = NeuronConfig(group_query_attention=GQA.SHARD_OVER_HEADS)"
                             "\nm = LlamaForSampling.from_pretrained('/p', neuron_config=nc)\n")
    assert "TODO(tnx2nxdi)" not in code
    dropped = [f for f in findings if f.code == "TNX303"]
    assert [f.fixed for f in dropped] == [True]
    assert "group_query_attention=GQA.SHARD_OVER_HEADS dropped" in dropped[0].message
    assert "transformers_neuronx" not in code  # GQA's import went with its only use


def test_gqa_constant_at_its_default_value_is_read_as_a_value() -> None:
    _, found = config_of("", "group_query_attention=GQA.REPLICATED_HEADS")
    assert "TNX303" in found  # REPLICATED_HEADS is not the default (None)


def test_misspelled_option_is_removed_with_a_finding() -> None:
    config, found = config_of("", "grouped_query_attention='shard-over-heads'")
    assert "grouped_query_attention" not in config
    assert "TNX303" in found


def test_deprecated_lhs_aligned_is_right_padding() -> None:
    config, _ = config_of("", "lhs_aligned=True")
    assert 'padding_side="right"' in config


def test_quantization_positional_arguments() -> None:
    code, findings = migrate(
        "from transformers_neuronx import LlamaForSampling, NeuronConfig, QuantizationConfig\n"
        "nc = NeuronConfig(quant=QuantizationConfig('f8e4m3fn', 'bf16', 'direct_cast'))\n"
        "m = LlamaForSampling.from_pretrained('/p', amp='bf16', neuron_config=nc)\n"
    )
    assert 'quantization_dtype="f8e4m3"' in code
    # direct_cast is per-tensor, which cannot keep lm_head in full precision as TNx did
    assert 'quantization_type="per_channel_symmetric"' in code
    assert 'modules_to_not_convert=["lm_head"]' in code
    assert any(f.code == "TNX303" and f.fixed and "per_tensor_symmetric" in f.message
               for f in findings)
    assert "quantized=True" in code and "quantized_checkpoints_path=" in code


def test_continuous_batching_spelling_is_the_real_one() -> None:
    code, _ = migrate(
        "from transformers_neuronx import ContinuousBatchingConfig as CB, LlamaForSampling\n"
        "from transformers_neuronx import NeuronConfig\n"
        "m = LlamaForSampling.from_pretrained('/p', batch_size=4, neuron_config=NeuronConfig("
        "continuous_batching=CB(max_num_seqs=4)))\n"
    )
    assert "is_continuous_batching=True" in code and "is_continous_batching" not in code
    assert "max_batch_size=4" in code and "tkg_batch_size=4" in code


def test_on_device_sampling_for_2_21_writes_do_sample_explicitly() -> None:
    code, _ = migrate(
        "from transformers_neuronx import LlamaForSampling, NeuronConfig\n"
        "from transformers_neuronx.config import GenerationConfig\n"
        "m = LlamaForSampling.from_pretrained('/p', neuron_config=NeuronConfig("
        "on_device_generation=GenerationConfig(global_top_k=64)))\n",
        target_version="2.21",
    )
    assert "OnDeviceSamplingConfig(do_sample=False, top_k=50, global_topk=64)" in code
    assert "global_top_k" not in code


@pytest.mark.parametrize("config_args", ["**settings", "quant=make_quant()",
                                         "quant=QuantizationConfig(**q)"])
def test_dynamic_configs_are_left_as_they_are(config_args: str) -> None:
    source = ("from transformers_neuronx import LlamaForSampling, NeuronConfig, QuantizationConfig"
              f"\nnc = NeuronConfig({config_args})\n"
              "m = LlamaForSampling.from_pretrained('/p', neuron_config=nc)\n")
    code, findings = migrate(source)
    assert code.endswith(source.split("\n", 1)[1].split("\n", 1)[1])  # construction untouched
    assert "TNX901" in codes(findings)
    assert "from transformers_neuronx import" in code


def test_quant_none_is_the_default() -> None:
    config, found = config_of("", "quant=None")
    assert "quantized" not in config and "TNX303" not in found


def test_a_list_of_batch_sizes_becomes_its_maximum_with_a_finding() -> None:
    config, found = config_of("batch_size=[1, 4], ")
    assert "batch_size=4," in config
    assert "TNX306" in found


def test_batch_size_in_a_variable_is_copied() -> None:
    config, found = config_of("batch_size=n, ")
    assert "batch_size=n," in config and "TNX306" not in found


def test_continuous_batching_pads_on_the_right_as_tnx_did() -> None:
    code, _ = migrate(
        "from transformers_neuronx import ContinuousBatchingConfig, LlamaForSampling\n"
        "from transformers_neuronx import NeuronConfig\n"
        "nc = NeuronConfig(continuous_batching=ContinuousBatchingConfig(max_num_seqs=2),"
        " padding_side='left')\n"
        "m = LlamaForSampling.from_pretrained('/p', batch_size=2, neuron_config=nc)\n"
    )
    assert 'padding_side="right"' in code and "padding_side='left'" not in code
