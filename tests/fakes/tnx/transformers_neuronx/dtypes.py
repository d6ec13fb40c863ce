"""Fake `transformers_neuronx.dtypes`: the amp-string helpers (TNx dtypes.py)."""

from __future__ import annotations

import torch

_AMP_TO_TORCH = {"f32": torch.float32, "f16": torch.float16, "bf16": torch.bfloat16}


def to_torch_dtype(amp: str) -> torch.dtype:
    return _AMP_TO_TORCH[amp]
