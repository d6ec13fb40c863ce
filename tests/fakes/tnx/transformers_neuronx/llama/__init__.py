"""Fake `transformers_neuronx.llama` package."""

from __future__ import annotations
