"""Fake `huggingface_hub.utils`."""

from _fake_fs import HFValidationError, validate_repo_id

__all__ = ["HFValidationError", "validate_repo_id"]
