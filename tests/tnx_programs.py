"""A hypothesis strategy that writes random but valid TNx programs (docs/reliability.md).

Every option comes from the mapping module (``FROM_PRETRAINED_OPTIONS``, ``NEURON_CONFIG_OPTIONS``,
``SUBCONFIG_OPTIONS``); ``VALUES`` says which values of each one the fake TNx accepts, and
``UNGENERATED`` names the few options left out, with the reason. A program is a ``Program``: the
choices, kept as data so that a failing example reads as a spec, and ``render()`` writing the
source. Programs vary in:

* model family (Llama, Mistral, Mixtral) and checkpoint path;
* import style: top-level names, aliases, the defining submodules, ``import transformers_neuronx
  as tnx``, or imports inside the function that uses them;
* how the NeuronConfig is built: in a variable, inline in ``from_pretrained``, or with every
  sub-config (quantization, continuous batching, on-device generation...) in its own variable;
* where the model lives: module level, a function, or ``self`` in a serving class;
* the life cycle: ``to_neuron()``, possibly after ``load(dir)`` (artifacts of an earlier run),
  then ``save(dir[, sharded_weights=True])`` and / or ``sample(...)`` calls with their own
  sampling settings.

Each program runs on the fake TNx as written (tests/fakes): the constraints the fake checks
(continuous batching slots equal to ``batch_size``, ``qkv_tiling`` only with ``fuse_qkv``,
presharded saves only with ``on_device_embedding``, sample lengths within ``n_positions``,
experts divisible by ``tp_degree``, ``shard_over_sequence`` only with a ``tp_degree`` the
checkpoint's KV heads divide) are respected when drawing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from tnx2nxdi.mappings import FROM_PRETRAINED_OPTIONS, NEURON_CONFIG_OPTIONS, SUBCONFIG_OPTIONS

Draw = Callable[[st.SearchStrategy[Any]], Any]

FAMILIES: dict[str, tuple[str, str]] = {
    # family -> (TNx class, defining submodule)
    "llama": ("LlamaForSampling", "transformers_neuronx.llama.model"),
    "mistral": ("MistralForSampling", "transformers_neuronx.mistral.model"),
    "mixtral": ("MixtralForSampling", "transformers_neuronx.mixtral.model"),
}
CHECKPOINTS: dict[str, tuple[str, ...]] = {
    "llama": ("/models/llama-2-7b", "meta-llama/Meta-Llama-3-8B", "/m/codellama-13b"),
    "mistral": ("/models/mistral-7b", "mistralai/Mistral-7B-v0.1"),
    "mixtral": ("/models/mixtral-8x7b", "mistralai/Mixtral-8x7B-v0.1"),
}
#: Sub-config classes by NeuronConfig field, and the module that defines them.
SUBCONFIG_CLASSES: dict[str, str] = {
    "quant": "QuantizationConfig",
    "kv_cache_quant": "KVCacheQuantizationConfig",
    "continuous_batching": "ContinuousBatchingConfig",
    "on_device_generation": "GenerationConfig",
}
#: Names importable from the package itself (KVCacheQuantizationConfig is not: TNx __init__.py).
TOP_LEVEL = {"NeuronConfig", "QuantizationConfig", "ContinuousBatchingConfig", "GenerationConfig",
             *(cls for cls, _ in FAMILIES.values())}
POSITIONS = (128, 256, 512, 1024, 2048, 4096)
#: The directory a reloading program expects from an earlier run (the test creates it).
SAVED_DIR = "saved-artifacts"
#: tp_degree values drawn with shard_over_sequence=True: TNx asserts tp_degree % n_kv_heads == 0
#: when it builds the model, and the fake checkpoints have 8 KV heads (of 32 attention heads).
SHARD_OVER_SEQUENCE_TP = ("8", "16", "32")
#: Deprecated spellings of right padding (TNx config.py), never drawn with padding_side.
DEPRECATED_PADDING = ("lhs_aligned", "use_2d_cache_ids")

_BOOL = st.booleans()
_BATCH = st.sampled_from([1, 2, 4])

#: Values the fake TNx accepts, by mapping-module option name (as Python source text).
VALUES: dict[str, st.SearchStrategy[str]] = {
    # from_pretrained (n_positions, context_length_estimate and batch_size are drawn together)
    "tp_degree": st.sampled_from(["1", "2", "4", "8", "16", "32"]),
    "amp": st.sampled_from(["'f32'", "'f16'", "'bf16'"]),
    "unroll": st.sampled_from(["None", "1", "4"]),
    "context_unroll": st.sampled_from(["None", "1", "4"]),
    "prefixed_length": st.sampled_from(["0", "64"]),
    # NeuronConfig fields
    **{name: _BOOL.map(repr) for name in (
        "fuse_qkv", "sequence_parallel_norm", "shard_over_sequence", "fused_rmsnorm_qkv",
        "fused_rmsnorm_mlp", "lhs_aligned", "use_2d_cache_ids", "bf16_rms_norm",
        "on_device_embedding", "weight_tiling", "mlp_out_weight_transpose", "fuse_mlp",
        "log_softmax_scores", "output_all_logits", "attn_output_transposed",
        "duplicate_q_weight_sos")},
    "all_reduce_dtype": st.sampled_from(["None", "'float32'", "'bfloat16'"]),
    "padding_side": st.sampled_from(["'left'", "'right'"]),
    "attention_layout": st.sampled_from(["'HSB'", "'BSH'"]),
    "collectives_layout": st.sampled_from(["'HSB'", "'BSH'"]),
    "cache_layout": st.just("'SBH'"),  # BSH needs continuous batching with one-item lists
    "group_query_attention": st.sampled_from(
        ["None", "'shard-over-heads'", "'replicated-heads'"]),
    "sequence_parallel_norm_threshold": st.sampled_from(["2048", "1024"]),
    "cast_logits_dtype": st.sampled_from(["'float32'", "'bfloat16'"]),
    "mlp_in_weight_tiling_permute_order": st.sampled_from(["[1, 2, 0, 3]", "[2, 1, 0, 3]"]),
    "mlp_out_weight_tiling_permute_order": st.sampled_from(["[1, 2, 0, 3]", "[2, 1, 0, 3]"]),
    "compilation_worker_count": st.sampled_from(["None", "4"]),
    # sub-config fields, "<field>.<sub field>"
    "quant.quant_dtype": st.sampled_from(["'s8'", "'f8e4m3fn'"]),
    "quant.dequant_dtype": st.sampled_from(["'f16'", "'bf16'"]),
    "quant.quantize_method": st.sampled_from(["'vector_dynamic'", "'direct_cast'"]),
    "quant.quantize_attn": _BOOL.map(repr),
    "quant.no_quantize_list": st.sampled_from(["[]", "['model.layers.0']"]),
    "kv_cache_quant.quant_dtype": st.sampled_from(["'s8'", "'f8e4m3fn'"]),
    "kv_cache_quant.dequant_dtype": st.sampled_from(["'bf16'", "'f16'"]),
    "kv_cache_quant.quantize_method": st.just("'direct_cast'"),
    "continuous_batching.max_model_len": st.sampled_from(["None", "4096"]),
    "continuous_batching.optimized_paged_attention": st.just("False"),
    "continuous_batching.enable_chunked_prefill": st.just("False"),
    "on_device_generation.do_sample": _BOOL.map(repr),
    "on_device_generation.top_k": st.sampled_from(["1", "20", "50"]),
    "on_device_generation.dynamic": _BOOL.map(repr),
    "on_device_generation.deterministic": _BOOL.map(repr),
    "on_device_generation.global_top_k": st.sampled_from(["None", "128"]),
    "on_device_generation.max_length": st.sampled_from(["None", "128"]),
    "on_device_generation.top_p": st.sampled_from(["1.0", "0.9"]),
    "on_device_generation.temperature": st.sampled_from(["1.0", "0.7"]),
    "on_device_generation.top_p_min_tokens": st.sampled_from(["1", "2"]),
    "on_device_generation.eos_token_id": st.sampled_from(["None", "2"]),
    "on_device_generation.per_batch_line": _BOOL.map(repr),
}
#: Options drawn with others (their values depend on each other) rather than from VALUES.
DRAWN_TOGETHER = {
    "batch_size": "continuous batching needs max_num_seqs == batch_size",
    "n_positions": "context_length_estimate and sample lengths must fit in it",
    "context_length_estimate": "must not exceed n_positions",
    "qkv_tiling": "TNx asserts fuse_qkv=True with it",
    "continuous_batching.max_num_seqs": "must equal batch_size (TNx sanity check)",
    "continuous_batching.batch_size_for_shared_caches": "older spelling of max_num_seqs",
}
#: Mapping-module options never generated, and why.
UNGENERATED = {
    "sparse_attn": "needs SparseAttnConfig objects the rewrite leaves to a person anyway",
    "is_eagle_target": "EAGLE speculation is rebuilt by hand (TNX910), not compared",
    "is_eagle_draft": "EAGLE speculation is rebuilt by hand (TNX910), not compared",
    "has_pre_attention_norm": "only meaningful for EAGLE drafts",
}
ALL_OPTIONS = tuple(rule.tnx for rule in (
    *FROM_PRETRAINED_OPTIONS, *NEURON_CONFIG_OPTIONS, *SUBCONFIG_OPTIONS))
NEURON_CONFIG_FIELDS = tuple(rule.tnx for rule in NEURON_CONFIG_OPTIONS
                             if rule.tnx not in SUBCONFIG_CLASSES and rule.tnx in VALUES)
FROM_PRETRAINED_FIELDS = tuple(rule.tnx for rule in FROM_PRETRAINED_OPTIONS
                               if rule.tnx in VALUES)


@dataclass(frozen=True)
class Sample:
    """One ``sample()`` call: keyword -> source text (``sequence_length`` always set)."""

    keywords: tuple[tuple[str, str], ...]
    positional_length: bool = False


@dataclass(frozen=True)
class Program:
    family: str
    checkpoint: str
    imports: str  # "names" | "aliases" | "submodules" | "module" | "local"
    config: str  # "variable" | "inline" | "subconfig_variables" | "none"
    location: str  # "module" | "function" | "self"
    from_pretrained: tuple[tuple[str, str], ...]
    neuron_config: tuple[tuple[str, str], ...]
    subconfigs: tuple[tuple[str, tuple[tuple[str, str], ...]], ...]
    save: str | None  # None | "plain" | "sharded"
    samples: tuple[Sample, ...] = ()
    batch_size: int = 1
    #: Reopen artifacts saved by an earlier run (``load(dir)`` before ``to_neuron()``).
    reload: bool = False

    def render(self) -> str:
        return _Renderer(self).render()


class _Renderer:
    def __init__(self, program: Program) -> None:
        self.p = program
        self.cls, self.submodule = FAMILIES[program.family]

    # --- names --------------------------------------------------------------------------------

    def name(self, symbol: str) -> str:
        style = self.p.imports
        if style == "aliases":
            return f"Tnx{symbol}"
        if style == "module":
            return f"tnx.{symbol}" if symbol in TOP_LEVEL else f"tnx.config.{symbol}"
        return symbol

    def used_symbols(self) -> list[str]:
        symbols = [self.cls]
        if self.p.config != "none":
            symbols.append("NeuronConfig")
            symbols += [SUBCONFIG_CLASSES[name] for name, _ in self.p.subconfigs]
        return symbols

    def import_lines(self) -> list[str]:
        style = self.p.imports
        if style == "module":
            return ["import transformers_neuronx as tnx"]
        by_module: dict[str, list[str]] = {}
        for symbol in self.used_symbols():
            if symbol == self.cls:
                module = self.submodule if style in ("submodules", "local") else (
                    "transformers_neuronx")
            elif style in ("submodules", "local") or symbol not in TOP_LEVEL:
                module = "transformers_neuronx.config"
            else:
                module = "transformers_neuronx"
            by_module.setdefault(module, []).append(symbol)
        lines = []
        for module, symbols in by_module.items():
            names = ", ".join(f"{s} as Tnx{s}" if style == "aliases" else s for s in symbols)
            lines.append(f"from {module} import {names}")
        return lines

    # --- pieces ----------------------------------------------------------------------------------

    @staticmethod
    def call(function: str, keywords: tuple[tuple[str, str], ...] | list[tuple[str, str]]) -> str:
        return f"{function}({', '.join(f'{k}={v}' for k, v in keywords)})"

    def config_statements(self) -> tuple[list[str], str | None]:
        """Statements building the NeuronConfig and the expression passed as neuron_config."""
        if self.p.config == "none":
            return [], None
        statements: list[str] = []
        fields = list(self.p.neuron_config)
        for name, keywords in self.p.subconfigs:
            expression = self.call(self.name(SUBCONFIG_CLASSES[name]), keywords)
            if self.p.config == "subconfig_variables":
                statements.append(f"{name}_config = {expression}")
                expression = f"{name}_config"
            fields.append((name, expression))
        config = self.call(self.name("NeuronConfig"), fields)
        if self.p.config == "inline":
            return statements, config
        statements.append(f"neuron_config = {config}")
        return statements, "neuron_config"

    def model_statements(self, model: str) -> list[str]:
        statements, config = self.config_statements()
        keywords = list(self.p.from_pretrained)
        if config is not None:
            keywords.append(("neuron_config", config))
        arguments = ", ".join(["checkpoint", *(f"{k}={v}" for k, v in keywords)])
        statements.append(f"{model} = {self.name(self.cls)}.from_pretrained({arguments})")
        if self.p.reload:
            statements.append(f"{model}.load({SAVED_DIR!r})")
        statements.append(f"{model}.to_neuron()")
        if self.p.save is not None:
            sharded = ", sharded_weights=True" if self.p.save == "sharded" else ""
            statements.append(f"{model}.save('compiled-artifacts'{sharded})")
        return statements

    def sample_statements(self, model: str) -> list[str]:
        statements = []
        if self.p.samples:
            rows = ", ".join(["[1, 2, 3]"] * self.p.batch_size)
            statements.append(f"input_ids = torch.tensor([{rows}])")
        for index, sample in enumerate(self.p.samples):
            keywords = dict(sample.keywords)
            arguments = ["input_ids"]
            if sample.positional_length:
                arguments.append(keywords.pop("sequence_length"))
            arguments += [f"{k}={v}" for k, v in keywords.items()]
            statements.append(f"output_{index} = {model}.sample({', '.join(arguments)})")
        return statements

    # --- the program ------------------------------------------------------------------------------

    def render(self) -> str:
        head = ["import torch"]
        if self.p.imports != "local":
            head += self.import_lines()
        local = self.import_lines() if self.p.imports == "local" else []
        location = self.p.location
        checkpoint = repr(self.p.checkpoint)
        if location == "module":
            body = [f"checkpoint = {checkpoint}", *local, *self.model_statements("model"),
                    *self.sample_statements("model")]
            return _join(head, body)
        if location == "function":
            inner = [*local, *self.model_statements("model"), *self.sample_statements("model"),
                     "return model"]
            body = ["def build_and_run(checkpoint):", *_indent(inner), "",
                    "", "if __name__ == '__main__':", f"    build_and_run({checkpoint})"]
            return _join(head, body)
        init = [*local, *self.model_statements("self.model")]
        run = self.sample_statements("self.model") or ["pass"]
        body = [
            "class Server:",
            *_indent(["def __init__(self, checkpoint):", *_indent(init), "",
                      "def run(self):", *_indent(run)]),
            "", "",
            "if __name__ == '__main__':",
            f"    server = Server({checkpoint})",
            "    server.run()",
        ]
        return _join(head, body)


def _indent(lines: list[str]) -> list[str]:
    return [("    " + line) if line else "" for line in lines]


def _join(head: list[str], body: list[str]) -> str:
    return "\n".join([*head, "", *body]) + "\n"


# --- the strategy ---------------------------------------------------------------------------------

def _subset(draw: Draw, names: tuple[str, ...], max_size: int) -> list[str]:
    chosen = draw(st.lists(st.sampled_from(names), unique=True, max_size=max_size))
    return [name for name in names if name in chosen]  # the mapping's order, like a person's


@st.composite
def programs(draw: Draw) -> Program:
    family = draw(st.sampled_from(sorted(FAMILIES)))
    checkpoint = draw(st.sampled_from(CHECKPOINTS[family]))
    location = draw(st.sampled_from(["module", "function", "self"]))
    imports = draw(st.sampled_from(
        ["names", "aliases", "submodules", "module", *(["local"] if location != "module" else [])]))
    batch_size = draw(_BATCH)

    from_pretrained: list[tuple[str, str]] = []
    if draw(_BOOL):
        from_pretrained.append(("batch_size", str(batch_size)))
    positions = 2048
    if draw(_BOOL):
        if draw(_BOOL):
            buckets = sorted(draw(st.lists(st.sampled_from(POSITIONS), min_size=1, max_size=3,
                                           unique=True)))
            positions = buckets[-1]
            from_pretrained.append(("n_positions", repr(buckets)))
        else:
            positions = draw(st.sampled_from(POSITIONS))
            from_pretrained.append(("n_positions", str(positions)))
    if draw(_BOOL):
        fits = [p for p in POSITIONS if p <= positions]
        if draw(_BOOL):
            estimate = sorted(draw(st.lists(st.sampled_from(fits), min_size=1, max_size=2,
                                            unique=True)))
            from_pretrained.append(("context_length_estimate", repr(estimate)))
        else:
            from_pretrained.append(("context_length_estimate", str(draw(st.sampled_from(fits)))))
    for name in _subset(draw, FROM_PRETRAINED_FIELDS, 4):
        from_pretrained.append((name, draw(VALUES[name])))
    if family != "llama":
        from_pretrained = [(k, v) for k, v in from_pretrained if k != "prefixed_length"]

    config = draw(st.sampled_from(["variable", "inline", "subconfig_variables", "none"]))
    neuron_config: list[tuple[str, str]] = []
    subconfigs: list[tuple[str, tuple[tuple[str, str], ...]]] = []
    if config != "none":
        for name in _subset(draw, NEURON_CONFIG_FIELDS, 6):
            neuron_config.append((name, draw(VALUES[name])))
        if any(name == "padding_side" for name, _ in neuron_config):
            # Two spellings of one setting that disagree have no defined meaning in TNx.
            neuron_config = [(k, v) for k, v in neuron_config if k not in DEPRECATED_PADDING]
        if ("fuse_qkv", "True") in neuron_config and draw(_BOOL):
            neuron_config.append(("qkv_tiling", draw(_BOOL.map(repr))))
        for name in _subset(draw, tuple(SUBCONFIG_CLASSES), 2):
            subconfigs.append((name, _subconfig(draw, name, batch_size)))
    if ("shard_over_sequence", "True") in neuron_config:
        from_pretrained = [(k, v) for k, v in from_pretrained if k != "tp_degree"]
        from_pretrained.append(("tp_degree", draw(st.sampled_from(SHARD_OVER_SEQUENCE_TP))))
    if any(name == "continuous_batching" for name, _ in subconfigs) and not any(
            key == "batch_size" for key, _ in from_pretrained):
        from_pretrained.append(("batch_size", str(batch_size)))
    if not any(key == "batch_size" for key, _ in from_pretrained):
        batch_size = 1

    save = draw(st.sampled_from([None, "plain", "sharded"]))
    if save == "sharded" and ("on_device_embedding", "True") not in neuron_config:
        neuron_config = [(k, v) for k, v in neuron_config if k != "on_device_embedding"]
        neuron_config.append(("on_device_embedding", "True"))
        if config == "none":
            config = "variable"
    samples = tuple(draw(st.lists(_sample(positions), max_size=2)))
    # Saving again what was just reloaded is rare and left to a person (TNX902: nothing to
    # compare), so it is drawn less often than a plain reload.
    reload = draw(_BOOL if save is None else st.sampled_from([False, False, False, True]))
    return Program(family, checkpoint, imports, config, location, tuple(from_pretrained),
                   tuple(neuron_config), tuple(subconfigs), save, samples, batch_size, reload)


def _subconfig(draw: Draw, name: str, batch_size: int) -> tuple[tuple[str, str], ...]:
    prefix = f"{name}."
    fields = tuple(option[len(prefix):] for option in ALL_OPTIONS
                   if option.startswith(prefix) and option in VALUES)
    keywords = [(field_, draw(VALUES[prefix + field_])) for field_ in _subset(draw, fields, 4)]
    if name == "continuous_batching":
        slots = draw(st.sampled_from(["max_num_seqs", "batch_size_for_shared_caches"]))
        keywords.insert(0, (slots, str(batch_size)))
    return tuple(keywords)


def _sample(positions: int) -> st.SearchStrategy[Sample]:
    lengths = [p for p in (32, 64, 128, 256, 512) if p <= positions]

    @st.composite
    def one(draw: Draw) -> Sample:
        keywords = [("sequence_length", str(draw(st.sampled_from(lengths))))]
        if draw(_BOOL):
            keywords.append(("top_k", draw(st.sampled_from(["1", "10", "50"]))))
        if draw(_BOOL):
            keywords.append(("top_p", draw(st.sampled_from(["1.0", "0.9"]))))
        if draw(_BOOL):
            keywords.append(("temperature", draw(st.sampled_from(["1.0", "0.7"]))))
        return Sample(tuple(keywords), positional_length=draw(_BOOL))

    return one()
