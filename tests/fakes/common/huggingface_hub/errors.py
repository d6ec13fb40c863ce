"""Fake `huggingface_hub.errors`."""

from _fake_fs import HFValidationError

__all__ = ["HFValidationError"]
