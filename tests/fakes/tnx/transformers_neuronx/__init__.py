"""Fake Transformers NeuronX (`transformers_neuronx`) for execution tests of tnx2nxdi.

Records what a program asks of the runtime, normalized to NxDI vocabulary; see module.py.
Top-level exports follow TNx's __init__.py.
"""

from __future__ import annotations

from transformers_neuronx import testing
from transformers_neuronx.bloom.model import BloomForSampling
from transformers_neuronx.config import (
    ContinuousBatchingConfig,
    GenerationConfig,
    NeuronConfig,
    QuantizationConfig,
)
from transformers_neuronx.constants import GQA, Layout
from transformers_neuronx.generation_utils import HuggingFaceGenerationModelAdapter
from transformers_neuronx.gpt2.model import GPT2ForSamplingWithContextBroadcasting
from transformers_neuronx.gptj.model import GPTJForSampling
from transformers_neuronx.gptneox.model import GPTNeoXForSampling
from transformers_neuronx.llama.model import LlamaForSampling
from transformers_neuronx.mistral.model import MistralForSampling
from transformers_neuronx.mixtral.model import MixtralForSampling
from transformers_neuronx.modeling_auto import NeuronAutoModelForCausalLM
from transformers_neuronx.opt.model import OPTForSampling
from transformers_neuronx.sparse_attn_utils import SparseAttnConfig

__version__ = "0.13.380+fake"

__all__ = [
    "GQA", "BloomForSampling", "ContinuousBatchingConfig",
    "GPT2ForSamplingWithContextBroadcasting", "GPTJForSampling", "GPTNeoXForSampling",
    "GenerationConfig", "HuggingFaceGenerationModelAdapter",
    "Layout", "LlamaForSampling", "MistralForSampling", "MixtralForSampling",
    "NeuronAutoModelForCausalLM", "NeuronConfig", "OPTForSampling", "QuantizationConfig",
    "SparseAttnConfig", "testing",
]
