"""Fake `transformers_neuronx.testing` (exists only because the real package exports it)."""

from __future__ import annotations
