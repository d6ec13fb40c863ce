"""Where the fakes keep files, and what a checkpoint path names (shared by every fake package).

* A program runs with cwd = its sandbox directory (tests/execution.py), so relative paths stay in
  it. An absolute path outside the sandbox and outside the system temporary directory (e.g. a
  fixture's "/models/llama-2-7b") is *redirected* below the sandbox (``<sandbox>/.abs/models/...``)
  for every file the fakes read or write, so a run never touches the real root. The program's own
  os/pathlib calls are not redirected: they see the real file system.
* A Hugging Face checkpoint, for the fakes, is a local directory holding config.json (weights are
  never modelled). A path that is not a local directory but is a valid Hugging Face repo id
  ("org/name", "gpt2") names a hub checkpoint: the fake transformers "downloads" its config (the
  defaults guessed from the name), like transformers does; NxDI's application classes cannot read
  weights from one (they need a local directory; see the fake NxDI).
* Provisioning (the TNx side): the original program is taken to run on its author's machine, so a
  local checkpoint it reads that does not exist here is created (config.json with the guessed
  defaults) and recorded as a "checkpoint" event; the harness creates the same checkpoints before
  running the migrated program. Without provisioning a missing local checkpoint is an OSError.

Environment (set by tests/execution.py): TNX2NXDI_FAKE_SANDBOX (the sandbox directory) and
TNX2NXDI_FAKE_PROVISION_CHECKPOINTS ("1" on the TNx side).
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

SANDBOX_ENV = "TNX2NXDI_FAKE_SANDBOX"
PROVISION_ENV = "TNX2NXDI_FAKE_PROVISION_CHECKPOINTS"
REDIRECTED = ".abs"
CONFIG_FILE = "config.json"
NXDI_CONFIG_FILE = "neuron_config.json"

# huggingface_hub.utils.validate_repo_id: "name" or "namespace/name"; letters, digits, "-", "_"
# and "."; "--" and ".." forbidden; "-" and "." never first or last; at most 96 characters.
_REPO_PART = r"[A-Za-z0-9_](?:[\w.-]*[A-Za-z0-9_])?"
_REPO_ID = re.compile(rf"^(?:{_REPO_PART}/)?{_REPO_PART}$")


class HFValidationError(ValueError):
    """huggingface_hub's error for a string that is not a valid repo id."""


def is_repo_id(text: Any) -> bool:
    """Whether `text` is a valid Hugging Face repo id (the trailing "/" NxDI adds is not)."""
    return (isinstance(text, str) and len(text) <= 96 and _REPO_ID.match(text) is not None
            and "--" not in text and ".." not in text)


def validate_repo_id(text: Any) -> None:
    if not is_repo_id(text):
        raise HFValidationError(
            f"Repo id must be in the form 'repo_name' or 'namespace/repo_name': {text!r}. Use "
            "`repo_type` argument if needed.")


def _inside(path: Path, directory: str | None) -> bool:
    if not directory:
        return False
    try:
        path.relative_to(os.path.realpath(directory))
    except ValueError:
        return False
    return True


def host(path: str | os.PathLike[str]) -> Path:
    """Where the fakes keep the file a program names `path` (see the module docstring)."""
    candidate = Path(os.path.expanduser(os.fspath(path)))
    sandbox = os.environ.get(SANDBOX_ENV)
    if not sandbox or not candidate.is_absolute():
        return candidate
    real = Path(os.path.realpath(candidate))
    if _inside(real, sandbox) or _inside(real, tempfile.gettempdir()):
        return candidate
    return Path(sandbox, REDIRECTED, *real.parts[1:])


def normalize_path(path: str | os.PathLike[str]) -> str:
    """NxDI's normalize_path: normpath plus a trailing "/" ("org/name" becomes "org/name/")."""
    return os.path.join(os.path.normpath(os.fspath(path)), "")


def holds_checkpoint(path: str | os.PathLike[str]) -> bool:
    directory = host(path)
    return directory.is_dir() and (directory / CONFIG_FILE).is_file()


def holds_compiled_nxdi(path: str | os.PathLike[str]) -> bool:
    return (host(path) / NXDI_CONFIG_FILE).is_file()


def write_checkpoint(path: str | os.PathLike[str], config: dict[str, Any]) -> None:
    """Create the local checkpoint `path` with `config` as its config.json."""
    directory = host(path)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / CONFIG_FILE).write_text(json.dumps(config))


def checkpoint_config(path: str | os.PathLike[str]) -> dict[str, Any] | None:
    """config.json of the checkpoint `path`: a dict for a local checkpoint, None for a hub id
    (the caller guesses the published config from the name). Raises OSError otherwise, unless
    provisioning is on (then the checkpoint is created and recorded)."""
    text = os.fspath(path)
    directory = host(text)
    if directory.is_dir():
        config_file = directory / CONFIG_FILE
        if config_file.is_file():
            loaded: dict[str, Any] = json.loads(config_file.read_text())
            return loaded
        what = (" (it holds compiled NxDI artifacts: neuron_config.json, no Hugging Face "
                "checkpoint)" if holds_compiled_nxdi(text) else "")
        raise OSError(f"{text} does not appear to have a file named config.json{what}")
    if is_repo_id(text):
        return None
    if os.environ.get(PROVISION_ENV) == "1":
        from _fake_recorder import record

        write_checkpoint(text, {})
        record("checkpoint", path=text, config={})
        return {}
    raise OSError(f"Incorrect path_or_model_id: {text!r}. It is not a local directory holding "
                  "config.json, nor a valid Hugging Face repo id.")
