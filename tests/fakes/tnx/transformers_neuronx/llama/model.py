"""Fake `transformers_neuronx.llama.model.LlamaForSampling` (unknown kwargs silently ignored)."""

from __future__ import annotations

from typing import Any

import torch

from transformers_neuronx.base import NeuronModelBase
from transformers_neuronx.config import NeuronConfig


class LlamaForSampling(NeuronModelBase):
    _family = "llama"
    _strict_kwargs = False
    _checks_batch = True

    def __init__(self, config: Any, *, n_positions: Any = 2048, batch_size: Any = 1,
                 amp: str = "f32", tp_degree: int = 2, context_length_estimate: Any = None,
                 context_unroll: int | None = None, unroll: int | None = None,
                 neuron_config: NeuronConfig | None = None, prefixed_length: int = 0,
                 **kwargs: Any) -> None:
        self._setup(config, neuron_config, n_positions=n_positions, batch_size=batch_size,
                    amp=amp, tp_degree=tp_degree, context_length_estimate=context_length_estimate,
                    extra=kwargs, context_unroll=context_unroll, unroll=unroll,
                    prefixed_length=prefixed_length or None)

    def sample(self, input_ids: Any, sequence_length: int, cache_ids: Any = None,
               start_ids: Any = None, top_k: int = 50, top_p: float = 1.0,
               eos_token_override: Any = None, temperature: float = 1.0, streamer: Any = None,
               stopping_criteria_list: Any = None, no_repeat_ngram_size: int | None = None,
               **kwargs: Any) -> torch.Tensor:
        return self._llama_sample(input_ids, sequence_length, top_k, top_p, temperature)
