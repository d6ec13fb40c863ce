"""The rule registry: every finding code tnx2nxdi can emit, with what it means and an example.

Codes are stable once released: TNX1xx imports, TNX2xx model classes and families, TNX3xx
NeuronConfig options, TNX4xx compile/save/load, TNX5xx generation, TNX6xx vLLM, TNX9xx manual
work. ``docs/rules.md`` is generated from this table (``scripts/document_rules.py``).

Each rule's ``before`` is a complete program (a notebook cell, a launch script) and ``after`` is
exactly what tnx2nxdi makes of it: ``tests/test_rules.py`` runs every example through the real
pipeline and checks the output, the rule's code among the findings, and that every finding's
fixed/manual kind agrees with its rule.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

#: The page of this repository that documents the rules (generated from this table); each rule
#: is its section ``#tnxnnn``. Output never links to it by this relative path, which leads
#: nowhere outside a checkout: a link is printed only when ``docs-url`` names where the page is
#: published (:meth:`Rule.url`).
DOCS_PAGE = "docs/rules.md"

#: "fix": always migrated (every finding is fixed); "manual": a person must act (no finding is
#: fixed); "sometimes": depends on the code.
FixKind = Literal["fix", "manual", "sometimes"]
FIX_KINDS: Mapping[FixKind, str] = {
    "fix": "migrated automatically",
    "manual": "needs a person (a `# TODO(tnx2nxdi)` marker is left in the code)",
    "sometimes": "migrated automatically, or left for a person depending on the code",
}
#: What an example is: a Python program, one notebook code cell, or a shell launch script.
ExampleKind = Literal["python", "notebook", "shell"]
EXAMPLE_KINDS: Mapping[ExampleKind, str] = {
    "python": "a Python program",
    "notebook": "a notebook code cell",
    "shell": "a shell launch script",
}


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    summary: str
    fix: FixKind
    description: str
    #: A complete example and what tnx2nxdi makes of it, byte for byte ("" for none).
    before: str = ""
    after: str = ""
    kind: ExampleKind = "python"

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
        happens = ERROR_TEXT if self.code in ERROR_CODES else FIX_KINDS[self.fix]
        parts = [f"{self.code} ({self.name}): {self.summary}.", f"What happens: {happens}.",
                 self.description]
        if self.before:
            parts.append(f"Before ({EXAMPLE_KINDS[self.kind]}):\n" + _indent(self.before))
        if self.after:
            parts.append("After:\n" + _indent(self.after))
        return "\n\n".join(parts)


#: Codes that report a file the run could not migrate (exit code 2), not a finding in it.
ERROR_CODES = frozenset({"TNX998", "TNX999"})
ERROR_TEXT = "the file is left as it is, no marker is written, and the run exits 2"


def _indent(text: str) -> str:
    return "\n".join("    " + line if line else line for line in text.splitlines())


def _code(text: str) -> str:
    """An example as written below: indented under its rule, from the line after the quotes."""
    return textwrap.dedent(text).lstrip("\n")


RULES: tuple[Rule, ...] = (
    Rule(
        "TNX101", "tnx-import",
        "TNx imports replaced by NxDI imports from concrete modules",
        "fix",
        "TNx imports that are no longer used are removed; the NxDI names the migrated code "
        "needs are imported from their concrete modules (NxDI package `__init__` files are "
        "empty, so `from neuronx_distributed_inference.models.llama import ...` fails).",
        before=_code("""
        from transformers_neuronx import LlamaForSampling, NeuronConfig

        neuron_config = NeuronConfig(fuse_qkv=True)
        model = LlamaForSampling.from_pretrained(
            "./Llama-2-7b", batch_size=1, tp_degree=8, n_positions=2048, amp="bf16",
            neuron_config=neuron_config,
        )
        """),
        after=_code("""
        import torch
        from neuronx_distributed_inference.models.config import NeuronConfig
        from neuronx_distributed_inference.models.llama.modeling_llama import (
            LlamaInferenceConfig,
            NeuronLlamaForCausalLM,
        )
        from neuronx_distributed_inference.utils.hf_adapter import load_pretrained_config

        neuron_config = NeuronConfig(
            batch_size=1,
            tp_degree=8,
            seq_len=2048,
            torch_dtype=torch.bfloat16,
            fused_qkv=True,
            enable_bucketing=True,
        )
        config = LlamaInferenceConfig(neuron_config, load_config=load_pretrained_config("./Llama-2-7b"))
        model = NeuronLlamaForCausalLM("./Llama-2-7b", config)
        """),
    ),
    Rule(
        "TNX102", "ipython-line",
        "An install line or IPython line still refers to TNx",
        "sometimes",
        "A notebook's `!pip install transformers-neuronx` (or `%pip`) becomes "
        "`!pip install neuronx-distributed-inference` when the migrated notebook no longer "
        "imports TNx. Otherwise the line is left as it is with a marker giving the Neuron SDK's "
        "NxDI install line, as are shell install lines and other IPython lines naming TNx "
        "(`!python run_tnx.py`, `LlamaForSampling?`). A notebook NxDI cannot run at all (an "
        "unsupported family) keeps its TNx install line without a marker.",
        kind="notebook",
        before=_code("""
        %pip install -U transformers-neuronx
        from transformers_neuronx import LlamaForSampling

        model = LlamaForSampling.from_pretrained("./Llama-2-7b")
        """),
        after=_code("""
        %pip install -U neuronx-distributed-inference
        import torch
        from neuronx_distributed_inference.models.config import NeuronConfig
        from neuronx_distributed_inference.models.llama.modeling_llama import (
            LlamaInferenceConfig,
            NeuronLlamaForCausalLM,
        )
        from neuronx_distributed_inference.utils.hf_adapter import load_pretrained_config

        neuron_config = NeuronConfig(
            batch_size=1,
            tp_degree=2,
            seq_len=2048,
            torch_dtype=torch.float32,
            enable_bucketing=True,
        )
        config = LlamaInferenceConfig(neuron_config, load_config=load_pretrained_config("./Llama-2-7b"))
        model = NeuronLlamaForCausalLM("./Llama-2-7b", config)
        """),
    ),
    Rule(
        "TNX103", "dependency-pin",
        "An install line pins a version NxDI cannot run with",
        "manual",
        "NxDI pins `transformers` per release (`transformers==4.57.*` for 2.28-2.29, 4.56 for "
        "2.27, 4.51 for 2.24-2.26, 4.48 for 2.22-2.23, 4.45 for 2.21). A `pip install` line in a "
        "notebook that moves to NxDI, or in a shell script that installs TNx or NxDI, whose "
        "`transformers` requirement excludes that pin is marked: change or drop the pin (and "
        "the pins that follow it, such as `tokenizers`).",
        kind="notebook",
        before=_code("""
        !pip install transformers==4.40.0 tokenizers==0.19.1
        from transformers_neuronx import LlamaForSampling

        model = LlamaForSampling.from_pretrained("./Meta-Llama-3-8B", tp_degree=8, amp="bf16")
        """),
        after=_code("""
        # TODO(tnx2nxdi): TNX103 pins transformers==4.40.0, but NxDI for Neuron 2.29 requires transformers==4.57.*: drop the pin or change it to transformers==4.57.* (the other pins of this line may have to follow: tokenizers==0.19.1)
        !pip install transformers==4.40.0 tokenizers==0.19.1
        import torch
        from neuronx_distributed_inference.models.config import NeuronConfig
        from neuronx_distributed_inference.models.llama.modeling_llama import (
            LlamaInferenceConfig,
            NeuronLlamaForCausalLM,
        )
        from neuronx_distributed_inference.utils.hf_adapter import load_pretrained_config

        neuron_config = NeuronConfig(
            batch_size=1,
            tp_degree=8,
            seq_len=2048,
            torch_dtype=torch.bfloat16,
            enable_bucketing=True,
        )
        config = LlamaInferenceConfig(
            neuron_config,
            load_config=load_pretrained_config("./Meta-Llama-3-8B"),
        )
        model = NeuronLlamaForCausalLM("./Meta-Llama-3-8B", config)
        """),
    ),
    Rule(
        "TNX201", "model-class",
        "TNx model class migrated to the NxDI application class",
        "fix",
        "`XForSampling.from_pretrained(path, ...)` becomes one NxDI `NeuronConfig`, the "
        "family's `InferenceConfig` loaded with `load_pretrained_config(path)`, and the NxDI "
        "application class. The model keeps the user's variable name.",
        before=_code("""
        from transformers_neuronx import LlamaForSampling

        model = LlamaForSampling.from_pretrained(
            "./Llama-2-7b", batch_size=1, tp_degree=8, n_positions=2048, amp="bf16"
        )
        """),
        after=_code("""
        import torch
        from neuronx_distributed_inference.models.config import NeuronConfig
        from neuronx_distributed_inference.models.llama.modeling_llama import (
            LlamaInferenceConfig,
            NeuronLlamaForCausalLM,
        )
        from neuronx_distributed_inference.utils.hf_adapter import load_pretrained_config

        neuron_config = NeuronConfig(
            batch_size=1,
            tp_degree=8,
            seq_len=2048,
            torch_dtype=torch.bfloat16,
            enable_bucketing=True,
        )
        config = LlamaInferenceConfig(neuron_config, load_config=load_pretrained_config("./Llama-2-7b"))
        model = NeuronLlamaForCausalLM("./Llama-2-7b", config)
        """),
    ),
    Rule(
        "TNX202", "family-note",
        "The family runs on other NxDI classes; read the note",
        "fix",
        "Mistral runs on NxDI's Llama classes in every release through 2.29.",
        before=_code("""
        from transformers_neuronx import MistralForSampling

        model = MistralForSampling.from_pretrained(
            "./Mistral-7B-v0.1", batch_size=1, tp_degree=8, n_positions=2048, amp="bf16"
        )
        """),
        after=_code("""
        import torch
        from neuronx_distributed_inference.models.config import NeuronConfig
        from neuronx_distributed_inference.models.llama.modeling_llama import (
            LlamaInferenceConfig,
            NeuronLlamaForCausalLM,
        )
        from neuronx_distributed_inference.utils.hf_adapter import load_pretrained_config

        neuron_config = NeuronConfig(
            batch_size=1,
            tp_degree=8,
            seq_len=2048,
            torch_dtype=torch.bfloat16,
            enable_bucketing=True,
        )
        config = LlamaInferenceConfig(
            neuron_config,
            load_config=load_pretrained_config("./Mistral-7B-v0.1"),
        )
        model = NeuronLlamaForCausalLM("./Mistral-7B-v0.1", config)
        """),
    ),
    Rule(
        "TNX203", "unsupported-family",
        "NxDI has no model for this TNx family",
        "manual",
        "GPT-2, GPT-J, GPT-NeoX, BLOOM and OPT have no NxDI model. The code is left as it is; "
        "port the model with NxDI's model-onboarding guide or move to a supported family.",
        before=_code("""
        from transformers_neuronx import GPT2ForSamplingWithContextBroadcasting

        model = GPT2ForSamplingWithContextBroadcasting.from_pretrained("./gpt2", tp_degree=2)
        model.to_neuron()
        """),
        after=_code("""
        from transformers_neuronx import GPT2ForSamplingWithContextBroadcasting

        # TODO(tnx2nxdi): TNX203 GPT-2 has no NxDI model; left as it is. Port it with NxDI's model-onboarding guide (https://awsdocs-neuron.readthedocs-hosted.com/en/latest/libraries/nxd-inference/developer_guides/onboarding-models.html) or move to a supported family
        model = GPT2ForSamplingWithContextBroadcasting.from_pretrained("./gpt2", tp_degree=2)
        model.to_neuron()
        """),
    ),
    Rule(
        "TNX204", "auto-model",
        "NeuronAutoModelForCausalLM whose family cannot be told",
        "manual",
        "NxDI has no auto class. When the checkpoint argument is a literal naming llama, "
        "mistral or mixtral the family is resolved; otherwise the code is left as it is and you "
        "choose the NxDI classes of the checkpoint's family.",
        before=_code("""
        import sys

        from transformers_neuronx import NeuronAutoModelForCausalLM

        model = NeuronAutoModelForCausalLM.from_pretrained(sys.argv[1], tp_degree=2)
        model.to_neuron()
        """),
        after=_code("""
        import sys

        from transformers_neuronx import NeuronAutoModelForCausalLM

        # TODO(tnx2nxdi): TNX204 NeuronAutoModelForCausalLM: the model family cannot be told from the checkpoint argument; use the NxDI classes of its family (Llama/Mistral: NeuronLlamaForCausalLM, Mixtral: NeuronMixtralForCausalLM)
        model = NeuronAutoModelForCausalLM.from_pretrained(sys.argv[1], tp_degree=2)
        model.to_neuron()
        """),
    ),
    Rule(
        "TNX206", "hub-checkpoint",
        "A Hugging Face Hub id is downloaded to a local directory first",
        "fix",
        "TNx `from_pretrained` downloaded Hub ids (`meta-llama/Meta-Llama-3.1-8B`); NxDI's "
        "application classes read config.json and the weights from a local directory. The "
        "migrated program calls `huggingface_hub.snapshot_download(id)` first and gives the "
        "local path to `load_pretrained_config`, the model class and quantization.",
        before=_code("""
        from transformers_neuronx import LlamaForSampling

        model_id = "meta-llama/Meta-Llama-3.1-8B"
        model = LlamaForSampling.from_pretrained(model_id, batch_size=1, tp_degree=8, amp="bf16")
        """),
        after=_code("""
        import torch
        from huggingface_hub import snapshot_download
        from neuronx_distributed_inference.models.config import NeuronConfig
        from neuronx_distributed_inference.models.llama.modeling_llama import (
            LlamaInferenceConfig,
            NeuronLlamaForCausalLM,
        )
        from neuronx_distributed_inference.utils.hf_adapter import load_pretrained_config

        model_id = "meta-llama/Meta-Llama-3.1-8B"
        model_path = snapshot_download(model_id)
        neuron_config = NeuronConfig(
            batch_size=1,
            tp_degree=8,
            seq_len=2048,
            torch_dtype=torch.bfloat16,
            enable_bucketing=True,
        )
        config = LlamaInferenceConfig(neuron_config, load_config=load_pretrained_config(model_path))
        model = NeuronLlamaForCausalLM(model_path, config)
        """),
    ),
    Rule(
        "TNX301", "carried-default",
        "A TNx default NxDI does not share is written out",
        "fix",
        "TNx and NxDI defaults differ (tp_degree 2 vs 1, n_positions 2048 vs seq_len 128, amp "
        "'f32' vs the checkpoint dtype). Omitted TNx values are carried over explicitly so the "
        "migrated program asks for the same configuration.",
        before=_code("""
        from transformers_neuronx import LlamaForSampling

        model = LlamaForSampling.from_pretrained("./Llama-2-7b")
        """),
        after=_code("""
        import torch
        from neuronx_distributed_inference.models.config import NeuronConfig
        from neuronx_distributed_inference.models.llama.modeling_llama import (
            LlamaInferenceConfig,
            NeuronLlamaForCausalLM,
        )
        from neuronx_distributed_inference.utils.hf_adapter import load_pretrained_config

        neuron_config = NeuronConfig(
            batch_size=1,
            tp_degree=2,
            seq_len=2048,
            torch_dtype=torch.float32,
            enable_bucketing=True,
        )
        config = LlamaInferenceConfig(neuron_config, load_config=load_pretrained_config("./Llama-2-7b"))
        model = NeuronLlamaForCausalLM("./Llama-2-7b", config)
        """),
    ),
    Rule(
        "TNX303", "option-dropped",
        "A TNx option has no NxDI equivalent and was removed",
        "sometimes",
        "Options with no NxDI equivalent are removed from the migrated call. When the program "
        "set one to its TNx default nothing changes and it is dropped quietly; layouts, "
        "sharding hints, unrolling, tiling, and values that describe what NxDI always does "
        "(`on_device_embedding=True`) change speed, not results, and are dropped with a fixed "
        "finding; any other value is named in a finding and in a marker comment, because the "
        "behaviour may differ.",
        before=_code("""
        from transformers_neuronx import LlamaForSampling, NeuronConfig

        neuron_config = NeuronConfig(output_all_logits=True)
        model = LlamaForSampling.from_pretrained(
            "./Llama-2-7b", batch_size=1, tp_degree=8, n_positions=2048, amp="bf16",
            neuron_config=neuron_config,
        )
        """),
        after=_code("""
        import torch
        from neuronx_distributed_inference.models.config import NeuronConfig
        from neuronx_distributed_inference.models.llama.modeling_llama import (
            LlamaInferenceConfig,
            NeuronLlamaForCausalLM,
        )
        from neuronx_distributed_inference.utils.hf_adapter import load_pretrained_config

        # TODO(tnx2nxdi): TNX303 output_all_logits=True has no NxDI equivalent: NxDI's output_logits is not the same feature; removed
        neuron_config = NeuronConfig(
            batch_size=1,
            tp_degree=8,
            seq_len=2048,
            torch_dtype=torch.bfloat16,
            enable_bucketing=True,
        )
        config = LlamaInferenceConfig(neuron_config, load_config=load_pretrained_config("./Llama-2-7b"))
        model = NeuronLlamaForCausalLM("./Llama-2-7b", config)
        """),
    ),
    Rule(
        "TNX304", "option-ignored-by-tnx",
        "TNx silently ignored this keyword; dropped",
        "manual",
        "TNx's Llama, Mistral and Mixtral classes ignore keywords they do not define (for "
        "example NeuronConfig fields passed to from_pretrained). They had no effect, so they "
        "are not carried into NxDI; the marker asks you to decide whether you want the NxDI "
        "option.",
        before=_code("""
        from transformers_neuronx import LlamaForSampling

        model = LlamaForSampling.from_pretrained(
            "./Llama-2-7b", batch_size=1, tp_degree=8, n_positions=2048, amp="bf16", fuse_qkv=True
        )
        """),
        after=_code("""
        import torch
        from neuronx_distributed_inference.models.config import NeuronConfig
        from neuronx_distributed_inference.models.llama.modeling_llama import (
            LlamaInferenceConfig,
            NeuronLlamaForCausalLM,
        )
        from neuronx_distributed_inference.utils.hf_adapter import load_pretrained_config

        # TODO(tnx2nxdi): TNX304 fuse_qkv=True had no effect: TNx ignores keywords its model class does not define, so it was dropped; to enable it in NxDI set NeuronConfig(fused_qkv=...)
        neuron_config = NeuronConfig(
            batch_size=1,
            tp_degree=8,
            seq_len=2048,
            torch_dtype=torch.bfloat16,
            enable_bucketing=True,
        )
        config = LlamaInferenceConfig(neuron_config, load_config=load_pretrained_config("./Llama-2-7b"))
        model = NeuronLlamaForCausalLM("./Llama-2-7b", config)
        """),
    ),
    Rule(
        "TNX305", "quantized-checkpoint",
        "Quantized models need a quantized checkpoint path",
        "sometimes",
        "NxDI asserts `quantized_checkpoints_path` when `quantized=True` and reads the quantized "
        "weights from it. tnx2nxdi names it after the model; a migrated model program creates "
        "it with `NeuronLlamaForCausalLM.save_quantized_state_dict(path, config)` when it is "
        "missing (fixed), while a vLLM program's checkpoint must be created once (manual).",
        before=_code("""
        from transformers_neuronx import LlamaForSampling, NeuronConfig, QuantizationConfig

        neuron_config = NeuronConfig(quant=QuantizationConfig(quant_dtype="s8"))
        model = LlamaForSampling.from_pretrained(
            "./Llama-2-7b", batch_size=1, tp_degree=8, n_positions=2048, amp="bf16",
            neuron_config=neuron_config,
        )
        """),
        after=_code("""
        import os
        import torch
        from neuronx_distributed_inference.models.config import NeuronConfig
        from neuronx_distributed_inference.models.llama.modeling_llama import (
            LlamaInferenceConfig,
            NeuronLlamaForCausalLM,
        )
        from neuronx_distributed_inference.utils.hf_adapter import load_pretrained_config

        neuron_config = NeuronConfig(
            batch_size=1,
            tp_degree=8,
            seq_len=2048,
            torch_dtype=torch.bfloat16,
            quantized=True,
            quantization_dtype="int8",
            quantization_type="per_channel_symmetric",
            quantized_checkpoints_path="Llama-2-7b-quantized-checkpoint",
            modules_to_not_convert=["lm_head"],
            enable_bucketing=True,
        )
        config = LlamaInferenceConfig(neuron_config, load_config=load_pretrained_config("./Llama-2-7b"))
        if not os.path.exists("Llama-2-7b-quantized-checkpoint"):
            NeuronLlamaForCausalLM.save_quantized_state_dict("./Llama-2-7b", config)
        model = NeuronLlamaForCausalLM("./Llama-2-7b", config)
        """),
    ),
    Rule(
        "TNX306", "option-value",
        "A TNx option value that needs translating is not a literal",
        "sometimes",
        "The value of an option that needs translation (`amp`, `n_positions` as a list, "
        "`context_length_estimate`, ...) is not a literal the tool can read. When the "
        "translation is a lookup table (`amp` to `torch_dtype`) the table is written into the "
        "migrated call and applied at run time: migrated. Otherwise the expression is carried "
        "under the NxDI name and a marker says what NxDI needs (`n_positions=sizes`: set "
        "`seq_len` to the maximum and `token_generation_buckets` to the list).",
        before=_code("""
        import os

        from transformers_neuronx import LlamaForSampling

        model = LlamaForSampling.from_pretrained(
            "./Llama-2-7b", batch_size=1, tp_degree=8, n_positions=2048, amp=os.environ["AMP"]
        )
        """),
        after=_code("""
        import os

        import torch
        from neuronx_distributed_inference.models.config import NeuronConfig
        from neuronx_distributed_inference.models.llama.modeling_llama import (
            LlamaInferenceConfig,
            NeuronLlamaForCausalLM,
        )
        from neuronx_distributed_inference.utils.hf_adapter import load_pretrained_config

        neuron_config = NeuronConfig(
            batch_size=1,
            tp_degree=8,
            seq_len=2048,
            torch_dtype={"f32": torch.float32, "f16": torch.float16, "bf16": torch.bfloat16}[os.environ["AMP"]],
            enable_bucketing=True,
        )
        config = LlamaInferenceConfig(neuron_config, load_config=load_pretrained_config("./Llama-2-7b"))
        model = NeuronLlamaForCausalLM("./Llama-2-7b", config)
        """),
    ),
    Rule(
        "TNX307", "multi-node",
        "A multi-node TNx program keeps running on several nodes",
        "fix",
        "TNx reads `NEURON_RANK_ID` and `NEURON_LOCAL_TP` from the environment on each node; "
        "NxDI takes the node's ranks from `start_rank_id` and `local_ranks_size`. When the "
        "program mentions those variables or its tp_degree is larger than one TNx node's 32 "
        "NeuronCores, both are computed from the same variables.",
        before=_code("""
        from transformers_neuronx import LlamaForSampling

        model = LlamaForSampling.from_pretrained(
            "./Meta-Llama-3.1-405B", batch_size=1, tp_degree=128, n_positions=4096, amp="bf16",
        )
        """),
        after=_code("""
        import os
        import torch
        from neuronx_distributed_inference.models.config import NeuronConfig
        from neuronx_distributed_inference.models.llama.modeling_llama import (
            LlamaInferenceConfig,
            NeuronLlamaForCausalLM,
        )
        from neuronx_distributed_inference.utils.hf_adapter import load_pretrained_config

        neuron_config = NeuronConfig(
            batch_size=1,
            tp_degree=128,
            seq_len=4096,
            torch_dtype=torch.bfloat16,
            enable_bucketing=True,
            start_rank_id=int(os.environ.get("NEURON_RANK_ID", 0)) * int(os.environ.get("NEURON_LOCAL_TP", 128)),
            local_ranks_size=int(os.environ.get("NEURON_LOCAL_TP", 128)),
        )
        config = LlamaInferenceConfig(
            neuron_config,
            load_config=load_pretrained_config("./Meta-Llama-3.1-405B"),
        )
        model = NeuronLlamaForCausalLM("./Meta-Llama-3.1-405B", config)
        """),
    ),
    Rule(
        "TNX401", "compile",
        "to_neuron() became compile() (and load() when the model is used)",
        "fix",
        "NxDI splits TNx `to_neuron()` into `compile(path)` and `load(path)`; `load` is only "
        "written when the program runs the model afterwards. A program that never saved "
        "compiles into `--compiled-model-path` (default: a directory named after the model).",
        before=_code("""
        from transformers_neuronx import LlamaForSampling

        model = LlamaForSampling.from_pretrained(
            "./Llama-2-7b", batch_size=1, tp_degree=8, n_positions=2048, amp="bf16"
        )
        model.to_neuron()
        """),
        after=_code("""
        import torch
        from neuronx_distributed_inference.models.config import NeuronConfig
        from neuronx_distributed_inference.models.llama.modeling_llama import (
            LlamaInferenceConfig,
            NeuronLlamaForCausalLM,
        )
        from neuronx_distributed_inference.utils.hf_adapter import load_pretrained_config

        neuron_config = NeuronConfig(
            batch_size=1,
            tp_degree=8,
            seq_len=2048,
            torch_dtype=torch.bfloat16,
            enable_bucketing=True,
        )
        config = LlamaInferenceConfig(neuron_config, load_config=load_pretrained_config("./Llama-2-7b"))
        model = NeuronLlamaForCausalLM("./Llama-2-7b", config)
        model.compile("Llama-2-7b-nxdi-compiled")
        """),
    ),
    Rule(
        "TNX402", "save",
        "save(dir) folded into compile(dir)",
        "fix",
        "NxDI writes compiled artifacts in `compile(dir)`. `save(dir, sharded_weights=True)` "
        "sets `save_sharded_checkpoint=True` explicitly (NxDI's default is False since 2.23).",
        before=_code("""
        from transformers_neuronx import LlamaForSampling

        model = LlamaForSampling.from_pretrained(
            "./Llama-2-7b", batch_size=1, tp_degree=8, n_positions=2048, amp="bf16"
        )
        model.to_neuron()
        model.save("./llama-compiled", sharded_weights=True)
        """),
        after=_code("""
        import torch
        from neuronx_distributed_inference.models.config import NeuronConfig
        from neuronx_distributed_inference.models.llama.modeling_llama import (
            LlamaInferenceConfig,
            NeuronLlamaForCausalLM,
        )
        from neuronx_distributed_inference.utils.hf_adapter import load_pretrained_config

        neuron_config = NeuronConfig(
            batch_size=1,
            tp_degree=8,
            seq_len=2048,
            torch_dtype=torch.bfloat16,
            enable_bucketing=True,
            save_sharded_checkpoint=True,
        )
        config = LlamaInferenceConfig(neuron_config, load_config=load_pretrained_config("./Llama-2-7b"))
        model = NeuronLlamaForCausalLM("./Llama-2-7b", config)
        model.compile("./llama-compiled")
        """),
    ),
    Rule(
        "TNX403", "load-tnx-artifacts",
        "NxDI cannot load TNx-compiled artifacts",
        "manual",
        "`load(dir)` + `to_neuron()` becomes NxDI `load(dir)`, but the directory holds TNx "
        "NEFFs. Compile once into it with NxDI (`model.compile(dir)`) before deploying.",
        before=_code("""
        from transformers_neuronx import LlamaForSampling

        model = LlamaForSampling.from_pretrained(
            "./Llama-2-7b", batch_size=1, tp_degree=8, n_positions=2048, amp="bf16"
        )
        model.load("./llama-compiled")
        model.to_neuron()
        """),
        after=_code("""
        import torch
        from neuronx_distributed_inference.models.config import NeuronConfig
        from neuronx_distributed_inference.models.llama.modeling_llama import (
            LlamaInferenceConfig,
            NeuronLlamaForCausalLM,
        )
        from neuronx_distributed_inference.utils.hf_adapter import load_pretrained_config

        neuron_config = NeuronConfig(
            batch_size=1,
            tp_degree=8,
            seq_len=2048,
            torch_dtype=torch.bfloat16,
            enable_bucketing=True,
        )
        config = LlamaInferenceConfig(neuron_config, load_config=load_pretrained_config("./Llama-2-7b"))
        model = NeuronLlamaForCausalLM("./Llama-2-7b", config)
        # TODO(tnx2nxdi): TNX403 NxDI cannot load TNx-compiled artifacts: compile once into "./llama-compiled" with model.compile("./llama-compiled") before this load
        model.load("./llama-compiled")
        """),
    ),
    Rule(
        "TNX404", "reopen-compiled",
        "A model rebuilt from a directory compiled earlier",
        "sometimes",
        "TNx reloaded saved artifacts with `from_pretrained(checkpoint)` + `load(dir)` + "
        "`to_neuron()`. When the same program compiled into that directory with NxDI (the "
        "directory compared by meaning: `'./x'`, `'x/'` and a name bound to `'x'` are one), the "
        "model is reopened from it: `NeuronLlamaForCausalLM(dir)` reads `neuron_config.json`, "
        "then `load(dir)`, with no second NeuronConfig. When the reload asked for other "
        "settings than the compiled model's, a marker says which.",
        before=_code("""
        from transformers_neuronx import LlamaForSampling

        model = LlamaForSampling.from_pretrained(
            "./Llama-2-7b", batch_size=1, tp_degree=8, n_positions=2048, amp="bf16"
        )
        model.to_neuron()
        model.save("./llama-compiled", sharded_weights=True)

        reopened = LlamaForSampling.from_pretrained(
            "./llama-compiled", batch_size=1, tp_degree=8, n_positions=2048, amp="bf16"
        )
        reopened.load("./llama-compiled")
        reopened.to_neuron()
        """),
        after=_code("""
        import torch
        from neuronx_distributed_inference.models.config import NeuronConfig
        from neuronx_distributed_inference.models.llama.modeling_llama import (
            LlamaInferenceConfig,
            NeuronLlamaForCausalLM,
        )
        from neuronx_distributed_inference.utils.hf_adapter import load_pretrained_config

        neuron_config = NeuronConfig(
            batch_size=1,
            tp_degree=8,
            seq_len=2048,
            torch_dtype=torch.bfloat16,
            enable_bucketing=True,
            save_sharded_checkpoint=True,
        )
        config = LlamaInferenceConfig(neuron_config, load_config=load_pretrained_config("./Llama-2-7b"))
        model = NeuronLlamaForCausalLM("./Llama-2-7b", config)
        model.compile("./llama-compiled")

        reopened = NeuronLlamaForCausalLM("./llama-compiled")
        reopened.load("./llama-compiled")
        """),
    ),
    Rule(
        "TNX405", "split-checkpoint",
        "save_pretrained_split became save_pretrained",
        "fix",
        "NxDI reads standard Hugging Face checkpoints (safetensors or bin), so TNx's "
        "`save_pretrained_split(model, dir)` becomes the model's own `save_pretrained(dir)`: "
        "the directory the program loads from still exists. Loading the original checkpoint "
        "directly is simpler still.",
        before=_code("""
        from transformers import LlamaForCausalLM
        from transformers_neuronx.module import save_pretrained_split

        hf_model = LlamaForCausalLM.from_pretrained("meta-llama/Llama-2-7b-hf")
        save_pretrained_split(hf_model, "./Llama-2-7b-split")
        """),
        after=_code("""
        from transformers import LlamaForCausalLM

        hf_model = LlamaForCausalLM.from_pretrained("meta-llama/Llama-2-7b-hf")
        hf_model.save_pretrained("./Llama-2-7b-split")
        """),
    ),
    Rule(
        "TNX406", "persistent-cache",
        "NxDI has no Neuron persistent compile cache",
        "manual",
        "TNx reused compiled graphs through `NEURON_COMPILE_CACHE_URL` (or `--cache_dir` in "
        "`NEURON_CC_FLAGS`). NxDI has no persistent cache: compile once with "
        "`model.compile(dir)` and reuse the directory (vLLM: `NEURON_COMPILED_ARTIFACTS`).",
        before=_code("""
        import os

        from transformers_neuronx import LlamaForSampling

        os.environ["NEURON_COMPILE_CACHE_URL"] = "s3://my-bucket/neuron-cache"
        model = LlamaForSampling.from_pretrained(
            "./Llama-2-7b", batch_size=1, tp_degree=8, n_positions=2048, amp="bf16"
        )
        model.to_neuron()
        """),
        after=_code("""
        import os

        import torch
        from neuronx_distributed_inference.models.config import NeuronConfig
        from neuronx_distributed_inference.models.llama.modeling_llama import (
            LlamaInferenceConfig,
            NeuronLlamaForCausalLM,
        )
        from neuronx_distributed_inference.utils.hf_adapter import load_pretrained_config

        # TODO(tnx2nxdi): TNX406 NxDI has no Neuron persistent cache, so this setting has no effect: compile once with model.compile(dir) and reuse that directory (vLLM: NEURON_COMPILED_ARTIFACTS)
        os.environ["NEURON_COMPILE_CACHE_URL"] = "s3://my-bucket/neuron-cache"
        neuron_config = NeuronConfig(
            batch_size=1,
            tp_degree=8,
            seq_len=2048,
            torch_dtype=torch.bfloat16,
            enable_bucketing=True,
        )
        config = LlamaInferenceConfig(neuron_config, load_config=load_pretrained_config("./Llama-2-7b"))
        model = NeuronLlamaForCausalLM("./Llama-2-7b", config)
        model.compile("Llama-2-7b-nxdi-compiled")
        """),
    ),
    Rule(
        "TNX501", "sample",
        "sample() became generate() through HuggingFaceGenerationAdapter",
        "fix",
        "`sample(ids, sequence_length=N, top_k=K)` is top-k sampling (k=50 by default); it "
        "becomes `HuggingFaceGenerationAdapter(model).generate(ids, max_length=N, "
        "do_sample=True, top_k=K)`, greedy only when K is 1.",
        before=_code("""
        import torch
        from transformers_neuronx import LlamaForSampling

        model = LlamaForSampling.from_pretrained(
            "./Llama-2-7b", batch_size=1, tp_degree=8, n_positions=2048, amp="bf16"
        )
        model.to_neuron()
        input_ids = torch.tensor([[1, 15043, 29892]])
        with torch.inference_mode():
            tokens = model.sample(input_ids, sequence_length=256)
        """),
        after=_code("""
        import torch
        from neuronx_distributed_inference.models.config import NeuronConfig
        from neuronx_distributed_inference.models.llama.modeling_llama import (
            LlamaInferenceConfig,
            NeuronLlamaForCausalLM,
        )
        from neuronx_distributed_inference.utils.hf_adapter import (
            HuggingFaceGenerationAdapter,
            load_pretrained_config,
        )

        neuron_config = NeuronConfig(
            batch_size=1,
            tp_degree=8,
            seq_len=2048,
            torch_dtype=torch.bfloat16,
            enable_bucketing=True,
        )
        config = LlamaInferenceConfig(neuron_config, load_config=load_pretrained_config("./Llama-2-7b"))
        model = NeuronLlamaForCausalLM("./Llama-2-7b", config)
        model.compile("Llama-2-7b-nxdi-compiled")
        model.load("Llama-2-7b-nxdi-compiled")
        input_ids = torch.tensor([[1, 15043, 29892]])
        with torch.inference_mode():
            tokens = HuggingFaceGenerationAdapter(model).generate(
                input_ids,
                max_length=256,
                do_sample=True,
                top_k=50,
            )
        """),
    ),
    Rule(
        "TNX502", "sample-unsupported",
        "A sample() call the tool cannot migrate",
        "manual",
        "The call passes arguments with no Hugging Face generate() equivalent (or positional "
        "arguments past sequence_length), so it is left as it is.",
        before=_code("""
        import torch
        from transformers_neuronx import LlamaForSampling

        model = LlamaForSampling.from_pretrained(
            "./Llama-2-7b", batch_size=1, tp_degree=8, n_positions=2048, amp="bf16"
        )
        model.to_neuron()
        input_ids = torch.tensor([[1, 15043, 29892]])
        tokens = model.sample(input_ids, 256, None, None, 10)
        """),
        after=_code("""
        import torch
        from neuronx_distributed_inference.models.config import NeuronConfig
        from neuronx_distributed_inference.models.llama.modeling_llama import (
            LlamaInferenceConfig,
            NeuronLlamaForCausalLM,
        )
        from neuronx_distributed_inference.utils.hf_adapter import load_pretrained_config

        neuron_config = NeuronConfig(
            batch_size=1,
            tp_degree=8,
            seq_len=2048,
            torch_dtype=torch.bfloat16,
            enable_bucketing=True,
        )
        config = LlamaInferenceConfig(neuron_config, load_config=load_pretrained_config("./Llama-2-7b"))
        model = NeuronLlamaForCausalLM("./Llama-2-7b", config)
        model.compile("Llama-2-7b-nxdi-compiled")
        model.load("Llama-2-7b-nxdi-compiled")
        input_ids = torch.tensor([[1, 15043, 29892]])
        # TODO(tnx2nxdi): TNX502 sample() left as it is: positional arguments after sequence_length
        tokens = model.sample(input_ids, 256, None, None, 10)
        """),
    ),
    Rule(
        "TNX503", "forward-call",
        "A direct forward call with TNx arguments",
        "manual",
        "TNx `model(input_ids, cache_ids=..., start_ids=...)` returns last-position logits; "
        "NxDI's forward takes `input_ids, attention_mask, position_ids, seq_ids, "
        "sampling_params` and returns an output object. Rewrite the call (or use "
        "`HuggingFaceGenerationAdapter`).",
        before=_code("""
        import torch
        from transformers_neuronx import LlamaForSampling

        model = LlamaForSampling.from_pretrained(
            "./Llama-2-7b", batch_size=1, tp_degree=8, n_positions=2048, amp="bf16"
        )
        model.to_neuron()
        input_ids = torch.tensor([[1, 15043, 29892]])
        cache_ids = torch.arange(input_ids.shape[1])
        logits = model(input_ids, cache_ids=cache_ids, start_ids=None)
        """),
        after=_code("""
        import torch
        from neuronx_distributed_inference.models.config import NeuronConfig
        from neuronx_distributed_inference.models.llama.modeling_llama import (
            LlamaInferenceConfig,
            NeuronLlamaForCausalLM,
        )
        from neuronx_distributed_inference.utils.hf_adapter import load_pretrained_config

        neuron_config = NeuronConfig(
            batch_size=1,
            tp_degree=8,
            seq_len=2048,
            torch_dtype=torch.bfloat16,
            enable_bucketing=True,
        )
        config = LlamaInferenceConfig(neuron_config, load_config=load_pretrained_config("./Llama-2-7b"))
        model = NeuronLlamaForCausalLM("./Llama-2-7b", config)
        model.compile("Llama-2-7b-nxdi-compiled")
        model.load("Llama-2-7b-nxdi-compiled")
        input_ids = torch.tensor([[1, 15043, 29892]])
        cache_ids = torch.arange(input_ids.shape[1])
        # TODO(tnx2nxdi): TNX503 model(...) is a TNx forward call (last-position logits from cache_ids/start_ids); NxDI's forward takes input_ids, attention_mask, position_ids, seq_ids and sampling_params: rewrite it or generate through HuggingFaceGenerationAdapter
        logits = model(input_ids, cache_ids=cache_ids, start_ids=None)
        """),
    ),
    Rule(
        "TNX504", "generation-adapter",
        "HuggingFaceGenerationModelAdapter became NxDI's adapter",
        "fix",
        "`HuggingFaceGenerationModelAdapter(config, model)` becomes "
        "`HuggingFaceGenerationAdapter(model)`: NxDI's adapter takes the model alone; its "
        "`generate(...)` is Hugging Face's, as before.",
        before=_code("""
        from transformers import AutoConfig
        from transformers_neuronx import HuggingFaceGenerationModelAdapter, LlamaForSampling

        model = LlamaForSampling.from_pretrained(
            "./Llama-2-7b", batch_size=1, tp_degree=8, n_positions=2048, amp="bf16"
        )
        model.to_neuron()
        generator = HuggingFaceGenerationModelAdapter(AutoConfig.from_pretrained("./Llama-2-7b"), model)
        """),
        after=_code("""
        from transformers import AutoConfig
        import torch
        from neuronx_distributed_inference.models.config import NeuronConfig
        from neuronx_distributed_inference.models.llama.modeling_llama import (
            LlamaInferenceConfig,
            NeuronLlamaForCausalLM,
        )
        from neuronx_distributed_inference.utils.hf_adapter import (
            HuggingFaceGenerationAdapter,
            load_pretrained_config,
        )

        neuron_config = NeuronConfig(
            batch_size=1,
            tp_degree=8,
            seq_len=2048,
            torch_dtype=torch.bfloat16,
            enable_bucketing=True,
        )
        config = LlamaInferenceConfig(neuron_config, load_config=load_pretrained_config("./Llama-2-7b"))
        model = NeuronLlamaForCausalLM("./Llama-2-7b", config)
        model.compile("Llama-2-7b-nxdi-compiled")
        model.load("Llama-2-7b-nxdi-compiled")
        generator = HuggingFaceGenerationAdapter(model)
        """),
    ),
    Rule(
        "TNX505", "reset-generation",
        "reset_generation() dropped",
        "fix",
        "NxDI's adapter resets the model at the start of every `generate()`, so TNx's explicit "
        "`reset_generation()` call is removed.",
        before=_code("""
        import torch
        from transformers import AutoConfig
        from transformers_neuronx import HuggingFaceGenerationModelAdapter, LlamaForSampling

        model = LlamaForSampling.from_pretrained(
            "./Llama-2-7b", batch_size=1, tp_degree=8, n_positions=2048, amp="bf16"
        )
        model.to_neuron()
        generator = HuggingFaceGenerationModelAdapter(AutoConfig.from_pretrained("./Llama-2-7b"), model)
        generator.reset_generation()
        tokens = generator.generate(torch.tensor([[1, 15043, 29892]]), max_length=256)
        """),
        after=_code("""
        import torch
        from transformers import AutoConfig
        from neuronx_distributed_inference.models.config import NeuronConfig
        from neuronx_distributed_inference.models.llama.modeling_llama import (
            LlamaInferenceConfig,
            NeuronLlamaForCausalLM,
        )
        from neuronx_distributed_inference.utils.hf_adapter import (
            HuggingFaceGenerationAdapter,
            load_pretrained_config,
        )

        neuron_config = NeuronConfig(
            batch_size=1,
            tp_degree=8,
            seq_len=2048,
            torch_dtype=torch.bfloat16,
            enable_bucketing=True,
        )
        config = LlamaInferenceConfig(neuron_config, load_config=load_pretrained_config("./Llama-2-7b"))
        model = NeuronLlamaForCausalLM("./Llama-2-7b", config)
        model.compile("Llama-2-7b-nxdi-compiled")
        model.load("Llama-2-7b-nxdi-compiled")
        generator = HuggingFaceGenerationAdapter(model)
        tokens = generator.generate(torch.tensor([[1, 15043, 29892]]), max_length=256)
        """),
    ),
    Rule(
        "TNX601", "vllm-framework",
        "vLLM for Neuron is told to use NxDI",
        "fix",
        "A program or launch script that builds a vLLM engine for Neuron gets "
        "`VLLM_NEURON_FRAMEWORK=neuronx-distributed-inference` before the engine is created (as "
        "the migration guide asks); an existing `transformers-neuronx` value is rewritten.",
        before=_code("""
        from vllm import LLM, SamplingParams

        llm = LLM(model="./Llama-2-7b", device="neuron", tensor_parallel_size=8, max_num_seqs=4)
        outputs = llm.generate(["Hello, my name is"], SamplingParams(top_k=1))
        """),
        after=_code("""
        import os

        from vllm import LLM, SamplingParams

        os.environ["VLLM_NEURON_FRAMEWORK"] = "neuronx-distributed-inference"

        llm = LLM(model="./Llama-2-7b", device="neuron", tensor_parallel_size=8, max_num_seqs=4)
        outputs = llm.generate(["Hello, my name is"], SamplingParams(top_k=1))
        """),
    ),
    Rule(
        "TNX602", "vllm-override",
        "override_neuron_config keys translated to NxDI",
        "fix",
        "TNx keys of the override (`override_neuron_config` as a dict literal, `dict(...)`, a "
        "variable holding one or JSON in a string; `--override-neuron-config`; the V1 plugin's "
        "`additional_config[\"override_neuron_config\"]` and `--additional-config`) are renamed "
        "through the same mapping as NeuronConfig options; TNx sub-config dicts are flattened "
        "into NxDI keys. Keys with no NxDI equivalent are removed with a TNX303 finding; keys "
        "NxDI already reads are kept; an override left empty is removed with its keyword. A "
        "program that marks its draft as EAGLE (`is_eagle` in the draft's config, read by TNx "
        "only) gets `enable_eagle_speculation` and `enable_fused_speculation`.",
        before=_code("""
        from vllm import LLM

        llm = LLM(
            model="./Llama-2-7b",
            device="neuron",
            tensor_parallel_size=8,
            max_num_seqs=4,
            override_neuron_config={"continuous_batching": {"max_num_seqs": 4}, "fuse_qkv": True},
        )
        """),
        after=_code("""
        import os

        from vllm import LLM

        os.environ["VLLM_NEURON_FRAMEWORK"] = "neuronx-distributed-inference"

        llm = LLM(
            model="./Llama-2-7b",
            device="neuron",
            tensor_parallel_size=8,
            max_num_seqs=4,
            override_neuron_config={
                "is_continuous_batching": True,
                "max_batch_size": 4,
                "tkg_batch_size": 4,
                "fused_qkv": True,
            },
        )
        """),
    ),
    Rule(
        "TNX603", "vllm-override-dynamic",
        "A vLLM Neuron setting the tool cannot read",
        "manual",
        "The override (or `VLLM_NEURON_FRAMEWORK`) comes from an expression, a shell expansion "
        "or JSON that does not parse, so it is left as it is: check that it only uses NxDI "
        "NeuronConfig keys. Also: a speculative draft whose name says EAGLE when the program "
        "does not show whether TNx ran it as one.",
        before=_code("""
        import json

        from vllm import LLM


        def load_overrides(path):
            with open(path) as file:
                return json.load(file)


        llm = LLM(model="./Llama-2-7b", device="neuron", override_neuron_config=load_overrides("o.json"))
        """),
        after=_code("""
        import os
        import json

        from vllm import LLM

        os.environ["VLLM_NEURON_FRAMEWORK"] = "neuronx-distributed-inference"


        def load_overrides(path):
            with open(path) as file:
                return json.load(file)


        # TODO(tnx2nxdi): TNX603 override_neuron_config left as it is (load_overrides("o.json") cannot be read statically): make sure it uses only NxDI NeuronConfig keys
        llm = LLM(model="./Llama-2-7b", device="neuron", override_neuron_config=load_overrides("o.json"))
        """),
    ),
    Rule(
        "TNX604", "vllm-unsupported",
        "NxDI through vLLM does not support this",
        "manual",
        "Multi-node inference (`NEURON_RT_ROOT_COMM_ID`, `NEURON_RANK_ID`, ...), the Neuron "
        "persistent cache (`NEURON_COMPILE_CACHE_URL`; NxDI uses `NEURON_COMPILED_ARTIFACTS`), "
        "vLLM's own `quantization=` values other than `neuron_quant`, and, for "
        "`--target-version 2.21` only (the vLLM fork's v0.6.x-neuron branch), speculative "
        "decoding with more than one concurrent sequence; the line is marked for a person.",
        before=_code("""
        import os

        from vllm import LLM

        os.environ["NEURON_RT_ROOT_COMM_ID"] = "10.0.0.1:63423"
        llm = LLM(model="./Llama-2-7b", device="neuron", tensor_parallel_size=32)
        """),
        after=_code("""
        import os

        from vllm import LLM

        os.environ["VLLM_NEURON_FRAMEWORK"] = "neuronx-distributed-inference"

        # TODO(tnx2nxdi): TNX604 NEURON_RT_ROOT_COMM_ID (multi-node inference): NxDI through vLLM runs on one node: plan a single-node tensor_parallel_size or serve each node separately
        os.environ["NEURON_RT_ROOT_COMM_ID"] = "10.0.0.1:63423"
        llm = LLM(model="./Llama-2-7b", device="neuron", tensor_parallel_size=32)
        """),
    ),
    Rule(
        "TNX605", "vllm-buckets",
        "Bucket environment variables moved into the override",
        "sometimes",
        "`NEURON_CONTEXT_LENGTH_BUCKETS` / `NEURON_TOKEN_GEN_BUCKETS` are read by vLLM's TNx "
        "loader only. When the value, `max_model_len` and the override are known, the lists go "
        "into the override as `context_encoding_buckets` / `token_generation_buckets` with "
        "`enable_bucketing`; otherwise the variable's line is marked with the keys to add.",
        kind="shell",
        before=_code("""
        #!/bin/bash
        export NEURON_CONTEXT_LENGTH_BUCKETS=128,512,1024
        vllm serve ./Llama-2-7b --device neuron --tensor-parallel-size 8 --max-model-len 1024
        """),
        after=_code("""
        #!/bin/bash
        export NEURON_CONTEXT_LENGTH_BUCKETS=128,512,1024
        export VLLM_NEURON_FRAMEWORK=neuronx-distributed-inference
        vllm serve ./Llama-2-7b --override-neuron-config '{"context_encoding_buckets": [128, 512, 1024], "enable_bucketing": true}' --device neuron --tensor-parallel-size 8 --max-model-len 1024
        """),
    ),
    Rule(
        "TNX606", "vllm-quantization",
        "vLLM's neuron_quant moved into the override",
        "sometimes",
        "`quantization=\"neuron_quant\"` (`--quantization neuron_quant`) with "
        "`NEURON_QUANT_DTYPE` is read by vLLM's TNx loader only. It becomes the override keys "
        "`quantized`, `quantization_dtype`, `quantization_type=\"per_channel_symmetric\"` (TNx's "
        "vector_dynamic), `quantized_checkpoints_path` and `modules_to_not_convert=[\"lm_head\"]` "
        "(TNx never quantized lm_head; read from NxDI 2.22; the same translation as a TNx "
        "`QuantizationConfig`), and vLLM's setting is removed. "
        "A TNX305 marker asks for the quantized checkpoint to be created once (the V1 plugin "
        "creates it itself). Marked instead when the dtype cannot be known.",
        before=_code("""
        import os

        from vllm import LLM

        os.environ["NEURON_QUANT_DTYPE"] = "s8"
        llm = LLM(model="./Llama-2-7b", device="neuron", tensor_parallel_size=8,
                  quantization="neuron_quant")
        """),
        after=_code("""
        import os

        from vllm import LLM

        os.environ["VLLM_NEURON_FRAMEWORK"] = "neuronx-distributed-inference"

        os.environ["NEURON_QUANT_DTYPE"] = "s8"
        # TODO(tnx2nxdi): TNX305 NxDI through vLLM loads the quantized weights from quantized_checkpoints_path='Llama-2-7b-quantized-checkpoint' and does not create them: create them once before vLLM starts, with the model's NxDI class (e.g. NeuronLlamaForCausalLM.save_quantized_state_dict(model_path, config)) and the same quantization settings
        llm = LLM(model="./Llama-2-7b", device="neuron", tensor_parallel_size=8,
                  override_neuron_config={
                      "quantized": True,
                      "quantization_dtype": "int8",
                      "quantization_type": "per_channel_symmetric",
                      "quantized_checkpoints_path": "Llama-2-7b-quantized-checkpoint",
                      "modules_to_not_convert": ["lm_head"],
                  })
        """),
    ),
    Rule(
        "TNX607", "vllm-fork-branch",
        "The vLLM fork's branch for NxDI 2.21 is installed",
        "manual",
        "A command (a script line or a notebook's `!git clone`) installs the vLLM fork's "
        "`v0.6.x-neuron` branch, which pairs with NxDI 2.21 (it defaults to TNx and runs NxDI "
        "speculation with one sequence only), while a later release is targeted: install the "
        "vLLM for Neuron the SDK's vLLM guide gives for that release.",
        kind="shell",
        before=_code("""
        #!/bin/bash
        git clone -b v0.6.x-neuron https://github.com/aws-neuron/upstreaming-to-vllm.git
        cd upstreaming-to-vllm && pip install -e .
        vllm serve ./Llama-2-7b --device neuron --tensor-parallel-size 8
        """),
        after=_code("""
        #!/bin/bash
        # TODO(tnx2nxdi): TNX607 the vLLM fork's v0.6.x-neuron branch pairs with NxDI 2.21 (it defaults to TNx and runs NxDI speculation with one sequence only): install the vLLM for Neuron that the SDK's vLLM user guide gives for NxDI 2.29
        git clone -b v0.6.x-neuron https://github.com/aws-neuron/upstreaming-to-vllm.git
        cd upstreaming-to-vllm && pip install -e .
        export VLLM_NEURON_FRAMEWORK=neuronx-distributed-inference
        vllm serve ./Llama-2-7b --device neuron --tensor-parallel-size 8
        """),
    ),
    Rule(
        "TNX901", "dynamic-construction",
        "Dynamic TNx construction left as it is",
        "manual",
        "The tool cannot see through `**kwargs`, positional options, configs built by helper "
        "functions or classes chosen at run time, so the construction is left unchanged rather "
        "than half-rewritten.",
        before=_code("""
        from transformers_neuronx import LlamaForSampling

        options = {"tp_degree": 8, "amp": "bf16"}
        model = LlamaForSampling.from_pretrained("./Llama-2-7b", **options)
        model.to_neuron()
        """),
        after=_code("""
        from transformers_neuronx import LlamaForSampling

        options = {"tp_degree": 8, "amp": "bf16"}
        # TODO(tnx2nxdi): TNX901 left as it is: **options cannot be read statically
        model = LlamaForSampling.from_pretrained("./Llama-2-7b", **options)
        model.to_neuron()
        """),
    ),
    Rule(
        "TNX902", "unknown-method",
        "A TNx model method has no known NxDI equivalent",
        "manual",
        "A method called on a migrated model is not one tnx2nxdi knows how to migrate.",
        before=_code("""
        from transformers_neuronx import LlamaForSampling

        model = LlamaForSampling.from_pretrained(
            "./Llama-2-7b", batch_size=1, tp_degree=8, n_positions=2048, amp="bf16"
        )
        model.enable_speculative_decoder(4)
        model.to_neuron()
        """),
        after=_code("""
        import torch
        from neuronx_distributed_inference.models.config import NeuronConfig
        from neuronx_distributed_inference.models.llama.modeling_llama import (
            LlamaInferenceConfig,
            NeuronLlamaForCausalLM,
        )
        from neuronx_distributed_inference.utils.hf_adapter import load_pretrained_config

        neuron_config = NeuronConfig(
            batch_size=1,
            tp_degree=8,
            seq_len=2048,
            torch_dtype=torch.bfloat16,
            enable_bucketing=True,
        )
        config = LlamaInferenceConfig(neuron_config, load_config=load_pretrained_config("./Llama-2-7b"))
        model = NeuronLlamaForCausalLM("./Llama-2-7b", config)
        # TODO(tnx2nxdi): TNX902 enable_speculative_decoder() has no NxDI equivalent tnx2nxdi knows
        model.enable_speculative_decoder(4)
        model.compile("Llama-2-7b-nxdi-compiled")
        """),
    ),
    Rule(
        "TNX903", "untracked-model",
        "A TNx-only call on an object the tool cannot follow",
        "manual",
        "A method only TNx models have (`to_neuron`, `sample(..., sequence_length=...)`, ...) "
        "is called on an object whose origin scope analysis cannot prove (a parameter, an "
        "attribute of another object). If it is a migrated model, migrate the call by hand.",
        before=_code("""
        from transformers_neuronx import LlamaForSampling


        def warm_up(model):
            model.to_neuron()


        model = LlamaForSampling.from_pretrained(
            "./Llama-2-7b", batch_size=1, tp_degree=8, n_positions=2048, amp="bf16"
        )
        warm_up(model)
        """),
        after=_code("""
        import torch
        from neuronx_distributed_inference.models.config import NeuronConfig
        from neuronx_distributed_inference.models.llama.modeling_llama import (
            LlamaInferenceConfig,
            NeuronLlamaForCausalLM,
        )
        from neuronx_distributed_inference.utils.hf_adapter import load_pretrained_config


        def warm_up(model):
            # TODO(tnx2nxdi): TNX903 model.to_neuron(...) looks like a TNx model call, but tnx2nxdi cannot tell what the object is; if it is a migrated model, migrate this call by hand (see TNX401/TNX501)
            model.to_neuron()


        neuron_config = NeuronConfig(
            batch_size=1,
            tp_degree=8,
            seq_len=2048,
            torch_dtype=torch.bfloat16,
            enable_bucketing=True,
        )
        config = LlamaInferenceConfig(neuron_config, load_config=load_pretrained_config("./Llama-2-7b"))
        model = NeuronLlamaForCausalLM("./Llama-2-7b", config)
        warm_up(model)
        """),
    ),
    Rule(
        "TNX910", "speculation",
        "TNx speculative decoding has to be rebuilt",
        "manual",
        "TNx speculation classes (`SpeculativeGenerator`, `FusedSpeculativeDecoder`, "
        "`EagleSpeculativeDecoder`) have no drop-in NxDI counterpart: NxDI configures fused "
        "speculation through NeuronConfig and FusedSpecNeuronConfig.",
        before=_code("""
        from transformers_neuronx import LlamaForSampling
        from transformers_neuronx.fused_speculation import FusedSpeculativeDecoder

        draft = LlamaForSampling.from_pretrained("./TinyLlama-1.1B", tp_degree=8, amp="bf16")
        target = LlamaForSampling.from_pretrained("./Llama-2-7b", tp_degree=8, amp="bf16")
        decoder = FusedSpeculativeDecoder(draft, target, k=4)
        decoder.to_neuron()
        """),
        after=_code("""
        from transformers_neuronx import LlamaForSampling
        # TODO(tnx2nxdi): TNX910 FusedSpeculativeDecoder still comes from transformers_neuronx (transformers_neuronx.fused_speculation.FusedSpeculativeDecoder); speculative decoding must be rebuilt with NxDI's fused speculation (NeuronConfig(speculation_length=k, enable_fused_speculation=True) and a FusedSpecNeuronConfig draft)
        from transformers_neuronx.fused_speculation import FusedSpeculativeDecoder

        # TODO(tnx2nxdi): TNX901 left as it is: the model is passed to FusedSpeculativeDecoder, which stays on TNx (migrate both together by hand)
        draft = LlamaForSampling.from_pretrained("./TinyLlama-1.1B", tp_degree=8, amp="bf16")
        # TODO(tnx2nxdi): TNX901 left as it is: the model is passed to FusedSpeculativeDecoder, which stays on TNx (migrate both together by hand)
        target = LlamaForSampling.from_pretrained("./Llama-2-7b", tp_degree=8, amp="bf16")
        decoder = FusedSpeculativeDecoder(draft, target, k=4)
        decoder.to_neuron()
        """),
    ),
    Rule(
        "TNX920", "tnx-backend",
        "The file is built on TNx itself: left as it is, to port as a whole",
        "manual",
        "Code that subclasses TNx classes, imports TNx internals (beyond its public model, "
        "config and generation API), names TNx classes or modules in strings, loads them with "
        "`importlib`, keeps TNx model classes in a table, drives TNx models it gets from "
        "elsewhere, or is part of the TNx package itself, is a TNx backend: a partial migration "
        "would break it. It gets one marker at its top and no edit; port it as a whole (an NxDI "
        "model for model code; NxDI application classes, or the serving framework's own NxDI "
        "backend, for serving code).",
        before=_code("""
        \"\"\"Export configurations: the TNx class of each model, by name.\"\"\"
        import importlib


        class LlamaDecoderConfig:
            TNX_CLASS_PATH = "llama.model.LlamaForSampling"

            def neuronx_class(self):
                where, name = self.TNX_CLASS_PATH.rsplit(".", 1)
                module = importlib.import_module(f"transformers_neuronx.{where}")
                return getattr(module, name)
        """),
        after=_code("""
        \"\"\"Export configurations: the TNx class of each model, by name.\"\"\"
        # TODO(tnx2nxdi): TNX920 TNx backend (names 'llama.model.LlamaForSampling'; loads f"transformers_neuronx.{where}" by name): tnx2nxdi leaves this file as it is, because a partial migration would break it; port it as a whole to an NxDI backend: NxDI application classes (NeuronLlamaForCausalLM, ...) built from a NeuronConfig, then compile() and load(), or the serving framework's own NxDI integration
        import importlib


        class LlamaDecoderConfig:
            TNX_CLASS_PATH = "llama.model.LlamaForSampling"

            def neuronx_class(self):
                where, name = self.TNX_CLASS_PATH.rsplit(".", 1)
                module = importlib.import_module(f"transformers_neuronx.{where}")
                return getattr(module, name)
        """),
    ),
    Rule(
        "TNX990", "tnx-still-used",
        "The file still uses TNx after the run",
        "manual",
        "Raised for every TNx name still imported and used after migration, so a file that "
        "still depends on TNx is never reported clean.",
        before=_code("""
        import torch
        from transformers_neuronx import dtypes

        dtype = dtypes.to_torch_dtype("bf16")
        weights = torch.zeros(4, dtype=dtype)
        """),
        after=_code("""
        import torch
        # TODO(tnx2nxdi): TNX990 dtypes still comes from transformers_neuronx (transformers_neuronx.dtypes); use torch dtypes (torch.bfloat16, ...) directly
        from transformers_neuronx import dtypes

        dtype = dtypes.to_torch_dtype("bf16")
        weights = torch.zeros(4, dtype=dtype)
        """),
    ),
    Rule(
        "TNX998", "parse-error",
        "The file is not valid Python; left untouched",
        "manual",
        "The file (or a notebook cell) passed the byte screen, so it mentions TNx, but Python's "
        "own parser rejects it: the finding gives the parser's message at the parser's line and "
        "column, the file is left as it is and the run exits 2. A file that never mentions TNx "
        "is not parsed at all, so its syntax errors are not reported (tnx2nxdi is not a linter).",
    ),
    Rule(
        "TNX999", "migration-failed",
        "The migrated code did not compile; file left untouched",
        "manual",
        "An internal safety net: the rewrite produced code that does not compile, so nothing "
        "was written. Please report it.",
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
