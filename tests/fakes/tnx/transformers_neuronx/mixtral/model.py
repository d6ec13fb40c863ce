"""Fake `transformers_neuronx.mixtral.model.MixtralForSampling` (unknown kwargs ignored)."""

from __future__ import annotations

from typing import Any

from transformers_neuronx.base import LlamaStyleSampling, NeuronModelBase
from transformers_neuronx.config import NeuronConfig


class MixtralForSampling(LlamaStyleSampling, NeuronModelBase):
    _family = "mixtral"
    _strict_kwargs = False
    _checks_batch = True

    def __init__(self, config: Any, *, n_positions: Any = 2048, batch_size: Any = 1,
                 amp: str = "f32", tp_degree: int = 2, context_length_estimate: Any = None,
                 context_unroll: int | None = None, unroll: int | None = None,
                 neuron_config: NeuronConfig = NeuronConfig(),  # noqa: B008 - shared, as in TNx
                 **kwargs: Any) -> None:
        experts = getattr(config, "num_local_experts", 8)
        if experts % tp_degree and tp_degree % experts:
            raise ValueError(f"num_local_experts {experts} and tp_degree {tp_degree} do not divide")
        self._setup(config, neuron_config, n_positions=n_positions, batch_size=batch_size,
                    amp=amp, tp_degree=tp_degree, context_length_estimate=context_length_estimate,
                    extra=kwargs, context_unroll=context_unroll, unroll=unroll)
