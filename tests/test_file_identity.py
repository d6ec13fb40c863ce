"""A rewritten file stays the same file where the OS allows: its hard links, its owner and group,
its mode; and a file that cannot be written says why."""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from tnx2nxdi import sources
from tnx2nxdi.cli import main

TNX = ("from transformers_neuronx import LlamaForSampling\n"
       "model = LlamaForSampling.from_pretrained('/m/llama', tp_degree=8)\n")


def migrate(path: Path) -> str:
    result = CliRunner().invoke(main, [str(path)], catch_exceptions=False)
    assert result.exit_code == 1, result.output
    return path.read_text()


def leftovers(folder: Path) -> list[str]:
    return [name for name in os.listdir(folder) if name.endswith(".tnx2nxdi")]


def test_hard_links_keep_sharing_the_migrated_file(tmp_path: Path) -> None:
    path = tmp_path / "serve.py"
    path.write_text(TNX)
    link = tmp_path / "serve_link.py"
    os.link(path, link)
    inode = path.stat().st_ino
    migrated = migrate(path)
    assert "NeuronLlamaForCausalLM" in migrated
    assert link.read_text() == migrated and path.stat().st_ino == inode
    assert path.stat().st_nlink == 2 and leftovers(tmp_path) == []


def test_a_single_link_file_is_replaced_atomically_keeping_its_mode(tmp_path: Path) -> None:
    path = tmp_path / "serve.py"
    path.write_text(TNX)
    path.chmod(0o640)
    inode = path.stat().st_ino
    migrate(path)
    assert path.stat().st_ino != inode  # a rename: readers never saw half a file
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0,
                    reason="only root can give a file to another user")
def test_owner_and_group_are_kept_when_root_migrates(tmp_path: Path) -> None:
    path = tmp_path / "serve.py"
    path.write_text(TNX)
    os.chown(path, 65534, 65534)  # nobody / nogroup
    migrate(path)
    assert (path.stat().st_uid, path.stat().st_gid) == (65534, 65534)


@pytest.mark.skipif(not hasattr(os, "chown"), reason="no owners to keep on this OS")
def test_an_owner_the_os_does_not_let_us_give_is_kept_by_writing_in_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "serve.py"
    path.write_text(TNX)
    inode = path.stat().st_ino
    owner = path.stat().st_uid
    real_stat = os.stat

    def stat_of(target: object, *args: object, **kwargs: object) -> os.stat_result:
        info = real_stat(target, *args, **kwargs)  # type: ignore[arg-type]
        if str(target) == str(path):  # the file seems to belong to someone else
            values = list(info)
            values[stat.ST_UID] = owner + 1
            return os.stat_result(values)
        return info

    def chown(*args: object) -> None:
        raise PermissionError(errno.EPERM, os.strerror(errno.EPERM))

    monkeypatch.setattr(sources.os, "stat", stat_of)
    monkeypatch.setattr(sources.os, "chown", chown)
    assert "NeuronLlamaForCausalLM" in migrate(path)
    assert real_stat(path).st_ino == inode and leftovers(tmp_path) == []


def test_a_writable_file_in_a_read_only_directory_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "serve.py"
    path.write_text(TNX)

    def mkstemp(*args: object, **kwargs: object) -> tuple[int, str]:
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))

    monkeypatch.setattr(tempfile, "mkstemp", mkstemp)  # sources imports it only to write
    result = CliRunner().invoke(main, [str(path)])
    assert result.exit_code == 2
    assert (f"{path}: error: cannot write: its directory {tmp_path} is not writable "
            f"({os.strerror(errno.EACCES)}); tnx2nxdi writes a temporary file next to the file "
            "and renames it over the file") in result.output
    assert path.read_text() == TNX
