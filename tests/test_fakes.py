"""Tests of the fake TNx / NxDI / vLLM packages and of the execution harness itself."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest

try:
    from tests.execution import compare, requested, run_pair, run_program
except ImportError:  # tests/ is not a package: pytest put tests/ itself on sys.path
    from execution import compare, requested, run_pair, run_program

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

from huggingface_hub import snapshot_download
model_path = {download}
neuron_config = NeuronConfig(batch_size=1, {tp}seq_len=128, torch_dtype=torch.float32,
                             enable_bucketing=True, save_sharded_checkpoint=True)
config = LlamaInferenceConfig(neuron_config, load_config=load_pretrained_config(model_path))
model = NeuronLlamaForCausalLM(model_path, config)
model.compile('llama-artifacts')
"""
NXDI_GUIDE = NXDI_GUIDE.replace("{download}", "snapshot_download('openlm-research/open_llama_3b')")
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


#: Local checkpoints the NxDI-only programs below read (the fake's default config.json).
CHECKPOINTS: dict[str, dict] = {"/m/llama": {}, "/m/mistral": {}, "/m/mixtral": {}}


def _nxdi(body: str, tmp_path: Path, version: str = "2.29",
          checkpoints: dict[str, dict] | None = None) -> list[dict]:
    return run_program(NXDI_PRELUDE + body, "nxdi", tmp_path=tmp_path, nxdi_version=version,
                       checkpoints={**CHECKPOINTS, **(checkpoints or {})})


def _kinds(events: list[dict]) -> list[str]:
    return [e["kind"] for e in events if e["kind"] not in ("checkpoint", "hub_download")]


def _tnx(body: str, tmp_path: Path) -> list[dict]:
    return run_program("import torch\nimport transformers_neuronx as tnx\n" + body, "tnx",
                       tmp_path=tmp_path)


# --- the migration guide example -------------------------------------------------------------

def test_guide_example_and_faithful_migration_compare_equal(tmp_path: Path) -> None:
    tnx, nxdi = run_pair(TNX_GUIDE, NXDI_FAITHFUL, tmp_path=tmp_path)
    assert _kinds(tnx) == ["model_init", "compile", "load", "save"]
    assert _kinds(nxdi) == ["model_init", "compile"]
    expected = {"tp_degree": 8, "batch_size": 1, "seq_len": 128, "torch_dtype": "float32",
                "enable_bucketing": True}
    assert tnx[0]["config"] == expected
    assert nxdi[1]["config"] == {**expected, "save_sharded_checkpoint": True}
    assert compare(tnx, nxdi) == []


def test_guide_example_without_download_fails_on_its_hub_id(tmp_path: Path) -> None:
    source = NXDI_FAITHFUL.replace(
        "snapshot_download('openlm-research/open_llama_3b')", "'openlm-research/open_llama_3b'")
    with pytest.raises(ValueError, match="'openlm-research/open_llama_3b/', a Hugging Face hub id"):
        run_pair(TNX_GUIDE, source, tmp_path=tmp_path)  # compile() pre-shards the weights


def test_unfaithful_migration_without_tp_degree_differs(tmp_path: Path) -> None:
    diffs = compare(*run_pair(TNX_GUIDE, NXDI_NO_TP, tmp_path=tmp_path))
    assert diffs == ["model 0: config tp_degree: tnx=8 nxdi=1"]


def test_presharded_save_needs_save_sharded_checkpoint(tmp_path: Path) -> None:
    source = NXDI_FAITHFUL.replace("save_sharded_checkpoint=True", "")
    diffs = compare(*run_pair(TNX_GUIDE, source, tmp_path=tmp_path))
    assert any("save_sharded_checkpoint" in d for d in diffs)


def test_guide_literal_tnx_example_fails_presharded_assert(tmp_path: Path) -> None:
    source = TNX_GUIDE.replace("NeuronConfig(on_device_embedding=True)", "NeuronConfig()")
    with pytest.raises(AssertionError, match="on_device_embedding"):
        run_program(source, "tnx", tmp_path=tmp_path)


def test_missing_torch_dtype_is_checkpoint_and_differs(tmp_path: Path) -> None:
    source = NXDI_FAITHFUL.replace("torch_dtype=torch.float32,", "")
    tnx, nxdi = run_pair(TNX_GUIDE, source, tmp_path=tmp_path)
    assert requested(nxdi)[0]["config"]["torch_dtype"] == "checkpoint"
    diffs = compare(tnx, nxdi)
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


# --- checks of the real NxDI a migration can trip (each: the bad program fails, the good runs) ---

LLAMA = """
nc = NeuronConfig(tp_degree=8, seq_len=256, torch_dtype=torch.bfloat16{extra})
cfg = LlamaInferenceConfig(nc, load_config=load_pretrained_config({path!r}))
model = NeuronLlamaForCausalLM({path!r}, cfg)
"""
COMPILE_LOAD = "model.compile('out')\nmodel.load('out')\n"


def _llama(extra: str = "", path: str = "/m/llama") -> str:
    return LLAMA.format(extra=extra, path=path)


@pytest.mark.parametrize("body, error, match", [
    ("NeuronConfig(seq_len=[128, 256])", TypeError, "seq_len must be an int"),
    ("NeuronConfig(seq_len=[128, 256], max_new_tokens=8, max_context_length=128,"
     " max_length=256)", TypeError, "seq_len must be an int"),
    ("NeuronConfig(seq_len=256, max_context_length=[128])", TypeError, "max_context_length"),
    ("NeuronConfig(seq_len=256, max_length='256')", TypeError, "max_length must be an int"),
    ("NeuronConfig(seq_len=256, context_encoding_buckets=(128, 256))", AttributeError, "sort"),
    ("NeuronConfig(seq_len=256, token_generation_buckets=['256'])", TypeError, "ints"),
    ("NeuronConfig(seq_len=256, enable_bucketing=True, token_generation_buckets=[])",
     IndexError, "out of range"),
    ("NeuronConfig(seq_len=256, token_generation_buckets=[512])", AssertionError, "<= max_length"),
])
def test_nxdi_lengths_are_ints_and_buckets_lists_of_ints(body: str, error: type[Exception],
                                                         match: str, tmp_path: Path) -> None:
    with pytest.raises(error, match=match):
        _nxdi(body, tmp_path)


def test_nxdi_accepts_int_lengths_and_bucket_lists(tmp_path: Path) -> None:
    _nxdi("""
nc = NeuronConfig(seq_len=256, max_context_length=128, enable_bucketing=True,
                  context_encoding_buckets=[128, 64], token_generation_buckets=[256, 128])
assert nc.context_encoding_buckets == [64, 128] and nc.max_new_tokens == 128
""", tmp_path)


@pytest.mark.parametrize("path", ["/m/missing", "./missing", "out"])
def test_nxdi_config_needs_a_local_checkpoint_or_a_hub_id(path: str, tmp_path: Path) -> None:
    """out is the directory compile() wrote: neuron_config.json, no config.json."""
    with pytest.raises(OSError, match="config.json"):
        _nxdi(_llama() + f"model.compile('out')\n{_llama(path=path)}", tmp_path)


def test_nxdi_config_of_a_hub_id_is_downloaded(tmp_path: Path) -> None:
    events = _nxdi(_llama(path="meta-llama/Meta-Llama-3-8B") + "model.compile('out')", tmp_path)
    assert _kinds(events) == ["model_init", "compile"]  # 2.29 reads no weights in compile()


@pytest.mark.parametrize("version, program, error", [
    ("2.29", COMPILE_LOAD, ValueError),  # load(): _name_or_path is no local path: "org/name/"
    ("2.27", COMPILE_LOAD, ValueError),
    ("2.22", "model.compile('out')", FileNotFoundError),  # presharding by default: no hub
    ("2.21", "model.compile('out')", FileNotFoundError),
])
def test_nxdi_hub_id_fails_where_weights_are_read(version: str, program: str,
                                                   error: type[Exception], tmp_path: Path) -> None:
    with pytest.raises(error, match="'meta-llama/Meta-Llama-3-8B/', a Hugging Face hub id"):
        _nxdi(_llama(path="meta-llama/Meta-Llama-3-8B") + program, tmp_path, version)


@pytest.mark.parametrize("version", ["2.23", "2.26"])
def test_nxdi_2_23_to_2_26_download_the_hub_id_of_name_or_path(version: str,
                                                              tmp_path: Path) -> None:
    events = _nxdi(_llama(path="meta-llama/Meta-Llama-3-8B") + COMPILE_LOAD, tmp_path, version)
    assert _kinds(events)[-1] == "load"


@pytest.mark.parametrize("version", ["2.21", "2.22", "2.23", "2.29"])
def test_nxdi_downloaded_checkpoint_runs_everywhere(version: str, tmp_path: Path) -> None:
    events = _nxdi("from huggingface_hub import snapshot_download\n" + _llama(
        path="meta-llama/Meta-Llama-3-8B").replace(
        "'meta-llama/Meta-Llama-3-8B'", "snapshot_download('meta-llama/Meta-Llama-3-8B')")
        + COMPILE_LOAD, tmp_path, version)
    assert _kinds(events)[-2:] == ["compile", "load"]


def test_snapshot_download_into_a_local_dir(tmp_path: Path) -> None:
    _nxdi("from huggingface_hub import snapshot_download\n"
          "path = snapshot_download('mistralai/Mixtral-8x7B-v0.1', local_dir='local-models/m')\n"
          "assert path == 'local-models/m'\n"
          "cfg = MixtralInferenceConfig(MoENeuronConfig(tp_degree=8),"
          " load_config=load_pretrained_config(path))\n"
          "model = NeuronMixtralForCausalLM(path, cfg)\n" + COMPILE_LOAD, tmp_path)
    assert (tmp_path / "local-models" / "m" / "config.json").is_file()


@pytest.mark.parametrize("repo_id", ["meta-llama/Meta-Llama-3-8B/", "/models/llama", "a--b"])
def test_snapshot_download_validates_the_repo_id(repo_id: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="Repo id must be"):
        _nxdi(f"from huggingface_hub import snapshot_download\nsnapshot_download({repo_id!r})",
              tmp_path)


@pytest.mark.parametrize("body, error", [
    ("NeuronLlamaForCausalLM('/m/llama')", FileNotFoundError),  # a checkpoint, no config
    ("NeuronLlamaForCausalLM('/m/nowhere')", FileNotFoundError),
    ("NeuronLlamaForCausalLM('/m/mixtral', LlamaInferenceConfig(NeuronConfig(), "
     "load_config=load_pretrained_config('/m/mixtral')))", TypeError),  # weights would not convert
    ("NeuronMixtralForCausalLM('/m/llama', MixtralInferenceConfig(MoENeuronConfig(), "
     "load_config=load_pretrained_config('/m/llama')))", AssertionError),  # no experts in it
])
def test_nxdi_application_class_needs_its_checkpoint(body: str, error: type[Exception],
                                                     tmp_path: Path) -> None:
    with pytest.raises(error):
        _nxdi(body, tmp_path)


def test_nxdi_mistral_runs_on_the_llama_class(tmp_path: Path) -> None:
    _nxdi(_llama(path="/m/mistral") + COMPILE_LOAD, tmp_path)


def test_nxdi_absolute_paths_stay_in_the_sandbox(tmp_path: Path) -> None:
    _nxdi(_llama() + "model.compile('/tnx2nxdi-fake-probe/out')", tmp_path)
    assert not Path("/tnx2nxdi-fake-probe").exists()
    assert (tmp_path / ".abs" / "tnx2nxdi-fake-probe" / "out" / "neuron_config.json").is_file()


QUANTIZED = ", quantized=True, quantized_checkpoints_path='q.pt'"
MODULES = ", modules_to_not_convert=['lm_head']"


@pytest.mark.parametrize("version, extra, error, match", [
    ("2.29", ", quantized=True", AssertionError, "quantized_checkpoints_path is required"),
    ("2.21", ", quantized=True", AssertionError, "quantized_checkpoints_path is required"),
    ("2.29", QUANTIZED + ", quantization_dtype='s8'", AssertionError, "not a valid QuantizedDtype"),
    ("2.29", QUANTIZED, Exception, "modules_to_not_convert is not provided"),
    ("2.22", QUANTIZED, Exception, "modules_to_not_convert is not provided"),
    ("2.29", QUANTIZED + ", fused_qkv=True, qkv_kernel_enabled=True", AssertionError,
     "Could not find modules_to_not_convert"),
    ("2.22", QUANTIZED + ", fused_qkv=True, qkv_kernel_enabled=True", AssertionError,
     "Could not find modules_to_not_convert"),
    ("2.21", QUANTIZED + MODULES, TypeError, "modules_to_not_convert"),  # no such keyword
])
def test_nxdi_quantized_config(version: str, extra: str, error: type[Exception], match: str,
                               tmp_path: Path) -> None:
    with pytest.raises(error, match=match) as caught:
        _nxdi(_llama(extra), tmp_path, version)
    if error is Exception:  # a warning of the real NxDI
        assert type(caught.value).__name__ == "NxDIConfigWarning"


@pytest.mark.parametrize("version, extra", [
    ("2.29", QUANTIZED + MODULES), ("2.22", QUANTIZED + MODULES),
    ("2.29", QUANTIZED + MODULES + ", fused_qkv=True, qkv_kernel_enabled=True"),
    ("2.21", QUANTIZED),  # 2.21 neither warns nor asserts
])
def test_nxdi_quantized_config_accepted(version: str, extra: str, tmp_path: Path) -> None:
    _nxdi(_llama(extra), tmp_path, version)


@pytest.mark.parametrize("version, program", [
    ("2.29", COMPILE_LOAD),  # 2.23+: read at load()
    ("2.23", COMPILE_LOAD),
    ("2.22", "model.compile('out')"),  # 2.21-2.22: read while compile() pre-shards
    ("2.21", "model.compile('out')"),
])
def test_nxdi_quantized_checkpoint_must_exist(version: str, program: str,
                                              tmp_path: Path) -> None:
    extra = QUANTIZED + (MODULES if version != "2.21" else "")
    with pytest.raises(FileNotFoundError, match="Quantized checkpoint file not found: q.pt"):
        _nxdi(_llama(extra) + program, tmp_path, version)


def test_nxdi_compile_without_quantized_checkpoint_reads_no_weights_in_2_29(
        tmp_path: Path) -> None:
    _nxdi(_llama(QUANTIZED + MODULES) + "model.compile('out')", tmp_path)


@pytest.mark.parametrize("version", ["2.21", "2.22", "2.29"])
@pytest.mark.parametrize("target, prepare", [("q.pt", ""), ("qdir", "os.mkdir('qdir')\n")])
def test_nxdi_save_quantized_state_dict_creates_the_checkpoint(
        version: str, target: str, prepare: str, tmp_path: Path) -> None:
    extra = f", quantized=True, quantized_checkpoints_path={target!r}" + (
        MODULES if version != "2.21" else "")
    events = _nxdi("import os\n" + prepare + _llama(extra) + (
        "NeuronLlamaForCausalLM.save_quantized_state_dict('/m/llama', cfg)\n") + COMPILE_LOAD,
        tmp_path, version)
    assert _kinds(events)[1:] == ["save_quantized", "compile", "load"]
    made = tmp_path / target
    assert (made / "model.safetensors").is_file() if prepare else made.is_file()


@pytest.mark.parametrize("path, error", [
    ("meta-llama/Meta-Llama-3-8B", ValueError),  # "meta-llama/Meta-Llama-3-8B/": not a repo id
    ("/m/missing", OSError),
])
def test_nxdi_save_quantized_state_dict_needs_a_local_checkpoint(
        path: str, error: type[Exception], tmp_path: Path) -> None:
    with pytest.raises(error, match="save_quantized_state_dict"):
        _nxdi(_llama(QUANTIZED + MODULES) + (
            f"NeuronLlamaForCausalLM.save_quantized_state_dict({path!r}, cfg)"), tmp_path)


def test_nxdi_qkv_kernel_needs_fused_qkv(tmp_path: Path) -> None:
    with pytest.raises(AssertionError, match="QKV kernel only supported when fused_qkv is TRUE"):
        _nxdi(_llama(", qkv_kernel_enabled=True") + "model.compile('out')", tmp_path)
    _nxdi(_llama(", qkv_kernel_enabled=True, fused_qkv=True") + "model.compile('out')", tmp_path)


DEFAULT_HEADS: dict[str, dict] = {"/m/llama": {}}
HEADS_40_KV_8 = {"/m/llama-40": {"num_attention_heads": 40, "num_key_value_heads": 8}}
MHA = {"/m/llama-mha": {"num_attention_heads": 32, "num_key_value_heads": 32}}


@pytest.mark.parametrize("version, tp, checkpoint, error", [
    ("2.29", 8, DEFAULT_HEADS, None),  # 32 heads, 8 KV heads: min(8, 32) % 8 == 0
    ("2.21", 8, DEFAULT_HEADS, None),
    ("2.29", 2, DEFAULT_HEADS, "2 is not divisible by 8"),
    ("2.21", 2, DEFAULT_HEADS, "2 is not divisible by 8"),
    ("2.27", 16, HEADS_40_KV_8, "multiples of tp degree but got 40 and 16"),
    ("2.28", 16, HEADS_40_KV_8, None),  # 2.28 dropped the heads % tp assert
    ("2.29", 16, HEADS_40_KV_8, None),
    ("2.29", 8, MHA, "8 is not divisible by 32"),
])
def test_nxdi_flash_decoding_divisibility(version: str, tp: int, checkpoint: dict[str, dict],
                                          error: str | None, tmp_path: Path) -> None:
    [path] = checkpoint
    body = LLAMA.replace("tp_degree=8", f"tp_degree={tp}").format(
        extra=", flash_decoding_enabled=True", path=path)
    if error is None:
        _nxdi(body, tmp_path, version, checkpoints=checkpoint)
    else:
        with pytest.raises(AssertionError, match=error):
            _nxdi(body, tmp_path, version, checkpoints=checkpoint)


RELOAD = """
nc = NeuronConfig(tp_degree=8, seq_len={seq}, torch_dtype=torch.bfloat16{reload})
cfg = LlamaInferenceConfig(nc, load_config=load_pretrained_config('/m/llama'))
NeuronLlamaForCausalLM('/m/llama', cfg).load('out')
"""


def _compile_then_reload(compiled: str, reloaded: str, seq: int = 256) -> str:
    return _llama(compiled) + "model.compile('out')\n" + RELOAD.format(seq=seq, reload=reloaded)


@pytest.mark.parametrize("version, compiled, reloaded, error, match", [
    # 2.21-2.22 pre-shard by default: a reload with the default expects the files
    ("2.22", ", save_sharded_checkpoint=False", "", FileNotFoundError,
     "tp0_sharded_checkpoint.safetensors"),
    ("2.21", ", save_sharded_checkpoint=False", "", FileNotFoundError,
     "tp0_sharded_checkpoint.safetensors"),
    ("2.29", "", ", save_sharded_checkpoint=True", FileNotFoundError,
     "tp0_sharded_checkpoint.safetensors"),
    ("2.29", "", ", fused_qkv=True", ValueError, "fused_qkv: compiled=False loaded=True"),
])
def test_nxdi_reload_must_match_what_compile_wrote(version: str, compiled: str, reloaded: str,
                                                   error: type[Exception], match: str,
                                                   tmp_path: Path) -> None:
    with pytest.raises(error, match=match):
        _nxdi(_compile_then_reload(compiled, reloaded), tmp_path, version)


def test_nxdi_reload_with_another_seq_len_fails(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="seq_len: compiled=256 loaded=512"):
        _nxdi(_compile_then_reload("", "", seq=512), tmp_path)


@pytest.mark.parametrize("version, compiled, reloaded", [
    ("2.22", ", save_sharded_checkpoint=False", ", save_sharded_checkpoint=False"),
    ("2.22", "", ""),  # presharded both times
    ("2.29", "", ""),
    ("2.29", ", save_sharded_checkpoint=True", ""),  # shards on load from the checkpoint
])
def test_nxdi_reload_with_the_compiled_configuration(version: str, compiled: str, reloaded: str,
                                                     tmp_path: Path) -> None:
    events = _nxdi(_compile_then_reload(compiled, reloaded), tmp_path, version)
    assert _kinds(events)[-1] == "load"


REOPEN = "model.compile('out')\nreopened = NeuronLlamaForCausalLM('out')\nreopened.load('out')\n"


@pytest.mark.parametrize("version, extra, error", [
    ("2.29", "", None),  # shards on load from config._name_or_path, the original checkpoint
    ("2.23", "", None),
    ("2.22", "", None),  # presharded by default
    ("2.22", ", save_sharded_checkpoint=False", "compiled NxDI artifacts"),  # reads out/ weights
    ("2.21", ", save_sharded_checkpoint=False", "compiled NxDI artifacts"),
])
def test_nxdi_reopened_compiled_directory(version: str, extra: str, error: str | None,
                                          tmp_path: Path) -> None:
    body = _llama(extra) + REOPEN
    if error is None:
        events = _nxdi(body, tmp_path, version)
        inits = [e for e in events if e["kind"] == "model_init"]
        assert inits[1]["config"] == inits[0]["config"]
    else:
        with pytest.raises(FileNotFoundError, match=error):
            _nxdi(body, tmp_path, version)


def test_nxdi_reopened_config_keeps_what_the_program_set(tmp_path: Path) -> None:
    _nxdi(_llama() + "model.neuron_config.fused_qkv = True\n" + REOPEN + (
        "assert reopened.neuron_config.fused_qkv is True\n"), tmp_path)


GENERATE = "HuggingFaceGenerationAdapter(model).generate(torch.ones(1, {prompt}), max_length={n})"


@pytest.mark.parametrize("extra, prompt, n, match", [
    ("", 8, 512, "Input len 512 exceeds largest bucket \\(256\\) for token_generation_model"),
    ("", 8, 8, "Input length of input_ids is 8, but `max_length` is set to 8"),
    (", max_context_length=128", 200, 256, "Input len 200 exceeds largest bucket \\(128\\)"),
    (", enable_bucketing=True, token_generation_buckets=[128]", 8, 256,
     "exceeds largest bucket \\(128\\)"),
])
def test_nxdi_generate_stays_within_the_compiled_lengths(extra: str, prompt: int, n: int,
                                                         match: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=match):
        _nxdi(_llama(extra) + COMPILE_LOAD + GENERATE.format(prompt=prompt, n=n), tmp_path)


def test_nxdi_generate_up_to_seq_len(tmp_path: Path) -> None:
    _nxdi(_llama(", max_context_length=128") + COMPILE_LOAD + GENERATE.format(prompt=128, n=256),
          tmp_path)


@pytest.mark.parametrize("version, body, warns", [
    ("2.22", "NeuronConfig(logical_neuron_cores=2)", True),
    ("2.21", "NeuronConfig(logical_neuron_cores=2)", False),
    ("2.23", "NeuronConfig(speculation_length=4, async_mode=True)", True),
    ("2.23", "NeuronConfig(speculation_length=4, async_mode=True, enable_fused_speculation=True)",
     False),
    ("2.22", "NeuronConfig(speculation_length=4, async_mode=True)", False),
    ("2.24", "os.environ['NEURON_LOGICAL_NC_CONFIG'] = '1'\nNeuronConfig(logical_nc_config=2)",
     True),
    ("2.23", "os.environ['NEURON_LOGICAL_NC_CONFIG'] = '1'\nNeuronConfig(logical_nc_config=2)",
     False),
    ("2.29", "NeuronConfig(mlp_tkg_nki_kernel_enabled=True)", True),
    ("2.28", "NeuronConfig(mlp_tkg_nki_kernel_enabled=True)", False),
])
def test_nxdi_warnings_while_building_a_config_fail(version: str, body: str, warns: bool,
                                                   tmp_path: Path) -> None:
    program = "import os\n" + body
    if warns:
        with pytest.raises(Exception, match="NxDI .* warns while the config is built") as caught:
            _nxdi(program, tmp_path, version)
        assert type(caught.value).__name__ == "NxDIConfigWarning"
    else:
        _nxdi(program, tmp_path, version)


def test_nxdi_configs_nxdi_builds_itself_only_warn(tmp_path: Path) -> None:
    """Reading a compiled neuron_config.json is NxDI's own construction, not the program's."""
    _nxdi(_llama(", logical_nc_config=2") + "model.compile('out')\n"
          "import os\nos.environ['NEURON_LOGICAL_NC_CONFIG'] = '1'\n"
          "NeuronLlamaForCausalLM('out')", tmp_path, "2.29")


def test_checkpoints_the_original_read_are_there_for_the_migration(tmp_path: Path) -> None:
    tnx = """
import transformers_neuronx as tnx
tnx.LlamaForSampling.from_pretrained('/models/llama-2-7b', tp_degree=2).to_neuron()
"""
    nxdi = NXDI_PRELUDE + _llama(path="PATH").replace("tp_degree=8", "tp_degree=2")
    tnx_events, _ = run_pair(tnx, nxdi.replace("PATH", "/models/llama-2-7b"),
                             tmp_path=tmp_path / "same")
    assert tnx_events[0] == {"kind": "checkpoint", "path": "/models/llama-2-7b", "config": {}}
    with pytest.raises(OSError, match="/models/llama-2-7b-chat"):
        run_pair(tnx, nxdi.replace("PATH", "/models/llama-2-7b-chat"), tmp_path=tmp_path / "other")


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


@pytest.mark.parametrize("tp, checkpoint, flash_decoding", [
    (8, {}, True),
    (2, {}, None),  # 8 KV heads over 2 ranks: TNx asserts
    (2, {"num_key_value_heads": 32}, False),  # MHA: TNx turns shard_over_sequence off
])
def test_tnx_shard_over_sequence(tp: int, checkpoint: dict, flash_decoding: bool | None,
                                 tmp_path: Path) -> None:
    program = ("import transformers_neuronx as tnx\n"
               f"m = tnx.LlamaForSampling.from_pretrained('/m/llama', tp_degree={tp},"
               " neuron_config=tnx.NeuronConfig(shard_over_sequence=True))\n"
               "m.to_neuron()\n")
    if flash_decoding is None:
        with pytest.raises(AssertionError, match="not divisble by n_kv_heads 8"):
            run_program(program, "tnx", tmp_path=tmp_path, checkpoints={"/m/llama": checkpoint})
        return
    events = run_program(program, "tnx", tmp_path=tmp_path, checkpoints={"/m/llama": checkpoint})
    config = requested(events)[0]["config"]
    assert config.get("flash_decoding_enabled", False) is flash_decoding


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
    [event] = [e for e in events if e["kind"] == "model_init"]
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
    assert _kinds(tnx) == ["model_init", "compile", "load", "save", "model_init",
                           "load_request", "load", "generate"]
    inits = [e for e in nxdi if e["kind"] == "model_init"]
    assert inits[1]["config"] == inits[0]["config"]
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
    assert requested(events)[0]["family"] == "mistral"
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


VLLM_ENGINE = """
import os
from vllm import LLM
%s
LLM(model='/m/llama', tensor_parallel_size=8, max_num_seqs=4, max_model_len=2048, %s)
"""
NXDI_QUANT = ("override_neuron_config={'quantized': True, 'quantization_dtype': 'int8', "
              "'quantization_type': 'per_channel_symmetric', 'quantized_checkpoints_path': 'q', "
              "'modules_to_not_convert': ['lm_head']}")


def _engine(events: list[dict[str, Any]]) -> dict[str, Any]:
    return next(event for event in events if event["kind"] == "vllm_engine")


def test_fake_vllm_records_what_each_loader_quantizes(tmp_path: Path) -> None:
    tnx = run_program(VLLM_ENGINE % ("os.environ['NEURON_QUANT_DTYPE'] = 'f8e4m3fn'",
                                     "quantization='neuron_quant'"), "tnx", tmp_path=tmp_path)
    assert _engine(tnx)["quantization"] == {
        "quantized": True, "quantization_dtype": "f8e4m3",
        "quantization_type": "per_channel_symmetric", "unconverted": ["lm_head"]}
    int8 = run_program(VLLM_ENGINE % ("", "quantization='neuron_quant'"), "tnx",
                       tmp_path=tmp_path)
    nxdi = run_program(VLLM_ENGINE % (ENV_NXDI, NXDI_QUANT), "nxdi", tmp_path=tmp_path)
    assert compare(int8, nxdi) == []
    # NxDI quantizes lm_head unless told not to, and defaults to per-tensor quantization.
    everything = NXDI_QUANT.replace(", 'modules_to_not_convert': ['lm_head']", "")
    per_tensor = NXDI_QUANT.replace("per_channel_symmetric", "per_tensor_symmetric")
    for override in (everything, per_tensor):
        other = run_program(VLLM_ENGINE % (ENV_NXDI, override), "nxdi", tmp_path=tmp_path)
        assert any("quantization" in d for d in compare(int8, other))
    with pytest.raises(TypeError, match="neuron_quant"):
        run_program(VLLM_ENGINE % (ENV_NXDI, "quantization='neuron_quant'"), "nxdi",
                    tmp_path=tmp_path)
    with pytest.raises(TypeError):  # modules_to_not_convert is read from 2.22 only
        run_program(VLLM_ENGINE % (ENV_NXDI, NXDI_QUANT), "nxdi", tmp_path=tmp_path,
                    nxdi_version="2.21")


def test_fake_vllm_reads_buckets_from_the_environment_only_on_tnx(tmp_path: Path) -> None:
    env = "os.environ['NEURON_TOKEN_GEN_BUCKETS'] = '1024,512'"
    tnx = run_program(VLLM_ENGINE % (env, "device='neuron'"), "tnx", tmp_path=tmp_path)
    assert _engine(tnx)["buckets"]["token_generation_buckets"] == [512, 1024]
    ignored = run_program(VLLM_ENGINE % (env + "\n" + ENV_NXDI, "device='neuron'"), "nxdi",
                          tmp_path=tmp_path)
    assert any("buckets" in d for d in compare(tnx, ignored))
    moved = run_program(VLLM_ENGINE % (ENV_NXDI, "device='neuron', override_neuron_config="
                                       "{'token_generation_buckets': [512, 1024]}"),
                        "nxdi", tmp_path=tmp_path)
    assert compare(tnx, moved) == []


def test_fake_vllm_takes_eagle_from_the_draft_config_on_tnx_and_the_override_on_nxdi(
    tmp_path: Path
) -> None:
    (tmp_path / "draft").mkdir()
    (tmp_path / "draft" / "config.json").write_text('{"is_eagle": true}')
    spec = "speculative_model='draft', num_speculative_tokens=4"
    tnx = run_program(VLLM_ENGINE % ("", spec), "tnx", tmp_path=tmp_path)
    assert _engine(tnx)["speculation"] == {"speculation_length": 4,
                                          "enable_fused_speculation": True,
                                          "enable_eagle_speculation": True}
    plain = run_program(VLLM_ENGINE % (ENV_NXDI, spec), "nxdi", tmp_path=tmp_path)
    assert any("speculation" in d for d in compare(tnx, plain))
    eagle = run_program(VLLM_ENGINE % (ENV_NXDI, spec + ", override_neuron_config="
                                       "{'enable_eagle_speculation': True}"),
                        "nxdi", tmp_path=tmp_path)
    assert compare(tnx, eagle) == []


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
