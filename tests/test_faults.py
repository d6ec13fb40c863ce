"""Faults while writing: the original survives, the failure is reported, nothing is left behind.

Disk full, permission denied, read-only files, vanished directories and Ctrl-C are simulated by
monkeypatching the few OS calls the atomic write makes (tests run as root in CI containers, where
chmod alone cannot deny anything). Also: each file is processed once however it is named, and a
walk never follows symlinks out of the directories it was given (docs/reliability.md).
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import libcst
import pytest
from click.testing import CliRunner, Result

import tnx2nxdi.runner
from tnx2nxdi import sources
from tnx2nxdi.cli import main
from tnx2nxdi.kinds.python import migrate_source
from tnx2nxdi.options import Options

TNX = (
    "from transformers_neuronx import LlamaForSampling\n"
    "\n"
    "model = LlamaForSampling.from_pretrained('/m/llama', tp_degree={tp})\n"
    "model.to_neuron()\n"
    "model.save('out-{tp}')\n"
)
TEMP_SUFFIX = ".tnx2nxdi"


def source(tp: int = 8) -> str:
    return TNX.format(tp=tp)


def migrated(text: str) -> str:
    result = migrate_source(text, Options())
    assert result.error is None and result.code != text
    return result.code


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def leftovers(root: Path) -> list[Path]:
    """Temporary files of an interrupted or failed write, anywhere under ``root``."""
    return [path for path in root.rglob("*") if path.name.endswith(TEMP_SUFFIX)]


def reported_error(result: Result, path: Path, *words: str) -> None:
    assert result.exit_code == 2, result.output
    [line] = [line for line in result.output.splitlines() if ": error: " in line]
    assert line.startswith(f"{path}: error: cannot write")
    for word in words:
        assert word in line


@pytest.fixture
def victim(tmp_path: Path) -> Path:
    path = tmp_path / "serve.py"
    path.write_text(source())
    return path


# --- a write that fails -------------------------------------------------------------------------

class _HalfWriter:
    """A file object that writes half of what it is given, then fails like a full disk."""

    def __init__(self, stream: Any, failure: BaseException) -> None:
        self.stream = stream
        self.failure = failure

    def write(self, data: bytes) -> int:
        self.stream.write(data[: len(data) // 2])
        self.stream.flush()
        raise self.failure

    def __enter__(self) -> _HalfWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stream.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


def _failing_fdopen(failure: BaseException) -> Callable[..., _HalfWriter]:
    real = os.fdopen

    def fdopen(fd: int, *args: Any, **kwargs: Any) -> _HalfWriter:
        return _HalfWriter(real(fd, *args, **kwargs), failure)

    return fdopen


def test_disk_full_midway_keeps_the_original(victim: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sources.os, "fdopen", _failing_fdopen(
        OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))))
    result = run(str(victim))
    reported_error(result, victim, os.strerror(errno.ENOSPC))
    assert victim.read_text() == source()
    assert leftovers(victim.parent) == []


def test_fsync_failure_keeps_the_original(victim: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def fsync(fd: int) -> None:
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr(sources.os, "fsync", fsync)
    reported_error(run(str(victim)), victim, os.strerror(errno.EIO))
    assert victim.read_text() == source()
    assert leftovers(victim.parent) == []


def test_rename_failure_keeps_the_original(victim: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def replace(src: str, dst: str) -> None:
        raise OSError(errno.EXDEV, os.strerror(errno.EXDEV))

    monkeypatch.setattr(sources.os, "replace", replace)
    reported_error(run(str(victim)), victim)
    assert victim.read_text() == source()
    assert leftovers(victim.parent) == []


def test_read_only_file_is_not_replaced(victim: Path) -> None:
    victim.chmod(0o444)
    reported_error(run(str(victim)), victim, "read-only")
    assert victim.read_text() == source()
    assert stat.S_IMODE(victim.stat().st_mode) == 0o444
    assert leftovers(victim.parent) == []


def test_directory_without_write_permission(victim: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def mkstemp(*args: Any, **kwargs: Any) -> tuple[int, str]:
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))

    monkeypatch.setattr(sources.tempfile, "mkstemp", mkstemp)
    reported_error(run(str(victim)), victim, os.strerror(errno.EACCES))
    assert victim.read_text() == source()


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into any directory")
def test_directory_without_write_permission_for_real(victim: Path) -> None:
    victim.parent.chmod(0o555)
    try:
        reported_error(run(str(victim)), victim)
        assert victim.read_text() == source()
    finally:
        victim.parent.chmod(0o755)


def test_unreadable_file_is_reported(victim: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = Path.read_bytes

    def read_bytes(self: Path) -> bytes:
        if self == victim:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    result = run(str(victim))
    assert result.exit_code == 2
    assert f"{victim}: error: cannot read: {os.strerror(errno.EACCES)}" in result.output
    monkeypatch.undo()
    assert victim.read_text() == source()


def test_directory_vanishes_before_the_write(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "pkg"
    folder.mkdir()
    path = folder / "serve.py"
    path.write_text(source())
    real = tnx2nxdi.runner.process_bytes

    def process_bytes(*args: Any, **kwargs: Any) -> Any:
        outcome = real(*args, **kwargs)
        shutil.rmtree(folder)
        return outcome

    monkeypatch.setattr(tnx2nxdi.runner, "process_bytes", process_bytes)
    reported_error(run(str(path)), path)
    assert not folder.exists() and leftovers(tmp_path) == []


def test_directory_vanishes_during_the_write(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "pkg"
    folder.mkdir()
    path = folder / "serve.py"
    path.write_text(source())
    real = os.replace

    def replace(src: str, dst: str) -> None:
        shutil.rmtree(folder)
        real(src, dst)

    monkeypatch.setattr(sources.os, "replace", replace)
    reported_error(run(str(path)), path)
    assert not folder.exists() and leftovers(tmp_path) == []


def test_permission_bits_are_kept(victim: Path) -> None:
    victim.chmod(0o751)
    assert run(str(victim)).exit_code == 1
    assert stat.S_IMODE(victim.stat().st_mode) == 0o751
    assert victim.read_text() == migrated(source())


# --- Ctrl-C during a multi-file run ------------------------------------------------------------

COUNT = 6


@pytest.fixture
def project(tmp_path: Path) -> Iterator[tuple[Path, dict[Path, tuple[str, str]]]]:
    """Six TNx files; for each, (old text, new text)."""
    root = tmp_path / "project"
    root.mkdir()
    expected = {}
    for index in range(COUNT):
        path = root / f"model_{index}.py"
        text = source(tp=2 ** (index % 4))
        path.write_text(text)
        expected[path] = (text, migrated(text))
    yield root, expected


def _interrupt_on_call(number: int, real: Callable[..., Any], after: bool = False
                       ) -> Callable[..., Any]:
    """``real``, except that its ``number``-th call raises KeyboardInterrupt (before or after
    doing its work)."""
    calls = {"count": 0}

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        calls["count"] += 1
        if calls["count"] == number and not after:
            raise KeyboardInterrupt
        result = real(*args, **kwargs)
        if calls["count"] == number:
            raise KeyboardInterrupt
        return result

    return wrapper


def _interrupt_while_writing(number: int) -> Callable[..., Any]:
    real = os.fdopen
    calls = {"count": 0}

    def fdopen(fd: int, *args: Any, **kwargs: Any) -> Any:
        calls["count"] += 1
        stream = real(fd, *args, **kwargs)
        return _HalfWriter(stream, KeyboardInterrupt()) if calls["count"] == number else stream

    return fdopen


INTERRUPTIONS: dict[str, Callable[[pytest.MonkeyPatch, int], None]] = {
    "while migrating": lambda mp, n: mp.setattr(
        tnx2nxdi.runner, "process_bytes", _interrupt_on_call(n, tnx2nxdi.runner.process_bytes)),
    "while parsing": lambda mp, n: mp.setattr(
        libcst, "parse_module", _interrupt_on_call(n, libcst.parse_module)),
    "halfway through a write": lambda mp, n: mp.setattr(
        sources.os, "fdopen", _interrupt_while_writing(n)),
    "in fsync": lambda mp, n: mp.setattr(sources.os, "fsync", _interrupt_on_call(n, os.fsync)),
    "before the rename": lambda mp, n: mp.setattr(
        sources.os, "replace", _interrupt_on_call(n, os.replace)),
    "after the rename": lambda mp, n: mp.setattr(
        sources.os, "replace", _interrupt_on_call(n, os.replace, after=True)),
}


@pytest.mark.parametrize("where", sorted(INTERRUPTIONS))
@pytest.mark.parametrize("jobs, number", [("1", 1), ("1", 3), ("1", COUNT), ("2", 1), ("2", 2)])
def test_ctrl_c_leaves_every_file_old_or_new_and_no_temporary_files(
    project: tuple[Path, dict[Path, tuple[str, str]]], monkeypatch: pytest.MonkeyPatch,
    where: str, number: int, jobs: str,
) -> None:
    """With -j 2 the interruption happens in a (forked) worker, on that worker's n-th call
    (each of the two workers gets about half of the files)."""
    root, expected = project
    INTERRUPTIONS[where](monkeypatch, number)
    result = CliRunner().invoke(main, ["-j", jobs, str(root)])
    assert result.exit_code == 130  # the shell's code for SIGINT
    assert "Interrupted: every file is either unchanged or fully migrated." in result.output
    monkeypatch.undo()
    states = []
    for path, (old, new) in sorted(expected.items()):
        text = path.read_text()
        assert text in (old, new), f"{path.name} is neither the original nor the migration"
        states.append("new" if text == new else "old")
    assert leftovers(root) == []
    if jobs == "1":  # a serial run processes files in order: the interruption splits them
        assert states == sorted(states, key=lambda state: state == "old")
    # And a second, uninterrupted run finishes the job.
    assert run(str(root)).exit_code == (1 if "old" in states else 0)
    assert all(path.read_text() == new for path, (_, new) in expected.items())


# --- each file once; symlinks ---------------------------------------------------------------------

def test_the_same_file_named_twice_is_processed_once(victim: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(victim.parent)
    result = run(str(victim), str(victim), "serve.py", "./serve.py", str(victim.parent))
    assert result.exit_code == 1
    assert "1 file migrated, 0 left unchanged" in result.output
    assert victim.read_text() == migrated(source())


def test_a_symlink_and_its_target_are_processed_once_and_the_link_survives(victim: Path) -> None:
    link = victim.parent / "alias.py"
    link.symlink_to(victim.name)
    result = run(str(link), str(victim))
    assert "1 file migrated, 0 left unchanged" in result.output
    assert link.is_symlink() and os.readlink(link) == victim.name
    assert victim.read_text() == migrated(source())


def test_writing_through_a_symlink_changes_its_target(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    target = real / "serve.py"
    target.write_text(source())
    link = tmp_path / "link.py"
    link.symlink_to(target)
    assert run(str(link)).exit_code == 1
    assert link.is_symlink() and link.resolve() == target
    assert target.read_text() == migrated(source())
    assert leftovers(tmp_path) == []


def test_walking_does_not_follow_symlinks_out_of_the_tree(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "theirs.py").write_text(source(4))
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "ours.py").write_text(source())
    (tree / "linked_dir").symlink_to(outside, target_is_directory=True)
    (tree / "linked_file.py").symlink_to(outside / "theirs.py")
    (tree / "dangling.py").symlink_to(tmp_path / "nowhere.py")
    result = run(str(tree))
    assert result.exit_code == 1
    assert "1 file migrated" in result.output
    assert (outside / "theirs.py").read_text() == source(4)
    assert (tree / "ours.py").read_text() == migrated(source())


def test_symlink_loop_does_not_hang(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "loop").symlink_to(tree, target_is_directory=True)
    (tree / "ours.py").write_text(source())
    assert run(str(tree)).exit_code == 1
    assert (tree / "ours.py").read_text() == migrated(source())
