"""Fake `huggingface_hub`: snapshot_download and the repo-id validation.

snapshot_download(repo_id) "downloads" a checkpoint: it creates a local directory holding the
config.json the fake transformers guesses for that name (see _fake_fs) and returns its path. With
local_dir= that directory is used; otherwise a cache directory in the sandbox. An invalid repo id
(an absolute path, "org/name/" with NxDI's trailing "/", ...) raises HFValidationError as the real
library does before any network access. STRICTER THAN THE REAL LIBRARY: a repo id that is also a
local directory is refused too (a program that downloads its local checkpoint is wrong).
"""

from __future__ import annotations

import os
from typing import Any

from _fake_fs import HFValidationError, host, validate_repo_id, write_checkpoint
from _fake_recorder import record

__version__ = "0.26.5+fake"
__all__ = ["HFValidationError", "snapshot_download"]

_CACHE = "hf-cache"


def snapshot_download(repo_id: str, *, repo_type: str | None = None,
                      revision: str | None = None, cache_dir: str | os.PathLike[str] | None = None,
                      local_dir: str | os.PathLike[str] | None = None, **_: Any) -> str:
    from transformers import guessed_config

    validate_repo_id(repo_id)
    if host(repo_id).is_dir():
        raise HFValidationError(f"{repo_id!r} is a local directory, not a Hub repository to "
                                "download")
    if local_dir is not None:
        target = os.fspath(local_dir)
    else:
        cache = os.fspath(cache_dir) if cache_dir is not None else _CACHE
        folder = "models--" + repo_id.replace("/", "--")
        target = os.path.join(cache, folder, "snapshots", revision or "main")
    write_checkpoint(target, guessed_config(repo_id))
    record("hub_download", repo_id=repo_id, path=target)
    return target if local_dir is not None else os.path.abspath(host(target))
