"""Fake `transformers_neuronx.gpt2.model`: n_positions arrives through **kwargs (strict)."""

from __future__ import annotations

from typing import Any

import torch
from _fake_recorder import record

from transformers_neuronx.base import NeuronModelBase
from transformers_neuronx.config import NeuronConfig
from transformers_neuronx.module import SimpleSampling


class GPT2ForSamplingWithContextBroadcasting(NeuronModelBase):
    _family = "gpt2"

    def __init__(self, config: Any, batch_size: int = 1, prompt_batch_size: int = 1,
                 amp: str = "f32", tp_degree: int = 2, unroll: int | None = None,
                 context_length_estimate: Any = None, context_unroll: int = 1,
                 neuron_config: NeuronConfig = NeuronConfig(),  # noqa: B008 - shared, as in TNx
                 reorder_cache: bool = False, **kwargs: Any) -> None:
        assert context_length_estimate != 0, "context_length_estimate must not be 0"
        n_positions = kwargs.pop("n_positions", config.n_positions)
        self._setup(config, neuron_config, n_positions=n_positions, batch_size=batch_size,
                    amp=amp, tp_degree=tp_degree, context_length_estimate=context_length_estimate,
                    extra=kwargs, unroll=unroll, context_unroll=context_unroll,
                    prompt_batch_size=prompt_batch_size if prompt_batch_size != 1 else None)

    def reset(self, context_length_estimate: Any) -> None:  # type: ignore[override]
        record("reset")

    def sample(self, input_ids: Any, sequence_length: int, cache_ids: Any = None,
               start_ids: Any = None, top_k: int = 50, streamer: Any = None,
               output_scores: bool = False, **kwargs: Any) -> torch.Tensor:
        return self._sample(input_ids, sequence_length, top_k, 1.0, 1.0)


class GPT2ForSampling(SimpleSampling, NeuronModelBase):
    _family = "gpt2"

    def __init__(self, config: Any, batch_size: int = 1, amp: str = "f32", tp_degree: int = 2,
                 unroll: int | None = None, init_n_active_tokens: int | None = None,
                 neuron_config: NeuronConfig | None = None, tag: str | None = None,
                 **kwargs: Any) -> None:
        n_positions = kwargs.pop("n_positions", config.n_positions)
        self._setup(config, neuron_config, n_positions=n_positions, batch_size=batch_size,
                    amp=amp, tp_degree=tp_degree, extra=kwargs, unroll=unroll, tag=tag)
