"""Every migrated fixture asks the (strict, fake) NxDI runtime for what the original
asked the (fake) TNx runtime for — same model family and effective configuration, same compile /
load / generate order, same sampling settings. A misspelled or invented NxDI keyword fails here."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.execution import compare, requested, run_program
from tests.helpers import FIXTURES
from tests.test_fixtures import _id, _options

#: Fixtures whose original cannot run on TNx, or whose migration deliberately still needs a person.
NOT_EXECUTABLE = {
    "model_classes/guide_example": "the guide's own program fails on TNx: save(sharded_weights="
    "True) asserts on_device_embedding=True (see model_classes/guide_example_presharded)",
}
#: Directories a fixture's program expects to find (for example artifacts of an earlier run).
EXISTING_DIRS = {"lifecycle/reload_saved_artifacts": ("neuron_artifacts",)}
#: Differences a finding of the migration states, by fixture: (the finding, the differences).
EXPECTED_DIFFERENCES: dict[str, tuple[str, tuple[str, ...]]] = {
    "real_programs/flash_decoding_checkpoints": (
        "TNX303 [fixed]: NxDI 2.27 cannot run flash decoding for tp_degree=24 over 32 heads; "
        "it only changes speed and memory",
        ("model 1: config flash_decoding_enabled: tnx=True nxdi='<unset>'",),
    ),
    "real_programs/reload_with_other_settings": (
        "TNX404 (a marker): NxDI reopens the directory with the configuration it was compiled "
        "with, not the other settings the reload asked for",
        tuple(f"model 1: config {key}: " for key in (
            "modules_to_not_convert", "quantization_dtype", "quantization_type", "quantized",
            "seq_len")),
    ),
}
PAIRS = sorted(FIXTURES.glob("*/*.in.py"))


def _executable(source: Path) -> bool:
    expected = source.with_name(source.name.replace(".in.py", ".out.py")).read_text()
    return _id(source) not in NOT_EXECUTABLE and "transformers_neuronx" not in expected


@pytest.mark.parametrize("source", [p for p in PAIRS if _executable(p)], ids=_id)
def test_migration_requests_what_the_original_requested(source: Path, tmp_path: Path) -> None:
    expected = source.with_name(source.name.replace(".in.py", ".out.py"))
    version = str(_options(source).get("target_version", "2.29"))
    for side in ("tnx", "nxdi"):
        for directory in ("", *EXISTING_DIRS.get(_id(source), ())):
            (tmp_path / side / directory).mkdir(exist_ok=True)
        if (source.parent / "checkpoints").is_dir():  # checkpoints the fixture names
            shutil.copytree(source.parent / "checkpoints", tmp_path / side / "checkpoints")
    original = run_program(source.read_text(), "tnx", tmp_path=tmp_path / "tnx")
    migrated = run_program(expected.read_text(), "nxdi", tmp_path=tmp_path / "nxdi",
                           nxdi_version=version)
    assert requested(original), "the original asked the runtime for nothing"
    _, expected_diffs = EXPECTED_DIFFERENCES.get(_id(source), ("", ()))
    diffs = compare(original, migrated)
    assert [d for d in diffs if not d.startswith(expected_diffs)] == []
    for prefix in expected_diffs:
        assert any(d.startswith(prefix) for d in diffs), f"no longer differs: {prefix}"


def test_most_fixtures_are_executed() -> None:
    executed = [p for p in PAIRS if _executable(p)]
    assert len(executed) >= len(PAIRS) // 2
