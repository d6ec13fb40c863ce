"""Keyword tables and the TNx -> NxDI vocabulary shared by the fakes (and the fake vLLM).

Sources: the keywords NxDI's NeuronConfig, MoENeuronConfig and OnDeviceSamplingConfig read in
each release (NxDI models/config.py at each release), and TNx config.py's NeuronConfig fields with
their NxDI names. Written apart from src/tnx2nxdi/mappings.py on purpose: the fakes are an
independent oracle, so a wrong mapping fails against them (docs/contributing.md).
The NxDI target release comes from env TNX2NXDI_FAKE_NXDI_VERSION ("2.21" .. "2.29", default 2.29).
"""

from __future__ import annotations

import enum
import os
from typing import Any

RELEASE_ENV = "TNX2NXDI_FAKE_NXDI_VERSION"
RELEASES = tuple(f"2.{minor}" for minor in range(21, 30))

# (first release, last release or None) -> NeuronConfig keywords read in that range.
_NXDI_NEURON_CONFIG = {
    ("2.21", None): """batch_size padding_side seq_len n_active_tokens n_positions
        max_context_length max_new_tokens max_length on_cpu output_logits torch_dtype
        overrides_torch_dtype rpl_reduce_dtype fused_qkv sequence_parallel_enabled
        flash_decoding_enabled vocab_parallel qk_layernorm attn_cls tp_degree pp_degree ep_degree
        world_size start_rank_id local_ranks_size logical_neuron_cores ctx_batch_size
        tkg_batch_size max_batch_size is_continuous_batching kv_cache_quant
        on_device_sampling_config save_sharded_checkpoint enable_bucketing buckets
        bucket_n_active_tokens context_encoding_buckets token_generation_buckets quantized
        quantized_checkpoints_path quantization_type quantization_dtype speculation_length
        spec_batch_size enable_fused_speculation enable_eagle_speculation is_eagle_draft
        enable_eagle_draft_input_norm is_medusa medusa_speculation_length num_medusa_heads
        medusa_tree pa_num_blocks pa_block_size lora_config attn_kernel_enabled
        qkv_kernel_enabled mlp_kernel_enabled mlp_kernel_fuse_residual_add
        quantized_mlp_kernel_enabled rmsnorm_quantize_kernel_enabled cc_pipeline_tiling_factor
        target""",
    ("2.21", "2.21"): "async is_paged_attention trace_tokengen_model quantized_kernel_lower_bound",
    ("2.21", "2.23"): "is_chunked_prefill",
    ("2.22", None): """allow_input_truncation logical_nc_config kv_cache_batch_size
        kv_cache_padding_size async_mode skip_warmup skip_sharding modules_to_not_convert
        draft_model_modules_to_not_convert activation_quantization_type quantize_clamp_bound
        token_tree_config is_block_kv_layout is_prefix_caching qkv_kernel_nbsd_layout""",
    ("2.23", None): """k_cache_transposed disable_kv_cache_tiling fused_rmsnorm_skip_gamma
        qkv_kernel_fuse_residual_add attn_tkg_nki_kernel_enabled attn_tkg_builtin_kernel_enabled
        attn_block_tkg_nki_kernel_enabled layer_boundary_markers
        weight_gather_seq_len_threshold""",
    ("2.24", None): """attention_dtype cast_type cp_degree prefix_buckets chunked_prefill_config
        attn_block_tkg_nki_kernel_cache_update seq_len_threshold_for_cc_tiling
        enable_spill_reload_dge apply_seq_ids_mask""",
    ("2.25", None): """attention_dp_degree attn_block_cte_nki_kernel_enabled
        moe_fused_nki_kernel_enabled router_topk_nki_kernel_enabled expert_mlp_nki_kernel_enabled
        shared_mlp_nki_kernel_enabled lm_head_pad lm_head_pad_alignment_size scratchpad_page_size
        enable_output_completion_notifications""",
    ("2.26", None): """strided_context_parallel_kernel_enabled
        attn_block_tkg_nki_kernel_cascaded_attention enable_cte_modular_flow""",
    ("2.27", None): """mlp_cp_degree quantization_block_size quantization_block_axis
        quantization_scale_dtype is_eagle3 windowed_context_encoding_size qkv_nki_kernel_enabled
        qkv_cte_nki_kernel_fuse_rope out_proj_kernel_enabled mlp_tkg_nki_kernel_enabled
        attn_block_tkg_nki_kernel_use_online_softmax padded_hidden_size padded_intermediate_size
        is_mxfp4_compute is_full_model_shuffled pre_rope_rmsnorm switch_cc
        disable_numeric_cc_token""",
    ("2.28", None): """kv_quant_config disable_argmax_kernel token_generation_batches
        eagle_rolling_buffer_kernel_enabled attn_block_tkg_nki_kernel_disable_gpsimd_sb2sb
        weights_to_skip_layout_optimization dma_order_config ep_dispatch_cc_option""",
    ("2.29", None): "enable_ve_data_parallel",
}
_NXDI_MOE = {
    ("2.21", None): "capacity_factor glu_mlp",
    ("2.24", None): """early_expert_affinity_modulation disable_normalize_top_k_affinities
        fused_shared_experts blockwise_matmul_config router_config""",
    ("2.25", None): "shared_experts_sequence_parallel_enabled return_expert_index",
    ("2.26", None): """glu_type hidden_act_scaling_factor hidden_act_bias hybrid_sharding_config
        moe_tp_degree moe_ep_degree transpose_shared_experts_weights""",
    ("2.27", None): """gate_clamp_upper_limit gate_clamp_lower_limit up_clamp_upper_limit
        up_clamp_lower_limit use_index_calc_kernel moe_mask_padded_tokens return_router_logits""",
}
_NXDI_SAMPLING = {
    ("2.21", None): """do_sample top_k top_p temperature dynamic deterministic global_topk
        on_device_sampling_config""",
    ("2.25", None): "top_k_kernel_enabled",
    ("2.28", None): "sampling_dp_degree",
}

TNX_NEURON_CONFIG_KEYS = frozenset(str.split("""sparse_attn quant kv_cache_quant continuous_batching
    attention_layout collectives_layout cache_layout padding_side group_query_attention
    sequence_parallel_norm sequence_parallel_norm_threshold bf16_rms_norm on_device_embedding
    on_device_generation all_reduce_dtype cast_logits_dtype fuse_qkv qkv_tiling weight_tiling
    mlp_in_weight_tiling_permute_order mlp_out_weight_tiling_permute_order log_softmax_scores
    shard_over_sequence output_all_logits attn_output_transposed fused_rmsnorm_qkv
    fused_rmsnorm_mlp mlp_out_weight_transpose fuse_mlp is_eagle_target is_eagle_draft
    has_pre_attention_norm compilation_worker_count duplicate_q_weight_sos use_2d_cache_ids
    lhs_aligned"""))

TNX_RENAMED = {
    "fuse_qkv": "fused_qkv", "sequence_parallel_norm": "sequence_parallel_enabled",
    "shard_over_sequence": "flash_decoding_enabled", "fused_rmsnorm_qkv": "qkv_kernel_enabled",
    "fused_rmsnorm_mlp": "mlp_kernel_enabled", "padding_side": "padding_side",
}
_QUANT_DTYPES = {"s8": "int8", "f8e4m3fn": "f8e4m3"}
_QUANT_METHODS = {"vector_dynamic": "per_channel_symmetric", "direct_cast": "per_tensor_symmetric"}
_AMP_NAMES = {"f32": "float32", "f16": "float16", "bf16": "bfloat16"}


def release_tuple(release: str) -> tuple[int, int]:
    major, minor = release.split(".")[:2]
    return int(major), int(minor)


def nxdi_release() -> str:
    """The NxDI release the fakes imitate (env TNX2NXDI_FAKE_NXDI_VERSION, default 2.29)."""
    release = os.environ.get(RELEASE_ENV, "2.29")
    if release not in RELEASES:
        raise ValueError(f"{RELEASE_ENV}={release!r}: expected one of {RELEASES}")
    return release


def _keys_for(table: dict[tuple[str, str | None], str], release: str) -> frozenset[str]:
    now = release_tuple(release)
    keys: set[str] = set()
    for (first, last), names in table.items():
        if release_tuple(first) <= now and (last is None or now <= release_tuple(last)):
            keys.update(names.split())
    return frozenset(keys)


def nxdi_neuron_config_keys(release: str) -> frozenset[str]:
    return _keys_for(_NXDI_NEURON_CONFIG, release)


def nxdi_moe_keys(release: str) -> frozenset[str]:
    return _keys_for(_NXDI_MOE, release)


def nxdi_sampling_keys(release: str) -> frozenset[str]:
    return _keys_for(_NXDI_SAMPLING, release)


def nxdi_sampling_view(given: dict[str, Any], release: str) -> dict[str, Any]:
    """NxDI on-device sampling settings as compared: effective do_sample, top_k, dynamic and
    deterministic (release defaults) plus every key given explicitly."""
    defaults = {"do_sample": release == "2.21", "top_k": 1, "dynamic": False,
                "deterministic": False}
    return {**defaults, **given}


def dtype_name(value: Any) -> str:
    """"float32" for torch.float32, "torch.float32", "float32" or the TNx amp string "f32"."""
    text = str(value).removeprefix("torch.")
    return _AMP_NAMES.get(text, text)


def as_plain_dict(value: Any) -> dict[str, Any]:
    """A sub-config given as a dict or as an object (with as_dict() or plain attributes)."""
    if isinstance(value, dict):
        return dict(value)
    if hasattr(value, "as_dict"):
        return value.as_dict()
    return {k: v for k, v in vars(value).items() if not k.startswith("_")}


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, enum.Enum) else value


def _rest(sub: dict[str, Any], used: tuple[str, ...]) -> dict[str, Any]:
    return {k: v for k, v in sub.items() if k not in used}


def _translate_quant(quant: dict[str, Any]) -> dict[str, Any]:
    method = quant.get("quantize_method", "vector_dynamic")
    out: dict[str, Any] = {
        "quantized": True,
        "quantization_dtype": _QUANT_DTYPES.get(quant.get("quant_dtype", "s8"), "?"),
        "quantization_type": _QUANT_METHODS.get(method, "?"),
    }
    # TNx never quantizes lm_head (nor attention with quantize_attn=False); NxDI names the
    # modules it keeps in full precision, from 2.22 on.
    if release_tuple(nxdi_release()) >= (2, 22):
        kept = ["lm_head"] + ([] if quant.get("quantize_attn", True) else ["self_attn"])
        out["modules_to_not_convert"] = kept
    return out


def effective_padding_side(options: dict[str, Any]) -> str | None:
    """The side TNx pads prompts on: "left" by default, "right" under continuous batching or
    with the deprecated lhs_aligned / use_2d_cache_ids flags."""
    if options.get("continuous_batching") is not None or options.get("lhs_aligned") or (
            options.get("use_2d_cache_ids")):
        return "right"
    side = options.get("padding_side", "left")
    return side if isinstance(side, str) else None


def _translate_continuous_batching(cb: dict[str, Any]) -> dict[str, Any]:
    n = cb.get("max_num_seqs", cb.get("batch_size_for_shared_caches"))
    return {"is_continuous_batching": True, "max_batch_size": n, "tkg_batch_size": n}


def _translate_generation(gen: dict[str, Any]) -> dict[str, Any]:
    sampling = {
        "do_sample": gen.get("do_sample", False), "top_k": gen.get("top_k", 50),
        "dynamic": gen.get("dynamic", False), "deterministic": gen.get("deterministic", False),
    }
    if gen.get("global_top_k") is not None:
        sampling["global_topk"] = gen["global_top_k"]
    return {"on_device_sampling_config": sampling}


_SUB_CONFIGS = {
    "quant": (_translate_quant, ("quant_dtype", "quantize_method", "quantize_attn")),
    "kv_cache_quant": (lambda _: {"kv_cache_quant": True}, ()),
    "continuous_batching": (
        _translate_continuous_batching, ("max_num_seqs", "batch_size_for_shared_caches")),
    "on_device_generation": (
        _translate_generation, ("do_sample", "top_k", "dynamic", "deterministic", "global_top_k")),
}


def translate_tnx_options(options: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split explicitly set TNx NeuronConfig options into (NxDI-named config, TNx-only options).

    Sub-configs (dicts or config objects) are translated with TNx defaults for missing fields;
    their fields without an NxDI equivalent land in tnx_only under the sub-config's name.
    """
    config: dict[str, Any] = {}
    tnx_only: dict[str, Any] = {}
    for key, value in options.items():
        if key in TNX_RENAMED:
            config[TNX_RENAMED[key]] = value
        elif key == "all_reduce_dtype" and value is not None:
            config["rpl_reduce_dtype"] = dtype_name(value)
        elif key in _SUB_CONFIGS and value is not None:
            translate, used = _SUB_CONFIGS[key]
            sub = as_plain_dict(value)
            config.update(translate(sub))
            if _rest(sub, used):
                tnx_only[key] = _rest(sub, used)
        else:
            tnx_only[key] = _plain(value)
    return config, tnx_only


def switch_off_kernels(options: dict[str, Any], config: dict[str, Any]) -> None:
    """TNx's NeuronConfig turns its fused RMSNorm kernels off unless the layout and GQA
    settings they were written for are set (BSH, replicated heads; QKV also needs fuse_qkv and
    no sequence-parallel norm)."""
    layout = str(_plain(options.get("attention_layout", "HSB")))
    gqa = str(_plain(options.get("group_query_attention")))
    common = layout == "BSH" and gqa == "replicated-heads"
    if not (common and options.get("fuse_qkv") and not options.get("sequence_parallel_norm")) and (
            config.get("qkv_kernel_enabled") is True):
        del config["qkv_kernel_enabled"]
    if not common and config.get("mlp_kernel_enabled") is True:
        del config["mlp_kernel_enabled"]
