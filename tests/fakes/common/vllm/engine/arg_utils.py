"""Fake `vllm.engine.arg_utils`: EngineArgs / AsyncEngineArgs record a "vllm_engine" event.

The event holds the framework (env VLLM_NEURON_FRAMEWORK at construction), device,
tensor_parallel_size, max_num_seqs, max_model_len, the override_neuron_config dict (JSON strings
are parsed) and "config": the override in NxDI vocabulary (TNx overrides are translated).
Override keys are checked against the NeuronConfig keywords of the selected framework:
"neuronx-distributed-inference" -> NxDI keys of the release in TNX2NXDI_FAKE_NXDI_VERSION;
"transformers-neuronx" or unset -> TNx keys; any other value -> NotImplementedError.
"""

from __future__ import annotations

import dataclasses
import json
import os
from typing import Any

from _fake_recorder import record
from _fake_vocab import (
    TNX_NEURON_CONFIG_KEYS,
    dtype_name,
    nxdi_moe_keys,
    nxdi_neuron_config_keys,
    nxdi_release,
    nxdi_sampling_keys,
    nxdi_sampling_view,
    translate_tnx_options,
)

NXDI = "neuronx-distributed-inference"
TNX = "transformers-neuronx"
_DTYPE_KEYS = ("torch_dtype", "rpl_reduce_dtype", "attention_dtype")


def _parse(override: Any) -> dict[str, Any]:
    if override is None:
        return {}
    return dict(json.loads(override) if isinstance(override, str) else override)


def _reject(unknown: set[str], framework: str | None) -> None:
    if unknown:
        raise TypeError(f"override_neuron_config keys not accepted by {framework or TNX}: "
                        f"{sorted(unknown)}")


def _nxdi_config(override: dict[str, Any]) -> dict[str, Any]:
    release = nxdi_release()
    _reject(set(override) - nxdi_neuron_config_keys(release) - nxdi_moe_keys(release), NXDI)
    # NxDI config.py asserts a quantized checkpoint path whenever quantized=True; the path itself
    # is where the migration put it, not part of what is compared (as for model_init).
    if override.get("quantized"):
        assert override.get("quantized_checkpoints_path"), "quantized=True needs a path"
    config = {k: dtype_name(v) if k in _DTYPE_KEYS and v is not None else v
              for k, v in override.items() if k != "quantized_checkpoints_path"}
    sampling = override.get("on_device_sampling_config")
    if isinstance(sampling, dict):
        _reject(set(sampling) - nxdi_sampling_keys(release), NXDI)
        config["on_device_sampling_config"] = nxdi_sampling_view(sampling, release)
    return config


def _override_config(framework: str | None, override: dict[str, Any]) -> dict[str, Any]:
    if framework == NXDI:
        return _nxdi_config(override)
    if framework in (None, TNX):
        _reject(set(override) - TNX_NEURON_CONFIG_KEYS, framework)
        return translate_tnx_options(override)[0]
    raise NotImplementedError(
        f"Specified framework {framework} is either not installed or not supported")


@dataclasses.dataclass
class EngineArgs:
    model: str = "facebook/opt-125m"
    tokenizer: str | None = None
    tensor_parallel_size: int = 1
    max_num_seqs: int = 256
    max_model_len: int | None = None
    block_size: int | None = None
    device: str = "auto"
    dtype: str = "auto"
    override_neuron_config: Any = None
    additional_config: dict[str, Any] | None = None
    quantization: str | None = None
    use_v2_block_manager: bool = False
    swap_space: float = 4
    speculative_model: str | None = None
    num_speculative_tokens: int | None = None
    speculative_max_model_len: int | None = None
    speculative_config: dict[str, Any] | None = None
    trust_remote_code: bool = False
    seed: int = 0
    gpu_memory_utilization: float = 0.9
    enforce_eager: bool = False
    max_num_batched_tokens: int | None = None
    enable_prefix_caching: bool = False
    enable_chunked_prefill: bool = False
    num_gpu_blocks_override: int | None = None

    def __post_init__(self) -> None:
        framework = os.environ.get("VLLM_NEURON_FRAMEWORK")
        override = _parse(self.override_neuron_config)
        record("vllm_engine", framework=framework, device=self.device,
               tensor_parallel_size=self.tensor_parallel_size, max_num_seqs=self.max_num_seqs,
               max_model_len=self.max_model_len, override_neuron_config=override,
               config=_override_config(framework, override))


@dataclasses.dataclass
class AsyncEngineArgs(EngineArgs):
    disable_log_requests: bool = False
