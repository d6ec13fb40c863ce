"""Fake `vllm`: LLM, SamplingParams and the engine-argument classes (see engine/arg_utils.py).

LLM.generate records {"kind": "vllm_generate", "prompts", "max_tokens", "temperature", "top_k",
"top_p"} and returns RequestOutput-like objects.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from _fake_recorder import record

from vllm.engine.arg_utils import AsyncEngineArgs, EngineArgs

__version__ = "0.6.2+fake"
__all__ = ["LLM", "AsyncEngineArgs", "CompletionOutput", "EngineArgs", "RequestOutput",
           "SamplingParams"]


@dataclasses.dataclass
class SamplingParams:
    n: int = 1
    temperature: float = 1.0
    top_p: float = 1.0
    top_k: int = -1
    max_tokens: int | None = 16
    min_tokens: int = 0
    stop: Any = None
    stop_token_ids: list[int] | None = None
    seed: int | None = None
    presence_penalty: float = 0.0
    frequency_penalty: float = 0.0
    repetition_penalty: float = 1.0
    ignore_eos: bool = False
    logprobs: int | None = None
    skip_special_tokens: bool = True


@dataclasses.dataclass
class CompletionOutput:
    index: int
    text: str
    token_ids: list[int]


@dataclasses.dataclass
class RequestOutput:
    prompt: str
    outputs: list[CompletionOutput]


class LLM:
    def __init__(self, model: str, **kwargs: Any) -> None:
        self.engine_args = EngineArgs(model=model, **kwargs)

    def generate(self, prompts: Any, sampling_params: SamplingParams | None = None,
                 **_: Any) -> list[RequestOutput]:
        prompts = [prompts] if isinstance(prompts, str) else list(prompts)
        params = sampling_params or SamplingParams()
        record("vllm_generate", prompts=len(prompts), max_tokens=params.max_tokens,
               temperature=params.temperature, top_k=params.top_k, top_p=params.top_p)
        tokens = params.max_tokens or 16
        return [RequestOutput(p, [CompletionOutput(0, " ".join(["tok"] * tokens), [0] * tokens)])
                for p in prompts]
