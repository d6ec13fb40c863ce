"""Fake `neuronx_distributed_inference.models.config` (NxDI models/config.py of each release).

STRICTER THAN THE REAL LIBRARY ON PURPOSE: real NxDI NeuronConfig only logs a warning for an
unknown keyword and OnDeviceSamplingConfig ignores one silently; here both raise TypeError, so a
misspelled or invented keyword (e.g. `is_continous_batching`, `global_top_k`) fails the test.
Likewise every warning real NxDI gives while a program builds a config (modules_to_not_convert
missing, deprecated keywords, ...) raises NxDIConfigWarning here: a program must not rely on what
NxDI guesses. Configs NxDI builds itself (reading a compiled neuron_config.json) only warn.

The checks of the real NeuronConfig constructor a migration can trip, per release:
* seq_len, max_context_length and max_length are ints (NxDI computes seq_len - max_context_length
  and compares max_context_length <= max_length: a list raises TypeError); bucket lists are lists
  of ints (NxDI sorts them in place and compares the last one with the limit);
* quantized=True needs quantized_checkpoints_path and a valid quantization_dtype (all releases);
  2.22+: quantized (or a quantized MLP kernel, or activation quantization) without
  modules_to_not_convert warns, and asserts when qkv_kernel_enabled (2.27+: or
  qkv_nki_kernel_enabled) is on;
* warnings: logical_neuron_cores (2.22+), unfused speculation with async_mode (2.23+),
  NEURON_LOGICAL_NC_CONFIG disagreeing with the keyword (2.24+), deprecated kernel flags (2.29).

The imitated release comes from env TNX2NXDI_FAKE_NXDI_VERSION ("2.21".."2.29", default 2.29),
read when this module is imported; keywords and defaults follow that release.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
from _fake_fs import host
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


_LENGTHS = ("seq_len", "max_context_length", "max_length")
_BUCKET_LISTS = (("context_encoding_buckets", "max_context_length"),
                 ("token_generation_buckets", "max_length"))
_QUANTIZED_DTYPES = frozenset({"int8", "f8e4m3", "f8e5m2",
                               *(("f8e4m3fn",) if _R >= (2, 27) else ())})
#: Deprecated kernel flags that warn when set: flag -> (first release, NxDI's message).
_DEPRECATED_FLAGS: dict[str, tuple[tuple[int, int], str]] = {
    "mlp_tkg_nki_kernel_enabled": ((2, 29), "mlp_tkg_nki_kernel_enabled is deprecated. In a "
                                   "future release, this attribute will be removed"),
    "attn_block_cte_nki_kernel_enabled": ((2, 29), "attn_block_cte_nki_kernel_enabled is "
                                          "deprecated. Enabling qkv_kernel_enabled, "
                                          "qkv_nki_kernel_enabled, attn_kernel_enabled, and "
                                          "out_proj_kernel_enabled instead. In a future release, "
                                          "this attribute will be removed."),
    "attn_tkg_nki_kernel_enabled": ((2, 29), "attn_tkg_nki_kernel_enabled and "
                                    "attn_tkg_builtin_kernel_enabled are deprecated and replaced "
                                    "by 'attn_block_tkg_nki_kernel_enabled'. In a future release, "
                                    "this attribute will be removed."),
}
_DEPRECATED_FLAGS["attn_tkg_builtin_kernel_enabled"] = (
    _DEPRECATED_FLAGS["attn_tkg_nki_kernel_enabled"])
_internal_builds = [0]  # > 0 while NxDI builds a config itself (a compiled neuron_config.json)


class NxDIConfigWarning(Exception):
    """Real NxDI warns while this config is built; a warning the program causes is a failure."""


@contextlib.contextmanager
def nxdi_internal() -> Iterator[None]:
    """Configs built inside: NxDI's own constructions, whose warnings are not the program's."""
    _internal_builds[0] += 1
    try:
        yield
    finally:
        _internal_builds[0] -= 1


def _warn(cls_name: str, category: str, message: str) -> None:
    if not _internal_builds[0]:
        raise NxDIConfigWarning(f"{cls_name}(...): {category}: {message} (NxDI {RELEASE} warns "
                                "while the config is built; the program must not rely on it)")


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
        _check_lengths(type(self).__name__, kwargs)
        self._explicit = dict(kwargs)
        values = _defaults(kwargs)
        values.update(kwargs)
        if "local_ranks_size" not in kwargs:
            values["local_ranks_size"] = values["world_size"]
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
        assert self.max_context_length <= self.max_length, (
            "max_context_length cannot be more than max_length")
        for name, limit_name in _BUCKET_LISTS:
            _check_buckets(name, getattr(self, name), limit_name, getattr(self, limit_name))
        self._check_quantization()
        self._warnings()
        for name in ("cp_degree", "attention_dp_degree"):
            assert self.tp_degree % getattr(self, name, 1) == 0, f"tp_degree % {name} != 0"
        if getattr(self, "attention_dp_degree", 1) > 1:
            assert self.is_continuous_batching, "attention_dp_degree > 1 needs continuous batching"
        if getattr(self, "mlp_cp_degree", 1) > 1:
            assert self.sequence_parallel_enabled, "mlp_cp_degree > 1 needs sequence parallel"
        if getattr(self, "cast_type", "config") not in ("config", "as-declared"):
            raise ValueError(f"cast_type must be 'config' or 'as-declared', got {self.cast_type!r}")

    def _check_quantization(self) -> None:
        if self.quantized:
            assert self.quantized_checkpoints_path is not None, (
                "quantized_checkpoints_path is required")
            dtype = self.quantization_dtype
            assert isinstance(dtype, str) and dtype.lower() in _QUANTIZED_DTYPES, (
                f"{dtype} is not a valid QuantizedDtype.")
        if _R < (2, 22) or not (self.quantized or self._mlp_quantized()):
            return
        if self.qkv_kernel_enabled or getattr(self, "qkv_nki_kernel_enabled", False):
            assert self.modules_to_not_convert, (
                "Could not find modules_to_not_convert for quantized model.")
        elif not self.modules_to_not_convert:
            _warn(type(self).__name__, "UserWarning", "modules_to_not_convert is not provided. "
                  "Assuming all modules will be quantized.")

    def _mlp_quantized(self) -> bool:
        return bool(self.quantized_mlp_kernel_enabled or self.activation_quantization_type)

    def _warnings(self) -> None:
        name = type(self).__name__
        if _R >= (2, 22) and "logical_neuron_cores" in self._explicit:
            _warn(name, "DeprecationWarning", "'logical_neuron_cores' is deprecated and replaced "
                  "by 'logical_nc_config'. In a future release, this attribute will be removed.")
        if _R >= (2, 23) and self.speculation_length > 0 and self.async_mode and not (
                self.enable_fused_speculation or self.enable_eagle_speculation):
            _warn(name, "UserWarning", "Unfused Speculative Decoding + async mode may not result "
                  "in performance improvements due to high likelihood of data dependent compute "
                  "causing blocking calls.")
        environment = os.environ.get("NEURON_LOGICAL_NC_CONFIG")
        given = self._explicit.get("logical_nc_config", self._explicit.get("logical_neuron_cores"))
        if _R >= (2, 24) and environment and given is not None and int(environment) != int(given):
            _warn(name, "UserWarning", f"NEURON_LOGICAL_NC_CONFIG={environment} does not match "
                  f"provided logical_nc_config={given}. Using NEURON_LOGICAL_NC_CONFIG to set LNC.")
        for flag, (first, message) in _DEPRECATED_FLAGS.items():
            replaced = flag.startswith("attn_tkg") and self._explicit.get(
                "attn_block_tkg_nki_kernel_enabled")
            if first <= _R and self._explicit.get(flag) and not replaced:
                _warn(name, "DeprecationWarning", message)

    def effective(self) -> dict[str, Any]:
        """Every keyword's effective value, in the normalized form (what compile() bakes in)."""
        keys = sorted((NEURON_CONFIG_KEYS | self._extra_keys) & set(vars(self)))
        return {key: _normalize_value(getattr(self, key)) for key in keys}

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

    def saved_json(self) -> dict[str, Any]:
        """What compile() saves: the explicit keywords in a JSON-friendly form, plus under
        "_implied" every value that differs from what those keywords alone give (the dtype
        load_pretrained_config took from the checkpoint, attributes a program set), so that
        from_saved() rebuilds an equal config, as NxDI's full neuron_config.json does."""
        data = {k: _jsonable(v) for k, v in self._explicit.items()}
        with nxdi_internal():
            fresh = type(self)(**self._explicit).effective()
        implied = {k: v for k, v in self.effective().items() if fresh.get(k) != v}
        if implied:
            data["_implied"] = implied
        return data

    @classmethod
    def from_saved(cls, data: dict[str, Any]) -> NeuronConfig:
        """The config saved_json() described (NxDI's own construction: no warnings)."""
        data = dict(data)
        implied = data.pop("_implied", {})
        with nxdi_internal():
            config = cls(**data)
            for key, value in implied.items():
                setattr(config, key, _restored(key, value))
        return config


def _check_lengths(cls_name: str, kwargs: dict[str, Any]) -> None:
    for name in _LENGTHS:
        value = kwargs.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise TypeError(
                f"{cls_name}({name}={value!r}): {name} must be an int; NxDI computes "
                "seq_len - max_context_length and compares max_context_length <= max_length, "
                f"which raises TypeError for a {type(value).__name__} (NxDI {RELEASE}). Pass the "
                "largest length and the buckets as context_encoding_buckets / "
                "token_generation_buckets")


def _check_buckets(name: str, buckets: Any, limit_name: str, limit: int) -> None:
    if buckets is None:
        return
    if not isinstance(buckets, list):
        raise AttributeError(f"{name}={buckets!r}: NxDI sorts the bucket list in place "
                             f"('{type(buckets).__name__}' object has no attribute 'sort'); "
                             "pass a list of ints")
    if not all(isinstance(b, int) and not isinstance(b, bool) for b in buckets):
        raise TypeError(f"{name}={buckets!r}: buckets must be ints (NxDI compares them with "
                        f"{limit_name})")
    if not buckets:
        raise IndexError(f"{name}=[]: list index out of range (NxDI reads the largest bucket)")
    buckets.sort()
    assert buckets[-1] <= limit, (
        f"{name}: bucket {buckets[-1]} should be <= {limit_name} {limit}")


def _restored(key: str, value: Any) -> Any:
    """The attribute value of a normalized `value` (see NeuronConfig.effective)."""
    if key in ("torch_dtype", "rpl_reduce_dtype", "attention_dtype") and value in _DTYPES:
        return _DTYPES[value]
    if key == "on_device_sampling_config" and isinstance(value, dict):
        return OnDeviceSamplingConfig(**value)
    return value


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

    def effective(self) -> dict[str, Any]:
        return {**super().effective(), "capacity_factor": self.capacity_factor,
                "glu_mlp": self.glu_mlp}


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
        data["neuron_config"] = self.neuron_config.saved_json()
        directory = host(model_path)
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "neuron_config.json").write_text(json.dumps(data, default=str))

    @classmethod
    def load(cls, model_path: str | Path, **overrides: Any) -> InferenceConfig:
        """The config compile() saved in `model_path` (NxDI's own construction: no warnings)."""
        data = json.loads((host(model_path) / "neuron_config.json").read_text())
        neuron_config = cls.get_neuron_config_cls().from_saved(data.pop("neuron_config"))
        with nxdi_internal():
            return cls(neuron_config, **{**data, **overrides})
