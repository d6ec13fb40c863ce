"""Execution harness: run a program against the fake TNx or the fake NxDI and compare requests.

A TNx program runs with tests/fakes/common + tests/fakes/tnx importable, its migration with
tests/fakes/common + tests/fakes/nxdi. Both sides record events in one vocabulary (NxDI names;
see tests/fakes/common/_fake_vocab.py), so `compare` can tell whether the migrated program asks
the runtime for the same model, lifecycle and generation settings as the original.

Checkpoints (see tests/fakes/common/_fake_fs.py): absolute paths a program names are kept below
its sandbox, and a checkpoint is a local directory holding config.json. The TNx side provisions
the local checkpoints its program reads (the original ran where they existed) and records them;
`run_pair` creates the same ones, plus any declared with their config.json (head counts, ...),
before the migrated program runs, so a migration that reads another path, or a hub id where NxDI
needs a local directory, fails as it would on an instance.

Public API: run_program, run_pair, provisioned_checkpoints, requested, compare.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.abc
import linecache
import os
import re
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

FAKES = Path(__file__).resolve().parent / "fakes"
SIDES = {"tnx": "transformers_neuronx", "nxdi": "neuronx_distributed_inference"}
NXDI_RELEASE_ENV = "TNX2NXDI_FAKE_NXDI_VERSION"
NXDI_FRAMEWORK = "neuronx-distributed-inference"
SANDBOX_ENV = "TNX2NXDI_FAKE_SANDBOX"
PROVISION_ENV = "TNX2NXDI_FAKE_PROVISION_CHECKPOINTS"
_FAKE_MODULES = ("torch", "transformers", "vllm", "huggingface_hub", *SIDES.values(),
                 "_fake_recorder", "_fake_vocab", "_fake_fs")
_CLEARED_ENV = ("VLLM_NEURON_FRAMEWORK", "NEURON_LOGICAL_NC_CONFIG", "NEURON_RANK_ID",
                "NEURON_LOCAL_TP", "NEURON_PP_STAGES")
_FAMILY_ON_NXDI = {"mistral": "llama"}  # Mistral runs on the NxDI Llama classes
_NOT_COMPARED_CONFIG_KEYS = frozenset({"quantized_checkpoints_path", "save_sharded_checkpoint"})
_ALWAYS_COMPARED_SETTINGS = ("max_length", "do_sample")
_SAMPLING_SETTINGS = ("top_k", "top_p", "temperature")
_VLLM_KEYS = ("device", "tensor_parallel_size", "max_num_seqs", "max_model_len", "config",
              "quantization", "buckets", "speculation")

Event = dict[str, Any]
#: checkpoint path (as a program names it) -> its config.json ({}: the fake's defaults)
Checkpoints = Mapping[str, Mapping[str, Any]]


class _BlockPackage(importlib.abc.MetaPathFinder):
    """Makes the other side's package unimportable, even if something provides it."""

    def __init__(self, package: str) -> None:
        self.package = package

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> None:
        if fullname == self.package or fullname.startswith(self.package + "."):
            raise ImportError(f"{fullname} is not available on this side", name=fullname)
        return None


def _purge_fake_modules() -> None:
    for name in list(sys.modules):
        if name.split(".")[0] in _FAKE_MODULES:
            del sys.modules[name]


@contextlib.contextmanager
def _sandbox(side: str, tmp_path: Path, nxdi_version: str) -> Iterator[None]:
    saved_path, saved_argv, saved_cwd = list(sys.path), list(sys.argv), os.getcwd()
    saved_env = dict(os.environ)
    other = SIDES["nxdi" if side == "tnx" else "tnx"]
    blocker = _BlockPackage(other)
    _purge_fake_modules()
    sys.path[:0] = [str(FAKES / "common"), str(FAKES / side)]
    sys.meta_path.insert(0, blocker)
    for name in _CLEARED_ENV:
        os.environ.pop(name, None)
    os.environ[NXDI_RELEASE_ENV] = nxdi_version
    os.environ[SANDBOX_ENV] = os.path.realpath(tmp_path)
    if side == "tnx":
        os.environ[PROVISION_ENV] = "1"
    else:
        os.environ.pop(PROVISION_ENV, None)
    os.chdir(tmp_path)
    try:
        yield
    finally:
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
        sys.meta_path.remove(blocker)
        sys.path[:] = saved_path
        sys.argv[:] = saved_argv
        _purge_fake_modules()


def run_program(
    source: str, side: str, *, tmp_path: Path, nxdi_version: str = "2.29",
    checkpoints: Checkpoints | None = None,
) -> list[Event]:
    """Execute `source` as __main__ with the fakes of `side` ("tnx" or "nxdi") importable, and
    return the recorded events.

    The program runs in a fresh namespace with cwd = tmp_path; fake modules are dropped from
    sys.modules before and after, and sys.path, sys.argv and os.environ are restored. Importing
    the other side's package raises ImportError. `checkpoints` are created first (path ->
    config.json). Exceptions from the program propagate (SystemExit with a non-zero code becomes
    RuntimeError).
    """
    if side not in SIDES:
        raise ValueError(f"side must be one of {sorted(SIDES)}, got {side!r}")
    filename = f"<{side} program>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    code = compile(source, filename, "exec")
    with _sandbox(side, Path(tmp_path), nxdi_version):
        recorder = importlib.import_module("_fake_recorder")
        recorder.reset()
        files = importlib.import_module("_fake_fs")
        for path, config in (checkpoints or {}).items():
            files.write_checkpoint(path, dict(config))
        sys.argv[:] = [filename]
        try:
            with _same_files_as_the_fakes(files):
                exec(code, {"__name__": "__main__", "__file__": filename})
        except SystemExit as exit_:
            if exit_.code not in (None, 0):
                raise RuntimeError(f"program exited with {exit_.code!r}") from exit_
        return [dict(event) for event in recorder.EVENTS]


@contextlib.contextmanager
def _same_files_as_the_fakes(files: Any) -> Iterator[None]:
    """The program's own os.path checks see the files where the fakes keep them (an absolute
    checkpoint path is kept below the sandbox), as the author's machine would have them."""
    saved = {name: getattr(os.path, name) for name in ("isdir", "isfile", "exists")}

    def seen(check: Any) -> Any:
        return lambda path: check(files.host(path)) if isinstance(path, (str, os.PathLike)) else (
            check(path))

    for name, check in saved.items():
        setattr(os.path, name, seen(check))
    try:
        yield
    finally:
        for name, check in saved.items():
            setattr(os.path, name, check)


def provisioned_checkpoints(events: Sequence[Event]) -> dict[str, dict[str, Any]]:
    """The local checkpoints a TNx run read without them existing (path -> config.json)."""
    return {event["path"]: dict(event["config"]) for event in events
            if event["kind"] == "checkpoint"}


def run_pair(
    tnx_source: str, nxdi_source: str, *, tmp_path: Path, nxdi_version: str = "2.29",
    checkpoints: Checkpoints | None = None,
) -> tuple[list[Event], list[Event]]:
    """Run a TNx program in tmp_path/tnx, then its migration in tmp_path/nxdi with the same
    checkpoints: the declared `checkpoints` and those the TNx run provisioned. Both sides use
    `nxdi_version`'s words (the TNx side states its request in them)."""
    for side in SIDES:
        (Path(tmp_path) / side).mkdir(parents=True, exist_ok=True)
    tnx = run_program(tnx_source, "tnx", tmp_path=Path(tmp_path) / "tnx",
                      nxdi_version=nxdi_version, checkpoints=checkpoints)
    local = {**provisioned_checkpoints(tnx), **(checkpoints or {})}
    nxdi = run_program(nxdi_source, "nxdi", tmp_path=Path(tmp_path) / "nxdi",
                       nxdi_version=nxdi_version, checkpoints=local)
    return tnx, nxdi


def _project(event: Event) -> Event | None:
    kind = event["kind"]
    if kind == "model_init":
        return {"kind": kind, "family": event["family"], "config": event["config"]}
    if kind == "compile":
        extra = {k: event[k] for k in ("save_sharded_checkpoint",) if k in event}
        return {"kind": kind, **extra}
    if kind == "load":
        return {"kind": kind}
    if kind == "save":
        return {"kind": kind, "sharded_weights": event["sharded_weights"]}
    if kind in ("generate", "hf_cpu_generate"):
        keys = (*_ALWAYS_COMPARED_SETTINGS, *_SAMPLING_SETTINGS)
        return {"kind": kind, **{k: event[k] for k in keys}}
    if kind == "vllm_engine":
        return {"kind": kind, "framework": event["framework"], **{k: event[k] for k in _VLLM_KEYS}}
    if kind == "vllm_generate":
        return dict(event)
    return None  # reset, load_request, checkpoint, ...: not part of what is compared


def requested(events: Sequence[Event]) -> list[Event]:
    """Project events onto what is compared between the two sides, in order.

    Kept: model_init (family as recorded, config), compile (with NxDI's effective
    save_sharded_checkpoint), load, save (sharded_weights), generate / hf_cpu_generate settings
    (max_length, do_sample, top_k, top_p, temperature), vllm_engine and vllm_generate. Paths,
    reset, load_request, checkpoint, save_quantized and hub_download are dropped.
    Projecting twice gives the same result.
    """
    projected = (_project(event) for event in events)
    return [event for event in projected if event is not None]


def _of(events: list[Event], kind: str) -> list[Event]:
    return [event for event in events if event["kind"] == kind]


def _count_diff(what: str, tnx: list[Any], nxdi: list[Any]) -> list[str]:
    return [] if len(tnx) == len(nxdi) else [f"{what}: tnx has {len(tnx)}, nxdi {len(nxdi)}"]


def _modules(value: Any) -> Any:
    """modules_to_not_convert as a set of module kinds: NxDI names every layer's attention one
    by one ("layers.3.self_attn") where fused QKV weights need it; it means "self_attn"."""
    if not isinstance(value, list):
        return value
    return sorted({re.sub(r"^layers\.\d+\.", "", str(name)) for name in value})


def _config_diffs(index: int, tnx: dict[str, Any], nxdi: dict[str, Any]) -> list[str]:
    tnx, nxdi = dict(tnx), dict(nxdi)
    for config in (tnx, nxdi):
        if "modules_to_not_convert" in config:
            config["modules_to_not_convert"] = _modules(config["modules_to_not_convert"])
    diffs = []
    for key in sorted((set(tnx) | set(nxdi)) - _NOT_COMPARED_CONFIG_KEYS):
        left, right = tnx.get(key, "<unset>"), nxdi.get(key, "<unset>")
        if left == "<unset>" and right is None:
            continue  # an NxDI keyword passed as None asks for nothing (its default)
        if left != right:
            hint = " (NxDI would use the checkpoint dtype: pass torch_dtype explicitly)" if (
                right == "checkpoint") else ""
            diffs.append(f"model {index}: config {key}: tnx={left!r} nxdi={right!r}{hint}")
    return diffs


def _compare_models(tnx: list[Event], nxdi: list[Event]) -> list[str]:
    diffs = _count_diff("model_init count", tnx, nxdi)
    for index, (left, right) in enumerate(zip(tnx, nxdi, strict=False)):
        family = _FAMILY_ON_NXDI.get(left["family"], left["family"])
        if family != right["family"]:
            diffs.append(f"model {index}: family tnx={left['family']!r} nxdi={right['family']!r}")
        if left["config"] is not None and right["config"] is not None:
            diffs.extend(_config_diffs(index, left["config"], right["config"]))
    return diffs


def _lifecycles(events: list[Event]) -> list[list[str]]:
    """compile/load kinds per model (events between one model_init and the next).

    A load that no later generate of the same model segment uses is dropped: NxDI only needs
    load() when the model runs afterwards, while TNx to_neuron() always compiles *and* loads.
    """
    segments: list[list[Event]] = []
    for event in events:
        if event["kind"] == "model_init":
            segments.append([])
        elif segments:
            segments[-1].append(event)
    lifecycles = []
    for segment in segments:
        kinds = []
        for position, event in enumerate(segment):
            used = any(later["kind"] == "generate" for later in segment[position + 1:])
            if event["kind"] == "compile" or (event["kind"] == "load" and used):
                kinds.append(event["kind"])
        lifecycles.append(kinds)
    return lifecycles


def _compare_lifecycles(tnx: list[Event], nxdi: list[Event]) -> list[str]:
    pairs = enumerate(zip(_lifecycles(tnx), _lifecycles(nxdi), strict=False))
    return [f"model {index}: lifecycle tnx={left} nxdi={right}"
            for index, (left, right) in pairs if left != right]


def _compare_sharding(tnx: list[Event], nxdi: list[Event]) -> list[str]:
    """TNx save(..., sharded_weights=True) needs an NxDI compile with save_sharded_checkpoint."""
    wanted = any(event["sharded_weights"] for event in _of(tnx, "save"))
    done = any(event.get("save_sharded_checkpoint") for event in _of(nxdi, "compile"))
    if wanted and not done:
        return ["tnx saves presharded weights (save(sharded_weights=True)) but no nxdi compile "
                "has save_sharded_checkpoint=True"]
    return []


def _compare_generates(tnx: list[Event], nxdi: list[Event]) -> list[str]:
    diffs = _count_diff("generate count", tnx, nxdi)
    for index, (left, right) in enumerate(zip(tnx, nxdi, strict=False)):
        keys = list(_ALWAYS_COMPARED_SETTINGS)
        if left["do_sample"] or right["do_sample"]:
            keys.extend(_SAMPLING_SETTINGS)
        diffs.extend(f"generate {index}: {key}: tnx={left[key]!r} nxdi={right[key]!r}"
                     for key in keys if left[key] != right[key])
    return diffs


def _compare_vllm(tnx: list[Event], nxdi: list[Event]) -> list[str]:
    diffs = _count_diff("vllm engine count", tnx, nxdi)
    for index, (left, right) in enumerate(zip(tnx, nxdi, strict=False)):
        if right["framework"] != NXDI_FRAMEWORK:
            diffs.append(f"vllm engine {index}: nxdi framework is {right['framework']!r}, "
                         f"not {NXDI_FRAMEWORK!r}")
        diffs.extend(f"vllm engine {index}: {key}: tnx={left[key]!r} nxdi={right[key]!r}"
                     for key in _VLLM_KEYS if left[key] != right[key])
    return diffs


def _compare_equal(kind: str, tnx: list[Event], nxdi: list[Event]) -> list[str]:
    return [] if tnx == nxdi else [f"{kind}: tnx={tnx} nxdi={nxdi}"]


def compare(tnx_events: Sequence[Event], nxdi_events: Sequence[Event]) -> list[str]:
    """Human-readable differences between what the two programs requested ([] = same request).

    Rules:
    * model_init: same count; family equal, except TNx "mistral" matches NxDI "llama"; configs
      equal key by key (NxDI torch_dtype "checkpoint" never matches, since TNx always has a
      dtype); quantized_checkpoints_path and save_sharded_checkpoint are not compared there. An
      NxDI config of None (reopened directory of unknown content) is not compared.
    * lifecycle: per model, the order of compile and load; a load not followed by a generate of
      the same model is not required (see _lifecycles). TNx to_neuron() = compile then load.
    * a TNx save(..., sharded_weights=True) requires an NxDI compile with
      save_sharded_checkpoint=True (the other direction is not reported).
    * generate: same count; max_length and do_sample always, top_k/top_p/temperature only when
      sampling.
    * vLLM: engine settings, override config (TNx override translated to NxDI names) and what
      the loader asks for (quantization, buckets, speculation; see the fake vLLM) equal, and
      the NxDI program selects VLLM_NEURON_FRAMEWORK=neuronx-distributed-inference;
      vllm_generate and hf_cpu_generate events must be identical.
    """
    tnx, nxdi = requested(tnx_events), requested(nxdi_events)
    return [
        *_compare_models(_of(tnx, "model_init"), _of(nxdi, "model_init")),
        *_compare_lifecycles(tnx, nxdi),
        *_compare_sharding(tnx, nxdi),
        *_compare_generates(_of(tnx, "generate"), _of(nxdi, "generate")),
        *_compare_vllm(_of(tnx, "vllm_engine"), _of(nxdi, "vllm_engine")),
        *_compare_equal("vllm_generate", _of(tnx, "vllm_generate"), _of(nxdi, "vllm_generate")),
        *_compare_equal("hf_cpu_generate", _of(tnx, "hf_cpu_generate"),
                        _of(nxdi, "hf_cpu_generate")),
    ]
