"""The hooks of ``.pre-commit-hooks.yaml``, run by the real ``pre-commit try-repo``.

``try-repo`` installs a hook repository at a commit. The working tree under test may hold changes
that are not committed (and try-repo ignores untracked files), so the test commits a copy of the
package files into a throwaway repository and points try-repo at that. Nothing is fetched from a
remote: the hook repository is a local path; pre-commit's environment installs the package and its
dependencies like ``pip install .`` does.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

#: What a pip install of the package needs, plus the hook manifest.
PACKAGE_FILES = ("pyproject.toml", "README.md", ".pre-commit-hooks.yaml", "src")

TNX = (
    "from transformers_neuronx import LlamaForSampling\n"
    "\n"
    'model = LlamaForSampling.from_pretrained("/m/llama", tp_degree=8)\n'
    "model.to_neuron()\n"
    'model.save("out")\n'
)
NEEDS_A_PERSON = (
    "from transformers_neuronx.gpt2.model import GPT2ForSampling\n"
    "\n"
    'model = GPT2ForSampling.from_pretrained("/m/gpt2")\n'
)
CLEAN = "print('no TNx here')\n"
LAUNCH = "#!/bin/bash\nvllm serve /m/llama --device neuron --tensor-parallel-size 8\n"
FRAMEWORK = "export VLLM_NEURON_FRAMEWORK=neuronx-distributed-inference\n"


def _env() -> dict[str, str]:
    # A run from inside a git hook would otherwise point every git call at the outer repository.
    env = {key: value for key, value in os.environ.items() if not key.startswith("GIT_")}
    env.update({
        "GIT_AUTHOR_NAME": "test", "GIT_AUTHOR_EMAIL": "test@example.invalid",
        "GIT_COMMITTER_NAME": "test", "GIT_COMMITTER_EMAIL": "test@example.invalid",
        "PRE_COMMIT_COLOR": "never",
    })
    return env


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, env=_env(), check=True, capture_output=True)


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A committed copy of the package as it is in the working tree now."""
    repo = tmp_path_factory.mktemp("hook-repo")
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "*.pyc")
    for name in PACKAGE_FILES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, repo / name, ignore=ignore)
        else:
            shutil.copy2(source, repo / name)
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "tnx2nxdi under test")
    return repo


@pytest.fixture
def user_repo(tmp_path: Path) -> Path:
    """A project with TNx code, a launch script, a clean file and an excluded directory, all
    staged."""
    repo = tmp_path / "project"
    (repo / "legacy").mkdir(parents=True)
    (repo / "serve.py").write_text(TNX)
    (repo / "gpt2.py").write_text(NEEDS_A_PERSON)
    (repo / "clean.py").write_text(CLEAN)
    (repo / "serve.sh").write_text(LAUNCH)
    (repo / "run-server").write_text(LAUNCH)  # a shell script without .sh: not handed over
    (repo / "run-server").chmod(0o755)  # (pre-commit reads the shebang of executables only)
    (repo / "legacy" / "old.py").write_text(TNX)
    (repo / "pyproject.toml").write_text('[tool.tnx2nxdi]\nexclude = ["legacy"]\n')
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    return repo


def try_repo(hook_repo: Path, user_repo: Path, hook: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(hook_repo), hook],
        cwd=user_repo, env=_env(), capture_output=True, text=True, timeout=600, check=False,
    )


def test_rewriting_hook_migrates_staged_files_and_fails_the_commit(
    hook_repo: Path, user_repo: Path
) -> None:
    result = try_repo(hook_repo, user_repo, "tnx2nxdi")
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "Failed" in output and "files were modified by this hook" in output
    migrated = (user_repo / "serve.py").read_text()
    assert "NeuronLlamaForCausalLM" in migrated and "transformers_neuronx" not in migrated
    assert "TNX203" in output  # GPT-2 needs a person: reported, and a marker is left
    assert "# TODO(tnx2nxdi): TNX203" in (user_repo / "gpt2.py").read_text()
    assert (user_repo / "clean.py").read_text() == CLEAN
    assert (user_repo / "legacy" / "old.py").read_text() == TNX  # [tool.tnx2nxdi] exclude
    assert (user_repo / "serve.sh").read_text() == LAUNCH.replace("vllm", FRAMEWORK + "vllm", 1)
    assert (user_repo / "run-server").read_text() == LAUNCH
    assert "run-server" not in output and "exit code: 2" not in output


def test_check_hook_reports_and_writes_nothing(hook_repo: Path, user_repo: Path) -> None:
    result = try_repo(hook_repo, user_repo, "tnx2nxdi-check")
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "Failed" in output and "files were modified" not in output
    assert "Would migrate serve.py" in output and "TNX203" in output
    assert (user_repo / "serve.py").read_text() == TNX
    assert (user_repo / "gpt2.py").read_text() == NEEDS_A_PERSON
    assert (user_repo / "serve.sh").read_text() == LAUNCH
