"""Design §7.2: every migrated fixture asks the (strict, fake) NxDI runtime for what the original
asked the (fake) TNx runtime for — same model family and effective configuration, same compile /
load / generate order, same sampling settings. A misspelled or invented NxDI keyword fails here."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.execution import compare, requested, run_program
from tests.helpers import FIXTURES
from tests.test_fixtures import _id, _options

#: Fixtures whose original cannot run on TNx, or whose migration deliberately still needs a person.
NOT_EXECUTABLE = {
    "model_classes/guide_example": "the guide's own program fails on TNx: save(sharded_weights="
    "True) asserts on_device_embedding=True (see model_classes/guide_example_presharded)",
    "library/class_names_in_strings": "a module of a package (relative import) that stays on "
    "TNx: tnx2nxdi only marks it",
}
#: Directories a fixture's program expects to find (for example artifacts of an earlier run).
EXISTING_DIRS = {"lifecycle/reload_saved_artifacts": ("neuron_artifacts",)}
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
    original = run_program(source.read_text(), "tnx", tmp_path=tmp_path / "tnx")
    migrated = run_program(expected.read_text(), "nxdi", tmp_path=tmp_path / "nxdi",
                           nxdi_version=version)
    assert requested(original), "the original asked the runtime for nothing"
    assert compare(original, migrated) == []


def test_most_fixtures_are_executed() -> None:
    executed = [p for p in PAIRS if _executable(p)]
    assert len(executed) >= len(PAIRS) // 2
