"""Every migrated fixture asks the (strict, fake) NxDI runtime for what the original
asked the (fake) TNx runtime for — same model family and effective configuration, same compile /
load / generate order, same sampling settings. A misspelled or invented NxDI keyword fails here,
and so does every check of the real NxDI the fake knows (see tests/fakes/nxdi): the local
checkpoints the original read are there for the migration, a hub id is not a local directory."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.execution import compare, requested, run_pair
from tests.helpers import FIXTURES
from tests.test_fixtures import _id, _options

#: Fixtures whose original cannot run on TNx, or whose migration deliberately still needs a person.
NOT_EXECUTABLE = {
    "model_classes/guide_example": "the guide's own program fails on TNx: save(sharded_weights="
    "True) asserts on_device_embedding=True (see model_classes/guide_example_presharded)",
    "library/class_names_in_strings": "a module of a package (relative import) that stays on "
    "TNx: tnx2nxdi only marks it",
    "vllm/plugin_additional_config": "the V1 plugin always runs NxDI: the original's TNx keys "
    "were never read by TNx, so there is no TNx run to compare with",
    "vllm/quantization_dtype_unknown": "the quantization dtype comes from the command line: the "
    "migration leaves it to a person (TNX606)",
    "real_programs/sequence_length_past_n_positions": "the original asks TNx for more positions "
    "than n_positions (TNx fails there); the migration cuts max_length to n_positions (TNX501)",
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
    "config/every_guide_option": (
        "TNX303 [fixed]: TNx direct_cast (per tensor) becomes per_channel_symmetric, the only "
        "NxDI quantization that keeps lm_head in full precision as TNx did",
        ("model 0: config quantization_type: tnx='per_tensor_symmetric' "
         "nxdi='per_channel_symmetric'",),
    ),
    "real_programs/reload_with_other_settings": (
        "TNX404 (a marker): NxDI reopens the directory with the configuration it was compiled "
        "with, not the other settings the reload asked for",
        tuple(f"model 1: config {key}: " for key in (
            "modules_to_not_convert", "quantization_dtype", "quantization_type", "quantized",
            "seq_len")),
    ),
}
#: Files a fixture's program reads (path -> content), for example a draft checkpoint's config.
EXISTING_FILES = {"vllm/eagle_draft_config": {"llama-3.1-8b-eagle-draft/config.json": "{}"},
                  "config/argument_comments": {"Llama-2-70b/config.json": "{}"}}
#: Migration bugs the strict fake NxDI finds in fixtures (real NxDI fails these programs the same
#: way; they are being fixed): fixture -> the fake's message (the part naming the failing check).
#: Each is a strict xfail that only this failure satisfies: once the migration is fixed the test
#: passes, which fails the run until the entry goes; any other failure fails the test as well.
KNOWN_MIGRATION_BUGS: dict[str, str] = {}
PAIRS = sorted(FIXTURES.glob("*/*.in.py"))


def prepare(source: Path, tmp_path: Path) -> None:
    """The tnx and nxdi working directories, with what the fixture's program expects there."""
    for side in ("tnx", "nxdi"):
        for directory in ("", *EXISTING_DIRS.get(_id(source), ())):
            (tmp_path / side / directory).mkdir(parents=True, exist_ok=True)
        for name, content in EXISTING_FILES.get(_id(source), {}).items():
            (tmp_path / side / name).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / side / name).write_text(content)
        if (source.parent / "checkpoints").is_dir():  # checkpoints the fixture names
            shutil.copytree(source.parent / "checkpoints", tmp_path / side / "checkpoints")


class KnownMigrationBug(Exception):
    """A fixture failed the way its KNOWN_MIGRATION_BUGS entry says."""


def known_bug_param(fixture: str, value: Any) -> Any:
    """`value` as a test parameter, a strict xfail when `fixture` has a known migration bug."""
    if fixture not in KNOWN_MIGRATION_BUGS:
        return value
    mark = pytest.mark.xfail(strict=True, raises=KnownMigrationBug,
                             reason=KNOWN_MIGRATION_BUGS[fixture])
    return pytest.param(value, marks=mark)


@contextlib.contextmanager
def expect_known_bug(fixture: str) -> Iterator[None]:
    """Turn the failure KNOWN_MIGRATION_BUGS names for `fixture` into KnownMigrationBug."""
    try:
        yield
    except Exception as error:
        known = KNOWN_MIGRATION_BUGS.get(fixture)
        if known is not None and known in f"{type(error).__name__}: {error}":
            raise KnownMigrationBug(known) from error
        raise


def executable(source: Path) -> bool:
    expected = source.with_name(source.name.replace(".in.py", ".out.py")).read_text()
    return _id(source) not in NOT_EXECUTABLE and "transformers_neuronx" not in expected


@pytest.mark.parametrize("source", [known_bug_param(_id(p), p) for p in PAIRS if executable(p)],
                         ids=_id)
def test_migration_requests_what_the_original_requested(source: Path, tmp_path: Path) -> None:
    expected = source.with_name(source.name.replace(".in.py", ".out.py"))
    version = str(_options(source).get("target_version", "2.29"))
    prepare(source, tmp_path)
    with expect_known_bug(_id(source)):
        original, migrated = run_pair(source.read_text(), expected.read_text(),
                                      tmp_path=tmp_path, nxdi_version=version)
        assert requested(original), "the original asked the runtime for nothing"
        _, expected_diffs = EXPECTED_DIFFERENCES.get(_id(source), ("", ()))
        diffs = compare(original, migrated)
        assert [d for d in diffs if not d.startswith(expected_diffs)] == []
    for prefix in expected_diffs:
        assert any(d.startswith(prefix) for d in diffs), f"no longer differs: {prefix}"


def test_most_fixtures_are_executed() -> None:
    executed = [p for p in PAIRS if executable(p)]
    assert len(executed) >= len(PAIRS) // 2


def test_known_migration_bugs_name_executed_fixtures() -> None:
    """A table entry for a fixture that no longer exists or runs would excuse nothing."""
    executed = {_id(p) for p in PAIRS if executable(p)}
    notebooks = {f"notebooks/{p.name.split('.')[0]}" for p in FIXTURES.glob("notebooks/*.in.ipynb")}
    assert set(KNOWN_MIGRATION_BUGS) <= executed | notebooks
