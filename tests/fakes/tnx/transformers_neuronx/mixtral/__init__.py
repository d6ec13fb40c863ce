"""Fake `transformers_neuronx.mixtral` package."""

from __future__ import annotations
