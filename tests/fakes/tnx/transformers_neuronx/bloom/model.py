"""Fake `transformers_neuronx.bloom.model.BloomForSampling` (unknown kwargs raise KeyError)."""

from __future__ import annotations

from typing import Any

from transformers_neuronx.base import NeuronModelBase
from transformers_neuronx.config import NeuronConfig
from transformers_neuronx.module import SimpleSampling


class BloomForSampling(SimpleSampling, NeuronModelBase):
    _family = "bloom"
    _checks_batch = True

    def __init__(self, config: Any, *, n_positions: Any = 2048, batch_size: Any = 1,
                 amp: str = "f32", tp_degree: int = 2, context_length_estimate: Any = None,
                 context_unroll: int | None = None, unroll: int | None = None,
                 neuron_config: NeuronConfig | None = None, **kwargs: Any) -> None:
        self._setup(config, neuron_config, n_positions=n_positions, batch_size=batch_size,
                    amp=amp, tp_degree=tp_degree, context_length_estimate=context_length_estimate,
                    extra=kwargs, context_unroll=context_unroll, unroll=unroll)
