"""The file-kinds table (``tnx2nxdi.kinds.KINDS``) is the one list of suffixes: directory walks,
the pre-commit hooks, the command's help and the fixtures all follow it (docs/contributing.md,
"A new file kind")."""

from __future__ import annotations

import re

import yaml

from tests.helpers import FIXTURE_SUFFIXES, ROOT
from tnx2nxdi import discovery, kinds
from tnx2nxdi.cli import main


def test_directory_walks_look_for_every_kind() -> None:
    assert set(discovery.SUFFIXES) == set(kinds.KINDS) == kinds.SUFFIXES


def test_the_precommit_hooks_pass_every_kind() -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    for hook in hooks:
        for suffix in kinds.KINDS:
            assert re.search(hook["files"], f"dir/file{suffix}"), (hook["id"], suffix)


def test_the_help_names_every_kind() -> None:
    assert main.help is not None
    for suffix in kinds.KINDS:
        assert suffix in main.help, suffix


def test_every_kind_has_fixtures() -> None:
    assert set(FIXTURE_SUFFIXES) == set(kinds.KINDS)


def test_unknown_suffixes_and_standard_input_are_read_as_python() -> None:
    assert kinds.kind_for(None) is kinds.DEFAULT_KIND is kinds.KINDS[".py"]
    assert kinds.kind_for("script.txt") is kinds.DEFAULT_KIND
    assert kinds.kind_for("launch.sh") is kinds.KINDS[".sh"]
