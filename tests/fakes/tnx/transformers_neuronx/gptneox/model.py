"""Fake `transformers_neuronx.gptneox.model.GPTNeoXForSampling`: no save/load (strict kwargs)."""

from __future__ import annotations

from typing import Any

from transformers_neuronx.config import NeuronConfig
from transformers_neuronx.module import PretrainedModel, SimpleSampling


class GPTNeoXForSampling(SimpleSampling, PretrainedModel):
    _family = "gpt_neox"

    def __init__(self, config: Any, batch_size: int = 1, amp: str = "f32", tp_degree: int = 2,
                 unroll: int | None = None, init_n_active_tokens: int | None = None,
                 neuron_config: NeuronConfig | None = None, **kwargs: Any) -> None:
        if unroll is not None or init_n_active_tokens is not None:
            raise NotImplementedError("unroll and init_n_active_tokens must be None")
        if neuron_config is not None and neuron_config.quant is not None:
            raise NotImplementedError("GPT-NeoX does not support quantization")
        n_positions = kwargs.pop("n_positions", config.max_position_embeddings)
        self._setup(config, neuron_config, n_positions=n_positions, batch_size=batch_size,
                    amp=amp, tp_degree=tp_degree, extra=kwargs)
