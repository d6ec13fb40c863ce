"""TNX1xx: TNx imports pruned, NxDI imports added from concrete modules where the TNx one was."""

from __future__ import annotations

from tests.helpers import assert_unchanged, codes, migrate

BUILD = "m = LlamaForSampling.from_pretrained('/p', tp_degree=2, amp='f32')\n"


def test_module_import_with_attribute_access() -> None:
    code, findings = migrate(
        "import transformers_neuronx\n"
        "m = transformers_neuronx.LlamaForSampling.from_pretrained('/p', amp='f32')\n"
    )
    assert "import transformers_neuronx" not in code
    assert "NeuronLlamaForCausalLM('/p', config)" in code
    assert "TNX201" in codes(findings)


def test_aliased_from_import() -> None:
    code, _ = migrate("from transformers_neuronx import LlamaForSampling as L\n"
                      "m = L.from_pretrained('/p')\n")
    assert "transformers_neuronx" not in code and "NeuronLlamaForCausalLM" in code


def test_new_imports_sit_where_the_tnx_import_was() -> None:
    code, _ = migrate("import os\n\nfrom transformers_neuronx import LlamaForSampling\n\n"
                      "print(os.sep)\n" + BUILD)
    lines = code.splitlines()
    assert lines[0] == "import os"
    assert lines[2] == "import torch"
    assert lines[3] == "from neuronx_distributed_inference.models.config import NeuronConfig"


def test_existing_torch_and_nxdi_imports_are_not_duplicated() -> None:
    code, _ = migrate(
        "import torch\n"
        "from neuronx_distributed_inference.models.config import NeuronConfig as _unused\n"
        "from transformers_neuronx import LlamaForSampling\n" + BUILD
    )
    assert code.count("import torch") == 1


def test_imports_inside_a_function_stay_inside() -> None:
    code, _ = migrate(
        "def build():\n"
        "    from transformers_neuronx import LlamaForSampling\n"
        "    " + BUILD + "    return m\n"
    )
    assert code.startswith("def build():\n    import torch\n")


def test_unused_tnx_import_is_removed() -> None:
    code, findings = migrate("from transformers_neuronx import GenerationConfig\nx = 1\n")
    assert code == "x = 1\n"
    assert codes(findings) == ["TNX101"]


def test_import_sharing_a_line_with_others() -> None:
    code, _ = migrate("import os; from transformers_neuronx import LlamaForSampling\n" + BUILD)
    assert code.startswith("import os\nimport torch\n")


def test_star_import_is_left_with_a_finding() -> None:
    code, findings = migrate("from transformers_neuronx import *\n" + BUILD)
    assert code.startswith("# TODO(tnx2nxdi): TNX990 from transformers_neuronx import *: ")
    assert "LlamaForSampling.from_pretrained" in code
    assert codes(findings) == ["TNX990"]


def test_relative_and_lookalike_modules_are_not_tnx() -> None:
    assert_unchanged("from .transformers_neuronx import LlamaForSampling\n" + BUILD)
    assert_unchanged("from transformers_neuronx_utils import LlamaForSampling\n" + BUILD)
