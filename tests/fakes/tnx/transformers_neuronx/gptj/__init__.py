"""Fake `transformers_neuronx.gptj` package."""

from __future__ import annotations
