"""Fake `transformers_neuronx.config`: NeuronConfig and its sub-configs (TNx config.py).

Each class validates its keywords like the real one; `options()`/`as_dict()` feed the
normalization into NxDI vocabulary (_fake_vocab.translate_tnx_options).
"""

from __future__ import annotations

import os
from typing import Any

from _fake_vocab import TNX_NEURON_CONFIG_KEYS

from transformers_neuronx.constants import GQA, Layout
from transformers_neuronx.sparse_attn_utils import SparseAttnConfig

_DEFAULTS: dict[str, Any] = {
    "sparse_attn": None, "quant": None, "kv_cache_quant": None, "continuous_batching": None,
    "attention_layout": Layout.HSB, "collectives_layout": Layout.HSB, "cache_layout": Layout.SBH,
    "padding_side": "left", "group_query_attention": None, "sequence_parallel_norm": False,
    "sequence_parallel_norm_threshold": 2048, "bf16_rms_norm": False,
    "on_device_embedding": False, "on_device_generation": None, "all_reduce_dtype": None,
    "cast_logits_dtype": "float32", "fuse_qkv": False, "qkv_tiling": False,
    "weight_tiling": False, "mlp_in_weight_tiling_permute_order": [1, 2, 0, 3],
    "mlp_out_weight_tiling_permute_order": [1, 2, 0, 3], "log_softmax_scores": False,
    "shard_over_sequence": False, "output_all_logits": False, "attn_output_transposed": False,
    "fused_rmsnorm_qkv": False, "fused_rmsnorm_mlp": False, "mlp_out_weight_transpose": False,
    "fuse_mlp": False, "is_eagle_target": False, "is_eagle_draft": False,
    "has_pre_attention_norm": True, "compilation_worker_count": None,
    "duplicate_q_weight_sos": False,
}
_DTYPES = ("float32", "float16", "bfloat16")


class QuantizationConfig:
    def __init__(self, quant_dtype: str = "s8", dequant_dtype: str = "f16",
                 quantize_method: str = "vector_dynamic", quantize_attn: bool = True,
                 no_quantize_list: list[str] | None = None) -> None:
        if quant_dtype not in ("s8", "f8e4m3fn"):
            raise NotImplementedError(f"quant_dtype {quant_dtype!r} is not supported")
        if quantize_method not in ("vector_dynamic", "direct_cast"):
            raise NotImplementedError(f"quantize_method {quantize_method!r} is not supported")
        self.quant_dtype = quant_dtype
        self.dequant_dtype = dequant_dtype
        self.quantize_method = quantize_method
        self.quantize_attn = quantize_attn
        self.no_quantize_list = list(no_quantize_list or [])

    def as_dict(self) -> dict[str, Any]:
        return dict(vars(self))


class KVCacheQuantizationConfig:
    def __init__(self, quant_dtype: str = "s8", dequant_dtype: str = "bf16",
                 quantize_method: str = "direct_cast") -> None:
        if quant_dtype not in ("s8", "f16", "bf16", "f8e4m3fn"):
            raise NotImplementedError(f"quant_dtype {quant_dtype!r} is not supported")
        if quantize_method != "direct_cast":
            raise NotImplementedError(f"quantize_method {quantize_method!r} is not supported")
        self.quant_dtype = quant_dtype
        self.dequant_dtype = dequant_dtype
        self.quantize_method = quantize_method

    def as_dict(self) -> dict[str, Any]:
        return dict(vars(self))


class ContinuousBatchingConfig:
    """Keyword-only since 2.20; max_num_seqs (or batch_size_for_shared_caches) is required."""

    _KEYS = frozenset({"max_num_seqs", "batch_size_for_shared_caches", "max_model_len",
                       "optimized_paged_attention", "enable_chunked_prefill"})

    def __init__(self, **kwargs: Any) -> None:
        unexpected = set(kwargs) - self._KEYS
        assert not unexpected, f"unexpected key word arguments {sorted(unexpected)}"
        if "max_num_seqs" not in kwargs and "batch_size_for_shared_caches" not in kwargs:
            raise KeyError("max_num_seqs")
        self.max_num_seqs = kwargs.get("max_num_seqs", kwargs.get("batch_size_for_shared_caches"))
        self.max_model_len = kwargs.get("max_model_len")
        self.optimized_paged_attention = kwargs.get("optimized_paged_attention", False)
        self.enable_chunked_prefill = kwargs.get("enable_chunked_prefill", False)
        assert not self.enable_chunked_prefill or self.optimized_paged_attention
        self.block_size = None
        self.num_blocks = None

    @property
    def batch_size_for_shared_caches(self) -> int:
        return self.max_num_seqs

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if k not in ("block_size", "num_blocks")}


class GenerationConfig:
    """TNx on-device generation settings (not transformers.GenerationConfig)."""

    def __init__(self, *, max_length: int | None = None, do_sample: bool = False,
                 top_k: Any = 50, top_p: Any = 1.0, top_p_min_tokens: Any = 1,
                 global_top_k: int | None = None, eos_token_id: Any = None,
                 temperature: Any = 1.0, dynamic: bool = False, deterministic: bool = False,
                 per_batch_line: bool = False) -> None:
        self.max_length = max_length
        self.do_sample = do_sample
        self.top_k = top_k
        self.top_p = top_p
        self.top_p_min_tokens = top_p_min_tokens
        self.global_top_k = global_top_k
        self.eos_token_id = eos_token_id
        self.temperature = temperature
        self.dynamic = dynamic
        self.deterministic = deterministic
        self.per_batch_line = per_batch_line

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if k != "vocab_size"}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, GenerationConfig) and vars(self) == vars(other)

    __hash__ = None  # type: ignore[assignment]


_SUB_CONFIG_TYPES: dict[str, type] = {
    "quant": QuantizationConfig, "kv_cache_quant": KVCacheQuantizationConfig,
    "continuous_batching": ContinuousBatchingConfig, "on_device_generation": GenerationConfig,
    "sparse_attn": SparseAttnConfig,
}


class NeuronConfig:
    """Keyword-only; unknown keywords raise AssertionError like the real class."""

    def __init__(self, **kwargs: Any) -> None:
        unexpected = set(kwargs) - TNX_NEURON_CONFIG_KEYS
        assert not unexpected, f"Unexpected NeuronConfig keyword arguments: {sorted(unexpected)}"
        self._explicit = dict(kwargs)
        for key, default in _DEFAULTS.items():
            value = kwargs.get(key, default)
            setattr(self, key, list(value) if isinstance(value, list) else value)
        self._check_types()
        self.lhs_aligned = bool(kwargs.get("use_2d_cache_ids") or kwargs.get("lhs_aligned"))
        if self.continuous_batching is not None:
            self.padding_side = "right"
        self.rank_id = int(os.environ.get("NEURON_RANK_ID", "0"))
        self.local_tp = os.environ.get("NEURON_LOCAL_TP")
        self.pp_stages = int(os.environ.get("NEURON_PP_STAGES", "1"))

    def _check_types(self) -> None:
        for key, cls in _SUB_CONFIG_TYPES.items():
            value = getattr(self, key)
            if value is not None and not isinstance(value, cls):
                raise TypeError(f"NeuronConfig {key} must be a {cls.__name__}, got {value!r}")
        for key in ("attention_layout", "collectives_layout", "cache_layout"):
            setattr(self, key, Layout(getattr(self, key)))
        if self.group_query_attention is not None:
            self.group_query_attention = GQA(self.group_query_attention)
        assert self.cast_logits_dtype in _DTYPES, f"bad cast_logits_dtype {self.cast_logits_dtype}"
        assert not self.qkv_tiling or self.fuse_qkv, "qkv_tiling requires fuse_qkv=True"
        assert self.padding_side in ("left", "right"), f"bad padding_side {self.padding_side}"

    def options(self) -> dict[str, Any]:
        """The options the program set explicitly (sub-configs kept as objects)."""
        return dict(self._explicit)

    def is_pp(self) -> bool:
        return self.pp_stages > 1
