"""The rule registry: every finding code tnx2nxdi can emit, with what it means.

Codes are stable once released (design §5): TNX1xx imports, TNX2xx model classes and families,
TNX3xx NeuronConfig options, TNX4xx compile/save/load, TNX5xx generation, TNX6xx vLLM,
TNX9xx manual work. ``docs/rules.md`` is generated from this table (``scripts/document_rules.py``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

#: The page of this repository that documents the rules (generated from this table); each rule
#: is its section ``#tnxnnn``. Output never links to it by this relative path, which leads
#: nowhere outside a checkout: a link is printed only when ``docs-url`` names where the page is
#: published (see :func:`rule_url`).
DOCS_PAGE = "docs/rules.md"


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    summary: str
    #: "fix": always migrated; "manual": a person must act; "sometimes": depends on the code.
    fix: str
    description: str
    before: str
    after: str

    @property
    def anchor(self) -> str:
        """The rule's section of the rules page (``tnx303``)."""
        return self.code.lower()

    def url(self, docs_url: str | None) -> str | None:
        """The rule's link on the published rules page ``docs_url``; None without one."""
        return f"{docs_url.split('#')[0]}#{self.anchor}" if docs_url else None

    @property
    def help(self) -> str:
        """The rule's full help, as ``--explain`` prints it and JSON and SARIF carry it."""
        happens = ERROR_TEXT if self.code in ERROR_CODES else FIX_TEXT.get(self.fix, self.fix)
        parts = [f"{self.code} ({self.name}): {self.summary}.", f"What happens: {happens}.",
                 self.description]
        if self.before:
            parts.append("Before:\n" + _indent(self.before))
        if self.after:
            parts.append("After:\n" + _indent(self.after))
        return "\n\n".join(parts)


#: What each fix kind means for the user.
FIX_TEXT = {
    "fix": "migrated automatically",
    "manual": "needs a person (a # TODO(tnx2nxdi) marker is left in the code)",
    "sometimes": "migrated automatically, or left for a person depending on the code",
}


#: Codes that report a file the run could not migrate (exit code 2), not a finding in it.
ERROR_CODES = frozenset({"TNX998", "TNX999"})
ERROR_TEXT = "the file is left as it is, no marker is written, and the run exits 2"


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())


RULES: tuple[Rule, ...] = (
    Rule(
        "TNX101", "tnx-import", "TNx imports replaced by NxDI imports from concrete modules",
        "fix",
        "TNx imports that are no longer used are removed; the NxDI names the migrated code needs "
        "are imported from their concrete modules (NxDI package `__init__` files are empty, so "
        "`from neuronx_distributed_inference.models.llama import ...` fails).",
        "from transformers_neuronx import LlamaForSampling, NeuronConfig",
        "from neuronx_distributed_inference.models.config import NeuronConfig\n"
        "from neuronx_distributed_inference.models.llama.modeling_llama import "
        "LlamaInferenceConfig, NeuronLlamaForCausalLM",
    ),
    Rule(
        "TNX102", "ipython-line", "A notebook's IPython line still refers to TNx", "manual",
        "Magics and shell escapes in notebooks (`%pip install transformers-neuronx`, "
        "`!python run_tnx.py`, `LlamaForSampling?`) are never rewritten; a marker above the line "
        "asks for it to be updated (install `neuronx-distributed-inference` instead).",
        "%pip install -U transformers-neuronx",
        "# TODO(tnx2nxdi): TNX102 ...\n%pip install -U transformers-neuronx",
    ),
    Rule(
        "TNX201", "model-class", "TNx model class migrated to the NxDI application class", "fix",
        "`XForSampling.from_pretrained(path, ...)` becomes one NxDI `NeuronConfig`, the family's "
        "`InferenceConfig` loaded with `load_pretrained_config(path)`, and the NxDI application "
        "class. The model keeps the user's variable name.",
        "model = LlamaForSampling.from_pretrained(path, tp_degree=8)",
        "neuron_config = NeuronConfig(batch_size=1, tp_degree=8, seq_len=2048, "
        "torch_dtype=torch.float32)\n"
        "config = LlamaInferenceConfig(neuron_config, load_config=load_pretrained_config(path))\n"
        "model = NeuronLlamaForCausalLM(path, config)",
    ),
    Rule(
        "TNX202", "family-note", "The family runs on other NxDI classes; read the note", "fix",
        "Mistral runs on NxDI's Llama classes in every release through 2.29.",
        "model = MistralForSampling.from_pretrained(path)",
        "model = NeuronLlamaForCausalLM(path, config)",
    ),
    Rule(
        "TNX203", "unsupported-family", "NxDI has no model for this TNx family", "manual",
        "GPT-2, GPT-J, GPT-NeoX, BLOOM and OPT have no NxDI model. The code is left as it is; "
        "port the model with NxDI's model-onboarding guide or move to a supported family.",
        "model = GPT2ForSampling.from_pretrained(path)",
        "# TODO(tnx2nxdi): TNX203 GPT-2 has no NxDI model ...\n"
        "model = GPT2ForSampling.from_pretrained(path)",
    ),
    Rule(
        "TNX204", "auto-model", "NeuronAutoModelForCausalLM whose family cannot be told",
        "manual",
        "NxDI has no auto class. When the checkpoint argument is a literal naming llama, "
        "mistral or mixtral the family is resolved; otherwise the code is left as it is and "
        "you choose the NxDI classes of the checkpoint's family.",
        "model = NeuronAutoModelForCausalLM.from_pretrained(path)",
        "# TODO(tnx2nxdi): TNX204 ...\nmodel = NeuronAutoModelForCausalLM.from_pretrained(path)",
    ),
    Rule(
        "TNX301", "carried-default", "A TNx default NxDI does not share is written out", "fix",
        "TNx and NxDI defaults differ (tp_degree 2 vs 1, n_positions 2048 vs seq_len 128, amp "
        "'f32' vs the checkpoint dtype). Omitted TNx values are carried over explicitly so the "
        "migrated program asks for the same configuration.",
        "LlamaForSampling.from_pretrained(path)",
        "NeuronConfig(batch_size=1, tp_degree=2, seq_len=2048, torch_dtype=torch.float32)",
    ),
    Rule(
        "TNX303", "option-dropped", "A TNx option has no NxDI equivalent and was removed",
        "sometimes",
        "Options with no NxDI equivalent are removed from the migrated call. When the program set "
        "one to its TNx default nothing changes and it is dropped quietly; any other value is "
        "named in a finding and in a marker comment, because the behaviour may differ.",
        "NeuronConfig(attention_layout='BSH')",
        "# TODO(tnx2nxdi): TNX303 attention_layout='BSH' has no NxDI equivalent ...\n"
        "NeuronConfig(...)",
    ),
    Rule(
        "TNX304", "option-ignored-by-tnx", "TNx silently ignored this keyword; dropped", "manual",
        "TNx's Llama, Mistral and Mixtral classes ignore keywords they do not define (for example "
        "NeuronConfig fields passed to from_pretrained). They had no effect, so they are not "
        "carried into NxDI; the marker asks you to decide whether you want the NxDI option.",
        "LlamaForSampling.from_pretrained(path, attention_layout='BSH')",
        "NeuronConfig(...)  # attention_layout dropped",
    ),
    Rule(
        "TNX305", "quantized-checkpoint", "Quantized models need a quantized checkpoint path",
        "manual",
        "NxDI asserts `quantized_checkpoints_path` when `quantized=True`. tnx2nxdi derives one "
        "next to the compiled artifacts; create it once with "
        "`NeuronLlamaForCausalLM.save_quantized_state_dict(path, config)`.",
        "NeuronConfig(quant=QuantizationConfig())",
        "NeuronConfig(quantized=True, quantized_checkpoints_path='...-quantized-checkpoint', ...)",
    ),
    Rule(
        "TNX306", "option-value", "A TNx option value could not be translated", "manual",
        "The value of an option that needs translation (for example `amp`, `n_positions` as a "
        "list, a sub-config) is not a literal the tool can read. The option is migrated with a "
        "runtime translation where one exists, else left for a person.",
        "from_pretrained(path, n_positions=sizes)", "# TODO(tnx2nxdi): TNX306 ...",
    ),
    Rule(
        "TNX401", "compile", "to_neuron() became compile() (and load() when the model is used)",
        "fix",
        "NxDI splits TNx `to_neuron()` into `compile(path)` and `load(path)`; `load` is only "
        "written when the program runs the model afterwards. A program that never saved "
        "compiles into `--compiled-model-path` (default: a directory named after the model).",
        "model.to_neuron()", "model.compile(\"Llama-2-7b-nxdi-compiled\")",
    ),
    Rule(
        "TNX402", "save", "save(dir) folded into compile(dir)", "fix",
        "NxDI writes compiled artifacts in `compile(dir)`. `save(dir, sharded_weights=True)` "
        "sets `save_sharded_checkpoint=True` explicitly (NxDI's default is False since 2.23).",
        "model.to_neuron()\nmodel.save(out, sharded_weights=True)",
        "model.compile(out)  # with NeuronConfig(save_sharded_checkpoint=True)",
    ),
    Rule(
        "TNX403", "load-tnx-artifacts", "NxDI cannot load TNx-compiled artifacts", "manual",
        "`load(dir)` + `to_neuron()` becomes NxDI `load(dir)`, but the directory holds TNx NEFFs. "
        "Compile once into it with NxDI (`model.compile(dir)`) before deploying.",
        "model.load(out)\nmodel.to_neuron()", "model.load(out)",
    ),
    Rule(
        "TNX404", "reopen-compiled", "A model rebuilt from a directory compiled earlier", "fix",
        "TNx rebuilt presharded or saved models with `from_pretrained(dir)` + `load(dir)` + "
        "`to_neuron()`. When the same program compiled into that directory with NxDI, the model "
        "is reopened from it: `NeuronLlamaForCausalLM(dir)` reads `neuron_config.json`, then "
        "`load(dir)`.",
        "model = LlamaForSampling.from_pretrained(out, ...)\nmodel.load(out)\nmodel.to_neuron()",
        "model = NeuronLlamaForCausalLM(out)\nmodel.load(out)",
    ),
    Rule(
        "TNX405", "split-checkpoint", "save_pretrained_split became save_pretrained", "fix",
        "NxDI reads standard Hugging Face checkpoints (safetensors or bin), so TNx's "
        "`save_pretrained_split(model, dir)` becomes the model's own `save_pretrained(dir)`: the "
        "directory the program loads from still exists. Loading the original checkpoint "
        "directly is simpler still.",
        "save_pretrained_split(hf_model, './llama-split')",
        "hf_model.save_pretrained('./llama-split')",
    ),
    Rule(
        "TNX406", "persistent-cache", "NxDI has no Neuron persistent compile cache", "manual",
        "TNx reused compiled graphs through `NEURON_COMPILE_CACHE_URL` (or `--cache_dir` in "
        "`NEURON_CC_FLAGS`). NxDI has no persistent cache: compile once with `model.compile(dir)` "
        "and reuse the directory (vLLM: `NEURON_COMPILED_ARTIFACTS`).",
        "os.environ['NEURON_COMPILE_CACHE_URL'] = 's3://bucket/cache'",
        "# TODO(tnx2nxdi): TNX406 ...",
    ),
    Rule(
        "TNX501", "sample", "sample() became generate() through HuggingFaceGenerationAdapter",
        "fix",
        "`sample(ids, sequence_length=N, top_k=K)` is top-k sampling (k=50 by default); it "
        "becomes `HuggingFaceGenerationAdapter(model).generate(ids, max_length=N, "
        "do_sample=True, top_k=K)`, greedy only when K is 1.",
        "model.sample(ids, sequence_length=256)",
        "HuggingFaceGenerationAdapter(model).generate(ids, max_length=256, do_sample=True, "
        "top_k=50)",
    ),
    Rule(
        "TNX502", "sample-unsupported", "A sample() call the tool cannot migrate", "manual",
        "The call passes arguments with no Hugging Face generate() equivalent (or positional "
        "arguments past sequence_length), so it is left as it is.",
        "model.sample(ids, 128, None, None, 10)", "# TODO(tnx2nxdi): TNX502 ...",
    ),
    Rule(
        "TNX503", "forward-call", "A direct forward call with TNx arguments", "manual",
        "TNx `model(input_ids, cache_ids=..., start_ids=...)` returns last-position logits; NxDI's "
        "forward takes `input_ids, attention_mask, position_ids, seq_ids, sampling_params` and "
        "returns an output object. Rewrite the call (or use `HuggingFaceGenerationAdapter`).",
        "logits = model(input_ids, cache_ids=cache_ids, start_ids=start_ids)",
        "# TODO(tnx2nxdi): TNX503 ...",
    ),
    Rule(
        "TNX504", "generation-adapter", "HuggingFaceGenerationModelAdapter became NxDI's adapter",
        "fix",
        "`HuggingFaceGenerationModelAdapter(config, model)` becomes "
        "`HuggingFaceGenerationAdapter(model)`: NxDI's adapter takes the model alone; its "
        "`generate(...)` is Hugging Face's, as before.",
        "model = HuggingFaceGenerationModelAdapter(config, model)",
        "model = HuggingFaceGenerationAdapter(model)",
    ),
    Rule(
        "TNX505", "reset-generation", "reset_generation() dropped", "fix",
        "NxDI's adapter resets the model at the start of every `generate()`, so TNx's explicit "
        "`reset_generation()` call is removed.",
        "model.reset_generation()\nmodel.generate(ids)", "model.generate(ids)",
    ),
    Rule(
        "TNX601", "vllm-framework", "vLLM for Neuron is told to use NxDI", "fix",
        "A program or launch script that builds a vLLM engine for Neuron gets "
        "`VLLM_NEURON_FRAMEWORK=neuronx-distributed-inference` before the engine is created (as "
        "the migration guide asks); an existing `transformers-neuronx` value is rewritten.",
        "llm = LLM(model=path, device=\"neuron\")",
        "os.environ[\"VLLM_NEURON_FRAMEWORK\"] = \"neuronx-distributed-inference\"\n"
        "llm = LLM(model=path, device=\"neuron\")",
    ),
    Rule(
        "TNX602", "vllm-override", "override_neuron_config keys translated to NxDI", "fix",
        "TNx keys of `override_neuron_config` (a dict literal, a variable holding one, or JSON in "
        "a string or after `--override-neuron-config`) are renamed through the same mapping as "
        "NeuronConfig options; TNx sub-config dicts are flattened into NxDI keys. Keys with no "
        "NxDI equivalent are removed with a TNX303 finding; keys NxDI already reads are kept.",
        "override_neuron_config={\"continuous_batching\": {\"max_num_seqs\": 4}}",
        "override_neuron_config={\"is_continuous_batching\": True, \"max_batch_size\": 4, "
        "\"tkg_batch_size\": 4}",
    ),
    Rule(
        "TNX603", "vllm-override-dynamic", "A vLLM Neuron setting the tool cannot read",
        "manual",
        "`override_neuron_config` (or `VLLM_NEURON_FRAMEWORK`) comes from an expression, a "
        "shell variable or JSON that does not parse, so it is left as it is: check that it "
        "only uses NxDI NeuronConfig keys.",
        "LLM(model=path, device=\"neuron\", override_neuron_config=load_overrides())",
        "# TODO(tnx2nxdi): TNX603 ...",
    ),
    Rule(
        "TNX604", "vllm-unsupported", "NxDI through vLLM does not support this", "manual",
        "Multi-node inference (`NEURON_RT_ROOT_COMM_ID`, `NEURON_RANK_ID`, ...), the Neuron "
        "persistent cache (`NEURON_COMPILE_CACHE_URL`; NxDI uses `NEURON_COMPILED_ARTIFACTS`) and "
        "speculative decoding with more than one concurrent sequence are not supported by NxDI "
        "through vLLM; the line is marked for a person.",
        "os.environ[\"NEURON_COMPILE_CACHE_URL\"] = \"s3://bucket/cache\"",
        "# TODO(tnx2nxdi): TNX604 ...",
    ),
    Rule(
        "TNX605", "vllm-buckets", "Bucket environment variables are read only by TNx", "manual",
        "`NEURON_CONTEXT_LENGTH_BUCKETS` / `NEURON_TOKEN_GEN_BUCKETS` are read by vLLM's TNx "
        "loader only; NxDI takes buckets through `override_neuron_config` "
        "(`context_encoding_buckets` / `token_generation_buckets`). The finding gives the keys "
        "and values to add.",
        "export NEURON_CONTEXT_LENGTH_BUCKETS=128,512",
        "# TODO(tnx2nxdi): TNX605 ... add \"context_encoding_buckets\": [128, 512] ...",
    ),
    Rule(
        "TNX901", "dynamic-construction", "Dynamic TNx construction left as it is", "manual",
        "The tool cannot see through `**kwargs`, positional options, configs built by helper "
        "functions or classes chosen at run time, so the construction is left unchanged "
        "rather than half-rewritten.",
        "LlamaForSampling.from_pretrained(path, **kwargs)",
        "# TODO(tnx2nxdi): TNX901 ...\nLlamaForSampling.from_pretrained(path, **kwargs)",
    ),
    Rule(
        "TNX902", "unknown-method", "A TNx model method has no known NxDI equivalent", "manual",
        "A method called on a migrated model is not one tnx2nxdi knows how to migrate.",
        "model.enable_speculative_decoder(4)", "# TODO(tnx2nxdi): TNX902 ...",
    ),
    Rule(
        "TNX903", "untracked-model", "A TNx-only call on an object the tool cannot follow",
        "manual",
        "A method only TNx models have (`to_neuron`, `sample(..., sequence_length=...)`, ...) is "
        "called on an object whose origin scope analysis cannot prove (a parameter, an attribute "
        "of another object). If it is a migrated model, migrate the call by hand.",
        "def run(model):\n    model.to_neuron()", "# TODO(tnx2nxdi): TNX903 ...",
    ),
    Rule(
        "TNX910", "speculation", "TNx speculative decoding has to be rebuilt", "manual",
        "TNx speculation classes (`SpeculativeGenerator`, `FusedSpeculativeDecoder`, "
        "`EagleSpeculativeDecoder`) have no drop-in NxDI counterpart: NxDI configures fused "
        "speculation through NeuronConfig and FusedSpecNeuronConfig.",
        "spec = FusedSpeculativeDecoder(draft, target, k=4)", "# TODO(tnx2nxdi): TNX910 ...",
    ),
    Rule(
        "TNX990", "tnx-still-used", "The file still uses TNx after the run", "manual",
        "Raised for every TNx name still imported and used after migration, so a file that "
        "still depends on TNx is never reported clean.",
        "from transformers_neuronx import dtypes", "# TODO(tnx2nxdi): TNX990 ...",
    ),
    Rule(
        "TNX998", "parse-error", "The file is not valid Python; left untouched", "manual",
        "The file (or a notebook cell) passed the byte screen, so it mentions TNx, but Python's "
        "own parser rejects it: the finding gives the parser's message at the parser's line and "
        "column, the file is left as it is and the run exits 2. A file that never mentions TNx "
        "is not parsed at all, so its syntax errors are not reported (tnx2nxdi is not a linter).",
        "", "",
    ),
    Rule(
        "TNX999", "migration-failed", "The migrated code did not compile; file left untouched",
        "manual",
        "An internal safety net: the rewrite produced code that does not compile, so nothing "
        "was written. Please report it.",
        "", "",
    ),
)

RULE_BY_CODE: Mapping[str, Rule] = {rule.code: rule for rule in RULES}


def expand(selectors: Iterable[str]) -> frozenset[str]:
    """Codes matched by codes or prefixes (``TNX3``, ``ALL``); unknown selectors raise."""
    chosen: set[str] = set()
    for raw in selectors:
        selector = raw.strip().upper()
        if not selector:
            continue
        matched = {
            code for code in RULE_BY_CODE if selector == "ALL" or code.startswith(selector)
        }
        if not matched:
            raise ValueError(f"unknown rule code or prefix: {raw!r}")
        chosen |= matched
    return frozenset(chosen)
