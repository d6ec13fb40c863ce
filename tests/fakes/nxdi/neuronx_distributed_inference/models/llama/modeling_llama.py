"""Fake `neuronx_distributed_inference.models.llama.modeling_llama` (Mistral uses it too)."""

from __future__ import annotations

from neuronx_distributed_inference.models.config import InferenceConfig, NeuronConfig
from neuronx_distributed_inference.models.model_base import NeuronBaseForCausalLM


class LlamaInferenceConfig(InferenceConfig):
    def get_required_attributes(self) -> list[str]:
        return ["hidden_size", "num_attention_heads", "num_hidden_layers", "num_key_value_heads",
                "pad_token_id", "vocab_size", "max_position_embeddings", "rope_theta",
                "rms_norm_eps", "hidden_act"]

    @classmethod
    def get_neuron_config_cls(cls) -> type[NeuronConfig]:
        return NeuronConfig


class NeuronLlamaForCausalLM(NeuronBaseForCausalLM):
    """Needs a LlamaInferenceConfig holding a plain NeuronConfig (not MoENeuronConfig)."""

    _family = "llama"

    @classmethod
    def get_config_cls(cls) -> type[InferenceConfig]:
        return LlamaInferenceConfig
