"""Fake `transformers_neuronx.bloom` package."""

from __future__ import annotations
