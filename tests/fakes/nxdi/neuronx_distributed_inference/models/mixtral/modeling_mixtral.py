"""Fake `neuronx_distributed_inference.models.mixtral.modeling_mixtral`."""

from __future__ import annotations

from neuronx_distributed_inference.models.config import (
    InferenceConfig,
    MoENeuronConfig,
    NeuronConfig,
)
from neuronx_distributed_inference.models.model_base import NeuronBaseForCausalLM


class MixtralInferenceConfig(InferenceConfig):
    def get_required_attributes(self) -> list[str]:
        return ["hidden_size", "num_attention_heads", "num_hidden_layers", "num_key_value_heads",
                "pad_token_id", "vocab_size", "max_position_embeddings", "rope_theta",
                "rms_norm_eps", "num_local_experts", "num_experts_per_tok"]

    @classmethod
    def get_neuron_config_cls(cls) -> type[NeuronConfig]:
        return MoENeuronConfig


class NeuronMixtralForCausalLM(NeuronBaseForCausalLM):
    """Needs a MixtralInferenceConfig holding a MoENeuronConfig."""

    _family = "mixtral"
    _model_types = ("mixtral",)

    @classmethod
    def get_config_cls(cls) -> type[InferenceConfig]:
        return MixtralInferenceConfig
