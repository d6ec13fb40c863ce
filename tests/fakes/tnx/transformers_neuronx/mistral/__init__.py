"""Fake `transformers_neuronx.mistral` package."""

from __future__ import annotations
