"""Fake `transformers_neuronx.base.NeuronModelBase`: serialization on top of module.PretrainedModel.

Events: save -> {"kind": "save", "path", "sharded_weights"}; load(dir) -> {"kind":
"load_request", "path"} (to_neuron() then loads instead of compiling); compile()/cpu_compile() ->
{"kind": "compile", "path": None}.
"""

from __future__ import annotations

import json
import os
from typing import Any

import torch
from _fake_fs import host
from _fake_recorder import record

from transformers_neuronx.module import PretrainedModel


class NeuronModelBase(PretrainedModel):
    def save(self, directory: str | os.PathLike[str], sharded_weights: bool = False) -> None:
        assert self._compiled, "the model must be compiled before save()"
        if sharded_weights:
            assert self.neuron_config.on_device_embedding, (
                "save(sharded_weights=True) requires NeuronConfig(on_device_embedding=True)")
        if host(directory).is_file():
            raise FileExistsError(f"Artifacts should be saved to a directory: {directory}")
        host(directory).mkdir(parents=True, exist_ok=True)
        if sharded_weights:
            config = dict(self.config.to_dict(), is_presharded_checkpoint=True)
            (host(directory) / "config.json").write_text(json.dumps(config))
        record("save", path=str(directory), sharded_weights=bool(sharded_weights))

    def load(self, directory: str | os.PathLike[str]) -> None:
        self._load_dir = str(directory)
        record("load_request", path=str(directory))

    def compile(self, parallel_degree: int | None = None) -> None:
        record("compile", path=None)
        self._compiled = True

    def cpu_compile(self) -> None:
        self.compile()

    def is_compiled(self) -> bool:
        return self._compiled

    def serialization_enabled(self) -> bool:
        return True

    def update_generation_config(self, generation_config: Any) -> None:
        self.neuron_config.on_device_generation = generation_config


class LlamaStyleSampling:
    """sample() of Mistral and Mixtral (Llama adds cache_ids, no_repeat_ngram_size, **kwargs)."""

    def sample(self, input_ids: Any, sequence_length: int, start_ids: Any = None,
               top_k: int = 50, top_p: float = 1.0, eos_token_override: Any = None,
               temperature: float = 1.0, streamer: Any = None,
               stopping_criteria_list: Any = None) -> torch.Tensor:
        return self._llama_sample(  # type: ignore[attr-defined]
            input_ids, sequence_length, top_k, top_p, temperature)
