"""Fake `vllm.engine` package."""

from __future__ import annotations
