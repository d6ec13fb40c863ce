"""Parallel runs change nothing: every fixture, run through ``runner.run`` with a process pool,
gives the same files, results and order as a serial run, and the expected outputs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.helpers import FIXTURES, fixture_path, render
from tests.test_fixtures import _options
from tnx2nxdi.discovery import SKIP_DIRS
from tnx2nxdi.findings import FileResult, RunResult
from tnx2nxdi.options import Options
from tnx2nxdi.runner import run

#: Every input the runner would pick up in the fixture tree (pairs' inputs and no-op files).
INPUTS = sorted(
    path for path in FIXTURES.rglob("*")
    if path.is_file() and (".in." in path.name or ".noop." in path.name)
)


def _walked(path: Path) -> bool:
    """Whether a walk reaches the fixture's copy: one placed (``path=``) in a directory a walk
    never enters (a copy of TNx's own package) is run only when named (tests/test_fixtures)."""
    parts = Path(fixture_path(path)).relative_to(FIXTURES).parts[:-1]
    return not SKIP_DIRS.intersection(parts)


def _groups() -> dict[tuple[tuple[str, object], ...], list[Path]]:
    """Fixtures a walk reaches, by the options their first line asks for (one run per set of
    options)."""
    groups: dict[tuple[tuple[str, object], ...], list[Path]] = {}
    for path in filter(_walked, INPUTS):
        options = _options(path) if path.suffix == ".py" else {}
        groups.setdefault(tuple(sorted(options.items())), []).append(path)
    return groups


def _copy(paths: list[Path], root: Path) -> list[Path]:
    """Copies under ``root``; a fixture whose first line gives ``path=`` is copied there."""
    copies = []
    for path in paths:
        copy = root / Path(fixture_path(path)).relative_to(FIXTURES)
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, copy)
        copies.append(copy)
        checkpoints = path.parent / "checkpoints"  # what a fixture reads next to itself
        if checkpoints.is_dir() and not (copy.parent / "checkpoints").exists():
            shutil.copytree(checkpoints, copy.parent / "checkpoints")
    return copies


def _relative(result: RunResult, root: Path) -> list[FileResult]:
    return [
        FileResult(str(Path(file.path).relative_to(root)), file.original, file.migrated,
                   file.findings, file.error, file.diff_units, file.skipped)
        for file in result.files
    ]


@pytest.mark.parametrize("mode", ["write", "check"])
def test_fixtures_in_a_pool_match_a_serial_run(tmp_path: Path, mode: str) -> None:
    assert len(INPUTS) >= 20
    for number, (options, paths) in enumerate(_groups().items()):
        trees, results = [], []
        for jobs in (1, 2):
            root = tmp_path / f"group{number}-j{jobs}"
            copies = _copy(paths, root)
            result = run([str(root)], Options(mode=mode, jobs=jobs, **dict(options)))  # type: ignore[arg-type]
            assert len(result.files) == len(copies)
            trees.append({copy.relative_to(root): copy.read_bytes() for copy in copies})
            results.append(_relative(result, root))
        assert results[0] == results[1]
        assert trees[0] == trees[1]
        assert not list(tmp_path.rglob("*.tnx2nxdi")), "a temporary file was left behind"


def test_pool_writes_every_python_fixture_as_expected(tmp_path: Path) -> None:
    """The pool's written files and findings are the fixture expectations, byte for byte."""
    checked = 0
    for options, paths in _groups().items():
        python = [path for path in paths if path.suffix == ".py"]
        root = tmp_path / f"run{checked}"
        copies = _copy(python, root)
        result = run([str(root)], Options(mode="write", jobs=2, **dict(options)))  # type: ignore[arg-type]
        by_path = {Path(file.path): file for file in result.files}
        for source, copy in zip(python, copies, strict=True):
            file = by_path[copy]
            assert file.error is None, (source, file.error)
            if ".noop." in source.name:
                assert copy.read_bytes() == source.read_bytes(), source
                continue
            expected = source.with_name(source.name.replace(".in.py", ".out.py"))
            findings = source.with_name(source.name.replace(".in.py", ".findings.txt"))
            assert copy.read_text() == expected.read_text(), source
            assert render(file.findings) == findings.read_text(), source
            checked += 1
    assert checked >= 10


def test_workers_started_the_platform_way_give_the_same_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where workers are not forked (Windows, macOS, a process with threads) they are spawned
    by multiprocessing: same files, results and order as a serial run."""
    import multiprocessing

    from tnx2nxdi import runner

    python = [path for path in INPUTS if path.suffix == ".py"][:12]
    serial_root, spawned_root = tmp_path / "serial", tmp_path / "spawned"
    _copy(python, serial_root)
    _copy(python, spawned_root)
    serial = run([str(serial_root)], Options(mode="write", jobs=1))
    monkeypatch.setattr(runner, "_forks", lambda: False)
    monkeypatch.setattr(runner, "_start_context", lambda: multiprocessing.get_context("spawn"))
    spawned = run([str(spawned_root)], Options(mode="write", jobs=2))
    assert _relative(spawned, spawned_root) == _relative(serial, serial_root)
    for path in serial_root.rglob("*.py"):
        assert (spawned_root / path.relative_to(serial_root)).read_bytes() == path.read_bytes()


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
@pytest.mark.parametrize("mode", ["write", "check"])
def test_a_large_tree_in_a_git_work_tree_matches_a_serial_run(tmp_path: Path, mode: str) -> None:
    """Over 1,000 files the workers read and screen batches too (handed out while the walk goes
    on, in check mode): same results as a serial run, git's ignores applied the same way, and
    the files git does not ignore (tracked or not) all processed."""
    import subprocess

    from tnx2nxdi import runner

    default = [path for path in _groups()[()] if path.suffix == ".py"]
    trees, results = [], []
    for jobs in (1, 2):
        root = tmp_path / f"j{jobs}"
        copies = _copy(default, root / "fixtures")
        for index in range(runner.PARALLEL_SCREEN_MIN):
            plain = root / f"pkg{index // 100}" / f"mod_{index}.py"
            plain.parent.mkdir(parents=True, exist_ok=True)
            plain.write_text(f"VALUE_{index} = {index}\n")
        (root / "ignored").mkdir()
        (root / "ignored" / "serve.py").write_text(copies[0].read_text())
        (root / ".gitignore").write_text("ignored/\n")
        subprocess.run(["git", "init", "-q"], cwd=root, check=True)
        subprocess.run(["git", "add", "pkg0"], cwd=root, check=True)  # the rest is untracked
        result = run([str(root)], Options(mode=mode, jobs=jobs))
        assert len(result.files) == len(copies) + runner.PARALLEL_SCREEN_MIN
        assert not any("ignored" in file.path for file in result.files)
        trees.append({path.relative_to(root): path.read_bytes() for path in root.rglob("*.py")})
        results.append(_relative(result, root))
    assert results[0] == results[1]
    assert trees[0] == trees[1]
    assert any(file.changed for file in results[0])
