"""Fake `neuronx_distributed_inference.models.config` (NxDI models/config.py of each release).

STRICTER THAN THE REAL LIBRARY ON PURPOSE: real NxDI NeuronConfig only logs a warning for an
unknown keyword and OnDeviceSamplingConfig ignores one silently; here both raise TypeError, so a
misspelled or invented keyword (e.g. `is_continous_batching`, `global_top_k`) fails the test.

The imitated release comes from env TNX2NXDI_FAKE_NXDI_VERSION ("2.21".."2.29", default 2.29),
read when this module is imported; keywords and defaults follow that release.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from _fake_vocab import (
    dtype_name,
    nxdi_moe_keys,
    nxdi_neuron_config_keys,
    nxdi_release,
    nxdi_sampling_keys,
    nxdi_sampling_view,
    release_tuple,
)

RELEASE = nxdi_release()
_R = release_tuple(RELEASE)
NEURON_CONFIG_KEYS = nxdi_neuron_config_keys(RELEASE)
MOE_KEYS = nxdi_moe_keys(RELEASE)
SAMPLING_KEYS = nxdi_sampling_keys(RELEASE)

_DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}
_CONSTANT_DEFAULTS: dict[str, Any] = {
    "batch_size": 1, "padding_side": "right", "seq_len": 128, "cast_type": "config",
    "attn_cls": "NeuronLlamaAttention", "tp_degree": 1, "pp_degree": 1, "ep_degree": 1,
    "cp_degree": 1, "attention_dp_degree": 1, "mlp_cp_degree": 1, "start_rank_id": 0,
    "logical_nc_config": 1, "logical_neuron_cores": 1, "kv_cache_padding_size": 0,
    "quantization_type": "per_tensor_symmetric", "quantization_dtype": "int8",
    "quantize_clamp_bound": float("inf"), "quantization_scale_dtype": "f32",
    "quantized_kernel_lower_bound": 1200.0, "speculation_length": 0,
    "medusa_speculation_length": 0, "num_medusa_heads": 0,
    "attn_block_tkg_nki_kernel_use_online_softmax": True, "cc_pipeline_tiling_factor": 2,
    "seq_len_threshold_for_cc_tiling": 16384, "lm_head_pad_alignment_size": 1,
    "weight_gather_seq_len_threshold": 32768, "ep_dispatch_cc_option": "AR_AG",
    "save_sharded_checkpoint": _R <= (2, 22),
}
_NONE_DEFAULTS = str.split("""rpl_reduce_dtype attention_dtype on_device_sampling_config
    kv_quant_config context_encoding_buckets token_generation_buckets prefix_buckets
    token_generation_batches quantized_checkpoints_path modules_to_not_convert
    draft_model_modules_to_not_convert activation_quantization_type quantization_block_size
    quantization_block_axis token_tree_config medusa_tree chunked_prefill_config
    windowed_context_encoding_size lora_config moe_fused_nki_kernel_enabled
    router_topk_nki_kernel_enabled expert_mlp_nki_kernel_enabled shared_mlp_nki_kernel_enabled
    target scratchpad_page_size padded_hidden_size padded_intermediate_size dma_order_config""")
_SEQ_DERIVED = ("n_active_tokens", "n_positions", "max_context_length", "max_length",
                "pa_block_size")
_BATCH_DERIVED = ("ctx_batch_size", "tkg_batch_size", "max_batch_size", "kv_cache_batch_size",
                  "spec_batch_size", "pa_num_blocks")


def to_torch_dtype(value: Any) -> torch.dtype:
    """A fake torch dtype, or one of the strings "float32", "float16", "bfloat16"."""
    if isinstance(value, torch.dtype):
        return value
    assert value in _DTYPES, f"Unsupported torch_dtype {value!r}; expected a dtype or {_DTYPES}"
    return _DTYPES[value]


def _reject_unknown(cls_name: str, given: dict[str, Any], known: frozenset[str]) -> None:
    unknown = sorted(set(given) - known)
    if unknown:
        raise TypeError(f"{cls_name} got unexpected keyword(s): {unknown} (NxDI {RELEASE})")


class OnDeviceSamplingConfig:
    def __init__(self, **kwargs: Any) -> None:
        _reject_unknown("OnDeviceSamplingConfig", kwargs, SAMPLING_KEYS)
        self._explicit = dict(kwargs)
        self.do_sample = kwargs.get("do_sample", _R == (2, 21))
        self.top_k = kwargs.get("top_k", 1)
        self.top_p = kwargs.get("top_p", 1.0)
        self.temperature = kwargs.get("temperature", 1.0)
        self.dynamic = kwargs.get("dynamic", False)
        self.deterministic = kwargs.get("deterministic", False)
        self.global_topk = kwargs.get("global_topk", 256)
        self.on_device_sampling_config = kwargs.get("on_device_sampling_config", True)
        self.top_k_kernel_enabled = kwargs.get("top_k_kernel_enabled", _R >= (2, 29))
        self.sampling_dp_degree = kwargs.get("sampling_dp_degree", 1)

    def normalized(self) -> dict[str, Any]:
        """Effective do_sample/top_k/dynamic/deterministic plus every key given explicitly."""
        return nxdi_sampling_view(self._explicit, RELEASE)


def _defaults(kwargs: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = dict.fromkeys(NEURON_CONFIG_KEYS, False)
    values.update(dict.fromkeys(_NONE_DEFAULTS))
    values.update(_CONSTANT_DEFAULTS)
    values["attn_kernel_enabled"] = False if _R <= (2, 23) else None
    values["weights_to_skip_layout_optimization"] = []
    values["torch_dtype"] = torch.bfloat16
    values.update({k: kwargs[k] for k in ("seq_len", "batch_size", "tp_degree", "pp_degree",
                                          "ep_degree", "torch_dtype") if k in kwargs})
    values.update(dict.fromkeys(_SEQ_DERIVED, values["seq_len"]))
    values.update(dict.fromkeys(_BATCH_DERIVED, values["batch_size"]))
    values["world_size"] = values["tp_degree"] * values["pp_degree"] * values["ep_degree"]
    values["buckets"] = [values["seq_len"]]
    if _R <= (2, 23):
        values["rpl_reduce_dtype"] = values["torch_dtype"]
    return values


class NeuronConfig:
    """Accepts exactly the NeuronConfig keywords of the selected release (NxDI models/config.py)."""

    _extra_keys: frozenset[str] = frozenset()

    def __init__(self, **kwargs: Any) -> None:
        _reject_unknown(type(self).__name__, kwargs, NEURON_CONFIG_KEYS | self._extra_keys)
        self._explicit = dict(kwargs)
        values = _defaults(kwargs)
        values.update(kwargs)
        values.setdefault("local_ranks_size", values["world_size"])
        if "max_new_tokens" not in kwargs:
            values["max_new_tokens"] = (values["seq_len"] - values["max_context_length"]) or None
        if "lm_head_pad" not in kwargs and "lm_head_pad" in NEURON_CONFIG_KEYS:
            values["lm_head_pad"] = values["logical_nc_config"] > 1
        values["torch_dtype"] = to_torch_dtype(values["torch_dtype"])
        values["overrides_torch_dtype"] = kwargs.get(
            "overrides_torch_dtype", "torch_dtype" in kwargs)
        if isinstance(values["rpl_reduce_dtype"], str):
            values["rpl_reduce_dtype"] = to_torch_dtype(values["rpl_reduce_dtype"])
        sampling = values["on_device_sampling_config"]
        if isinstance(sampling, dict):
            values["on_device_sampling_config"] = OnDeviceSamplingConfig(**sampling)
        elif sampling is not None and not isinstance(sampling, OnDeviceSamplingConfig):
            raise TypeError("on_device_sampling_config must be a dict or OnDeviceSamplingConfig")
        self.__dict__.update({k: v for k, v in values.items() if k in NEURON_CONFIG_KEYS})
        self._validate()

    def _validate(self) -> None:
        assert not self.quantized or self.quantized_checkpoints_path, (
            "quantized=True requires quantized_checkpoints_path")
        assert self.max_context_length <= self.max_length, "max_context_length > max_length"
        for name, limit in (("context_encoding_buckets", self.max_context_length),
                            ("token_generation_buckets", self.max_length)):
            buckets = getattr(self, name)
            if buckets is not None:
                buckets.sort()
                assert all(b <= limit for b in buckets), f"{name} {buckets} exceed {limit}"
        for name in ("cp_degree", "attention_dp_degree"):
            assert self.tp_degree % getattr(self, name, 1) == 0, f"tp_degree % {name} != 0"
        if getattr(self, "attention_dp_degree", 1) > 1:
            assert self.is_continuous_batching, "attention_dp_degree > 1 needs continuous batching"
        if getattr(self, "mlp_cp_degree", 1) > 1:
            assert self.sequence_parallel_enabled, "mlp_cp_degree > 1 needs sequence parallel"
        if getattr(self, "cast_type", "config") not in ("config", "as-declared"):
            raise ValueError(f"cast_type must be 'config' or 'as-declared', got {self.cast_type!r}")

    def normalized(self) -> dict[str, Any]:
        """Full tp_degree/batch_size/seq_len/torch_dtype plus every keyword given explicitly.

        torch_dtype is "checkpoint" when the program did not pin it (NxDI then takes the
        checkpoint's dtype); dtypes become strings and on_device_sampling_config a plain dict.
        """
        dtype = dtype_name(self.torch_dtype) if self.overrides_torch_dtype else "checkpoint"
        out: dict[str, Any] = {"tp_degree": self.tp_degree, "batch_size": self.batch_size,
                               "seq_len": self.seq_len, "torch_dtype": dtype}
        for key in self._explicit:
            if key not in out and key != "overrides_torch_dtype":
                out[key] = _normalize_value(getattr(self, key))
        return out

    def explicit_json(self) -> dict[str, Any]:
        """The explicit keywords in a JSON-friendly form that rebuilds an equal config."""
        return {k: _jsonable(v) for k, v in self._explicit.items()}


def _normalize_value(value: Any) -> Any:
    if isinstance(value, OnDeviceSamplingConfig):
        return value.normalized()
    if isinstance(value, torch.dtype):
        return dtype_name(value)
    return list(value) if isinstance(value, (list, tuple)) else value


def _jsonable(value: Any) -> Any:
    if isinstance(value, OnDeviceSamplingConfig):
        return dict(value._explicit)
    return dtype_name(value) if isinstance(value, torch.dtype) else value


class MoENeuronConfig(NeuronConfig):
    _extra_keys = MOE_KEYS - {"capacity_factor", "glu_mlp"}

    def __init__(self, capacity_factor: float | None = None, glu_mlp: bool = True,
                 **kwargs: Any) -> None:
        moe = {k: kwargs.pop(k) for k in list(kwargs) if k in self._extra_keys}
        super().__init__(**kwargs)
        self.capacity_factor = capacity_factor
        self.glu_mlp = glu_mlp
        self.__dict__.update(moe)
        self._explicit.update(moe)
        if capacity_factor is not None:
            self._explicit["capacity_factor"] = capacity_factor
        if glu_mlp is not True:
            self._explicit["glu_mlp"] = glu_mlp


class InferenceConfig:
    def __init__(self, neuron_config: NeuronConfig, fused_spec_config: Any = None,
                 load_config: Any = None, metadata: Any = None, **kwargs: Any) -> None:
        if metadata is not None and _R < (2, 24):
            raise TypeError(f"InferenceConfig got unexpected keyword 'metadata' (NxDI {RELEASE})")
        self.neuron_config = neuron_config
        self.fused_spec_config = fused_spec_config
        self.metadata = metadata
        if load_config is not None:
            assert callable(load_config) and getattr(load_config, "_fake_nxdi_hook", False), (
                "load_config must be the hook returned by load_pretrained_config(...)")
            load_config(self)
        else:
            self.load_config()
        self.__dict__.update(kwargs)
        self.add_derived_config()
        self.validate_config()

    def load_config(self) -> None:
        return None

    def add_derived_config(self) -> None:
        return None

    def get_required_attributes(self) -> list[str]:
        return []

    def validate_config(self) -> None:
        missing = [a for a in self.get_required_attributes() if not hasattr(self, a)]
        assert not missing, f"{type(self).__name__} is missing required attributes {missing}"

    @classmethod
    def get_neuron_config_cls(cls) -> type[NeuronConfig]:
        return NeuronConfig

    def save(self, model_path: str | Path) -> None:
        skip = ("neuron_config", "fused_spec_config", "metadata")
        data = {k: v for k, v in vars(self).items() if k not in skip}
        data["neuron_config"] = self.neuron_config.explicit_json()
        (Path(model_path) / "neuron_config.json").write_text(json.dumps(data, default=str))

    @classmethod
    def load(cls, model_path: str | Path, **overrides: Any) -> InferenceConfig:
        data = json.loads((Path(model_path) / "neuron_config.json").read_text())
        neuron_config = cls.get_neuron_config_cls()(**data.pop("neuron_config"))
        return cls(neuron_config, **{**data, **overrides})
