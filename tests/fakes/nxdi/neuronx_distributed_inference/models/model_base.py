"""Fake `neuronx_distributed_inference.models.model_base.NeuronBaseForCausalLM`.

Events: construction -> {"kind": "model_init", "family", "path", "config"} ("config" is
NeuronConfig.normalized(), or None when a directory without our neuron_config.json is reopened);
compile -> {"kind": "compile", "path", "save_sharded_checkpoint"}; load -> {"kind": "load",
"path"}; reset()/reset_kv_cache() -> {"kind": "reset"}.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import torch
from _fake_recorder import record

from neuronx_distributed_inference.models.config import (
    _R,
    RELEASE,
    InferenceConfig,
    MoENeuronConfig,
    NeuronConfig,
)

_COMPILED_PATHS: set[str] = set()


class NeuronBaseForCausalLM:
    _family = ""

    @classmethod
    def get_config_cls(cls) -> type[InferenceConfig]:
        return InferenceConfig

    @classmethod
    def get_neuron_config_cls(cls) -> type[NeuronConfig]:
        return cls.get_config_cls().get_neuron_config_cls()

    def __init__(self, model_path: str | os.PathLike[str], config: InferenceConfig | None = None,
                 neuron_config: NeuronConfig | None = None) -> None:
        self.model_path = str(model_path)
        if config is None and (Path(model_path) / "neuron_config.json").is_file():
            config = self.get_config_cls().load(model_path)
        if config is not None and neuron_config is not None:
            config.neuron_config = neuron_config
        self.config = config
        if config is not None:
            self._check_pairing(config)
        self.is_compiled = False
        self.is_loaded_to_neuron = False
        normalized = config.neuron_config.normalized() if config is not None else None
        record("model_init", family=self._family, path=self.model_path, config=normalized)

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

    @property
    def neuron_config(self) -> NeuronConfig:
        if self.config is None:
            raise AttributeError("neuron_config (reopened directory without neuron_config.json)")
        return self.config.neuron_config

    @classmethod
    def save_quantized_state_dict(cls, model_path: str | os.PathLike[str],
                                  config: InferenceConfig) -> None:
        """Writes the quantized checkpoint named by the config (a file, as the real classmethod
        writes for a path that is not an existing directory)."""
        target = config.neuron_config.quantized_checkpoints_path
        if not target:
            raise AssertionError("quantized_checkpoints_path is required to save a quantized "
                                 "checkpoint")
        Path(target).write_text(json.dumps({"quantized_from": str(model_path)}))
        record("save_quantized", path=str(target))

    def compile(self, compiled_model_path: str | os.PathLike[str], debug: bool = False,
                pre_shard_weights_hook: Any = None, dry_run: bool = False) -> None:
        if dry_run and _R < (2, 23):
            raise TypeError(f"compile() got an unexpected keyword 'dry_run' (NxDI {RELEASE})")
        if self.config is None:
            raise RuntimeError("cannot compile a model without a config")
        path = str(compiled_model_path)
        Path(path).mkdir(parents=True, exist_ok=True)
        self.config.save(path)
        _COMPILED_PATHS.add(os.path.abspath(path))
        record("compile", path=path,
               save_sharded_checkpoint=bool(self.neuron_config.save_sharded_checkpoint))
        self.is_compiled = True

    def load(self, compiled_model_path: str | os.PathLike[str], start_rank_id: int | None = None,
             local_ranks_size: int | None = None, skip_warmup: bool = False) -> None:
        path = str(compiled_model_path)
        if os.path.abspath(path) not in _COMPILED_PATHS and not os.path.isdir(path):
            raise FileNotFoundError(f"No compiled model at {path!r}: compile() it first")
        record("load", path=path)
        self.is_loaded_to_neuron = True

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
