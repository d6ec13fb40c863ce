"""Fake `transformers_neuronx.gptj.model.GPTJForSampling`: no save/load/compile (strict kwargs)."""

from __future__ import annotations

from typing import Any

from transformers_neuronx.config import NeuronConfig
from transformers_neuronx.module import PretrainedModel, SimpleSampling


class GPTJForSampling(SimpleSampling, PretrainedModel):
    _family = "gptj"

    def __init__(self, config: Any, batch_size: int = 1, amp: str = "f32", tp_degree: int = 2,
                 unroll: int | None = None, init_n_active_tokens: int | None = None,
                 neuron_config: NeuronConfig | None = None, **kwargs: Any) -> None:
        if init_n_active_tokens is not None:
            raise NotImplementedError("init_n_active_tokens must be None")
        if neuron_config is not None and neuron_config.quant is not None:
            raise NotImplementedError("GPT-J does not support quantization")
        n_positions = kwargs.pop("n_positions", config.n_positions)
        self._setup(config, neuron_config, n_positions=n_positions, batch_size=batch_size,
                    amp=amp, tp_degree=tp_degree, extra=kwargs, unroll=unroll)
