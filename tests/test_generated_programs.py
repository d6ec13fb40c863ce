"""Differential test over generated TNx programs (docs/reliability.md).

Each program from ``tests/tnx_programs.py`` runs on the fake TNx as written; its migration must
compile, be a fixed point, and run on the strict fake NxDI asking for the same model family,
configuration, compile / load order and generation settings (``tests/execution.compare``).

What a finding excuses, precisely:

* a finding that needs a person with a ``TNX9xx`` code (the tool chose not to migrate) excuses
  the whole comparison: the program must then carry that marker, and is not run on NxDI;
* ``TNX303`` (option dropped, or translated otherwise than its mapping entry says, as TNx
  direct_cast becoming per-channel quantization) excuses the NxDI keywords of that one option
  (``OPTION_BY_NAME[option].nxdi``) and nothing else;
* other findings excuse nothing.

Normalizations of what the fakes record, each because the two fakes record different things for
the same request (not because the migration may differ):

* a keyword NxDI's fake does not list explicitly is compared with the fake's NxDI default (TNx
  ``QuantizationConfig()`` means int8, which NxDI's default already is);
* an NxDI keyword set to ``None`` where the TNx program set the option to ``None`` (the TNx fake
  drops ``None`` values: ``all_reduce_dtype=None``, ``global_top_k=None``);
* padding: the TNx fake does not translate ``lhs_aligned`` / ``use_2d_cache_ids`` nor the right
  padding continuous batching forces, so the TNx side's padding is computed from the program
  (``_padding``) and compared whenever the program asks for a padding side; a program that
  does not must not get one written out.

Known migration bugs found by this test are listed in ``KNOWN_BUGS`` with the differences (or
the error of the migrated program) they explain; each has a strict xfail regression test below, so
fixing the bug fails that test and the entry must go.

Checkpoints: the local checkpoints the TNx program reads are created for its migration
(``provisioned_checkpoints``); a hub id stays a hub id, which NxDI's application classes cannot
read weights from.
"""

from __future__ import annotations

import copy
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import event, given, note
from hypothesis import strategies as st

from tests.execution import compare, provisioned_checkpoints, run_program
from tests.tnx_programs import (
    ALL_OPTIONS,
    DRAWN_TOGETHER,
    SAVED_DIR,
    SUBCONFIG_CLASSES,
    UNGENERATED,
    VALUES,
    Program,
    Sample,
    programs,
)
from tnx2nxdi.engine import Migration
from tnx2nxdi.kinds.python import migrate_source
from tnx2nxdi.mappings import DEFAULT_TARGET_VERSION, OPTION_BY_NAME, TARGET_VERSIONS
from tnx2nxdi.options import Options

Event = dict[str, Any]
OPTIONS = Options()
_DROPPED = re.compile(r"^(?P<option>[\w.]+)[= ]")

_DEFAULTS_PROGRAM = """
from _fake_recorder import record
from neuronx_distributed_inference.models.config import NeuronConfig

config = NeuronConfig()
plain = (bool, int, float, str, type(None))
record("defaults", values={key: value for key, value in vars(config).items()
                           if not key.startswith("_") and isinstance(value, plain)})
"""
_NXDI_DEFAULTS: dict[str, Any] = {}


def nxdi_defaults() -> dict[str, Any]:
    """What the fake NxDI uses for a keyword nobody set (computed once)."""
    if not _NXDI_DEFAULTS:
        with tempfile.TemporaryDirectory() as directory:
            [recorded] = run_program(_DEFAULTS_PROGRAM, "nxdi", tmp_path=Path(directory))
        _NXDI_DEFAULTS.update(recorded["values"])
    return _NXDI_DEFAULTS


# --- known bugs ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class KnownBug:
    """A migration bug this test found: the programs it affects, and the differences (or the
    error of the migrated program on NxDI) it explains. Nothing else is excused for them."""

    affects: Callable[[Program], bool]
    diffs: re.Pattern[str] | None = None
    error: re.Pattern[str] | None = None


#: Open migration bugs: none at the moment. The first three this test found were fixed in
#: 6ddc223; a hub id at module level, quantization without modules_to_not_convert or a quantized
#: checkpoint, and fused_rmsnorm_qkv carried as qkv_kernel_enabled without fused_qkv were fixed
#: in fc5171f; a hub id passed as an argument of the function or class that builds the model,
#: per-tensor quantization (TNx direct_cast) without modules_to_not_convert, and quantize_attn=False
#: with fuse_qkv=True were fixed after it. Their programs stay below as regression tests.
KNOWN_BUGS: dict[str, KnownBug] = {}


# --- normalization -------------------------------------------------------------------------------

def _padding(program: Program) -> str | None:
    """The padding side the TNx program asked for, or None when it said nothing about it."""
    options = dict(program.neuron_config)
    if any(name == "continuous_batching" for name, _ in program.subconfigs):
        return "right"  # TNx NeuronConfig forces it
    if "padding_side" in options:
        return str(eval(options["padding_side"]))  # a literal the generator wrote
    # Either deprecated flag set to True means right padding (as the fake TNx config.py reads it);
    # set to False they say no more than leaving them out.
    flags = [options[name] for name in ("lhs_aligned", "use_2d_cache_ids") if name in options]
    if "True" in flags:
        return "right"
    # Otherwise TNx pads on the left, which matters once a batch holds several prompts.
    return "left" if program.batch_size > 1 else None


def _set_to_none(program: Program) -> set[str]:
    """TNx options the program set to None explicitly, by their TNx name."""
    options = {name for name, value in program.neuron_config if value == "None"}
    options |= {f"{sub}.{name}" for sub, keywords in program.subconfigs
                for name, value in keywords if value == "None"}
    return options


def _excused_keys(migration: Migration) -> set[str]:
    keys: set[str] = set()
    for finding in migration.findings:
        if finding.code == "TNX303":
            match = _DROPPED.match(finding.message)
            assert match, f"TNX303 message does not start with the option: {finding.message}"
            rule = OPTION_BY_NAME.get(match["option"])
            keys |= set(rule.nxdi) if rule is not None else set()
    return keys


def _normalized(
    program: Program, migration: Migration, tnx: list[Event], nxdi: list[Event]
) -> tuple[list[Event], list[Event]]:
    tnx, nxdi = copy.deepcopy(tnx), copy.deepcopy(nxdi)
    excused = _excused_keys(migration)
    nulled = {OPTION_BY_NAME[name].nxdi[-1].split(".")[-1] for name in _set_to_none(program)
              if name in OPTION_BY_NAME and OPTION_BY_NAME[name].nxdi}
    nulled |= {"global_topk"} if "on_device_generation.global_top_k" in _set_to_none(
        program) else set()
    left_models = [e for e in tnx if e["kind"] == "model_init"]
    right_models = [e for e in nxdi if e["kind"] == "model_init"]
    for left, right in zip(left_models, right_models, strict=False):
        if left["config"] is None or right["config"] is None:
            continue
        ours, theirs = left["config"], right["config"]
        for key in excused:
            ours.pop(key, None)
            theirs.pop(key, None)
        for config in (theirs, theirs.get("on_device_sampling_config") or {}):
            for key in [k for k, v in config.items() if v is None and k in nulled]:
                del config[key]
        padding = _padding(program)
        ours.pop("padding_side", None)
        if padding is None:
            assert "padding_side" not in theirs, "padding_side written out of nothing"
        else:
            ours["padding_side"] = padding
            theirs.setdefault("padding_side", nxdi_defaults()["padding_side"])
        for key in set(ours) - set(theirs):
            if key in nxdi_defaults():
                theirs[key] = nxdi_defaults()[key]
    return tnx, nxdi


# --- the test -----------------------------------------------------------------------------------

def _migrate(source: str, options: Options = OPTIONS) -> Migration:
    migration = migrate_source(source, options)
    assert migration.error is None, migration.error
    compile(migration.code, "<migrated>", "exec", dont_inherit=True)
    again = migrate_source(migration.code, options)
    assert again.code == migration.code, "a second run changed the output"
    return migration


def check(program: Program, target: str = DEFAULT_TARGET_VERSION) -> list[str]:
    """Run ``program`` and its migration for NxDI ``target``; the differences no finding or
    known bug explains."""
    source = program.render()
    note(source)
    with tempfile.TemporaryDirectory() as directory:
        sides = {side: Path(directory, side) for side in ("tnx", "nxdi")}
        for path in sides.values():
            (path / SAVED_DIR).mkdir(parents=True)  # what an earlier run would have left
        # The TNx side states its request in the target release's NxDI words.
        tnx = run_program(source, "tnx", tmp_path=sides["tnx"], nxdi_version=target)
        checkpoints = provisioned_checkpoints(tnx)  # the local checkpoints the original read
        migration = _migrate(source, Options(target_version=target))
        note(migration.code)
        manual = sorted({f.code for f in migration.findings if not f.fixed})
        event(f"needs a person: {', '.join(manual) or 'nothing'}")
        left_alone = [code for code in manual if code.startswith("TNX9")]
        if left_alone:
            for code in left_alone:
                assert f"# TODO(tnx2nxdi): {code} " in migration.code
            event("not compared: the tool left TNx code to a person")
            return []
        try:
            nxdi = run_program(migration.code, "nxdi", tmp_path=sides["nxdi"],
                               nxdi_version=target, checkpoints=checkpoints)
        except Exception as error:
            message = f"{type(error).__name__}: {error}"
            for name, bug in KNOWN_BUGS.items():
                if bug.error is not None and bug.affects(program) and bug.error.match(message):
                    event(f"known bug: {name}")
                    return []
            raise
    diffs = compare(*_normalized(program, migration, tnx, nxdi))
    for name, bug in KNOWN_BUGS.items():
        explains = bug.diffs
        if explains is not None and bug.affects(program) and any(map(explains.match, diffs)):
            event(f"known bug: {name}")
            diffs = [diff for diff in diffs if not explains.match(diff)]
    return diffs


@given(programs(), st.sampled_from(TARGET_VERSIONS))
def test_migration_asks_nxdi_for_what_tnx_was_asked(program: Program, target: str) -> None:
    """For every NxDI release the tool targets (the fake NxDI imitates each one's keywords and
    defaults)."""
    assert check(program, target) == []


def test_every_mapping_option_is_generated_or_says_why_not() -> None:
    generated = {*VALUES, *DRAWN_TOGETHER, *SUBCONFIG_CLASSES}  # sub-configs: their fields
    missing = [option for option in ALL_OPTIONS
               if option not in generated and option not in UNGENERATED]
    assert missing == []
    assert set(UNGENERATED) <= set(ALL_OPTIONS) and set(DRAWN_TOGETHER) <= set(ALL_OPTIONS)


# --- regression tests for bugs the generated programs found ------------------------------------

ON_DEVICE_GENERATION_SAMPLE = Program(
    family="llama", checkpoint="/models/llama-2-7b", imports="names", config="inline",
    location="module", from_pretrained=(), neuron_config=(),
    subconfigs=(("on_device_generation", (("top_k", "20"),)),), save=None,
    samples=(Sample((("sequence_length", "128"),)),),
)


ADAPTER_IN_OTHER_METHOD = Program(
    family="llama", checkpoint="/models/llama-2-7b", imports="local", config="none",
    location="self", from_pretrained=(), neuron_config=(), subconfigs=(), save=None,
    samples=(Sample((("sequence_length", "128"),)),),
)
LEFT_PADDING_WITH_CONTINUOUS_BATCHING = Program(
    family="llama", checkpoint="/models/llama-2-7b", imports="names", config="variable",
    location="module", from_pretrained=(("batch_size", "4"),),
    neuron_config=(("padding_side", "'left'"),),
    subconfigs=(("continuous_batching", (("max_num_seqs", "4"),)),), save=None, batch_size=4,
)
HUB_ID_CHECKPOINT = Program(
    family="llama", checkpoint="meta-llama/Meta-Llama-3-8B", imports="names", config="none",
    location="module", from_pretrained=(("tp_degree", "8"),), neuron_config=(), subconfigs=(),
    save=None, samples=(Sample((("sequence_length", "128"),)),),
)
HUB_ID_ARGUMENT = Program(
    family="llama", checkpoint="meta-llama/Meta-Llama-3-8B", imports="names", config="none",
    location="function", from_pretrained=(("tp_degree", "8"),), neuron_config=(),
    subconfigs=(), save=None, samples=(Sample((("sequence_length", "128"),)),),
)
QUANTIZED = Program(
    family="llama", checkpoint="/models/llama-2-7b", imports="names", config="variable",
    location="module", from_pretrained=(("tp_degree", "8"),), neuron_config=(),
    subconfigs=(("quant", (("quant_dtype", "'s8'"),)),), save=None,
    samples=(Sample((("sequence_length", "128"),)),),
)
PER_TENSOR_QUANTIZATION = Program(
    family="llama", checkpoint="/models/llama-2-7b", imports="names", config="variable",
    location="module", from_pretrained=(("tp_degree", "8"),), neuron_config=(),
    subconfigs=(("quant", (("quantize_method", "'direct_cast'"),)),), save=None,
    samples=(Sample((("sequence_length", "128"),)),),
)
UNQUANTIZED_ATTENTION_WITH_FUSED_QKV = Program(
    family="llama", checkpoint="/models/llama-2-7b", imports="names", config="variable",
    location="module", from_pretrained=(("tp_degree", "8"),),
    neuron_config=(("fuse_qkv", "True"),),
    subconfigs=(("quant", (("quantize_attn", "False"),)),), save=None,
)
QKV_KERNEL_WITHOUT_FUSED_QKV = Program(
    family="llama", checkpoint="/models/llama-2-7b", imports="names", config="variable",
    location="module", from_pretrained=(("tp_degree", "8"),),
    neuron_config=(("fused_rmsnorm_qkv", "True"),), subconfigs=(), save=None,
)
REGRESSIONS = {
    "sample-with-on-device-generation": ON_DEVICE_GENERATION_SAMPLE,
    "adapter-import-in-another-method": ADAPTER_IN_OTHER_METHOD,
    "left-padding-with-continuous-batching": LEFT_PADDING_WITH_CONTINUOUS_BATCHING,
    "hub-id-checkpoint": HUB_ID_CHECKPOINT,
    "hub-id-passed-as-argument": HUB_ID_ARGUMENT,
    "quantized-without-modules-to-not-convert": QUANTIZED,
    "quantized-checkpoint-never-created": QUANTIZED,
    "per-tensor-quantization-without-modules-to-not-convert": PER_TENSOR_QUANTIZATION,
    "qkv-kernel-without-fused-qkv": QKV_KERNEL_WITHOUT_FUSED_QKV,
    "unquantized-attention-with-fused-qkv": UNQUANTIZED_ATTENTION_WITH_FUSED_QKV,
}
#: The release each regression runs for (where its bug shows first).
REGRESSION_TARGETS = {"quantized-checkpoint-never-created": "2.21"}


class KnownMigrationBug(Exception):
    """The migrated program failed the way its KNOWN_BUGS entry says."""


def test_every_known_bug_has_a_regression_program_it_affects() -> None:
    for name, bug in KNOWN_BUGS.items():
        assert name in REGRESSIONS and bug.affects(REGRESSIONS[name])


def _regression_param(name: str) -> Any:
    if name not in KNOWN_BUGS:
        return name
    mark = pytest.mark.xfail(strict=True, raises=KnownMigrationBug,
                             reason=f"known migration bug {name!r}")
    return pytest.param(name, marks=mark)


@pytest.mark.parametrize("name", [_regression_param(name) for name in sorted(REGRESSIONS)])
def test_regression(name: str) -> None:
    """Programs that once showed a migration bug. An open bug (in KNOWN_BUGS) is a strict xfail
    that only its own failure satisfies: fixing it makes this test pass, which fails the run
    until the KNOWN_BUGS entry goes; any other failure fails it too."""
    program = REGRESSIONS[name]
    target = REGRESSION_TARGETS.get(name, DEFAULT_TARGET_VERSION)
    source = program.render()
    with tempfile.TemporaryDirectory() as directory:
        tnx = run_program(source, "tnx", tmp_path=Path(directory), nxdi_version=target)
        migration = _migrate(source, Options(target_version=target))
        bug = KNOWN_BUGS.get(name)
        try:
            nxdi = run_program(migration.code, "nxdi", tmp_path=Path(directory),
                               nxdi_version=target, checkpoints=provisioned_checkpoints(tnx))
        except Exception as error:
            if bug is not None and bug.error is not None and bug.error.match(
                    f"{type(error).__name__}: {error}"):
                raise KnownMigrationBug(name) from error
            raise
    diffs = compare(*_normalized(program, migration, tnx, nxdi))
    if bug is not None and bug.diffs is not None and any(map(bug.diffs.match, diffs)):
        raise KnownMigrationBug(f"{name}: {diffs}")
    assert diffs == []
