"""Fake `huggingface_hub`: `snapshot_download(repo_id)` gives a local directory for a Hub id.

The real function downloads the repository into the local cache and returns its directory;
here the directory is made under the current directory (``hub/<repo_id>``) and the download is
recorded. A path that is already a local directory is refused, as the real function refuses
anything that is not a repo id.
"""

from __future__ import annotations

import os
import re
from typing import Any

from _fake_recorder import record

_REPO_ID = re.compile(r"^[\w.-]+(/[\w.-]+)?$")


def snapshot_download(repo_id: str, **kwargs: Any) -> str:
    if not isinstance(repo_id, str) or not _REPO_ID.match(repo_id) or os.path.isdir(repo_id):
        raise ValueError(f"Repo id must be in the form 'repo_name' or 'namespace/repo_name': "
                         f"{repo_id!r}")
    path = os.path.join(os.getcwd(), "hub", repo_id)
    os.makedirs(path, exist_ok=True)
    record("hub_download", repo_id=repo_id, path=path)
    return path
