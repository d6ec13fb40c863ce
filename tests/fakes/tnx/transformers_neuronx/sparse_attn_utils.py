"""Fake `transformers_neuronx.sparse_attn_utils` (TNx sparse_attn_utils.py)."""

from __future__ import annotations

import dataclasses
from typing import Any

_ATTN_TYPES = {"blk_sparse": "BlkSparseAttnConfig", "window": "SlidingWindowAttnConfig"}


@dataclasses.dataclass
class BlkSparseAttnConfig:
    blk_size: int = 128
    num_global_blks: int = 0
    num_local_blks: int = 1
    num_random_blks: int = 0


@dataclasses.dataclass
class SlidingWindowAttnConfig:
    window_size: int = 128


class SparseAttnConfig:
    def __init__(self, attn_type: str = "blk_sparse", causal: bool = False,
                 sparse_attn_config: Any = None, same_mask_per_layer: bool = True,
                 sparse_mask_dict: dict[Any, Any] | None = None) -> None:
        assert attn_type in (*_ATTN_TYPES, "custom"), f"unknown attn_type {attn_type!r}"
        needed = _ATTN_TYPES.get(attn_type)
        assert needed is None or type(sparse_attn_config).__name__ == needed, f"needs {needed}"
        self.attn_type = attn_type
        self.causal = causal
        self.sparse_attn_config = sparse_attn_config
        self.same_mask_per_layer = same_mask_per_layer
        self.sparse_mask_dict = sparse_mask_dict or {}
