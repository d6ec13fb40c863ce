"""Fake `transformers_neuronx.gptneox` package."""

from __future__ import annotations
