"""Fake `neuronx_distributed_inference.models.llama.modeling_llama` (Mistral uses it too).

LlamaInferenceConfig.add_derived_config checks flash decoding the way NxDI's
calculate_num_cores_per_group does, with the checkpoint's head counts (config.json): 2.21-2.27
assert num_attention_heads % tp_degree == 0; every release needs min(tp_degree,
num_attention_heads) divisible by num_key_value_heads (ND's divide asserts).
"""

from __future__ import annotations

from neuronx_distributed_inference.models.config import (
    _R,
    RELEASE,
    InferenceConfig,
    NeuronConfig,
)
from neuronx_distributed_inference.models.model_base import NeuronBaseForCausalLM


class LlamaInferenceConfig(InferenceConfig):
    def add_derived_config(self) -> None:
        self.num_cores_per_group = 1
        if self.neuron_config.flash_decoding_enabled:
            self.num_cores_per_group = _cores_per_group(
                self.num_attention_heads, self.num_key_value_heads, self.neuron_config.tp_degree)

    def get_required_attributes(self) -> list[str]:
        return ["hidden_size", "num_attention_heads", "num_hidden_layers", "num_key_value_heads",
                "pad_token_id", "vocab_size", "max_position_embeddings", "rope_theta",
                "rms_norm_eps", "hidden_act"]

    @classmethod
    def get_neuron_config_cls(cls) -> type[NeuronConfig]:
        return NeuronConfig


def _cores_per_group(heads: int, kv_heads: int, tp_degree: int) -> int:
    where = (f" (flash_decoding_enabled, NxDI {RELEASE}: the checkpoint has {heads} attention "
             f"heads and {kv_heads} KV heads, tp_degree={tp_degree})")
    if _R <= (2, 27):
        assert heads % tp_degree == 0, (
            "expect num attention heads is multiples of tp degree but got "
            f"{heads} and {tp_degree}{where}")
    cores = min(tp_degree, heads)
    assert cores % kv_heads == 0, f"{cores} is not divisible by {kv_heads}{where}"
    return cores // kv_heads


class NeuronLlamaForCausalLM(NeuronBaseForCausalLM):
    """Needs a LlamaInferenceConfig holding a plain NeuronConfig (not MoENeuronConfig)."""

    _family = "llama"
    _model_types = ("llama", "mistral")

    @classmethod
    def get_config_cls(cls) -> type[InferenceConfig]:
        return LlamaInferenceConfig
