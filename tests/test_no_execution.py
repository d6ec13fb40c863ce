"""The tool never executes, imports or evaluates user code, and writes only the files it was given
or found (docs/reliability.md).

Two kinds of evidence: runs over a tree whose every file would leave a trace (a sentinel file)
if it were executed or imported, including modules that shadow the tool's own dependencies; and a
scan of the tool's source for the calls that could run code, each allowed use named with why.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from tnx2nxdi.cli import main

SRC = Path(__file__).resolve().parent.parent / "src" / "tnx2nxdi"


def _trap(name: str) -> str:
    """Python code that leaves ``<name>.ran`` next to itself and aborts, if it ever runs."""
    return (
        "import pathlib\n"
        f"pathlib.Path(__file__).with_name('{name}.ran').write_text('executed')\n"
        f"raise SystemExit('{name} was executed')\n"
    )


TNX_TAIL = (
    "from transformers_neuronx import LlamaForSampling\n"
    "model = LlamaForSampling.from_pretrained('/m/llama', tp_degree=8)\n"
    "model.to_neuron()\n"
)


@pytest.fixture
def trapped(tmp_path: Path) -> Path:
    """A repository in which running, importing or evaluating anything leaves a .ran file."""
    root = tmp_path / "repo"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text(_trap("pkg_init") + TNX_TAIL)
    (root / "pkg" / "serve.py").write_text(_trap("serve") + TNX_TAIL)
    (root / "setup.py").write_text(_trap("setup"))
    (root / "conftest.py").write_text(_trap("conftest") + "# transformers_neuronx\n")
    # Modules named like what the tool itself imports, or like what TNx programs import.
    for shadow in ("transformers_neuronx", "libcst", "click", "nbformat", "torch",
                   "sitecustomize", "usercustomize"):
        (root / f"{shadow}.py").write_text(_trap(shadow))
    (root / "eval_me.py").write_text(
        "import transformers_neuronx\n"
        "value = __import__('os').system('touch eval_me.ran')\n"
        "x = eval(\"open('eval_me.ran', 'w')\")\n"
    )
    (root / "train.ipynb").write_text(json.dumps({
        "cells": [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                   "source": [_trap("notebook"), TNX_TAIL]}],
        "metadata": {}, "nbformat": 4, "nbformat_minor": 5,
    }))
    (root / "launch.sh").write_text(
        "#!/bin/bash\ntouch \"$(dirname \"$0\")/launch.ran\"\n"
        "python -c 'import transformers_neuronx'\n"
    )
    return root


def _snapshot(root: Path) -> dict[str, bytes]:
    return {str(path.relative_to(root)): path.read_bytes()
            for path in sorted(root.rglob("*")) if path.is_file()}


def _ran(root: Path) -> list[str]:
    return sorted(str(path.relative_to(root)) for path in root.rglob("*.ran"))


@pytest.mark.parametrize("mode", [[], ["--diff"], ["--check"]])
def test_running_over_a_trapped_tree_executes_nothing(trapped: Path, mode: list[str]) -> None:
    before = _snapshot(trapped)
    result = CliRunner().invoke(main, [*mode, "-j", "1", str(trapped)])
    assert result.exit_code in (1, 2), result.output
    assert _ran(trapped) == []
    after = _snapshot(trapped)
    assert set(after) == set(before), "files were created or removed"
    changed = sorted(name for name in before if before[name] != after[name])
    if mode:
        assert changed == []
    else:  # only files that use TNx are rewritten
        assert set(changed) <= {"pkg/__init__.py", "pkg/serve.py", "train.ipynb", "eval_me.py"}
        assert "pkg/serve.py" in changed


def _console_script() -> list[str]:
    command = shutil.which("tnx2nxdi", path=str(Path(sys.executable).parent))
    if command is None:
        pytest.skip("the tnx2nxdi console script is not installed next to this Python")
    return [command]


@pytest.mark.parametrize("how", ["script", "python -m"])
def test_the_command_run_inside_the_repository_executes_nothing(trapped: Path, how: str) -> None:
    """Run from inside the repository, whose working directory holds modules named like the
    tool's own dependencies (`python -m` puts it first on sys.path), over several workers."""
    command = _console_script() if how == "script" else [sys.executable, "-m", "tnx2nxdi"]
    before = _snapshot(trapped)
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    done = subprocess.run([*command, "-j", "2", "."], cwd=trapped, capture_output=True,
                          text=True, env=env, timeout=300)
    assert done.returncode in (1, 2), done.stdout + done.stderr
    assert "was executed" not in done.stdout + done.stderr
    assert _ran(trapped) == []
    assert set(_snapshot(trapped)) == set(before)


def test_stdin_is_not_executed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = _trap("stdin").replace("__file__", repr(str(tmp_path / "stdin.py"))) + TNX_TAIL
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["-"], input=source)
    assert result.exit_code == 1
    assert _ran(tmp_path) == []
    assert list(tmp_path.iterdir()) == []  # and nothing was written next to it


# --- the source itself ---------------------------------------------------------------------

#: Calls that can run code, and the only places allowed to make them (module, call: why).
ALLOWED = {
    ("discovery.py", "subprocess.run"): "asks `git` which files are ignored (reads nothing run)",
    ("shell.py", "subprocess.run"): "asks `bash -n` (parse only, never run) whether a rewritten "
    "script parses; the script is given on stdin",
    ("notebook.py", "compile"): "compiles (never runs) a migrated cell to check it",
    ("__init__.py", "compile"): "the engine compiles (never runs) the migration, and parses "
    "the input",
    ("nodes.py", "ast.literal_eval"): "reads literal option values (literals only)",
    ("overrides.py", "ast.literal_eval"): "reads literal override values (literals only)",
}
DANGEROUS = {
    "eval", "exec", "compile", "__import__", "execfile", "import_module", "literal_eval",
    "importlib.import_module", "importlib.__import__", "ast.literal_eval",
    "runpy.run_path", "runpy.run_module", "os.system", "os.popen", "os.execv", "os.execvp",
    "os.spawnv", "os.posix_spawn", "pty.spawn",
    *(f"subprocess.{name}" for name in ("run", "call", "Popen", "check_call", "check_output",
                                        "getoutput", "getstatusoutput")),
}
#: Modules whose import alone says "this file may run things".
RUNNERS = {"subprocess", "runpy", "importlib", "pty", "code", "codeop"}


def _dotted(function: ast.expr) -> str:
    if isinstance(function, ast.Attribute):
        return f"{_dotted(function.value)}.{function.attr}"
    return function.id if isinstance(function, ast.Name) else "?"


def _calls(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {_dotted(node.func) for node in ast.walk(tree)
            if isinstance(node, ast.Call) and _dotted(node.func) in DANGEROUS}


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names & RUNNERS


def test_source_runs_nothing_but_the_allowed_calls() -> None:
    found = {(path.name, name) for path in SRC.rglob("*.py") for name in _calls(path)}
    assert found <= set(ALLOWED), sorted(found - set(ALLOWED))


def test_only_the_allowed_modules_import_process_or_import_machinery() -> None:
    allowed = {module for module, _ in ALLOWED}
    found = {path.name for path in SRC.rglob("*.py") if _imports(path)}
    assert found <= allowed, sorted(found - allowed)


def test_subprocesses_are_given_text_on_stdin_never_a_user_file_to_run() -> None:
    for name in ("shell.py", "discovery.py"):
        path = SRC / name
        if not path.exists():
            continue
        text = path.read_text()
        assert "shell=True" not in text
    shell = SRC / "shell.py"
    if shell.exists():
        assert '[bash, "-n"]' in shell.read_text()
