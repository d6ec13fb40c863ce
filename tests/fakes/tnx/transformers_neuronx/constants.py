"""Fake `transformers_neuronx.constants` (TNx constants.py)."""

from __future__ import annotations

import enum


class GQA(enum.Enum):
    SHARD_OVER_HEADS = "shard-over-heads"
    SHARD_OVER_BATCH = "shard-over-batch"
    REPLICATED_HEADS = "replicated-heads"
    ALL_GATHER_HEADS = "all-gather-heads"


class Layout(str, enum.Enum):
    """Compares equal to its plain string value, like the real Layout.__eq__."""

    HSB = "HSB"
    BSH = "BSH"
    SBH = "SBH"


LAYOUT_BSH = "BSH"
LAYOUT_HSB = "HSB"
LAYOUT_SBH = "SBH"
TILE_SIZE = 128
FUSED_QKV_TP_FACTOR = 3
KV_SHARD_PAD = 128
TRN1_WORLD_SIZE = 32
