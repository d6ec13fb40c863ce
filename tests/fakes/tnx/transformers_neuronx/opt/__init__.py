"""Fake `transformers_neuronx.opt` package."""

from __future__ import annotations
