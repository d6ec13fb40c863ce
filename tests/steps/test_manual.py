"""TNX9xx: what stays for a person is always reported, and markers are never duplicated."""

from __future__ import annotations

from tests.helpers import codes, migrate


def test_markers_are_added_once_and_reported_again_until_removed() -> None:
    source = ("from transformers_neuronx import LlamaForSampling\n"
              "def load(path, **kw):\n"
              "    return LlamaForSampling.from_pretrained(path, **kw)\n")
    first, findings = migrate(source)
    second, again = migrate(first)
    assert first == second
    assert first.count("TODO(tnx2nxdi)") == 1
    assert codes(findings) == codes(again) == ["TNX901"]


def test_markers_left_in_migrated_code_keep_the_file_from_being_clean() -> None:
    code, findings = migrate("x = 1\n# TODO(tnx2nxdi): TNX303 attention_layout='BSH' has no "
                             "NxDI equivalent; removed\ny = 2\n")
    assert [(f.code, f.line, f.fixed) for f in findings] == [("TNX303", 2, False)]
    assert findings[0].message.startswith("(marker) attention_layout")


def test_any_remaining_tnx_name_is_a_finding() -> None:
    code, findings = migrate("from transformers_neuronx.constants import Layout\n"
                             "assert layout == Layout.BSH\n")
    assert codes(findings) == ["TNX990"]
    assert "TNX990 Layout still comes from transformers_neuronx" in code


def test_untracked_tnx_calls_are_reported() -> None:
    _, findings = migrate("from transformers_neuronx import LlamaForSampling\n"
                          "def serve(model):\n"
                          "    model.to_neuron()\n"
                          "    return model.sample(ids, sequence_length=8)\n")
    assert codes(findings).count("TNX903") == 2


def test_hugging_face_generate_and_random_sample_are_not_tnx() -> None:
    _, findings = migrate("import random\nfrom transformers_neuronx import LlamaForSampling\n"
                          "pick = random.sample(items, 2)\nout = hf_model.generate(ids)\n")
    assert "TNX903" not in codes(findings)


def test_a_kept_tnx_name_the_nxdi_import_rebinds_says_so() -> None:
    """The NxDI ``NeuronConfig`` import shadows the TNx one still used elsewhere: the marker
    says that the uses left now get NxDI's class, not that they still get TNx's."""
    code, findings = migrate(
        "from transformers_neuronx import LlamaForSampling, NeuronConfig\n"
        "config = NeuronConfig(fuse_qkv=True)\n"
        "model = LlamaForSampling.from_pretrained('/m/llama', tp_degree=2, neuron_config=config)\n"
        "def other():\n"
        "    return NeuronConfig(attention_layout='BSH')\n"
    )
    assert "from neuronx_distributed_inference.models.config import NeuronConfig\n" in code
    (kept,) = [f for f in findings if f.code == "TNX990"]
    assert "rebinds the name, so the uses left here get NxDI's NeuronConfig instead" in (
        kept.message)


def test_a_kept_tnx_name_no_nxdi_import_rebinds_keeps_the_plain_advice() -> None:
    _, findings = migrate("from transformers_neuronx.constants import Layout\n"
                          "assert layout == Layout.BSH\n")
    assert "rebinds" not in findings[0].message
