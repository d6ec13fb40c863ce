"""Fake `transformers_neuronx.modeling_auto.NeuronAutoModelForCausalLM`.

Fake behaviour: the model type comes from the fake transformers.AutoConfig, which guesses it from
the path string (e.g. a path containing "mistral" is a Mistral checkpoint) or reads config.json.
"""

from __future__ import annotations

from typing import Any

import transformers

from transformers_neuronx.bloom.model import BloomForSampling
from transformers_neuronx.gpt2.model import GPT2ForSamplingWithContextBroadcasting
from transformers_neuronx.gptj.model import GPTJForSampling
from transformers_neuronx.gptneox.model import GPTNeoXForSampling
from transformers_neuronx.llama.model import LlamaForSampling
from transformers_neuronx.mistral.model import MistralForSampling
from transformers_neuronx.mixtral.model import MixtralForSampling
from transformers_neuronx.opt.model import OPTForSampling

NEURON_MODEL_FOR_CAUSAL_LM_MAPPING: dict[str, type] = {
    "bloom": BloomForSampling, "code_llama": LlamaForSampling,
    "gpt2": GPT2ForSamplingWithContextBroadcasting, "gpt_neox": GPTNeoXForSampling,
    "gptj": GPTJForSampling, "llama": LlamaForSampling, "mistral": MistralForSampling,
    "mixtral": MixtralForSampling, "opt": OPTForSampling,
}


class NeuronAutoModelForCausalLM:
    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path: Any, *model_args: Any,
                        **kwargs: Any) -> Any:
        config = transformers.AutoConfig.from_pretrained(pretrained_model_name_or_path)
        model_type = config.model_type
        assert model_type in NEURON_MODEL_FOR_CAUSAL_LM_MAPPING, (
            f"Model type {model_type!r} is not supported by NeuronAutoModelForCausalLM")
        model_class = NEURON_MODEL_FOR_CAUSAL_LM_MAPPING[model_type]
        return model_class.from_pretrained(pretrained_model_name_or_path, *model_args, **kwargs)
