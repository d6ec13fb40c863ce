"""Everything tnx2nxdi knows about TNx and NxDI, as data.

This module is the single source of migration knowledge: class and module names, option renames,
value translations, carried-over defaults, "no equivalent" entries and release differences. It has
no LibCST code; the transformers read it, and ``docs/mapping.md`` is generated from it
(``scripts/document_mapping.py``; a test fails when the two drift).

Sources are cited per entry. ``TNx`` means aws-neuron/transformers-neuronx at 1ade6d7
(``src/transformers_neuronx/...``); ``NxDI`` means aws-neuron/neuronx-distributed-inference
(``src/neuronx_distributed_inference/...``); ``guide`` is the Neuron SDK page
``libraries/nxd-inference/developer_guides/migrate-from-tnx-to-nxdi.rst``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum

from tnx2nxdi.literals import LiteralValue

TNX_PACKAGE = "transformers_neuronx"
NXDI_PACKAGE = "neuronx_distributed_inference"


def is_tnx(qualified: str | None) -> bool:
    """Whether an imported name comes from TNx (the package or one of its modules)."""
    return qualified is not None and (
        qualified == TNX_PACKAGE or qualified.startswith(TNX_PACKAGE + ".")
    )

#: Byte strings whose presence makes a file worth parsing. A file without any of them is skipped
#: before LibCST is imported (the prefilter is the hot path: docs/performance.md). Markers left
#: by an earlier run count: they are reported until a person removes them.
PREFILTER_MARKERS: tuple[bytes, ...] = (
    TNX_PACKAGE.encode(), b"TODO(tnx2nxdi)",
    # vLLM for Neuron (docs/vllm.md): programs and launch scripts that never import TNx.
    b"VLLM_NEURON_FRAMEWORK", b"override_neuron_config", b"override-neuron-config",
    b"neuron\"", b"neuron'", b"device neuron", b"device=neuron", b"neuron_quant",
    # The same in a notebook's JSON, where the cell source escapes its quotes: neuron\".
    b"neuron\\\"",
    # Installing the vLLM fork (a setup script, a notebook's !git clone).
    b"upstreaming-to-vllm",
    # TNx classes named in strings by code that never spells the package
    # ("llama.model.LlamaForSampling"), and install lines of the TNx distribution.
    b"ForSampling", b"transformers-neuronx",
)

#: NxDI releases the tool can target (``--target-version``); the last one is the default.
TARGET_VERSIONS: tuple[str, ...] = (
    "2.21", "2.22", "2.23", "2.24", "2.25", "2.26", "2.27", "2.28", "2.29",
)
DEFAULT_TARGET_VERSION = TARGET_VERSIONS[-1]


def version_key(version: str) -> tuple[int, ...]:
    """``"2.9"`` < ``"2.23"``: compare releases numerically."""
    return tuple(int(part) for part in version.split("."))


# --------------------------------------------------------------------------------------------
# Symbols and model families
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Symbol:
    """A name importable from a concrete module (NxDI package ``__init__`` files are empty)."""

    module: str
    name: str

    @property
    def qualified(self) -> str:
        return f"{self.module}.{self.name}"


NXDI_NEURON_CONFIG = Symbol(f"{NXDI_PACKAGE}.models.config", "NeuronConfig")
NXDI_MOE_NEURON_CONFIG = Symbol(f"{NXDI_PACKAGE}.models.config", "MoENeuronConfig")
NXDI_ON_DEVICE_SAMPLING_CONFIG = Symbol(f"{NXDI_PACKAGE}.models.config", "OnDeviceSamplingConfig")
NXDI_LOAD_PRETRAINED_CONFIG = Symbol(f"{NXDI_PACKAGE}.utils.hf_adapter", "load_pretrained_config")
NXDI_GENERATION_ADAPTER = Symbol(f"{NXDI_PACKAGE}.utils.hf_adapter", "HuggingFaceGenerationAdapter")
TORCH_MODULE = "torch"
#: NxDI's application classes read checkpoints from a local directory only (they append "/"
#: to the path and read config.json and the weights from it); TNx from_pretrained also took
#: Hugging Face Hub ids, so the migrated program downloads those first.
HUB_DOWNLOAD = Symbol("huggingface_hub", "snapshot_download")
#: ``org/name``: the shape of a Hub model id (a local path is any other string).
#: Calls that write a checkpoint directory (a path they write is local, whatever it looks like).
CHECKPOINT_WRITERS: frozenset[str] = frozenset({"save_pretrained", "save_pretrained_split"})
HUB_ID_PATTERN = r"^[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*$"


@dataclass(frozen=True)
class Family:
    """A TNx model family NxDI can run, and the three NxDI classes it becomes."""

    key: str
    tnx_classes: tuple[str, ...]
    neuron_config: Symbol
    inference_config: Symbol
    application: Symbol
    source: str
    #: Set when the rewrite deserves a word to the user (reported as a fixed finding).
    note: str | None = None


_LLAMA_MODULE = f"{NXDI_PACKAGE}.models.llama.modeling_llama"
_MIXTRAL_MODULE = f"{NXDI_PACKAGE}.models.mixtral.modeling_mixtral"

FAMILIES: tuple[Family, ...] = (
    Family(
        key="llama",
        tnx_classes=(
            "transformers_neuronx.LlamaForSampling",
            "transformers_neuronx.llama.model.LlamaForSampling",
        ),
        neuron_config=NXDI_NEURON_CONFIG,
        inference_config=Symbol(_LLAMA_MODULE, "LlamaInferenceConfig"),
        application=Symbol(_LLAMA_MODULE, "NeuronLlamaForCausalLM"),
        source="NxDI models/llama/modeling_llama.py; guide 'Model Inference' example",
    ),
    Family(
        key="mistral",
        tnx_classes=(
            "transformers_neuronx.MistralForSampling",
            "transformers_neuronx.mistral.model.MistralForSampling",
        ),
        neuron_config=NXDI_NEURON_CONFIG,
        inference_config=Symbol(_LLAMA_MODULE, "LlamaInferenceConfig"),
        application=Symbol(_LLAMA_MODULE, "NeuronLlamaForCausalLM"),
        source="NxDI model hub lists Mistral under Llama; vLLM maps MistralForCausalLM to "
        "NeuronLlamaForCausalLM (VLLM model_loader/neuronx_distributed.py)",
        note="Mistral runs on NxDI's Llama classes in every release 2.21-2.29 (only the second "
        "2.29 update adds NeuronMistralForCausalLM); they apply no sliding window, so check the "
        "checkpoint's sliding_window against your prompt lengths",
    ),
    Family(
        key="mixtral",
        tnx_classes=(
            "transformers_neuronx.MixtralForSampling",
            "transformers_neuronx.mixtral.model.MixtralForSampling",
        ),
        neuron_config=NXDI_MOE_NEURON_CONFIG,
        inference_config=Symbol(_MIXTRAL_MODULE, "MixtralInferenceConfig"),
        application=Symbol(_MIXTRAL_MODULE, "NeuronMixtralForCausalLM"),
        source="NxDI models/mixtral/modeling_mixtral.py (MoENeuronConfig)",
    ),
)

FAMILY_BY_CLASS: Mapping[str, Family] = {
    qualified: family for family in FAMILIES for qualified in family.tnx_classes
}

#: TNx classes of families NxDI has no model for (TNx's model packages; NxDI models/).
UNSUPPORTED_CLASSES: Mapping[str, str] = {
    "transformers_neuronx.GPT2ForSamplingWithContextBroadcasting": "GPT-2",
    "transformers_neuronx.gpt2.model.GPT2ForSamplingWithContextBroadcasting": "GPT-2",
    "transformers_neuronx.gpt2.model.GPT2ForSampling": "GPT-2",
    "transformers_neuronx.gpt2.model.GPT2ForHuggingFaceSampling": "GPT-2",
    "transformers_neuronx.GPTJForSampling": "GPT-J",
    "transformers_neuronx.gptj.model.GPTJForSampling": "GPT-J",
    "transformers_neuronx.GPTNeoXForSampling": "GPT-NeoX",
    "transformers_neuronx.gptneox.model.GPTNeoXForSampling": "GPT-NeoX",
    "transformers_neuronx.BloomForSampling": "BLOOM",
    "transformers_neuronx.bloom.model.BloomForSampling": "BLOOM",
    "transformers_neuronx.OPTForSampling": "OPT",
    "transformers_neuronx.opt.model.OPTForSampling": "OPT",
    "transformers_neuronx.opt.model.OPTForGreedySearch": "OPT",
    "transformers_neuronx.llama.model.FIDLlamaForSampling": "FiD-Llama",
}
ONBOARDING_GUIDE = (
    "https://awsdocs-neuron.readthedocs-hosted.com/en/latest/libraries/nxd-inference/"
    "developer_guides/onboarding-models.html"
)

TNX_NEURON_CONFIG_CLASSES: frozenset[str] = frozenset(
    {"transformers_neuronx.NeuronConfig", "transformers_neuronx.config.NeuronConfig"}
)


# --------------------------------------------------------------------------------------------
# Options: from_pretrained keywords, NeuronConfig fields and sub-config fields
# --------------------------------------------------------------------------------------------


class Translation(Enum):
    """How a TNx value becomes NxDI keyword values (implemented in transforms/config.py)."""

    COPY = "copy"  #: the same expression under the NxDI name(s)
    VALUES = "values"  #: literal values looked up in ``OptionRule.values``
    MAX_OF_LIST = "max_of_list"  #: an int stays; a list literal gives its maximum
    BUCKETS = "buckets"  #: an int or list literal becomes a sorted list of ints
    NONE = "none"  #: no NxDI equivalent: dropped, with a finding unless set to the TNx default


class NoDefault(Enum):
    TOKEN = 0


NO_DEFAULT = NoDefault.TOKEN


@dataclass(frozen=True)
class OptionRule:
    """One TNx option (``from_pretrained`` keyword, NeuronConfig field or ``sub.field``)."""

    tnx: str
    nxdi: tuple[str, ...]
    translation: Translation
    note: str
    source: str
    #: TNx's default. An option explicitly set to it may be dropped quietly when it has no
    #: NxDI equivalent; a "carried" default is written out when the TNx program omitted it.
    tnx_default: LiteralValue | NoDefault = NO_DEFAULT
    carry_default: bool = False
    #: For VALUES: TNx literal -> NxDI value as source code.
    values: Mapping[LiteralValue, str] = field(default_factory=dict)
    #: NxDI keywords that must also be set (source code) whenever this option is migrated.
    also: tuple[tuple[str, str], ...] = ()
    #: For options with no NxDI equivalent: values that describe what NxDI always does, so
    #: dropping them changes nothing (reported as fixed, without a marker).
    nxdi_builtin: tuple[LiteralValue, ...] = ()
    #: NxDI keywords this option forces whatever else the program set (source code).
    forces: tuple[tuple[str, str], ...] = ()
    #: For options with no NxDI equivalent: dropping them changes layout, sharding or speed,
    #: not what the model computes, so they are dropped with a fixed finding (no marker).
    same_results: bool = False
    #: TNx keeps this option on only when these other options have these values (absent ones
    #: take their TNx default); otherwise TNx switches it off itself, and so does the migration.
    requires: tuple[tuple[str, LiteralValue], ...] = ()


_G = "guide 'Neuron Config Migration'"
_TNX_CFG = "TNx config.py NeuronConfig"

AMP_TO_TORCH: Mapping[LiteralValue, str] = {
    "f32": "torch.float32", "f16": "torch.float16", "bf16": "torch.bfloat16",
}

FROM_PRETRAINED_OPTIONS: tuple[OptionRule, ...] = (
    OptionRule(
        "batch_size", ("batch_size",), Translation.MAX_OF_LIST,
        "same meaning; carried over explicitly. TNx compiles every size of a list; NxDI compiles "
        "one, so a list becomes its maximum (smaller batches are padded)",
        "TNx llama/model.py __init__ (bucket.batch_sizes); NxDI config.py",
        tnx_default=1, carry_default=True,
    ),
    OptionRule(
        "tp_degree", ("tp_degree",), Translation.COPY,
        "TNx default 2, NxDI default 1: carried over explicitly",
        "TNx llama/model.py __init__ (tp_degree=2); NxDI config.py (tp_degree=1)",
        tnx_default=2, carry_default=True,
    ),
    OptionRule(
        "n_positions", ("seq_len",), Translation.MAX_OF_LIST,
        "maximum total length; TNx default 2048, NxDI default 128: carried over explicitly. "
        "A list of token-generation buckets also sets token_generation_buckets",
        "TNx llama/model.py (n_positions=2048); NxDI config.py (seq_len=128); nxdi_api.md §8",
        tnx_default=2048, carry_default=True,
    ),
    OptionRule(
        "amp", ("torch_dtype",), Translation.VALUES,
        "TNx default 'f32'; NxDI otherwise takes the checkpoint's dtype: carried over explicitly",
        "TNx dtypes.to_torch_dtype; NxDI config.py torch_dtype / load_pretrained_config",
        tnx_default="f32", carry_default=True, values=AMP_TO_TORCH,
    ),
    OptionRule(
        "context_length_estimate", ("context_encoding_buckets",), Translation.BUCKETS,
        "prompt (context-encoding) buckets", "TNx bucket.context_sizes; nxdi_api.md §8",
        tnx_default=None, also=(("enable_bucketing", "True"),),
    ),
    OptionRule(
        "unroll", (), Translation.NONE,
        "NxDI always compiles whole-model graphs", "TNx llama/model.py __init__", tnx_default=None,
        same_results=True,
    ),
    OptionRule(
        "context_unroll", (), Translation.NONE,
        "NxDI always compiles whole-model graphs", "TNx llama/model.py __init__", tnx_default=None,
        same_results=True,
    ),
    OptionRule(
        "prefixed_length", (), Translation.NONE,
        "NxDI has no shared-prefix length; consider prefix caching (is_prefix_caching)",
        "TNx llama/model.py set_prefixed", tnx_default=0,
    ),
)

NEURON_CONFIG_OPTIONS: tuple[OptionRule, ...] = (
    OptionRule("fuse_qkv", ("fused_qkv",), Translation.COPY, "renamed", _G, tnx_default=False),
    OptionRule(
        "sequence_parallel_norm", ("sequence_parallel_enabled",), Translation.COPY, "renamed", _G,
        tnx_default=False,
    ),
    OptionRule(
        "shard_over_sequence", ("flash_decoding_enabled",), Translation.COPY,
        "flash decoding", _G, tnx_default=False,
    ),
    OptionRule(
        "fused_rmsnorm_qkv", ("qkv_kernel_enabled",), Translation.COPY,
        "renamed; TNx runs the kernel only with fuse_qkv=True, attention_layout='BSH', "
        "group_query_attention=GQA.REPLICATED_HEADS and sequence_parallel_norm=False",
        f"{_G}; {_TNX_CFG} (switches the kernel off otherwise)", tnx_default=False,
        requires=(("fuse_qkv", True), ("attention_layout", "BSH"),
                  ("group_query_attention", "replicated-heads"),
                  ("sequence_parallel_norm", False)),
    ),
    OptionRule(
        "fused_rmsnorm_mlp", ("mlp_kernel_enabled",), Translation.COPY,
        "renamed; TNx runs the kernel only with attention_layout='BSH' and "
        "group_query_attention=GQA.REPLICATED_HEADS",
        f"{_G}; {_TNX_CFG} (switches the kernel off otherwise)", tnx_default=False,
        requires=(("attention_layout", "BSH"), ("group_query_attention", "replicated-heads")),
    ),
    OptionRule(
        "all_reduce_dtype", ("rpl_reduce_dtype",), Translation.COPY,
        "renamed; NxDI converts the dtype string", _G, tnx_default=None,
    ),
    OptionRule(
        "padding_side", ("padding_side",), Translation.COPY,
        "same name; NxDI's default is 'right' (TNx: 'left'), so the tokenizer must match", _G,
    ),
    OptionRule(
        "lhs_aligned", ("padding_side",), Translation.VALUES,
        "deprecated TNx spelling of right padding (False, the default, changes nothing)",
        "TNx config.py (deprecated kwargs)", tnx_default=False, values={True: '"right"'},
    ),
    OptionRule(
        "use_2d_cache_ids", ("padding_side",), Translation.VALUES,
        "deprecated TNx spelling of right padding (False, the default, changes nothing)",
        "TNx config.py (deprecated kwargs)", tnx_default=False, values={True: '"right"'},
    ),
    OptionRule(
        "quant", ("quantized",), Translation.VALUES,
        "weight quantization; NxDI asserts quantized_checkpoints_path, which tnx2nxdi derives "
        "next to the compiled artifacts (run save_quantized_state_dict once to create it)",
        _G, tnx_default=None,
    ),
    OptionRule(
        "kv_cache_quant", ("kv_cache_quant",), Translation.VALUES,
        "NxDI's KV-cache quantization is FP8 direct cast", _G, tnx_default=None,
    ),
    OptionRule(
        "continuous_batching", ("is_continuous_batching",), Translation.VALUES,
        "spelled is_continuous_batching (the guide's is_continous_batching is silently ignored "
        "by NxDI); TNx pads on the right under continuous batching whatever padding_side says",
        f"{_G}; NxDI config.py reads only is_continuous_batching; TNx config.py (forces "
        "padding_side='right')", tnx_default=None, forces=(("padding_side", '"right"'),),
    ),
    OptionRule(
        "on_device_generation", ("on_device_sampling_config",), Translation.VALUES,
        "becomes OnDeviceSamplingConfig", _G, tnx_default=None,
    ),
    OptionRule(
        "on_device_embedding", (), Translation.NONE,
        "NxDI always runs the embedding on device (the lookup is exact either way)",
        f"{_G} (no equivalent); {_TNX_CFG}", tnx_default=False, same_results=True,
    ),
    *(
        OptionRule(name, (), Translation.NONE, note, f"{_G} (no equivalent); {_TNX_CFG}",
                   tnx_default=default, same_results=same)
        for name, default, same, note in (
            ("sparse_attn", None, False, "NxDI has no block-sparse or sliding-window masks"),
            ("attention_layout", "HSB", True, "NxDI always uses the BHSD layout"),
            ("collectives_layout", "HSB", True, "NxDI always uses the BHSD layout"),
            ("cache_layout", "SBH", True, "NxDI always uses the BHSD layout"),
            ("group_query_attention", None, True, "NxDI chooses the GQA sharding itself"),
            ("sequence_parallel_norm_threshold", 2048, True, "NxDI has no threshold"),
            ("bf16_rms_norm", False, True, "NxDI computes RMSNorm in float32 (slightly more "
             "precise than TNx's bfloat16 norm)"),
            ("cast_logits_dtype", "float32", True, "NxDI returns float32 logits"),
            ("qkv_tiling", False, True, "a TNx weight layout"),
            ("weight_tiling", False, True, "a TNx weight layout"),
            ("mlp_in_weight_tiling_permute_order", (1, 2, 0, 3), True, "a TNx weight layout"),
            ("mlp_out_weight_tiling_permute_order", (1, 2, 0, 3), True, "a TNx weight layout"),
            ("mlp_out_weight_transpose", False, True, "a TNx weight layout"),
            ("fuse_mlp", False, True, "a TNx weight layout"),
            ("log_softmax_scores", False, False, "no NxDI option"),
            ("output_all_logits", False, False, "NxDI's output_logits is not the same feature"),
            ("attn_output_transposed", False, True, "a TNx weight layout"),
            ("duplicate_q_weight_sos", False, True, "a TNx weight layout"),
            ("compilation_worker_count", None, True, "NxDI manages compilation workers itself"),
            ("is_eagle_target", False, False, "EAGLE speculation is configured differently in "
             "NxDI (enable_eagle_speculation with a fused-speculation draft)"),
            ("is_eagle_draft", False, False, "EAGLE drafts are configured through "
             "FusedSpecNeuronConfig in NxDI"),
            ("has_pre_attention_norm", True, False, "EAGLE drafts are configured differently in "
             "NxDI"),
        )
    ),
)

#: Fields of TNx sub-configs, keyed ``"<neuron_config field>.<sub field>"``.
SUBCONFIG_OPTIONS: tuple[OptionRule, ...] = (
    OptionRule(
        "quant.quant_dtype", ("quantization_dtype",), Translation.VALUES,
        "TNx 's8' is NxDI 'int8', 'f8e4m3fn' is 'f8e4m3'", _G,
        tnx_default="s8", values={"s8": '"int8"', "f8e4m3fn": '"f8e4m3"'},
    ),
    OptionRule(
        "quant.quantize_method", ("quantization_type",), Translation.VALUES,
        "TNx default 'vector_dynamic' (per channel) differs from NxDI's 'per_tensor_symmetric': "
        "carried over explicitly", _G, tnx_default="vector_dynamic", carry_default=True,
        values={"vector_dynamic": '"per_channel_symmetric"',
                "direct_cast": '"per_tensor_symmetric"'},
    ),
    OptionRule(
        "quant.dequant_dtype", (), Translation.NONE,
        "NxDI dequantizes to torch_dtype; keep amp and dequant_dtype equal", _G,
        tnx_default="f16",
    ),
    OptionRule("quant.quantize_attn", (), Translation.NONE, "no NxDI option", _G,
               tnx_default=True),
    OptionRule(
        "quant.no_quantize_list", (), Translation.NONE,
        "NxDI's modules_to_not_convert takes module names, not TNx layer names", _G,
        tnx_default=(),
    ),
    OptionRule(
        "kv_cache_quant.quant_dtype", (), Translation.NONE,
        "NxDI's KV-cache quantization is always FP8 (e4m3); check accuracy", _G,
        tnx_default="s8", carry_default=True, nxdi_builtin=("f8e4m3fn",),
    ),
    OptionRule("kv_cache_quant.dequant_dtype", (), Translation.NONE, "follows torch_dtype", _G,
               tnx_default="bf16"),
    OptionRule("kv_cache_quant.quantize_method", (), Translation.NONE,
               "NxDI always casts directly", _G, tnx_default="direct_cast"),
    OptionRule(
        "continuous_batching.max_num_seqs", ("max_batch_size", "tkg_batch_size"),
        Translation.COPY, "the continuous-batching slot count", _G,
    ),
    OptionRule(
        "continuous_batching.batch_size_for_shared_caches", ("max_batch_size", "tkg_batch_size"),
        Translation.COPY, "older spelling of max_num_seqs", _G,
    ),
    OptionRule(
        "continuous_batching.max_model_len", (), Translation.NONE,
        "NxDI's seq_len (from n_positions) is the model length", _G, tnx_default=None,
    ),
    OptionRule(
        "continuous_batching.optimized_paged_attention", (), Translation.NONE,
        "NxDI's block KV layout (is_block_kv_layout) is configured differently", _G,
        tnx_default=False,
    ),
    OptionRule(
        "continuous_batching.enable_chunked_prefill", (), Translation.NONE,
        "NxDI configures chunked prefill with chunked_prefill_config", "TNx config.py",
        tnx_default=False,
    ),
    OptionRule("on_device_generation.do_sample", ("do_sample",), Translation.COPY,
               "carried over explicitly (the NxDI default changed in 2.22)", _G,
               tnx_default=False, carry_default=True),
    OptionRule("on_device_generation.top_k", ("top_k",), Translation.COPY,
               "TNx default 50, NxDI default 1", _G, tnx_default=50, carry_default=True),
    OptionRule("on_device_generation.dynamic", ("dynamic",), Translation.COPY, "same", _G,
               tnx_default=False),
    OptionRule("on_device_generation.deterministic", ("deterministic",), Translation.COPY,
               "same", _G, tnx_default=False),
    OptionRule("on_device_generation.global_top_k", ("global_topk",), Translation.COPY,
               "spelled global_topk in NxDI", _G, tnx_default=None),
    *(
        OptionRule(f"on_device_generation.{name}", (), Translation.NONE, note, _G,
                   tnx_default=default)
        for name, default, note in (
            ("max_length", None, "NxDI takes the length from seq_len"),
            ("top_p", 1.0, "NxDI takes top_p per generate() call (tnx2nxdi passes it to the "
             "sample() calls it migrates)"),
            ("temperature", 1.0, "NxDI takes temperature per generate() call (tnx2nxdi passes "
             "it to the sample() calls it migrates)"),
            ("top_p_min_tokens", 1, "no NxDI option"),
            ("eos_token_id", None, "pass eos_token_id to generate()"),
            ("per_batch_line", False, "per-row values come from sampling_params"),
        )
    ),
)

#: TNx constants and enum members, by qualified name, with the value TNx compares them as
#: (TNx constants.py: GQA values are the hyphenated strings; Layout compares equal to its string).
TNX_CONSTANTS: Mapping[str, LiteralValue] = {
    **{
        f"{prefix}.GQA.{member}": value
        for prefix in ("transformers_neuronx", "transformers_neuronx.constants")
        for member, value in (
            ("SHARD_OVER_HEADS", "shard-over-heads"),
            ("SHARD_OVER_BATCH", "shard-over-batch"),
            ("REPLICATED_HEADS", "replicated-heads"),
            ("ALL_GATHER_HEADS", "all-gather-heads"),
        )
    },
    **{
        f"{prefix}.Layout.{member}": member
        for prefix in ("transformers_neuronx", "transformers_neuronx.constants")
        for member in ("HSB", "BSH", "SBH")
    },
    **{
        f"transformers_neuronx.constants.LAYOUT_{member}": member
        for member in ("HSB", "BSH", "SBH")
    },
}

#: TNx sub-config classes, the NeuronConfig field they fill, and the NxDI value of that field.
SUBCONFIG_CLASSES: Mapping[str, str] = {
    "transformers_neuronx.QuantizationConfig": "quant",
    "transformers_neuronx.config.QuantizationConfig": "quant",
    "transformers_neuronx.config.KVCacheQuantizationConfig": "kv_cache_quant",
    "transformers_neuronx.ContinuousBatchingConfig": "continuous_batching",
    "transformers_neuronx.config.ContinuousBatchingConfig": "continuous_batching",
    "transformers_neuronx.GenerationConfig": "on_device_generation",
    "transformers_neuronx.config.GenerationConfig": "on_device_generation",
}

#: How each sub-config field itself is written in NxDI: ``True`` flags, or a nested class whose
#: keyword arguments are the sub-fields' NxDI names.
SUBCONFIG_FLAG_VALUE = "True"
SUBCONFIG_NESTED_CLASS: Mapping[str, Symbol] = {
    "on_device_generation": NXDI_ON_DEVICE_SAMPLING_CONFIG,
}

#: Where the quantized checkpoint goes when the TNx program quantized on the fly.
QUANTIZED_CHECKPOINTS_DIRNAME = "quantized-checkpoint"
#: TNx dequantizes to ``quant.dequant_dtype`` ('f16' unless given, whatever ``amp`` is); NxDI
#: dequantizes to ``torch_dtype`` (TNx hlo.py dequantize; NxDI QuantizedColumnParallel dtype).
DEQUANT_OPTION = "quant.dequant_dtype"
TNX_DEQUANT_DEFAULT = "f16"
QUANTIZE_ATTN_OPTION = "quant.quantize_attn"
QUANTIZE_METHOD_OPTION = "quant.quantize_method"
#: Reads a checkpoint's config.json (the layer count, when the tool cannot read it itself).
HF_AUTO_CONFIG = Symbol("transformers", "AutoConfig")
#: TNx never quantizes lm_head (nor the embedding, the norms or the MoE router); NxDI quantizes
#: every parallel linear layer, lm_head included, unless modules_to_not_convert names it
#: (NxDI models/model_wrapper.py convert(..., modules_to_not_convert); NeuronConfig reads the
#: keyword from 2.22 and warns when quantized=True comes without it).
MODULES_TO_NOT_CONVERT_KEY = "modules_to_not_convert"
MODULES_TO_NOT_CONVERT_SINCE = "2.22"
TNX_UNQUANTIZED_MODULES: tuple[str, ...] = ("lm_head",)
#: The NxDI module path (a substring match) of every layer's attention.
NXDI_ATTENTION_MODULE = "self_attn"
#: Only per-channel quantization honours modules_to_not_convert when the quantized checkpoint
#: is written (NxDI application_base.py generate_quantized_state_dict).
PER_CHANNEL_QUANTIZATION = '"per_channel_symmetric"'
#: The classmethod that writes the quantized checkpoint from the original one.
SAVE_QUANTIZED = "save_quantized_state_dict"

#: What every TNx model does that NxDI does only when told, carried explicitly: TNx always
#: compiles power-of-two buckets up to n_positions (TNx bucket.py token_sizes/context_sizes);
#: NxDI's enable_bucketing defaults to False (one bucket at seq_len).
TNX_BEHAVIOUR: tuple[tuple[str, str], ...] = (("enable_bucketing", "True"),)
#: TNx pads on the left (config.py padding_side='left'); NxDI on the right, ignoring the
#: attention mask of right-padded prompts: it matters once a batch holds several prompts.
PADDING_SIDE_KEY = "padding_side"
TNX_PADDING_SIDE = '"left"'

#: Multi-node TNx: each node runs the same program with NEURON_RANK_ID and NEURON_LOCAL_TP set
#: (TNx config.py); NxDI takes the node's ranks from start_rank_id and local_ranks_size
#: (NxDI examples/multi_node.md). The largest single TNx node has 32 NeuronCores (trn1.32xlarge).
TNX_MAX_TP_ONE_NODE = 32
MULTINODE_ENV: tuple[str, ...] = ("NEURON_RANK_ID", "NEURON_LOCAL_TP")
MULTINODE_START_KEY = "start_rank_id"
MULTINODE_LOCAL_KEY = "local_ranks_size"
MULTINODE_LOCAL_TP = 'int(os.environ.get("NEURON_LOCAL_TP", {tp}))'
MULTINODE_RANK = 'int(os.environ.get("NEURON_RANK_ID", 0)) * {local}'
MULTINODE_NOTE = (
    "multi-node TNx program: NxDI's start_rank_id and local_ranks_size are computed from the "
    "same NEURON_RANK_ID and NEURON_LOCAL_TP the TNx program was launched with (keep "
    "NEURON_RT_ROOT_COMM_ID set as before)"
)

#: TNx shard_over_sequence is NxDI flash decoding, which asserts that the checkpoint's heads
#: divide evenly (NxDI modules/flashdecode/utils.py calculate_num_cores_per_group).
FLASH_DECODING_OPTION = "shard_over_sequence"
FLASH_DECODING_NOTE = (
    "NxDI's flash decoding needs min(tp_degree, attention heads) divisible by the KV heads "
    "(and, before 2.28, attention heads divisible by tp_degree)"
)
#: The last release that also asserts num_attention_heads % tp_degree == 0.
FLASH_DECODING_HEADS_ASSERT_UNTIL = "2.27"

#: Attention heads, KV heads and layers of the published checkpoints of the supported families
#: (their config.json on the Hugging Face Hub), by a pattern of the checkpoint's name, for when
#: the checkpoint is not a directory the tool can read. Checked in order; fine-tuned variants
#: keep the architecture, and so the name, of their base model.
PUBLISHED_ARCHITECTURES: tuple[tuple[str, int, int, int], ...] = (
    (r"mixtral-8x22b", 48, 8, 56),
    (r"mixtral-8x7b", 32, 8, 32),
    (r"mistral-7b", 32, 8, 32),
    (r"codellama-34b", 64, 8, 48),
    (r"codellama-70b", 64, 8, 80),
    (r"llama-?3(\.\d)?-405b", 128, 8, 126),
    (r"llama-?3(\.\d)?-70b", 64, 8, 80),
    (r"llama-?3(\.\d)?-8b", 32, 8, 32),
    (r"llama-?3\.2-3b", 24, 8, 28),
    (r"llama-?3\.2-1b", 32, 8, 16),
    (r"llama-2-70b", 64, 8, 80),
    (r"(llama-2|codellama)-13b", 40, 40, 40),
    (r"(llama-2|codellama)-7b", 32, 32, 32),
)


def published_architecture(checkpoint: str) -> dict[str, int] | None:
    """The head and layer counts of the published checkpoint ``checkpoint`` names, if any."""
    name = checkpoint.lower()
    for pattern, heads, kv_heads, layers in PUBLISHED_ARCHITECTURES:
        if heads and re.search(pattern, name):
            return {"num_attention_heads": heads, "num_key_value_heads": kv_heads,
                    "num_hidden_layers": layers}
    return None


def flash_decoding_problem(heads: int, kv_heads: int, tp: int, target: str) -> str | None:
    """Why NxDI ``target`` would reject flash decoding for these head counts, else None."""
    if version_key(target) <= version_key(FLASH_DECODING_HEADS_ASSERT_UNTIL) and heads % tp:
        return "asserts that the attention heads are a multiple of tp_degree"
    if kv_heads and min(tp, heads) % kv_heads:
        return "asserts that min(tp_degree, attention heads) is a multiple of the KV heads"
    return None

OPTION_BY_NAME: Mapping[str, OptionRule] = {
    rule.tnx: rule
    for rule in (*FROM_PRETRAINED_OPTIONS, *NEURON_CONFIG_OPTIONS, *SUBCONFIG_OPTIONS)
}

# --------------------------------------------------------------------------------------------
# Release differences (--target-version)
# --------------------------------------------------------------------------------------------

#: Only defaults differ by release in what tnx2nxdi writes. Every NxDI keyword it emits is read
#: under the same name by 2.21-2.29: the renames of that span (2.22: ``async`` to ``async_mode``,
#: ``is_paged_attention`` to ``is_block_kv_layout``, ``logical_neuron_cores`` to
#: ``logical_nc_config``) touch no keyword it writes, and tests/test_mappings.py checks each
#: emitted keyword against each release's vocabulary.
#:
#: NxDI defaults that changed between releases: keyword -> ((first release, default), ...).
VERSIONED_DEFAULTS: Mapping[str, tuple[tuple[str, LiteralValue], ...]] = {
    # NxDI config.py: True in 2.21-2.22; False (shard on load) since 2.23.
    "save_sharded_checkpoint": (("2.21", True), ("2.23", False)),
    # NxDI OnDeviceSamplingConfig: True in 2.21, False since 2.22.
    "on_device_sampling_config.do_sample": (("2.21", True), ("2.22", False)),
}


def _pick(table: tuple[tuple[str, LiteralValue], ...], target: str) -> LiteralValue:
    chosen = table[0][1]
    for since, value in table:
        if version_key(target) >= version_key(since):
            chosen = value
    return chosen


def nxdi_default(keyword: str, target: str) -> LiteralValue:
    """The NxDI default of a release-dependent keyword for ``target``."""
    return _pick(VERSIONED_DEFAULTS[keyword], target)


# --------------------------------------------------------------------------------------------
# Life cycle and generation
# --------------------------------------------------------------------------------------------

#: Default compile directory when the TNx program never saved one: ``{name}`` is the last path
#: component of a literal checkpoint path, else the model variable's name.
DEFAULT_COMPILED_DIR = "{name}-nxdi-compiled"

#: ``sample()`` keywords and the Hugging Face ``generate()`` keyword they become.
SAMPLE_KEYWORDS: Mapping[str, str] = {
    "input_ids": "input_ids",
    "sequence_length": "max_length",
    "top_k": "top_k",
    "top_p": "top_p",
    "temperature": "temperature",
    "streamer": "streamer",
    "attention_mask": "attention_mask",
    "eos_token_override": "eos_token_id",
    "no_repeat_ngram_size": "no_repeat_ngram_size",
}
#: TNx ``sample()`` samples top-k with k=50 unless told otherwise (TNx sampling.py).
SAMPLE_DEFAULT_TOP_K = 50

# --------------------------------------------------------------------------------------------
# Names the transformers need (kept here so transformers hold no option or method names)
# --------------------------------------------------------------------------------------------

FROM_PRETRAINED = "from_pretrained"
#: The from_pretrained keyword holding the TNx NeuronConfig.
NEURON_CONFIG_KEYWORD = "neuron_config"
#: A list of n_positions is the token-generation buckets; any bucket list turns bucketing on.
LIST_BUCKETS_KEY: Mapping[str, str] = {"n_positions": "token_generation_buckets"}
BUCKETING_FLAG = ("enable_bucketing", "True")
#: Positional parameters of sub-config classes that accept them (TNx config.py).
SUBCONFIG_POSITIONAL: Mapping[str, tuple[str, ...]] = {
    "quant": ("quant_dtype", "dequant_dtype", "quantize_method", "quantize_attn",
              "no_quantize_list"),
}
QUANTIZED_PATH_KEY = "quantized_checkpoints_path"
SAVE_SHARDED_KEY = "save_sharded_checkpoint"

#: TNx life-cycle methods (TNx base.py, llama/model.py) and what they become.
TO_NEURON = "to_neuron"
CPU_COMPILE = "cpu_compile"
SAVE = "save"
SAVE_SHARDED_KEYWORD = "sharded_weights"
LOAD = "load"
SAMPLE = "sample"
NXDI_COMPILE = "compile"
NXDI_LOAD = "load"
NXDI_GENERATE = "generate"
#: Model methods that exist with the same meaning on an NxDI application model.
SAME_METHODS: frozenset[str] = frozenset({"reset"})
#: sample() keywords that are dropped quietly when None (their TNx default).
SAMPLE_NONE_DEFAULTS: frozenset[str] = frozenset({"start_ids", "cache_ids"})
SAMPLE_GREEDY_TOP_K = 1
HF_DO_SAMPLE = "do_sample"

#: NeuronAutoModelForCausalLM and the family names a literal checkpoint path may reveal.
AUTO_MODEL_CLASSES: frozenset[str] = frozenset({
    "transformers_neuronx.NeuronAutoModelForCausalLM",
    "transformers_neuronx.modeling_auto.NeuronAutoModelForCausalLM",
})
#: Checked in order: "mixtral" before "mistral" before "llama".
AUTO_FAMILY_HINTS: tuple[tuple[str, str], ...] = (
    ("mixtral", "mixtral"), ("mistral", "mistral"), ("codellama", "llama"), ("llama", "llama"),
)

# --------------------------------------------------------------------------------------------
# vLLM for Neuron (docs/vllm.md)
# --------------------------------------------------------------------------------------------

VLLM_PACKAGE = "vllm"
#: vLLM V0 picks its Neuron backend from this variable (VLLM vllm/platforms/neuron.py
#: get_neuron_framework_to_use); the migration guide says to set it to NxDI explicitly.
VLLM_FRAMEWORK_ENV = "VLLM_NEURON_FRAMEWORK"
VLLM_FRAMEWORK_NXDI = "neuronx-distributed-inference"
VLLM_FRAMEWORK_TNX = "transformers-neuronx"

#: Constructors that build a vLLM engine, by qualified name (VLLM vllm/__init__.py,
#: vllm/entrypoints/llm.py, vllm/engine/arg_utils.py).
VLLM_ENGINE_CLASSES: frozenset[str] = frozenset({
    "vllm.LLM", "vllm.entrypoints.llm.LLM",
    "vllm.EngineArgs", "vllm.engine.arg_utils.EngineArgs",
    "vllm.AsyncEngineArgs", "vllm.engine.arg_utils.AsyncEngineArgs",
})
VLLM_DEVICE_KEYWORD = "device"
VLLM_NEURON_DEVICE = "neuron"
VLLM_OVERRIDE_KEYWORD = "override_neuron_config"
#: The vLLM V1 Neuron plugin (vllm-neuron) reads NeuronConfig overrides from
#: ``additional_config["override_neuron_config"]`` only (vllm_neuron/worker/
#: neuronx_distributed_model_loader.py); it always runs NxDI and has no framework variable.
VLLM_ADDITIONAL_CONFIG_KEYWORD = "additional_config"
#: The hyphenated spelling the SDK's V1 guide shows; the plugin looks up the underscore key only.
VLLM_PLUGIN_OVERRIDE_ALIASES: tuple[str, ...] = ("override-neuron-config",)
#: The model keyword (used to name the derived quantized-checkpoint directory).
VLLM_MODEL_KEYWORD = "model"
VLLM_MAX_MODEL_LEN = "max_model_len"
#: Engine keywords that turn on speculative decoding, and the batch keyword with its default
#: (VLLM vllm/engine/arg_utils.py: max_num_seqs=256).
VLLM_SPECULATION_KEYWORDS: tuple[str, ...] = (
    "speculative_model", "num_speculative_tokens", "speculative_config",
)
VLLM_SPECULATIVE_MODEL = "speculative_model"
VLLM_SPECULATIVE_CONFIG = "speculative_config"
VLLM_MAX_NUM_SEQS = "max_num_seqs"
VLLM_MAX_NUM_SEQS_DEFAULT = 256

#: Override keys whose TNx form is a nested sub-config dict (the TNx loader re-wraps them:
#: VLLM model_loader/neuron.py _get_neuron_config_after_override). A key with a non-dict value
#: is already NxDI's (``kv_cache_quant=True`` is an NxDI flag) and is kept as it is.
VLLM_TNX_SUBCONFIG_KEYS: tuple[str, ...] = (
    "sparse_attn", "kv_cache_quant", "continuous_batching", "quant", "on_device_generation",
)
#: Keys TNx and NxDI both read under the same name: kept unless they need a value translation.
VLLM_SHARED_KEYS: frozenset[str] = frozenset({"padding_side", "is_eagle_draft"})
#: Sub-config keys that are also NxDI flags when given a non-dict value (NxDI config.py reads
#: ``kv_cache_quant`` as a bool).
VLLM_NXDI_FLAGS: frozenset[str] = frozenset({"kv_cache_quant"})
#: vLLM's own quantization switch for TNx. The fork's TNx loader turns ``quantization=
#: "neuron_quant"`` into TNx ``QuantizationConfig(quant_dtype=$NEURON_QUANT_DTYPE or "s8",
#: quantize_method="vector_dynamic", dequant_dtype=<the model dtype>)`` (VLLM
#: model_loader/neuron.py _get_default_neuron_config, layers/quantization/neuron_quant.py); the
#: NxDI loader reads neither and hard-codes quantized=False unless the override says otherwise
#: (model_loader/neuronx_distributed.py), and the SDK's vLLM guide says not to set neuron_quant.
VLLM_QUANTIZATION_KEYWORD = "quantization"
VLLM_TNX_QUANTIZATION = "neuron_quant"
VLLM_QUANT_DTYPE_ENV = "NEURON_QUANT_DTYPE"
VLLM_QUANT_DTYPE_DEFAULT = "s8"
VLLM_TNX_QUANT_METHOD = "vector_dynamic"
#: Environment variables read by the TNx loader only, with what to do instead on NxDI.
#: Buckets: the TNx loader reads these comma lists (VLLM model_loader/neuron.py _get_buckets);
#: NxDI reads context_encoding_buckets / token_generation_buckets from override_neuron_config.
VLLM_BUCKET_ENV: Mapping[str, str] = {
    "NEURON_CONTEXT_LENGTH_BUCKETS": "context_encoding_buckets",
    "NEURON_TOKEN_GEN_BUCKETS": "token_generation_buckets",
}

#: What NxDI through vLLM does not support, by environment variable: (what, what to do).
VLLM_UNSUPPORTED_ENV: Mapping[str, tuple[str, str]] = {
    "NEURON_COMPILE_CACHE_URL": (
        "the Neuron persistent cache",
        "NxDI through vLLM does not use it: set NEURON_COMPILED_ARTIFACTS to a directory of "
        "NxDI-compiled artifacts instead",
    ),
    **dict.fromkeys(
        ("NEURON_RT_ROOT_COMM_ID", "NEURON_RANK_ID", "NEURON_LOCAL_TP", "NEURON_PP_STAGES",
         "CPU_COMM_ID"),
        ("multi-node inference",
         "NxDI through vLLM runs on one node: plan a single-node tensor_parallel_size or serve "
         "each node separately"),
    ),
}

#: Speculation. vLLM's NxDI loader sets speculation_length from num_speculative_tokens and
#: enable_fused_speculation=True itself; EAGLE is only used when the override asks for
#: enable_eagle_speculation (VLLM model_loader/neuronx_distributed.py, both branches). The TNx
#: loader chose EAGLE from ``is_eagle`` in the draft's config.json instead.
VLLM_EAGLE_KEYS: tuple[tuple[str, bool], ...] = (
    ("enable_eagle_speculation", True), ("enable_fused_speculation", True),
)
VLLM_EAGLE_DRAFT_FLAG = "is_eagle"
#: ``speculative_config={"method": "eagle", ...}`` (newer vLLM; the V1 plugin turns EAGLE on
#: from it by itself).
VLLM_SPECULATIVE_METHOD = ("method", "eagle")
#: Only the vLLM fork's v0.6.x-neuron branch asserts max_num_seqs == 1 for NxDI speculation
#: (vllm/worker/multi_step_neuronx_distributed_model_runner.py there); it is the vLLM the SDK
#: 2.21 docs install. The neuron-2.22+ branches, the V1 plugin and NxDI itself have no such
#: limit (NxDI documents EAGLE with batch > 1 from the 2.21.1 docs). Keyed by --target-version.
VLLM_ONE_SEQUENCE_SPECULATION: frozenset[str] = frozenset({"2.21"})
VLLM_SPECULATION_NOTE = (
    "with NxDI {release}, vLLM (the fork's v0.6.x-neuron branch) supports speculative decoding "
    "only with one sequence at a time: set max_num_seqs to 1 or turn speculation off"
)
#: The vLLM fork and the branch of it that pairs with NxDI 2.21 only (it also still defaults to
#: TNx and limits NxDI speculation to one sequence; see above).
VLLM_FORK_REPOSITORY = "upstreaming-to-vllm"
VLLM_FORK_LEGACY_BRANCH = "v0.6.x-neuron"
VLLM_FORK_LEGACY_RELEASES: frozenset[str] = frozenset({"2.21"})

#: Shell launch scripts: command lines that start a vLLM server, and their Neuron flags.
SHELL_LAUNCH_PATTERNS: tuple[str, ...] = (
    r"\bvllm\.entrypoints\b",
    r"(?:^|[\s;&|(`])vllm\s+serve\b",
)
SHELL_OVERRIDE_FLAG = "--override-neuron-config"
SHELL_ADDITIONAL_CONFIG_FLAG = "--additional-config"
SHELL_DEVICE_FLAG = "--device"
SHELL_SPECULATION_FLAGS: tuple[str, ...] = (
    "--speculative-model", "--num-speculative-tokens", "--speculative-config",
)
SHELL_SPECULATIVE_MODEL_FLAG = "--speculative-model"
SHELL_SPECULATIVE_CONFIG_FLAG = "--speculative-config"
SHELL_MAX_NUM_SEQS_FLAG = "--max-num-seqs"
SHELL_MAX_MODEL_LEN_FLAG = "--max-model-len"
SHELL_MODEL_FLAG = "--model"
SHELL_QUANTIZATION_FLAGS: tuple[str, ...] = ("--quantization", "-q")


# --------------------------------------------------------------------------------------------
# Where tnx2nxdi deliberately differs from the official migration guide (docs/mapping.md)
# --------------------------------------------------------------------------------------------

#: (what the guide says, what tnx2nxdi does, why); each why names the NxDI code it rests on.
GUIDE_DEVIATIONS: tuple[tuple[str, str, str], ...] = (
    (
        '`is_continous_batching=True`',
        '`is_continuous_batching=True`',
        'NxDI reads only the correct spelling; it logs and drops unknown keywords, so the'
        " guide's spelling silently leaves continuous batching off (NxDI "
        '`models/config.py`).',
    ),
    (
        '`from neuronx_distributed_inference.models.llama import LlamaInferenceConfig, '
        'LlamaNeuronConfig`',
        'imports from `...models.llama.modeling_llama` and `...models.config`',
        'NxDI package `__init__` files are empty and `LlamaNeuronConfig` never existed; '
        'Llama uses `NeuronConfig`.',
    ),
    (
        '`save(dir, sharded_weights=True)` → `compile(dir)` ("sharded by default")',
        '`NeuronConfig(save_sharded_checkpoint=True)` + `compile(dir)`',
        '`save_sharded_checkpoint` defaults to False since NxDI 2.23 (True only in '
        "2.21-2.22); tnx2nxdi writes it whenever the TNx program's choice differs from "
        "the target release's default.",
    ),
    (
        '`on_device_generation.global_top_k` → `global_top_k`',
        '`global_topk`',
        "NxDI's `OnDeviceSamplingConfig` spells it `global_topk` and ignores unknown keys"
        ' without a warning.',
    ),
    (
        '`quantized=True`',
        '`quantized=True` + `quantized_checkpoints_path=...`',
        'NxDI asserts the path whenever `quantized=True`; tnx2nxdi derives one next to '
        'the compiled artifacts and reports it (TNX305).',
    ),
    (
        'omitted TNx values are not mentioned',
        'carried explicitly (`tp_degree=2`, `seq_len=2048`, `torch_dtype=torch.float32`, '
        '`batch_size=1`)',
        'TNx and NxDI defaults differ; without them the NxDI program compiles a different'
        ' model.',
    ),
    (
        '`sample()` → `generate()`',
        '`generate(..., do_sample=True, top_k=50)` (greedy only for `top_k=1`)',
        'TNx `sample()` is top-k sampling with k=50 by default; Hugging Face `generate()`'
        ' is greedy unless told.',
    ),
    (
        'Mistral: `MistralForSampling` → "NxDI Mistral"',
        '`LlamaInferenceConfig` + `NeuronLlamaForCausalLM`',
        'NxDI 2.21-2.29 run Mistral on the Llama classes (the model hub and vLLM do so; only '
        "the second 2.29 update adds `NeuronMistralForCausalLM`), which every target release "
        'has.',
    ),
    (
        'DBRX config class "DbrxNeuronConfig"',
        '`NeuronDbrxConfig`',
        'The class the code defines (not a TNx family, listed for completeness).',
    ),
)

# --------------------------------------------------------------------------------------------
# Life cycle, generation and manual work beyond the model object
# --------------------------------------------------------------------------------------------

#: TNx's Hugging Face adapter; NxDI's takes the model alone (TNx generation_utils.py; NxDI
#: utils/hf_adapter.py).
TNX_GENERATION_ADAPTERS: frozenset[str] = frozenset({
    "transformers_neuronx.HuggingFaceGenerationModelAdapter",
    "transformers_neuronx.generation_utils.HuggingFaceGenerationModelAdapter",
})
#: Parameters of HuggingFaceGenerationModelAdapter(config, model), in order.
TNX_ADAPTER_PARAMETERS = ("config", "model")
#: NxDI's adapter.generate() resets the model first, so TNx's explicit reset is dropped.
ADAPTER_RESET = "reset_generation"
#: Calling the model: NxDI forward takes input_ids, attention_mask, position_ids, seq_ids and
#: sampling_params, not TNx's cache_ids/start_ids (NxDI models/model_base.py forward).
FORWARD_METHODS: frozenset[str] = frozenset({"__call__", "forward"})
#: Fields of a tokenizer result: the mask travels with the ids to generate().
INPUT_IDS_FIELD = "input_ids"
ATTENTION_MASK_FIELD = "attention_mask"

#: TNx's checkpoint splitter; NxDI reads standard checkpoints, so Hugging Face's own
#: save_pretrained writes an equivalent directory (TNx module.py).
SAVE_PRETRAINED_SPLIT: frozenset[str] = frozenset(
    {"transformers_neuronx.module.save_pretrained_split"}
)
HF_SAVE_PRETRAINED = "save_pretrained"

#: TNx's persistent compile cache; NxDI has none and reuses NEURON_COMPILED_ARTIFACTS instead.
CACHE_ENV_VARS: frozenset[str] = frozenset({"NEURON_COMPILE_CACHE_URL"})
CACHE_DIR_FLAG = "--cache_dir"
NXDI_ARTIFACTS_ENV = "NEURON_COMPILED_ARTIFACTS"

#: Methods only TNx models have: seen on an object the tool cannot follow, they get a finding.
TNX_ONLY_METHODS: frozenset[str] = frozenset({
    "to_neuron", "cpu_compile", "reset_generation", "enable_speculative_decoder",
    "update_generation_config", "enable_token_tree_decoder", "setup_reorder_cache",
})

#: TNx symbols with no NxDI counterpart, by qualified-name prefix: (code, what to do).
MANUAL_SYMBOLS: Mapping[str, tuple[str, str]] = {
    "transformers_neuronx.speculation": (
        "TNX910", "speculative decoding must be rebuilt with NxDI's fused speculation "
        "(NeuronConfig(speculation_length=k, enable_fused_speculation=True) and a "
        "FusedSpecNeuronConfig draft)",
    ),
    "transformers_neuronx.fused_speculation": (
        "TNX910", "speculative decoding must be rebuilt with NxDI's fused speculation "
        "(NeuronConfig(speculation_length=k, enable_fused_speculation=True) and a "
        "FusedSpecNeuronConfig draft)",
    ),
    "transformers_neuronx.eagle_speculation": (
        "TNX910", "EAGLE speculation must be rebuilt with NxDI (enable_eagle_speculation=True "
        "and a fused-speculation draft)",
    ),
    "transformers_neuronx.stopping_criteria": (
        "TNX990", "use transformers' StoppingCriteria with generate(stopping_criteria=...)",
    ),
    "transformers_neuronx.dtypes": ("TNX990", "use torch dtypes (torch.bfloat16, ...) directly"),
}

#: Option and keyword names the transformers need by name.
QUANTIZED_OPTION = "quant"  #: the sub-config whose migration needs quantized_checkpoints_path
NXDI_LOAD_CONFIG_KEYWORD = "load_config"
SAVE_DIRECTORY_KEYWORDS: tuple[str, ...] = ("directory", "path")
#: sample(input_ids, sequence_length, ...): the two positional parameters every family shares.
SAMPLE_POSITIONAL: tuple[str, ...] = ("input_ids", "sequence_length")
SAMPLE_LENGTH = "sequence_length"
SAMPLE_TOP_K = "top_k"

#: With on_device_generation, TNx sample() samples with the GenerationConfig and ignores its own
#: top_k/top_p/temperature (TNx llama/model.py sample): these fields then decide generate()'s
#: settings.
ON_DEVICE_GENERATION_OPTION = "on_device_generation"
ON_DEVICE_SAMPLING_FIELDS: tuple[str, ...] = ("do_sample", "top_k", "top_p", "temperature")

#: Every parameter of a TNx ``sample()`` (tnx_api.md §4.3, §6.8: the model classes and the
#: speculation generators). A ``sample()`` call with any other keyword is not a TNx call
#: (vLLM's ``self.model.sample(logits=..., sampling_metadata=...)`` is its own sampler).
TNX_SAMPLE_PARAMETERS: frozenset[str] = frozenset({
    "input_ids", "sequence_length", "cache_ids", "start_ids", "top_k", "top_p",
    "eos_token_override", "temperature", "streamer", "stopping_criteria_list",
    "no_repeat_ngram_size", "output_scores", "attention_mask", "eos_token_id",
    "pad_token_id", "output_logits",
})

# --------------------------------------------------------------------------------------------
# The public TNx API, and code built on TNx itself (files that stay on TNx as a whole)
# --------------------------------------------------------------------------------------------

_FAMILY_MODULES = ("llama", "mistral", "mixtral", "bloom", "opt", "gpt2", "gptj", "gptneox")

#: What user programs import from TNx: the names ``transformers_neuronx/__init__.py``
#: re-exports, the same names at their defining modules, and the documented names only found in
#: a submodule (tnx_api.md §1-2, §5, §6.2; TNx __init__.py, config.py, constants.py,
#: sparse_attn_utils.py, module.py). A name under ``transformers_neuronx`` that is neither in
#: this set nor inside one of :data:`TNX_PUBLIC_MODULES` is a TNx internal.
TNX_PUBLIC_NAMES: frozenset[str] = frozenset({
    *(f"{TNX_PACKAGE}.{name}" for name in (
        "__version__", "GQA", "Layout", "SparseAttnConfig", "NeuronConfig", "QuantizationConfig",
        "ContinuousBatchingConfig", "GenerationConfig", "HuggingFaceGenerationModelAdapter",
        "BloomForSampling", "LlamaForSampling", "GPT2ForSamplingWithContextBroadcasting",
        "GPTNeoXForSampling", "GPTJForSampling", "MistralForSampling", "MixtralForSampling",
        "OPTForSampling", "NeuronAutoModelForCausalLM",
    )),
    f"{TNX_PACKAGE}.version.__version__",
    *(f"{TNX_PACKAGE}.config.{name}" for name in (
        "NeuronConfig", "QuantizationConfig", "KVCacheQuantizationConfig",
        "ContinuousBatchingConfig", "GenerationConfig",
    )),
    *(f"{TNX_PACKAGE}.constants.{name}" for name in (
        "GQA", "Layout", "LAYOUT_BSH", "LAYOUT_HSB", "LAYOUT_SBH",
    )),
    *(f"{TNX_PACKAGE}.sparse_attn_utils.{name}" for name in (
        "SparseAttnConfig", "BlkSparseAttnConfig", "SlidingWindowAttnConfig",
    )),
    f"{TNX_PACKAGE}.generation_utils.HuggingFaceGenerationModelAdapter",
    f"{TNX_PACKAGE}.modeling_auto.NeuronAutoModelForCausalLM",
    *SAVE_PRETRAINED_SPLIT,
    *FAMILY_BY_CLASS, *UNSUPPORTED_CLASSES,
})
#: TNx modules whose every name is for users: the model modules, the speculation generators
#: (tnx_api.md §6.8), stopping criteria and dtype helpers (MANUAL_SYMBOLS gives their advice),
#: and the ``testing`` subpackage the package itself exports.
TNX_PUBLIC_MODULES: frozenset[str] = frozenset({
    *(f"{TNX_PACKAGE}.{family}.model" for family in _FAMILY_MODULES),
    *(f"{TNX_PACKAGE}.{name}" for name in (
        "speculation", "fused_speculation", "eagle_speculation", "stopping_criteria",
        "dtypes", "testing",
    )),
})


def is_tnx_public(qualified: str) -> bool:
    """Whether a TNx name (or a module on the way to one, or an attribute of one) is public."""
    if qualified == TNX_PACKAGE:
        return True
    for public in (*TNX_PUBLIC_NAMES, *TNX_PUBLIC_MODULES):
        if qualified == public or qualified.startswith(public + ".") or public.startswith(
            qualified + "."
        ):
            return True
    return False


#: The modules and subpackages of ``transformers_neuronx`` (TNx src/transformers_neuronx at
#: 1ade6d7): a string naming one of them names TNx code.
TNX_SUBMODULES: frozenset[str] = frozenset({
    "activations", "base", "bloom", "bucket", "compiler", "config", "constants", "decoder",
    "decoder_topk", "dtypes", "eagle_speculation", "fused_speculation", "generation_demo",
    "generation_utils", "global_debugger", "gpt2", "gpt_demo", "gptj", "gptneox", "hlo",
    "kv_cache_manager", "layers", "llama", "mistral", "mixtral", "modeling_auto", "module", "nki",
    "ops", "opt", "pad", "parallel", "program", "quantize", "sampling", "sparse_attn_utils",
    "speculation", "stopping_criteria", "tensor_pool", "testing", "tools", "util", "utils",
    "version",
})
#: Where a TNx file's own path puts it inside the TNx package (TNx's sources, demos and tests).
TNX_PACKAGE_DIRECTORY = TNX_PACKAGE
#: Calls that load a module by name (``importlib.import_module("transformers_neuronx.x")``).
IMPORT_BY_NAME: frozenset[str] = frozenset({"importlib.import_module", "__import__"})
#: A TNx-only method called in a file that names TNx but imports none of it drives TNx models
#: it gets from elsewhere (an exporter's ``neuronx_class``): the calls that show it.
TNX_DRIVER_METHODS: frozenset[str] = frozenset({"to_neuron", "cpu_compile"})

#: What a file built on TNx is ported to (the advice of its file-level finding), by what shows
#: it is built on TNx. NxDI's replacements: its model classes and onboarding guide for model code;
#: NxDI application classes, or the serving framework's own NxDI backend (vLLM's NxDI loader,
#: djl-serving's and optimum-neuron's NxD paths), for code that drives TNx models.
LIBRARY_ADVICE: Mapping[str, str] = {
    "package": "leave it out of the migration: NxDI replaces the TNx package as a whole "
    "(NxDI's inference_demo is the counterpart of TNx's demos)",
    "model": "port the model code to an NxDI model (a NeuronBaseForCausalLM subclass with its "
    f"InferenceConfig; model-onboarding guide: {ONBOARDING_GUIDE})",
    "backend": "port it as a whole to an NxDI backend: NxDI application classes "
    "(NeuronLlamaForCausalLM, ...) built from a NeuronConfig, then compile() and load(), or the "
    "serving framework's own NxDI integration",
}

# --------------------------------------------------------------------------------------------
# Install lines (notebook ``!pip``/``%pip`` lines and shell scripts)
# --------------------------------------------------------------------------------------------

TNX_DISTRIBUTION = "transformers-neuronx"
NXDI_DISTRIBUTION = "neuronx-distributed-inference"
#: The Neuron SDK's install line for NxDI (SDK libraries/nxd-inference/nxdi-setup.rst), without
#: the package repository it passes as --extra-index-url.
NXDI_INSTALL = "pip install --upgrade neuronx-cc==2.* neuronx-distributed-inference"
TRANSFORMERS_DISTRIBUTION = "transformers"
#: The transformers release NxDI pins, by target release (NxDI setup.py install_requires:
#: ``transformers==4.45.*`` at v0.1.0, 4.48 at v0.2.0 and v0.3, 4.51 at v0.4-v0.6, 4.56 at
#: v0.7, 4.57 at 2.28 and 2.29).
NXDI_TRANSFORMERS_PINS: Mapping[str, str] = {
    "2.21": "4.45", "2.22": "4.48", "2.23": "4.48", "2.24": "4.51", "2.25": "4.51",
    "2.26": "4.51", "2.27": "4.56", "2.28": "4.57", "2.29": "4.57",
}


def nxdi_counterpart(qualified: str) -> Symbol | None:
    """The NxDI name a re-exported TNx name would point at, when there is one."""
    family = FAMILY_BY_CLASS.get(qualified)
    if family is not None:
        return family.application
    if qualified in TNX_NEURON_CONFIG_CLASSES:
        return NXDI_NEURON_CONFIG
    if qualified in TNX_GENERATION_ADAPTERS:
        return NXDI_GENERATION_ADAPTER
    if SUBCONFIG_CLASSES.get(qualified) == ON_DEVICE_GENERATION_OPTION:
        return NXDI_ON_DEVICE_SAMPLING_CONFIG
    return None
