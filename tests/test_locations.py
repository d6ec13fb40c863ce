"""A finding points at what it is about: the option, argument or call, not the first line of the
statement holding it. Its marker still goes above a statement, and never gets lost."""

from __future__ import annotations

from tests.helpers import migrate
from tnx2nxdi.findings import Finding

GQA_CONFIG = (
    "from transformers_neuronx import GQA, LlamaForSampling, NeuronConfig\n"
    "neuron_config = NeuronConfig(\n"
    "    fuse_qkv=True,\n"
    "    group_query_attention=GQA.REPLICATED_HEADS,\n"
    ")\n"
    "model = LlamaForSampling.from_pretrained(\n"
    "    '/m/llama', tp_degree=8, neuron_config=neuron_config\n"
    ")\n"
)
GQA_MARKER = (
    "# TODO(tnx2nxdi): TNX303 group_query_attention=GQA.REPLICATED_HEADS has no NxDI "
    "equivalent: NxDI chooses the GQA sharding itself; removed\n"
)


def _at(findings: tuple[Finding, ...], code: str) -> list[tuple[int, int, int | None, int | None]]:
    return [(f.line, f.column, f.end_line, f.end_column) for f in findings if f.code == code]


def test_a_dropped_option_points_at_its_keyword_from_start_to_end_of_value() -> None:
    code, findings = migrate(GQA_CONFIG)
    assert _at(findings, "TNX303") == [(4, 5, 4, 47)]
    # The config statement is merged into the construction: the marker goes above the merged
    # NeuronConfig, where the option would have been.
    assert GQA_MARKER + "neuron_config = NeuronConfig(\n" in code


def test_the_construction_points_at_its_call() -> None:
    _, findings = migrate(GQA_CONFIG)
    assert _at(findings, "TNX201") == [(6, 9, 8, 2)]


def test_keyword_of_the_construction_in_an_indented_tab_block_counts_characters() -> None:
    _, findings = migrate(
        "from transformers_neuronx import LlamaForSampling\n"
        "def load():\n"
        "\tm = LlamaForSampling.from_pretrained('é', attention_layout='BSH')\n"
        "\treturn m\n"
    )
    assert _at(findings, "TNX304") == [(3, 44, 3, 66)]
    assert _at(findings, "TNX201")[0][:2] == (3, 6)


def test_sample_call_inside_a_block_points_at_the_call() -> None:
    _, findings = migrate(
        "import torch\n"
        "from transformers_neuronx import LlamaForSampling\n"
        "model = LlamaForSampling.from_pretrained('/m/llama')\n"
        "model.to_neuron()\n"
        "with torch.inference_mode():\n"
        "    # a comment above\n"
        "    out = model.sample(ids, sequence_length=64)\n"
    )
    assert _at(findings, "TNX501") == [(7, 11, 7, 48)]


def test_comments_and_decorators_above_a_statement_do_not_shift_its_nodes() -> None:
    _, findings = migrate(
        "from transformers_neuronx import LlamaForSampling\n"
        "@decorator\n"
        "# comment\n"
        "def f():\n"
        "    x = 1; m = LlamaForSampling.from_pretrained(\n"
        "        'ü', **settings)\n"
        "    return m\n"
    )
    assert _at(findings, "TNX901") == [(5, 16, 6, 25)]


def test_crlf_source() -> None:
    _, findings = migrate(
        "from transformers_neuronx import LlamaForSampling\r\n"
        "model = LlamaForSampling.from_pretrained(\r\n"
        "    '/m', attention_layout='BSH')\r\n"
    )
    assert _at(findings, "TNX304") == [(3, 11, 3, 33)]


def test_statement_findings_span_the_statement() -> None:
    _, findings = migrate(GQA_CONFIG)
    assert _at(findings, "TNX101") == [(1, 1, 1, 69)]


def test_a_config_shared_by_two_models_reports_its_option_once_and_marks_both() -> None:
    code, findings = migrate(
        "from transformers_neuronx import LlamaForSampling, NeuronConfig\n"
        "shared = NeuronConfig(attention_layout='BSH')\n"
        "a = LlamaForSampling.from_pretrained('/m/a', neuron_config=shared)\n"
        "b = LlamaForSampling.from_pretrained('/m/b', neuron_config=shared)\n"
    )
    assert _at(findings, "TNX303") == [(2, 23, 2, 45)]
    assert code.count("# TODO(tnx2nxdi): TNX303 attention_layout='BSH'") == 2


def test_a_kept_config_statement_gets_the_marker_of_its_option() -> None:
    """A config used elsewhere too is not merged away: the marker goes above it, next to the
    option it is about."""
    code, findings = migrate(
        "from transformers_neuronx import LlamaForSampling, NeuronConfig\n"
        "nc = NeuronConfig(attention_layout='BSH')\n"
        "print(nc)\n"
        "model = LlamaForSampling.from_pretrained('/m/llama', neuron_config=nc)\n"
    )
    assert _at(findings, "TNX303") == [(2, 19, 2, 41)]
    assert ("# TODO(tnx2nxdi): TNX303 attention_layout='BSH' has no NxDI equivalent: NxDI always "
            "uses the BHSD layout; removed\nnc = NeuronConfig(attention_layout='BSH')\n") in code


def test_a_merged_config_marks_the_block_it_moved_into() -> None:
    code, findings = migrate(
        "from transformers_neuronx import LlamaForSampling, NeuronConfig\n"
        "nc = NeuronConfig(attention_layout='BSH')\n"
        "if True:\n"
        "    model = LlamaForSampling.from_pretrained('/m/llama', neuron_config=nc)\n"
    )
    assert _at(findings, "TNX303") == [(2, 19, 2, 41)]
    assert code.endswith(
        "if True:\n    # TODO(tnx2nxdi): TNX303 attention_layout='BSH' has no NxDI equivalent: "
        "NxDI always uses the BHSD layout; removed\n    nc = NeuronConfig(batch_size=1, "
        "tp_degree=2, seq_len=2048, torch_dtype=torch.float32)\n"
        "    config = LlamaInferenceConfig(nc, load_config=load_pretrained_config('/m/llama'))\n"
        "    model = NeuronLlamaForCausalLM('/m/llama', config)\n"
    )


def test_a_finding_about_a_node_the_steps_built_falls_back_to_its_statement() -> None:
    """A JSON override is translated as a dict the steps build: its findings point at the
    statement holding the string."""
    code, findings = migrate(
        "import os\n"
        "from vllm import LLM\n"
        "os.environ['VLLM_NEURON_FRAMEWORK'] = 'transformers-neuronx'\n"
        "llm = LLM(model='/m/llama', device='neuron',\n"
        "          override_neuron_config='{\"attention_layout\": \"BSH\"}')\n"
    )
    dropped = [f for f in findings if f.code == "TNX303"]
    assert dropped and all(f.line == 4 for f in dropped), findings
    assert "# TODO(tnx2nxdi): TNX303" in code
