"""Fake `transformers_neuronx.opt.model.OPTForSampling` (positional order matters; strict)."""

from __future__ import annotations

from typing import Any

from transformers_neuronx.base import NeuronModelBase
from transformers_neuronx.config import NeuronConfig
from transformers_neuronx.module import SimpleSampling


class OPTForSampling(SimpleSampling, NeuronModelBase):
    """amp=None means the checkpoint's torch_dtype."""

    _family = "opt"

    def __init__(self, config: Any, batch_size: Any = 1, amp: str | None = None,
                 tp_degree: int = 2, n_positions: Any = 2048, unroll: int | None = None,
                 context_length_estimate: Any = None, context_unroll: int = 1,
                 neuron_config: NeuronConfig | None = None, **kwargs: Any) -> None:
        self._setup(config, neuron_config, n_positions=n_positions, batch_size=batch_size,
                    amp=amp, tp_degree=tp_degree, context_length_estimate=context_length_estimate,
                    extra=kwargs, context_unroll=context_unroll, unroll=unroll)
