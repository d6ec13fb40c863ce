"""A model family is more than its row in ``mappings.FAMILIES``: each one needs a fixture pair, a
place in the generated programs (``tests/tnx_programs.FAMILIES``) and fake classes on both sides,
or the suite would stay green while nothing exercises it (docs/contributing.md)."""

from __future__ import annotations

import ast

import pytest

from tests import tnx_programs
from tests.helpers import ROOT, fixture_files
from tnx2nxdi import mappings as m

FAKES = ROOT / "tests" / "fakes"
#: Where each side's fake package lives.
FAKE_ROOTS = {m.TNX_PACKAGE: FAKES / "tnx", m.NXDI_PACKAGE: FAKES / "nxdi"}


def _defined_names(module: str) -> set[str]:
    """Names a fake module defines or imports (its classes, and what its ``__init__`` exports)."""
    root = FAKE_ROOTS[module.split(".")[0]]
    base = root.joinpath(*module.split("."))
    path = base / "__init__.py" if base.is_dir() else base.with_suffix(".py")
    if not path.exists():
        return set()
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.ImportFrom):
            names.update(alias.asname or alias.name for alias in node.names)
    return names


def _has(qualified: str) -> bool:
    module, _, name = qualified.rpartition(".")
    return name in _defined_names(module)


@pytest.mark.parametrize("family", m.FAMILIES, ids=lambda family: family.key)
def test_every_family_has_a_fixture(family: m.Family) -> None:
    names = {qualified.rpartition(".")[2] for qualified in family.tnx_classes}
    using = [path for path in fixture_files("in")
             if any(name in path.read_text(encoding="utf-8") for name in names)]
    assert using, f"no fixtures/*/*.in.* uses {sorted(names)}"


@pytest.mark.parametrize("family", m.FAMILIES, ids=lambda family: family.key)
def test_every_family_is_generated(family: m.Family) -> None:
    assert family.key in tnx_programs.FAMILIES, "add it to tests/tnx_programs.FAMILIES"
    name, module = tnx_programs.FAMILIES[family.key]
    assert f"{module}.{name}" in family.tnx_classes
    assert family.key in tnx_programs.CHECKPOINTS


@pytest.mark.parametrize("family", m.FAMILIES, ids=lambda family: family.key)
def test_every_family_has_fake_classes(family: m.Family) -> None:
    missing = [qualified for qualified in family.tnx_classes if not _has(qualified)]
    missing += [symbol.qualified for symbol in
                (family.neuron_config, family.inference_config, family.application)
                if not _has(symbol.qualified)]
    assert not missing, f"the fakes in tests/fakes/ have no {missing}"


def test_the_guard_sees_a_missing_fake() -> None:
    assert _has("transformers_neuronx.llama.model.LlamaForSampling")
    assert _has("transformers_neuronx.LlamaForSampling")
    assert not _has("transformers_neuronx.qwen2.model.Qwen2ForSampling")
    assert not _has(f"{m.NXDI_PACKAGE}.models.llama.modeling_llama.NeuronQwen2ForCausalLM")


def test_the_generator_knows_no_family_the_mapping_lacks() -> None:
    assert set(tnx_programs.FAMILIES) <= {family.key for family in m.FAMILIES}
