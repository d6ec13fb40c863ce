"""Fake `transformers_neuronx.gpt2` package."""

from __future__ import annotations
