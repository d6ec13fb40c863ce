"""Fake `transformers_neuronx.generation_utils.HuggingFaceGenerationModelAdapter`.

generate(**kw) records {"kind": "generate", "max_length", "do_sample", "top_k", "top_p",
"temperature"} with Hugging Face defaults (do_sample False, top_k 50, top_p 1.0, temperature 1.0).
"""

from __future__ import annotations

from typing import Any

from _fake_recorder import record
from transformers import PreTrainedModel, _generate_result, _generation_settings


class HuggingFaceGenerationModelAdapter(PreTrainedModel):
    def __init__(self, config: Any, model: Any) -> None:
        super().__init__(config)
        if getattr(config, "_attn_implementation", None) == "sdpa":
            config._attn_implementation = "eager"
        self.model = model

    def generate(self, *args: Any, **kwargs: Any) -> Any:
        self.reset_generation()
        settings, batch = _generation_settings(args, kwargs)
        self.model._require_loaded()
        record("generate", **settings)
        return _generate_result(settings, batch, kwargs)

    def reset_generation(self) -> None:
        return None
