"""Fake `neuronx_distributed_inference.models.model_base.NeuronBaseForCausalLM`.

Events: construction -> {"kind": "model_init", "family", "path", "config"} ("config" is
NeuronConfig.normalized(), or None when a directory of an earlier run without our
neuron_config.json is reopened); compile -> {"kind": "compile", "path", "save_sharded_checkpoint"};
load -> {"kind": "load", "path"}; reset()/reset_kv_cache() -> {"kind": "reset"};
save_quantized_state_dict -> {"kind": "save_quantized", "path"}.

The checks of the real application classes a migration can trip (files live where _fake_fs puts
them; a checkpoint is a local directory holding config.json):

* construction: the checkpoint's model_type must belong to the class (a Mixtral checkpoint in the
  Llama class has weights that would not convert; Mistral runs on the Llama classes); with no
  config, the directory must hold the neuron_config.json compile() wrote (every release);
* compile(): qkv_kernel_enabled needs fused_qkv (NxDI asserts while tracing the QKV projection);
  with presharding (save_sharded_checkpoint, 2.22+: and not skip_sharding) the checkpoint weights
  are read and weights/tp{rank}_sharded_checkpoint.safetensors written;
* load(): the configuration the model holds must be the one compiled into the directory (the
  compiled graphs and weight layout are fixed); presharded loading (save_sharded_checkpoint;
  2.22: or skip_sharding) needs the files compile() wrote, otherwise the weights are read now;
* reading weights (checkpoint_loader_fn): a quantized model reads quantized_checkpoints_path,
  which must exist ("Quantized checkpoint file not found"); otherwise the HF checkpoint from
  2.21-2.22: the model path; 2.23-2.26: config._name_or_path (else the model path); 2.27+:
  config._name_or_path if that path exists, else the model path. The model path is normalized
  with a trailing "/", so a hub id "org/name" becomes "org/name/", which no release can read
  (2.21-2.22 read local directories and files only; 2.23+ download a *valid* repo id);
* save_quantized_state_dict(model_path, config): reads the HF checkpoint at the normalized
  model_path (a local directory; a hub id fails), writes safetensors into an existing directory
  quantized_checkpoints_path, or a single file at any other path.
"""

from __future__ import annotations

import os
from types import SimpleNamespace
from typing import Any

import torch
from _fake_fs import (
    HFValidationError,
    holds_checkpoint,
    holds_compiled_nxdi,
    host,
    is_repo_id,
    normalize_path,
)
from _fake_recorder import record

from neuronx_distributed_inference.models.config import (
    _R,
    RELEASE,
    InferenceConfig,
    MoENeuronConfig,
    NeuronConfig,
)

COMPILED_MODEL_FILE_NAME = "model.pt"
#: Keywords that do not change what compile() bakes into the directory (host-side settings;
#: save_sharded_checkpoint is checked through the presharded files themselves).
_NOT_COMPILED = frozenset({"save_sharded_checkpoint", "skip_sharding", "skip_warmup",
                           "quantized_checkpoints_path", "start_rank_id", "local_ranks_size",
                           "async_mode", "overrides_torch_dtype", "logical_neuron_cores",
                           "max_new_tokens"})
_PLAIN = (type(None), bool, int, float, str, list, dict)
#: What the model path holds for the InferenceConfig keys compared at load().
_CHECKPOINT_KEYS = ("model_type", "hidden_size", "num_attention_heads", "num_key_value_heads",
                    "num_hidden_layers", "vocab_size")


def _sharded_file(rank: int) -> str:
    return f"weights/tp{rank}_sharded_checkpoint.safetensors"


class NeuronBaseForCausalLM:
    _family = ""
    #: HF model_type values whose weights this class converts.
    _model_types: tuple[str, ...] = ()

    @classmethod
    def get_config_cls(cls) -> type[InferenceConfig]:
        return InferenceConfig

    @classmethod
    def get_neuron_config_cls(cls) -> type[NeuronConfig]:
        return cls.get_config_cls().get_neuron_config_cls()

    def __init__(self, model_path: str | os.PathLike[str], config: InferenceConfig | None = None,
                 neuron_config: NeuronConfig | None = None) -> None:
        given = os.fspath(model_path)
        self.model_path = normalize_path(given)
        if config is None:
            config = self._reopen(given)
        if config is not None and neuron_config is not None:
            config.neuron_config = neuron_config
        self.config = config
        if config is not None:
            self._check_pairing(config)
            self._check_family(config, given)
        self.is_compiled = False
        self.is_loaded_to_neuron = False
        normalized = config.neuron_config.normalized() if config is not None else None
        record("model_init", family=self._family, path=given, config=normalized)

    def _reopen(self, path: str) -> InferenceConfig | None:
        """Cls(dir) without a config reads dir/neuron_config.json; a directory left by an
        earlier run that holds neither file is of unknown content (None)."""
        if holds_compiled_nxdi(path):
            return self.get_config_cls().load(path)
        if holds_checkpoint(path):
            raise FileNotFoundError(
                f"{path}/neuron_config.json: {type(self).__name__}({path!r}) without a config "
                "reopens a directory compile() wrote, and this is a Hugging Face checkpoint: "
                "pass the InferenceConfig built with load_pretrained_config")
        if not host(path).is_dir():
            raise FileNotFoundError(f"{path}/neuron_config.json: no such directory (NxDI reads "
                                    "the compiled configuration from it)")
        return None

    def _check_pairing(self, config: InferenceConfig) -> None:
        wanted = self.get_config_cls()
        if not isinstance(config, wanted):
            raise TypeError(f"{type(self).__name__} needs a {wanted.__name__}, got "
                            f"{type(config).__name__}")
        neuron_cls = self.get_neuron_config_cls()
        neuron_config = config.neuron_config
        moe_mismatch = isinstance(neuron_config, MoENeuronConfig) != (neuron_cls is MoENeuronConfig)
        if not isinstance(neuron_config, neuron_cls) or moe_mismatch:
            raise TypeError(f"{type(self).__name__} needs a {neuron_cls.__name__}, got "
                            f"{type(neuron_config).__name__}")

    def _check_family(self, config: InferenceConfig, path: str) -> None:
        model_type = getattr(config, "model_type", "")
        if model_type and self._model_types and model_type not in self._model_types:
            raise TypeError(f"a {model_type} checkpoint ({path}) is built with "
                            f"{type(self).__name__}: its weights would not convert")

    @property
    def neuron_config(self) -> NeuronConfig:
        if self.config is None:
            raise AttributeError("neuron_config (reopened directory without neuron_config.json)")
        return self.config.neuron_config

    # --- weights ---------------------------------------------------------------------------

    def _weights_source(self) -> str:
        """Where checkpoint_loader_fn reads the HF weights from (see the module docstring)."""
        name_or_path = getattr(self.config, "_name_or_path", None)
        if _R <= (2, 22) or name_or_path is None:
            return self.model_path
        if _R <= (2, 26) or host(name_or_path).exists():
            return str(name_or_path)
        return self.model_path

    def _read_weights(self, when: str) -> None:
        """checkpoint_loader_fn: raise what the real one raises for what the fake can know."""
        neuron_config = self.neuron_config
        if neuron_config.quantized:
            path = neuron_config.quantized_checkpoints_path
            if not host(path).exists():
                raise FileNotFoundError(
                    f"Quantized checkpoint file not found: {path} ({when}; NxDI {RELEASE}); "
                    f"create it first with {type(self).__name__}.save_quantized_state_dict("
                    "model_path, config)")
            return
        source = self._weights_source()
        problem = _unreadable_checkpoint(source, files=_R >= (2, 22), hub_download=_R >= (2, 23))
        if problem is not None:
            error = HFValidationError if "HFValidationError" in problem else FileNotFoundError
            raise error(f"{when}: NxDI {RELEASE} reads the checkpoint weights from {source!r}, "
                        f"{problem}; download the checkpoint to a local directory and use that "
                        "directory")

    # --- compile and load ------------------------------------------------------------------

    def _presharding(self) -> bool:
        neuron_config = self.neuron_config
        skip = _R >= (2, 22) and neuron_config.skip_sharding
        return bool(neuron_config.save_sharded_checkpoint) and not skip

    def _loads_presharded(self) -> bool:
        neuron_config = self.neuron_config
        if _R == (2, 22) and neuron_config.skip_sharding:
            return True
        return bool(neuron_config.save_sharded_checkpoint)

    def _ranks(self, start_rank_id: int | None = None,
               local_ranks_size: int | None = None) -> range:
        neuron_config = self.neuron_config
        start = neuron_config.start_rank_id if start_rank_id is None else start_rank_id
        size = neuron_config.local_ranks_size if local_ranks_size is None else local_ranks_size
        return range(start, start + size)

    def compile(self, compiled_model_path: str | os.PathLike[str], debug: bool = False,
                pre_shard_weights_hook: Any = None, dry_run: bool = False) -> None:
        if dry_run and _R < (2, 23):
            raise TypeError(f"compile() got an unexpected keyword 'dry_run' (NxDI {RELEASE})")
        if self.config is None:
            raise RuntimeError("cannot compile a model without a config")
        path = os.fspath(compiled_model_path)
        directory = host(path)
        directory.mkdir(parents=True, exist_ok=True)
        self.config.save(path)
        neuron_config = self.neuron_config
        assert neuron_config.fused_qkv or not neuron_config.qkv_kernel_enabled, (
            "QKV kernel only supported when fused_qkv is TRUE (NxDI traces the QKV projection "
            "with qkv_kernel_enabled=True: pass fused_qkv=True)")
        if dry_run:
            return
        (directory / COMPILED_MODEL_FILE_NAME).write_text("fake traced model\n")
        if pre_shard_weights_hook is not None:
            pre_shard_weights_hook(self)
        if self._presharding():
            self._read_weights("compile() pre-shards the weights (save_sharded_checkpoint=True)")
            for rank in self._ranks():
                (directory / _sharded_file(rank)).parent.mkdir(exist_ok=True)
                (directory / _sharded_file(rank)).write_text("fake weights\n")
        record("compile", path=path, save_sharded_checkpoint=bool(
            neuron_config.save_sharded_checkpoint))
        self.is_compiled = True

    def load(self, compiled_model_path: str | os.PathLike[str], start_rank_id: int | None = None,
             local_ranks_size: int | None = None, skip_warmup: bool = False) -> None:
        path = os.fspath(compiled_model_path)
        if not host(path).is_dir():
            raise FileNotFoundError(f"No compiled model at {path!r}: compile() it first")
        if self.config is not None:
            self._load_weights(path, self._ranks(start_rank_id, local_ranks_size))
        record("load", path=path)
        self.is_loaded_to_neuron = True

    def _load_weights(self, path: str, ranks: range) -> None:
        compiled = holds_compiled_nxdi(path)  # else: artifacts of an earlier run, unknown
        if compiled:
            self._check_same_as_compiled(path)
        if not self._loads_presharded():
            self._read_weights("load() shards the weights (save_sharded_checkpoint=False)")
            return
        missing = [_sharded_file(r) for r in ranks if not (host(path) / _sharded_file(r)).is_file()]
        if compiled and missing:
            raise FileNotFoundError(
                f"{path}/{missing[0]}: load() reads presharded weights (save_sharded_checkpoint="
                f"True in the configuration it runs with), but compile() did not write them "
                f"(NxDI {RELEASE}: compile with save_sharded_checkpoint=True, or load with the "
                "compiled configuration)")

    def _check_same_as_compiled(self, path: str) -> None:
        compiled = self.get_config_cls().load(path)
        ours, theirs = self.neuron_config.effective(), compiled.neuron_config.effective()
        # Objects (a LoRA config, ...) do not survive neuron_config.json here: not compared.
        keys = {k for k in (set(ours) | set(theirs)) - _NOT_COMPILED
                if isinstance(ours.get(k), _PLAIN) and isinstance(theirs.get(k), _PLAIN)}
        diffs = [f"{key}: compiled={theirs.get(key)!r} loaded={ours.get(key)!r}"
                 for key in sorted(keys) if ours.get(key) != theirs.get(key)]
        diffs += [f"{key}: compiled={getattr(compiled, key)!r} loaded={getattr(self.config, key)!r}"
                  for key in _CHECKPOINT_KEYS if hasattr(compiled, key) and hasattr(
                      self.config, key) and getattr(compiled, key) != getattr(self.config, key)]
        if diffs:
            raise ValueError(
                f"load({path!r}): the model holds another configuration than the one compiled "
                f"into {path!r} ({'; '.join(diffs)}): the compiled graphs and weight layout would "
                f"not match. Reopen the directory with {type(self).__name__}({path!r}) to load "
                "what was compiled")

    # --- quantized checkpoints -------------------------------------------------------------

    @classmethod
    def save_quantized_state_dict(cls, model_path: str | os.PathLike[str],
                                  config: InferenceConfig) -> None:
        source = normalize_path(model_path)
        problem = _unreadable_checkpoint(source, files=False, hub_download=True)
        if problem is not None:
            error = HFValidationError if "HFValidationError" in problem else OSError
            raise error(f"save_quantized_state_dict: {cls.__name__}.load_hf_model reads "
                        f"{source!r}, {problem}; download the checkpoint to a local directory "
                        "and pass that directory")
        target = config.neuron_config.quantized_checkpoints_path
        if target is None:
            raise TypeError("save_quantized_state_dict: quantized_checkpoints_path is None "
                            "(stat: path should be string, not NoneType)")
        where = host(target)
        if where.is_dir():
            (where / "model.safetensors").write_text("fake quantized weights\n")
        elif not where.parent.is_dir():
            raise RuntimeError(f"Parent directory {os.path.dirname(target)} does not exist "
                               f"(torch.save of the quantized checkpoint {target!r})")
        else:
            where.write_text("fake quantized weights\n")
        record("save_quantized", path=os.fspath(target))

    # --- running ---------------------------------------------------------------------------

    def reset(self) -> None:
        record("reset")

    reset_kv_cache = reset

    def _require_loaded(self) -> None:
        if not self.is_loaded_to_neuron:
            raise RuntimeError("the model must be compiled and load()ed before it runs")

    def forward(self, input_ids: Any = None, *args: Any, **kwargs: Any) -> SimpleNamespace:
        self._require_loaded()
        vocab = getattr(self.config, "vocab_size", 32000)
        return SimpleNamespace(logits=torch.Tensor([input_ids.shape[0], vocab], 0.0, torch.float32))

    def __call__(self, *args: Any, **kwargs: Any) -> SimpleNamespace:
        return self.forward(*args, **kwargs)


def _unreadable_checkpoint(source: str, *, files: bool, hub_download: bool) -> str | None:
    """Why the HF weights cannot be read from `source` (None: they can). `files`: a state-dict
    file is read too; `hub_download`: a valid repo id is downloaded."""
    if host(source).is_dir():
        if holds_checkpoint(source):
            return None
        if holds_compiled_nxdi(source):
            return "a directory of compiled NxDI artifacts, not a Hugging Face checkpoint"
        return "a directory without a Hugging Face checkpoint (no config.json)"
    if host(source).is_file():
        return None if files else "a file, not a checkpoint directory"
    if not is_repo_id(source.rstrip("/")):
        return "not an existing local directory"
    if not hub_download:
        return (f"a Hugging Face hub id, not a local directory (NxDI {RELEASE} reads local "
                "checkpoints only)")
    if not is_repo_id(source):
        return ("a Hugging Face hub id with the trailing '/' NxDI's normalize_path adds: not a "
                "local directory, and not a valid repo id (HFValidationError)")
    return None  # a valid repo id: load_hf_model downloads it
