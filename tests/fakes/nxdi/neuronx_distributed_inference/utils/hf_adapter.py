"""Fake `neuronx_distributed_inference.utils.hf_adapter` (NxDI utils/hf_adapter.py).

generate() fails where the real adapter does for lengths: transformers (the release NxDI pins)
raises ValueError when the prompt is not shorter than max_length, and NxDI's model wrapper when
the prompt exceeds the largest context-encoding bucket or generation runs past the largest
token-generation bucket ("Input len N exceeds largest bucket (M)"): max_context_length and
max_length, or the largest bucket of the lists when bucketing is on.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import transformers
from _fake_recorder import record
from transformers import _generate_result, _generation_settings

from neuronx_distributed_inference.models.config import _R, RELEASE, to_torch_dtype
from neuronx_distributed_inference.models.model_base import NeuronBaseForCausalLM

_MODEL_INPUTS = frozenset({"sampling_params", "adapter_ids", "pixel_values", "aspect_ratios",
                           "vision_mask", "num_chunks", "has_image", "assistant_model",
                           "prompt_lookup_num_tokens"})


def load_pretrained_config(model_path_or_name: Any = None,
                           hf_config: Any = None) -> Callable[[Any], None]:
    """Return the hook to pass as InferenceConfig(load_config=...); pass exactly one argument."""

    def load_config(config: Any) -> None:
        if (model_path_or_name is None) == (hf_config is None):
            raise ValueError("Please provide exactly one of model_path_or_name or hf_config")
        source = hf_config or transformers.AutoConfig.from_pretrained(model_path_or_name)
        values = source.to_dict()
        checkpoint_dtype = values.pop("torch_dtype", None)
        config.__dict__.update(values)
        config._name_or_path = getattr(source, "_name_or_path", model_path_or_name)
        neuron_config = config.neuron_config
        if not neuron_config.overrides_torch_dtype and checkpoint_dtype:
            neuron_config.torch_dtype = to_torch_dtype(checkpoint_dtype)

    load_config._fake_nxdi_hook = True  # type: ignore[attr-defined]
    return load_config


class HuggingFaceGenerationAdapter:
    """generate() records {"kind": "generate", "max_length", "do_sample", "top_k", "top_p",
    "temperature"}: generation_config values, overridden by keyword arguments."""

    def __init__(self, model: Any, input_start_offsets: Any = None) -> None:
        if input_start_offsets is not None and _R < (2, 24):
            raise TypeError(f"unexpected keyword 'input_start_offsets' (NxDI {RELEASE})")
        if not isinstance(model, NeuronBaseForCausalLM):
            raise TypeError(f"HuggingFaceGenerationAdapter needs an NxDI model, got {model!r}")
        model._require_loaded()
        self.neuron_model = model
        self.config = model.config
        self.input_start_offsets = input_start_offsets

    def generate(self, *args: Any, **kwargs: Any) -> Any:
        settings, batch = _generation_settings(args, kwargs, _MODEL_INPUTS)
        self.neuron_model._require_loaded()
        ids = args[0] if args else kwargs.get("input_ids", kwargs.get("inputs"))
        if self.config is not None:
            _check_lengths(self.config.neuron_config, getattr(ids, "shape", (1, 0))[-1],
                           settings["max_length"])
        record("generate", **settings)
        return _generate_result(settings, batch, kwargs)


def _largest(neuron_config: Any, buckets: str, limit: str) -> int:
    listed = getattr(neuron_config, buckets)
    if neuron_config.enable_bucketing and listed:
        return int(max(listed))
    return int(getattr(neuron_config, limit))


def _check_lengths(neuron_config: Any, prompt: int, max_length: int) -> None:
    if prompt >= max_length:
        raise ValueError(f"Input length of input_ids is {prompt}, but `max_length` is set to "
                         f"{max_length}. This can lead to unexpected behavior. You should consider "
                         "increasing `max_length` or, better yet, setting `max_new_tokens`.")
    context = _largest(neuron_config, "context_encoding_buckets", "max_context_length")
    if prompt > context:
        raise ValueError(f"Input len {prompt} exceeds largest bucket ({context}) for "
                         "context_encoding_model")
    tokens = _largest(neuron_config, "token_generation_buckets", "max_length")
    if max_length > tokens:
        raise ValueError(f"Input len {max_length} exceeds largest bucket ({tokens}) for "
                         f"token_generation_model: generate(max_length={max_length}) runs past "
                         f"the compiled sequence length {tokens}")
