"""The mapping module: its invariants, its agreement with the NxDI keyword tables of every release
(the same tables the strict fake enforces), and docs/mapping.md generated from it."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from tnx2nxdi import mappings as m

ROOT = Path(__file__).resolve().parent.parent


def _load(name: str, path: Path):  # type: ignore[no-untyped-def]
    # Loaded by path: putting tests/fakes/common on sys.path would expose the fake torch.
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


vocab = _load("_fake_vocab_for_mappings", ROOT / "tests" / "fakes" / "common" / "_fake_vocab.py")

ALL_RULES = (*m.FROM_PRETRAINED_OPTIONS, *m.NEURON_CONFIG_OPTIONS, *m.SUBCONFIG_OPTIONS)
NESTED = {f"{name}." for name in m.SUBCONFIG_NESTED_CLASS}


def test_no_option_is_listed_twice() -> None:
    names = [rule.tnx for rule in ALL_RULES]
    assert len(names) == len(set(names))


def test_every_rule_cites_a_source_and_explains_itself() -> None:
    for rule in ALL_RULES:
        assert rule.source and rule.note, rule.tnx


def test_every_tnx_neuron_config_field_is_mapped() -> None:
    mapped = {rule.tnx for rule in m.NEURON_CONFIG_OPTIONS}
    assert mapped >= vocab.TNX_NEURON_CONFIG_KEYS


@pytest.mark.parametrize("release", m.TARGET_VERSIONS)
def test_every_nxdi_target_is_a_real_keyword(release: str) -> None:
    """A misspelled NxDI keyword (the guide's is_continous_batching) fails here, and so does a
    keyword some release spells differently: the tool writes one spelling for every release."""
    neuron_config = vocab.nxdi_neuron_config_keys(release)
    sampling = vocab.nxdi_sampling_keys(release)
    for rule in ALL_RULES:
        table = sampling if any(rule.tnx.startswith(p) for p in NESTED) else neuron_config
        for name in rule.nxdi:
            assert name in table, f"{rule.tnx} -> {name} is not read by NxDI {release}"
        for name, _ in (*rule.also, *rule.forces):
            assert name in neuron_config, f"{rule.tnx} also sets {name}, not read by {release}"
    derived = {*m.LIST_BUCKETS_KEY.values(), m.BUCKETING_FLAG[0], m.QUANTIZED_PATH_KEY,
               m.SAVE_SHARDED_KEY, *m.VLLM_BUCKET_ENV.values()}
    assert derived <= neuron_config


def test_versioned_defaults() -> None:
    assert m.nxdi_default("save_sharded_checkpoint", "2.22") is True
    assert m.nxdi_default("save_sharded_checkpoint", "2.23") is False
    assert m.nxdi_default("on_device_sampling_config.do_sample", "2.21") is True
    assert m.nxdi_default("on_device_sampling_config.do_sample", "2.29") is False


def test_families_import_from_concrete_modules() -> None:
    for family in m.FAMILIES:
        for symbol in (family.neuron_config, family.inference_config, family.application):
            assert symbol.module.count(".") >= 2, symbol  # never a package __init__
            assert "LlamaNeuronConfig" not in symbol.name


def test_mistral_runs_on_llama_classes_and_mixtral_on_moe() -> None:
    by_key = {family.key: family for family in m.FAMILIES}
    assert by_key["mistral"].application == by_key["llama"].application
    assert by_key["mixtral"].neuron_config == m.NXDI_MOE_NEURON_CONFIG


def test_mapping_module_has_no_libcst() -> None:
    assert "libcst" not in Path(m.__file__).read_text()


def _document_mapping():  # type: ignore[no-untyped-def]
    return _load("document_mapping", ROOT / "scripts" / "document_mapping.py")


def test_docs_mapping_table_is_generated_from_the_module() -> None:
    expected = _document_mapping().render()
    assert (ROOT / "docs" / "mapping.md").read_text() == expected, (
        "docs/mapping.md is stale: run python scripts/document_mapping.py"
    )


def test_docs_list_every_option() -> None:
    text = (ROOT / "docs" / "mapping.md").read_text()
    for rule in ALL_RULES:
        assert f"| `{rule.tnx}` |" in text
