"""A finding points at what it is about: the option, argument or call, not the first line of the
statement holding it. Its marker still goes above a statement, and never gets lost."""

from __future__ import annotations

from tests.helpers import migrate
from tnx2nxdi.findings import Finding

CONFIG = (
    "from transformers_neuronx import LlamaForSampling, NeuronConfig\n"
    "neuron_config = NeuronConfig(\n"
    "    fuse_qkv=True,\n"
    "    output_all_logits=True,\n"
    ")\n"
    "model = LlamaForSampling.from_pretrained(\n"
    "    '/m/llama', tp_degree=8, neuron_config=neuron_config\n"
    ")\n"
)
DROPPED = "has no NxDI equivalent: NxDI's output_logits is not the same feature; removed"
MARKER = f"# TODO(tnx2nxdi): TNX303 output_all_logits=True {DROPPED}\n"


def _at(findings: tuple[Finding, ...], code: str) -> list[tuple[int, int, int | None, int | None]]:
    return [(f.line, f.column, f.end_line, f.end_column) for f in findings if f.code == code]


def test_a_dropped_option_points_at_its_keyword_from_start_to_end_of_value() -> None:
    code, findings = migrate(CONFIG)
    assert _at(findings, "TNX303") == [(4, 5, 4, 27)]
    # The config statement is merged into the construction: the marker goes above the merged
    # NeuronConfig, where the option would have been.
    assert MARKER + "neuron_config = NeuronConfig(\n" in code


def test_the_construction_points_at_its_call() -> None:
    _, findings = migrate(CONFIG)
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
    _, findings = migrate(CONFIG)
    assert _at(findings, "TNX101") == [(1, 1, 1, 64)]


def test_a_config_shared_by_two_models_reports_its_option_once_and_marks_both() -> None:
    code, findings = migrate(
        "from transformers_neuronx import LlamaForSampling, NeuronConfig\n"
        "shared = NeuronConfig(output_all_logits=True)\n"
        "a = LlamaForSampling.from_pretrained('/m/a', neuron_config=shared)\n"
        "b = LlamaForSampling.from_pretrained('/m/b', neuron_config=shared)\n"
    )
    assert _at(findings, "TNX303") == [(2, 23, 2, 45)]
    assert code.count("# TODO(tnx2nxdi): TNX303 output_all_logits=True") == 2


def test_a_kept_config_statement_gets_the_marker_of_its_option() -> None:
    """A config used elsewhere too is not merged away: the marker goes above it, next to the
    option it is about."""
    code, findings = migrate(
        "from transformers_neuronx import LlamaForSampling, NeuronConfig\n"
        "nc = NeuronConfig(output_all_logits=True)\n"
        "print(nc)\n"
        "model = LlamaForSampling.from_pretrained('/m/llama', neuron_config=nc)\n"
    )
    assert _at(findings, "TNX303") == [(2, 19, 2, 41)]
    assert (f"# TODO(tnx2nxdi): TNX303 output_all_logits=True {DROPPED}\n"
            "nc = NeuronConfig(output_all_logits=True)\n") in code


def test_a_merged_config_marks_the_block_it_moved_into() -> None:
    code, findings = migrate(
        "from transformers_neuronx import LlamaForSampling, NeuronConfig\n"
        "nc = NeuronConfig(output_all_logits=True)\n"
        "if True:\n"
        "    model = LlamaForSampling.from_pretrained('/m/llama', neuron_config=nc)\n"
    )
    assert _at(findings, "TNX303") == [(2, 19, 2, 41)]
    assert f"if True:\n    # TODO(tnx2nxdi): TNX303 output_all_logits=True {DROPPED}\n" in code
    assert "\n    nc = NeuronConfig(\n" in code or "\n    nc = NeuronConfig(batch" in code


def test_a_finding_about_a_node_the_steps_built_falls_back_to_its_anchor() -> None:
    """A JSON override is translated as a dict the steps build: its findings point at the
    keyword holding the string."""
    code, findings = migrate(
        "import os\n"
        "from vllm import LLM\n"
        "os.environ['VLLM_NEURON_FRAMEWORK'] = 'transformers-neuronx'\n"
        "llm = LLM(model='/m/llama', device='neuron',\n"
        "          override_neuron_config='{\"output_all_logits\": true}')\n"
    )
    assert _at(findings, "TNX303") == [(5, 11, 5, 63)]
    assert f"# TODO(tnx2nxdi): TNX303 output_all_logits=True {DROPPED}\nllm = LLM(" in code
