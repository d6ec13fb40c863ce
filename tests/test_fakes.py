"""Tests of the fake TNx / NxDI / vLLM packages and of the execution harness itself."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

try:
    from tests.execution import compare, requested, run_program
except ImportError:  # tests/ is not a package: pytest put tests/ itself on sys.path
    from execution import compare, requested, run_program

# The migration guide's Llama example (TNx side). The guide passes a bare NeuronConfig(), but
# save(sharded_weights=True) asserts on_device_embedding=True (TNx base.py save).
TNX_GUIDE = """
from transformers_neuronx import LlamaForSampling, NeuronConfig

neuron_config = NeuronConfig(on_device_embedding=True)
model_neuron = LlamaForSampling.from_pretrained(
    'openlm-research/open_llama_3b', batch_size=1, tp_degree=8, n_positions=128,
    neuron_config=neuron_config)
model_neuron.to_neuron()
model_neuron.save('llama-artifacts', sharded_weights=True)
"""

NXDI_GUIDE = """
import torch
from neuronx_distributed_inference.models.config import NeuronConfig
from neuronx_distributed_inference.models.llama.modeling_llama import (
    LlamaInferenceConfig, NeuronLlamaForCausalLM)
from neuronx_distributed_inference.utils.hf_adapter import load_pretrained_config

model_path = 'openlm-research/open_llama_3b'
neuron_config = NeuronConfig(batch_size=1, {tp}seq_len=128, torch_dtype=torch.float32,
                             enable_bucketing=True, save_sharded_checkpoint=True)
config = LlamaInferenceConfig(neuron_config, load_config=load_pretrained_config(model_path))
model = NeuronLlamaForCausalLM(model_path, config)
model.compile('llama-artifacts')
"""
NXDI_FAITHFUL = NXDI_GUIDE.replace("{tp}", "tp_degree=8, ")
NXDI_NO_TP = NXDI_GUIDE.replace("{tp}", "")

NXDI_PRELUDE = """
import torch
from neuronx_distributed_inference.models.config import (
    MoENeuronConfig, NeuronConfig, OnDeviceSamplingConfig)
from neuronx_distributed_inference.models.llama.modeling_llama import (
    LlamaInferenceConfig, NeuronLlamaForCausalLM)
from neuronx_distributed_inference.models.mixtral.modeling_mixtral import (
    MixtralInferenceConfig, NeuronMixtralForCausalLM)
from neuronx_distributed_inference.utils.hf_adapter import (
    HuggingFaceGenerationAdapter, load_pretrained_config)
"""


def _nxdi(body: str, tmp_path: Path, version: str = "2.29") -> list[dict]:
    return run_program(NXDI_PRELUDE + body, "nxdi", tmp_path=tmp_path, nxdi_version=version)


def _tnx(body: str, tmp_path: Path) -> list[dict]:
    return run_program("import torch\nimport transformers_neuronx as tnx\n" + body, "tnx",
                       tmp_path=tmp_path)


# --- the migration guide example -------------------------------------------------------------

def test_guide_example_and_faithful_migration_compare_equal(tmp_path: Path) -> None:
    tnx = run_program(TNX_GUIDE, "tnx", tmp_path=tmp_path)
    nxdi = run_program(NXDI_FAITHFUL, "nxdi", tmp_path=tmp_path)
    assert [e["kind"] for e in tnx] == ["model_init", "compile", "load", "save"]
    assert [e["kind"] for e in nxdi] == ["model_init", "compile"]
    expected = {"tp_degree": 8, "batch_size": 1, "seq_len": 128, "torch_dtype": "float32",
                "enable_bucketing": True}
    assert tnx[0]["config"] == expected
    assert nxdi[0]["config"] == {**expected, "save_sharded_checkpoint": True}
    assert compare(tnx, nxdi) == []


def test_unfaithful_migration_without_tp_degree_differs(tmp_path: Path) -> None:
    tnx = run_program(TNX_GUIDE, "tnx", tmp_path=tmp_path)
    diffs = compare(tnx, run_program(NXDI_NO_TP, "nxdi", tmp_path=tmp_path))
    assert diffs == ["model 0: config tp_degree: tnx=8 nxdi=1"]


def test_presharded_save_needs_save_sharded_checkpoint(tmp_path: Path) -> None:
    tnx = run_program(TNX_GUIDE, "tnx", tmp_path=tmp_path)
    source = NXDI_FAITHFUL.replace("save_sharded_checkpoint=True", "")
    assert any("save_sharded_checkpoint" in d for d in compare(tnx, _nxdi(source, tmp_path)))


def test_guide_literal_tnx_example_fails_presharded_assert(tmp_path: Path) -> None:
    source = TNX_GUIDE.replace("NeuronConfig(on_device_embedding=True)", "NeuronConfig()")
    with pytest.raises(AssertionError, match="on_device_embedding"):
        run_program(source, "tnx", tmp_path=tmp_path)


def test_missing_torch_dtype_is_checkpoint_and_differs(tmp_path: Path) -> None:
    source = NXDI_FAITHFUL.replace("torch_dtype=torch.float32,", "")
    nxdi = run_program(source, "nxdi", tmp_path=tmp_path)
    assert nxdi[0]["config"]["torch_dtype"] == "checkpoint"
    diffs = compare(run_program(TNX_GUIDE, "tnx", tmp_path=tmp_path), nxdi)
    assert len(diffs) == 1 and "torch_dtype" in diffs[0]


# --- NxDI strictness -------------------------------------------------------------------------

@pytest.mark.parametrize("body, error", [
    ("NeuronConfig(is_continous_batching=True)", TypeError),
    ("OnDeviceSamplingConfig(global_top_k=256)", TypeError),
    ("NeuronConfig(on_device_sampling_config={'global_top_k': 256})", TypeError),
    ("NeuronConfig(torch_dtype='bf16')", AssertionError),
    ("NeuronConfig(quantized=True)", AssertionError),
    ("NeuronConfig(seq_len=128, context_encoding_buckets=[256])", AssertionError),
    ("NeuronConfig(capacity_factor=1.0)", TypeError),
    ("NeuronConfig(async_mode=True)", None),
    ("NeuronConfig(is_continuous_batching=True, max_batch_size=4, tkg_batch_size=4)", None),
    ("OnDeviceSamplingConfig(global_topk=256, top_k=1)", None),
    ("MoENeuronConfig(capacity_factor=1.0, moe_tp_degree=2)", None),
])
def test_nxdi_config_keywords(body: str, error: type[Exception] | None, tmp_path: Path) -> None:
    if error is None:
        _nxdi(body, tmp_path)
    else:
        with pytest.raises(error):
            _nxdi(body, tmp_path)


@pytest.mark.parametrize("source", [
    "from neuronx_distributed_inference.models.llama import NeuronLlamaForCausalLM",
    "from neuronx_distributed_inference.models.llama import LlamaNeuronConfig",
    "from neuronx_distributed_inference.models.llama.modeling_llama import LlamaNeuronConfig",
    "from neuronx_distributed_inference import NeuronConfig",
    "import transformers_neuronx",
])
def test_nxdi_imports_that_must_fail(source: str, tmp_path: Path) -> None:
    with pytest.raises(ImportError):
        run_program(source, "nxdi", tmp_path=tmp_path)


def test_tnx_side_cannot_import_nxdi(tmp_path: Path) -> None:
    with pytest.raises(ImportError):
        run_program("import neuronx_distributed_inference.models.config", "tnx", tmp_path=tmp_path)


@pytest.mark.parametrize("version, accepted, rejected", [
    ("2.21", "async", "async_mode"),
    ("2.29", "async_mode", "async"),
    ("2.21", "is_paged_attention", "is_block_kv_layout"),
    ("2.22", "is_block_kv_layout", "is_paged_attention"),
    ("2.23", "is_chunked_prefill", "chunked_prefill_config"),
    ("2.24", "chunked_prefill_config", "is_chunked_prefill"),
])
def test_nxdi_keywords_follow_release(version: str, accepted: str, rejected: str,
                                      tmp_path: Path) -> None:
    _nxdi(f"NeuronConfig(**{{{accepted!r}: None}})", tmp_path, version)
    with pytest.raises(TypeError, match=rejected):
        _nxdi(f"NeuronConfig(**{{{rejected!r}: None}})", tmp_path, version)


@pytest.mark.parametrize("version, sharded, do_sample", [
    ("2.21", True, True), ("2.22", True, False), ("2.23", False, False), ("2.29", False, False)])
def test_nxdi_release_defaults(version: str, sharded: bool, do_sample: bool,
                               tmp_path: Path) -> None:
    events = _nxdi(f"""
nc = NeuronConfig(tp_degree=2, on_device_sampling_config={{'top_k': 1}})
assert nc.on_device_sampling_config.do_sample is {do_sample}
cfg = LlamaInferenceConfig(nc, load_config=load_pretrained_config('/m/llama'))
NeuronLlamaForCausalLM('/m/llama', cfg).compile('out')
""", tmp_path, version)
    assert events[-1] == {"kind": "compile", "path": "out", "save_sharded_checkpoint": sharded}


@pytest.mark.parametrize("body", [
    "NeuronMixtralForCausalLM('/m/mixtral', LlamaInferenceConfig(NeuronConfig(), "
    "load_config=load_pretrained_config('/m/mixtral')))",
    "NeuronMixtralForCausalLM('/m/mixtral', MixtralInferenceConfig(NeuronConfig(), "
    "load_config=load_pretrained_config('/m/mixtral')))",
    "NeuronLlamaForCausalLM('/m/llama', LlamaInferenceConfig(MoENeuronConfig(), "
    "load_config=load_pretrained_config('/m/llama')))",
])
def test_nxdi_class_pairing_is_enforced(body: str, tmp_path: Path) -> None:
    with pytest.raises(TypeError):
        _nxdi(body, tmp_path)


@pytest.mark.parametrize("body, error", [
    ("LlamaInferenceConfig(NeuronConfig(), load_config=load_pretrained_config)", AssertionError),
    ("LlamaInferenceConfig(NeuronConfig())", AssertionError),
    ("LlamaInferenceConfig(NeuronConfig(), load_config=load_pretrained_config())", ValueError),
])
def test_nxdi_load_config_hook(body: str, error: type[Exception], tmp_path: Path) -> None:
    with pytest.raises(error):
        _nxdi(body, tmp_path)


LLAMA_APP = """
nc = NeuronConfig(tp_degree=8, batch_size=1, seq_len=256, torch_dtype=torch.bfloat16)
cfg = LlamaInferenceConfig(nc, load_config=load_pretrained_config('/m/llama'))
model = NeuronLlamaForCausalLM('/m/llama', cfg)
"""


@pytest.mark.parametrize("body, error", [
    ("model.load('never-compiled')", FileNotFoundError),
    ("model.compile('out'); HuggingFaceGenerationAdapter(model)", RuntimeError),
    ("model(torch.ones(1, 4))", RuntimeError),
    ("model.compile('out'); model.load('out'); "
     "HuggingFaceGenerationAdapter(model).generate(torch.ones(1, 4), top_kk=5)", TypeError),
])
def test_nxdi_runtime_order_and_generate_kwargs(body: str, error: type[Exception],
                                                tmp_path: Path) -> None:
    with pytest.raises(error):
        _nxdi(LLAMA_APP + body, tmp_path)


def test_nxdi_generation_config_then_kwargs_win(tmp_path: Path) -> None:
    events = _nxdi(LLAMA_APP + """
from transformers import GenerationConfig
model.compile('out')
model.load('out')
gc = GenerationConfig(do_sample=True, top_k=5, top_p=0.9, temperature=0.7)
out = HuggingFaceGenerationAdapter(model).generate(
    torch.ones(2, 10), generation_config=gc, max_new_tokens=20, top_k=7)
assert out.shape == (2, 30)
""", tmp_path)
    assert requested(events)[-1] == {"kind": "generate", "max_length": 30, "do_sample": True,
                                     "top_k": 7, "top_p": 0.9, "temperature": 0.7}


# --- TNx faithfulness ------------------------------------------------------------------------

@pytest.mark.parametrize("body, error", [
    ("tnx.NeuronConfig(fused_qkv=True)", AssertionError),
    ("tnx.ContinuousBatchingConfig(8)", TypeError),
    ("tnx.ContinuousBatchingConfig(block_size=128, max_num_seqs=8)", AssertionError),
    ("tnx.NeuronConfig(group_query_attention='replicated_heads')", ValueError),
    ("tnx.QuantizationConfig(quant_dtype='int8')", NotImplementedError),
    ("tnx.BloomForSampling.from_pretrained('/m/bloom', bogus=1)", KeyError),
    ("tnx.GPTJForSampling.from_pretrained('/m/gptj', context_length_estimate=128)", KeyError),
    ("tnx.LlamaForSampling.from_pretrained('/m/llama', n_positions=128,"
     " context_length_estimate=256)", AssertionError),
    ("m = tnx.LlamaForSampling.from_pretrained('/m/llama'); m.to_neuron(); "
     "m.sample(torch.ones(1, 4), sequence_length=64, temperature=1)", ValueError),
    ("m = tnx.BloomForSampling.from_pretrained('/m/bloom'); m.to_neuron(); "
     "m.sample(torch.ones(1, 4), sequence_length=64, top_p=0.9)", TypeError),
    ("tnx.LlamaForSampling.from_pretrained('/m/llama').sample(torch.ones(1, 4), 64)",
     RuntimeError),
    ("tnx.GPTJForSampling.from_pretrained('/m/gptj').save('out')", AttributeError),
])
def test_tnx_validation(body: str, error: type[Exception], tmp_path: Path) -> None:
    with pytest.raises(error):
        _tnx(body, tmp_path)


def test_tnx_llama_ignores_unknown_kwargs_and_normalizes(tmp_path: Path) -> None:
    events = _tnx("""
from transformers_neuronx.config import KVCacheQuantizationConfig
nc = tnx.NeuronConfig(
    fuse_qkv=True, attention_layout=tnx.Layout.BSH, group_query_attention='replicated-heads',
    continuous_batching=tnx.ContinuousBatchingConfig(batch_size_for_shared_caches=4),
    on_device_generation=tnx.GenerationConfig(top_k=1, global_top_k=64),
    quant=tnx.QuantizationConfig(dequant_dtype='bf16'), kv_cache_quant=KVCacheQuantizationConfig(),
    all_reduce_dtype='bfloat16', shard_over_sequence=True)
m = tnx.LlamaForSampling.from_pretrained('/m/llama', batch_size=4, tp_degree=8, amp='bf16',
    n_positions=[512, 256], context_length_estimate=[128, 64], neuron_config=nc, typo_kw=3)
""", tmp_path)
    event = events[0]
    assert event["ignored_kwargs"] == {"typo_kw": 3}
    assert event["config"] == {
        "tp_degree": 8, "batch_size": 4, "seq_len": 512, "torch_dtype": "bfloat16",
        "token_generation_buckets": [256, 512], "context_encoding_buckets": [64, 128],
        "enable_bucketing": True, "fused_qkv": True, "is_continuous_batching": True,
        "max_batch_size": 4, "tkg_batch_size": 4, "quantized": True,
        "quantization_dtype": "int8", "quantization_type": "per_channel_symmetric",
        "modules_to_not_convert": ["lm_head"], "padding_side": "right",
        "kv_cache_quant": True, "rpl_reduce_dtype": "bfloat16", "flash_decoding_enabled": True,
        "on_device_sampling_config": {"do_sample": False, "top_k": 1, "dynamic": False,
                                      "deterministic": False, "global_topk": 64},
    }
    assert event["tnx_only"]["attention_layout"] == "BSH"
    assert event["tnx_only"]["group_query_attention"] == "replicated-heads"


def test_tnx_reload_flow_matches_nxdi_reopen(tmp_path: Path) -> None:
    tnx = _tnx("""
args = dict(batch_size=1, tp_degree=2, n_positions=256, amp='bf16')
m = tnx.LlamaForSampling.from_pretrained('/m/llama', **args)
m.to_neuron()
m.save('artifacts')
m = tnx.LlamaForSampling.from_pretrained('/m/llama', **args)
m.load('artifacts')
m.to_neuron()
with torch.inference_mode():
    m.sample(torch.ones(1, 8), sequence_length=256, top_k=1)
""", tmp_path)
    nxdi = _nxdi("""
nc = NeuronConfig(tp_degree=2, batch_size=1, seq_len=256, torch_dtype='bfloat16',
                  enable_bucketing=True)
cfg = LlamaInferenceConfig(nc, load_config=load_pretrained_config('/m/llama'))
NeuronLlamaForCausalLM('/m/llama', cfg).compile('artifacts')
model = NeuronLlamaForCausalLM('artifacts')
model.load('artifacts')
HuggingFaceGenerationAdapter(model).generate(torch.ones(1, 8), max_length=256)
""", tmp_path)
    assert [e["kind"] for e in tnx] == ["model_init", "compile", "load", "save", "model_init",
                                        "load_request", "load", "generate"]
    assert nxdi[2]["config"] == nxdi[0]["config"]
    assert compare(tnx, nxdi) == []


def test_continuous_batching_and_on_device_sampling_migration(tmp_path: Path) -> None:
    tnx = _tnx("""
nc = tnx.NeuronConfig(
    continuous_batching=tnx.ContinuousBatchingConfig(max_num_seqs=4),
    on_device_generation=tnx.GenerationConfig(top_k=1, do_sample=False), fuse_qkv=True,
    attention_layout='BSH')
m = tnx.LlamaForSampling.from_pretrained('/m/llama', batch_size=4, tp_degree=32,
                                         n_positions=[1024], amp='bf16', neuron_config=nc)
m.to_neuron()
""", tmp_path)
    nxdi_source = """
nc = NeuronConfig(tp_degree=32, batch_size=4, seq_len=1024, torch_dtype=torch.bfloat16,
                  token_generation_buckets=[1024], enable_bucketing=True, fused_qkv=True,
                  %s=True, max_batch_size=4, tkg_batch_size=4, padding_side="right",
                  on_device_sampling_config=OnDeviceSamplingConfig(top_k=1))
cfg = LlamaInferenceConfig(nc, load_config=load_pretrained_config('/m/llama'))
NeuronLlamaForCausalLM('/m/llama', cfg).compile('out')
"""
    assert compare(tnx, _nxdi(nxdi_source % "is_continuous_batching", tmp_path)) == []
    with pytest.raises(TypeError, match="is_continous_batching"):
        _nxdi(nxdi_source % "is_continous_batching", tmp_path)


def test_mistral_matches_llama_and_sampling_settings_compared(tmp_path: Path) -> None:
    tnx = _tnx("""
m = tnx.MistralForSampling.from_pretrained('/m/mistral', tp_degree=2, n_positions=256, amp='f16')
m.to_neuron()
m.sample(torch.ones(1, 8), sequence_length=200, top_k=50, top_p=0.9, temperature=0.8)
""", tmp_path)
    nxdi_source = """
nc = NeuronConfig(tp_degree=2, seq_len=256, torch_dtype=torch.float16, enable_bucketing=True)
cfg = LlamaInferenceConfig(nc, load_config=load_pretrained_config('/m/mistral'))
model = NeuronLlamaForCausalLM('/m/mistral', cfg)
model.compile('out')
model.load('out')
HuggingFaceGenerationAdapter(model).generate(
    torch.ones(1, 8), max_length=200, do_sample=True, top_k=50, top_p=0.9, temperature=%s)
"""
    assert compare(tnx, _nxdi(nxdi_source % "0.8", tmp_path)) == []
    assert compare(tnx, _nxdi(nxdi_source % "1.0", tmp_path)) == [
        "generate 0: temperature: tnx=0.8 nxdi=1.0"]


def test_hf_adapter_and_auto_model(tmp_path: Path) -> None:
    events = _tnx("""
from transformers import AutoConfig, AutoTokenizer
m = tnx.NeuronAutoModelForCausalLM.from_pretrained('mistralai/Mistral-7B-v0.1', tp_degree=2)
m.to_neuron()
tok = AutoTokenizer.from_pretrained('mistralai/Mistral-7B-v0.1')
tok.pad_token = tok.eos_token
inputs = tok(['a b c', 'd'], return_tensors='pt', padding=True)
adapter = tnx.HuggingFaceGenerationModelAdapter(AutoConfig.from_pretrained('x'), m)
adapter.reset_generation()
out = adapter.generate(**inputs, do_sample=True, max_length=64, temperature=0.7)
assert out.shape == (2, 64)
assert len(tok.batch_decode(out)) == 2
""", tmp_path)
    assert events[0]["family"] == "mistral"
    assert requested(events)[-1] == {"kind": "generate", "max_length": 64, "do_sample": True,
                                     "top_k": 50, "top_p": 1.0, "temperature": 0.7}
    with pytest.raises(AssertionError):
        _tnx("tnx.NeuronAutoModelForCausalLM.from_pretrained('/models/unknown')", tmp_path)


# --- vLLM ------------------------------------------------------------------------------------

VLLM_PROGRAM = """
import os
from vllm import LLM, SamplingParams
%s
llm = LLM(model='/m/llama', tensor_parallel_size=8, max_num_seqs=4, max_model_len=2048,
          block_size=2048, device='neuron', override_neuron_config=%s)
llm.generate(['hello'], SamplingParams(top_k=1, max_tokens=32))
"""
ENV_NXDI = "os.environ['VLLM_NEURON_FRAMEWORK'] = 'neuronx-distributed-inference'"


def test_vllm_override_validation_and_comparison(tmp_path: Path) -> None:
    tnx = run_program(VLLM_PROGRAM % ("", "{'shard_over_sequence': True}"), "tnx",
                      tmp_path=tmp_path)
    nxdi = run_program(VLLM_PROGRAM % (ENV_NXDI, "{'flash_decoding_enabled': True}"), "nxdi",
                       tmp_path=tmp_path)
    assert tnx[0]["config"] == {"flash_decoding_enabled": True}
    assert compare(tnx, nxdi) == []
    with pytest.raises(TypeError):
        run_program(VLLM_PROGRAM % (ENV_NXDI, "{'shard_over_sequence': True}"), "nxdi",
                    tmp_path=tmp_path)
    unset = run_program(VLLM_PROGRAM % ("", "None"), "nxdi", tmp_path=tmp_path)
    assert any("framework" in d for d in compare(run_program(
        VLLM_PROGRAM % ("", "None"), "tnx", tmp_path=tmp_path), unset))


# --- harness ---------------------------------------------------------------------------------

def test_harness_restores_process_state(tmp_path: Path) -> None:
    before_path, before_cwd = list(sys.path), os.getcwd()
    events = run_program(f"""
import os, torch
os.environ['TNX2NXDI_PROBE'] = '1'
assert os.getcwd() == {str(tmp_path)!r}
assert str(torch.float32) == 'torch.float32'
""", "tnx", tmp_path=tmp_path)
    assert events == []
    assert "TNX2NXDI_PROBE" not in os.environ
    assert sys.path == before_path and os.getcwd() == before_cwd
    assert not {"torch", "transformers", "transformers_neuronx", "_fake_recorder"} & set(
        sys.modules)


def test_fake_torch_is_strict(tmp_path: Path) -> None:
    with pytest.raises(AttributeError):
        run_program("import torch\ntorch.compile", "tnx", tmp_path=tmp_path)
