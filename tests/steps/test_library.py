"""TNX920 and the programs that stay on TNx: code built on TNx itself is marked once and never
edited; what only looks like TNx (probes, other libraries' names) is no finding."""

from __future__ import annotations

import pytest

from tests.helpers import codes, migrate
from tnx2nxdi.steps import library

LLAMA = ("from transformers_neuronx import LlamaForSampling\n"
         "model = LlamaForSampling.from_pretrained('/m/llama', tp_degree=8, amp='bf16')\n"
         "model.to_neuron()\n")


@pytest.mark.parametrize("source", [
    # Public API only: the speculation generators, dtype helpers and constants.
    "from transformers_neuronx import dtypes, GQA\n"
    "from transformers_neuronx.speculation import SpeculativeGenerator\n" + LLAMA,
    # Strings that mention TNx without naming its code.
    "import os\nos.environ['VLLM_NEURON_FRAMEWORK'] = 'transformers-neuronx'\n"
    "NAME = 'transformers_neuronx'\nLOG = 'transformers_neuronx.ran'\n" + LLAMA,
])
def test_user_programs_on_the_public_api_are_not_library_code(source: str) -> None:
    assert "TNX920" not in codes(migrate(source)[1])


@pytest.mark.parametrize(("source", "shown"), [
    ("from transformers_neuronx.llama.hlo import LlamaForSamplingNoEmbeddingHlo\n" + LLAMA,
     "imports transformers_neuronx.llama.hlo.LlamaForSamplingNoEmbeddingHlo"),
    ("import transformers_neuronx\n"
     "assert isinstance(m, transformers_neuronx.base.NeuronModelBase)\n" + LLAMA,
     "uses transformers_neuronx.base.NeuronModelBase"),
    ("from transformers_neuronx import module\nclass M(module.PretrainedModel):\n    pass\n",
     "M subclasses transformers_neuronx.module.PretrainedModel"),
    ("import importlib\nm = importlib.import_module('transformers_neuronx.llama.model')\n",
     "loads 'transformers_neuronx.llama.model' by name"),
])
def test_internals_make_the_whole_file_library_code(source: str, shown: str) -> None:
    code, found = migrate(source)
    assert codes(found) == ["TNX920"]
    assert shown in found[0].message
    assert code.endswith(source), "library code is never edited"
    again, found_again = migrate(code)
    assert (again, codes(found_again)) == (code, ["TNX920"]), "a second run adds nothing"


def test_the_marker_goes_under_the_docstring() -> None:
    code, _ = migrate('"""Doc."""\nfrom transformers_neuronx import bucket\nx = bucket\n')
    assert code.startswith('"""Doc."""\n# TODO(tnx2nxdi): TNX920 TNx backend (imports ')


def test_a_probe_whose_module_is_used_is_still_a_finding() -> None:
    source = ("try:\n    import transformers_neuronx\nexcept ImportError:\n"
              "    transformers_neuronx = None\n"
              "dtype = transformers_neuronx.dtypes.to_torch_dtype('bf16')\n")
    (finding,) = migrate(source)[1]
    assert finding.code == "TNX990"
    assert finding.message.startswith("import transformers_neuronx is still used;")


def test_a_fallback_to_none_is_no_alternative() -> None:
    source = ("try:\n    from transformers_neuronx import GQA\nexcept ImportError:\n"
              "    GQA = None\nmode = GQA.SHARD_OVER_HEADS\n")
    assert codes(migrate(source)[1]) == ["TNX990"]


def test_tnx_sample_calls_on_untracked_objects_are_still_reported() -> None:
    source = ("from transformers_neuronx import LlamaForSampling\n"
              "class Server:\n"
              "    def run(self, ids):\n"
              "        return self.model.sample(ids, sequence_length=64, top_k=1)\n")
    assert codes(migrate(source)[1]) == ["TNX101", "TNX903"]


@pytest.mark.parametrize(("found", "stays"), [
    ({"TNX203"}, True), ({"TNX920"}, True), ({"TNX203", "TNX201"}, False),
    ({"TNX203", "TNX901"}, False), ({"TNX901"}, False), (set(), False),
])
def test_must_stay(found: set[str], stays: bool) -> None:
    assert library.must_stay(found) is stays
