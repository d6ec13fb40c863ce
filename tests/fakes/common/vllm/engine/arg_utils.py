"""Fake `vllm.engine.arg_utils`: EngineArgs / AsyncEngineArgs record a "vllm_engine" event.

The event holds the framework (env VLLM_NEURON_FRAMEWORK at construction; the V1 plugin's
"additional_config" always means NxDI), device, tensor_parallel_size, max_num_seqs,
max_model_len, the override_neuron_config dict (JSON strings are parsed), "config": the override
in NxDI vocabulary (TNx overrides are translated) without the keys of the three views below, and
what the backend's loader ends up asking for, in NxDI vocabulary on both sides:

* "quantization": {"quantized"} and, when quantized, quantization_dtype, quantization_type and
  "unconverted" (the modules left in float). TNx: an override "quant" or quantization=
  "neuron_quant" with NEURON_QUANT_DTYPE (default s8), per channel (vector_dynamic), lm_head never
  quantized. NxDI: the override keys with NeuronConfig's defaults (int8, per_tensor_symmetric,
  every module converted unless modules_to_not_convert; that keyword exists from 2.22).
* "buckets": context_encoding_buckets / token_generation_buckets (None: the loader's own) and
  enable_bucketing (both loaders bucket). TNx: NEURON_CONTEXT_LENGTH_BUCKETS /
  NEURON_TOKEN_GEN_BUCKETS; NxDI: the override (it never reads those variables).
* "speculation": None, or speculation_length, enable_fused_speculation and
  enable_eagle_speculation. TNx: num_speculative_tokens, fused, EAGLE when the draft's
  config.json says "is_eagle"; NxDI: num_speculative_tokens and fused unless the override says
  otherwise, EAGLE only when the override asks.

Override keys are checked against the NeuronConfig keywords of the selected framework:
"neuronx-distributed-inference" -> NxDI keys of the release in TNX2NXDI_FAKE_NXDI_VERSION;
"transformers-neuronx" or unset -> TNx keys; any other value -> NotImplementedError. On NxDI,
quantization="neuron_quant" is a TypeError (the SDK's vLLM guide says not to set it).
"""

from __future__ import annotations

import dataclasses
import json
import os
from typing import Any

from _fake_fs import host
from _fake_recorder import record
from _fake_vocab import (
    TNX_NEURON_CONFIG_KEYS,
    as_plain_dict,
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


_QUANT_KEYS = ("quantized", "quantization_dtype", "quantization_type", "modules_to_not_convert",
               "quantized_checkpoints_path")
_BUCKET_KEYS = ("context_encoding_buckets", "token_generation_buckets", "enable_bucketing")
_SPECULATION_KEYS = ("speculation_length", "enable_fused_speculation", "enable_eagle_speculation")
_VIEW_KEYS = frozenset((*_QUANT_KEYS, *_BUCKET_KEYS, *_SPECULATION_KEYS))
_TNX_UNQUANTIZED = ["lm_head"]  # TNx decoder.py never quantizes lm_head
_BUCKET_ENV = {"context_encoding_buckets": "NEURON_CONTEXT_LENGTH_BUCKETS",
               "token_generation_buckets": "NEURON_TOKEN_GEN_BUCKETS"}


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
              for k, v in override.items() if k not in _VIEW_KEYS}
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
        translated = translate_tnx_options(override)[0]
        return {k: v for k, v in translated.items() if k not in _VIEW_KEYS}
    raise NotImplementedError(
        f"Specified framework {framework} is either not installed or not supported")


def _nxdi_quantization(override: dict[str, Any]) -> dict[str, Any]:
    if not override.get("quantized"):
        return {"quantized": False}
    method = override.get("quantization_type", "per_tensor_symmetric")
    # Only per-channel quantization leaves modules_to_not_convert out of the checkpoint too.
    kept = (override.get("modules_to_not_convert") or []) if (
        method == "per_channel_symmetric") else []
    return {"quantized": True,
            "quantization_dtype": override.get("quantization_dtype", "int8"),
            "quantization_type": method, "unconverted": sorted(kept)}


def _tnx_quantization(override: dict[str, Any], quantization: str | None) -> dict[str, Any]:
    quant = override.get("quant")
    if quant is None and quantization == "neuron_quant":
        quant = {"quant_dtype": os.environ.get("NEURON_QUANT_DTYPE", "s8"),
                 "quantize_method": "vector_dynamic"}
    if quant is None:
        return {"quantized": False}
    fields = as_plain_dict(quant)
    view = {k: v for k, v in translate_tnx_options({"quant": fields})[0].items()
            if k in ("quantized", "quantization_dtype", "quantization_type")}
    attention = [] if fields.get("quantize_attn", True) else ["self_attn"]
    return {**view, "unconverted": sorted([*_TNX_UNQUANTIZED, *attention])}


def _buckets(source: dict[str, Any] | None) -> dict[str, Any]:
    """Bucket lists from the override (NxDI) or from the environment (TNx, source None)."""
    view: dict[str, Any] = {"enable_bucketing": True}
    for key, env in _BUCKET_ENV.items():
        if source is None:
            text = os.environ.get(env)
            view[key] = None if text is None else sorted(
                int(part) for part in text.split(",") if part.strip())
        else:
            view[key] = sorted(source[key]) if source.get(key) is not None else None
    if source is not None:
        view["enable_bucketing"] = source.get("enable_bucketing", True)
    return view


def _is_eagle_draft(draft: str | None) -> bool:
    """How vLLM's TNx loader chose EAGLE: "is_eagle" in the draft's config.json."""
    if draft is None or not (host(draft) / "config.json").is_file():
        return False
    return bool(json.loads((host(draft) / "config.json").read_text()).get("is_eagle", False))


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
        plugin = self.additional_config is not None and self.override_neuron_config is None
        framework = NXDI if plugin else os.environ.get("VLLM_NEURON_FRAMEWORK")
        override = _parse((self.additional_config or {}).get("override_neuron_config")
                          if plugin else self.override_neuron_config)
        if framework == NXDI and self.quantization == "neuron_quant":
            raise TypeError("quantization='neuron_quant' with NxDI: the SDK's vLLM guide says "
                            "not to set it (the NxDI loader ignores it)")
        config = _override_config(framework, override)
        if framework == NXDI:
            quantization, buckets = _nxdi_quantization(override), _buckets(override)
        else:
            quantization = _tnx_quantization(override, self.quantization)
            buckets = _buckets(None)
        record("vllm_engine", framework=framework, device=self.device,
               tensor_parallel_size=self.tensor_parallel_size, max_num_seqs=self.max_num_seqs,
               max_model_len=self.max_model_len, override_neuron_config=override,
               config=config, quantization=quantization, buckets=buckets,
               speculation=self._speculation(framework, override))

    def _speculation(
        self, framework: str | None, override: dict[str, Any]
    ) -> dict[str, Any] | None:
        spec = dict(self.speculative_config or {})
        draft = spec.get("model", self.speculative_model)
        tokens = spec.get("num_speculative_tokens", self.num_speculative_tokens)
        if draft is None:
            return None
        if framework == NXDI:
            return {"speculation_length": override.get("speculation_length", tokens),
                    "enable_fused_speculation": override.get("enable_fused_speculation", True),
                    "enable_eagle_speculation": override.get("enable_eagle_speculation", False)}
        return {"speculation_length": tokens, "enable_fused_speculation": True,
                "enable_eagle_speculation": _is_eagle_draft(draft)}


@dataclasses.dataclass
class AsyncEngineArgs(EngineArgs):
    disable_log_requests: bool = False
