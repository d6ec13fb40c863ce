"""Which files a run looks at: .gitignore, --exclude globs, explicit files and --force-exclude."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tnx2nxdi.discovery import anchor, gather

needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def files(root: Path, *names: str) -> None:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x = 1\n")


def found(paths: list[Path], exclude: tuple[str, ...] = (), *, force: bool = False,
          root: Path) -> list[str]:
    return [
        Path(p).resolve().relative_to(root.resolve()).as_posix()
        for p in gather([str(p) for p in paths], exclude, force_exclude=force)
    ]


def git_init(root: Path) -> None:
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)


def test_walk_is_sorted_and_skips_environments(tmp_path: Path) -> None:
    files(tmp_path, "b.py", "a.py", "pkg/c.py", "notes.txt", ".venv/lib/x.py",
          "env/pyvenv.cfg", "env/lib/y.py", "pkg/__pycache__/c.py")
    assert found([tmp_path], root=tmp_path) == ["a.py", "b.py", "pkg/c.py"]


def test_a_copy_of_the_tnx_package_is_not_walked_but_a_file_in_it_named_is_read(
    tmp_path: Path,
) -> None:
    files(tmp_path, "serve.py", "src/transformers_neuronx/llama/model.py",
          "transformers-neuronx/inference/run.py")
    assert found([tmp_path], root=tmp_path) == ["serve.py", "transformers-neuronx/inference/run.py"]
    named = tmp_path / "src/transformers_neuronx/llama/model.py"
    assert found([named], root=tmp_path) == ["src/transformers_neuronx/llama/model.py"]


@needs_git
def test_gitignored_paths_are_skipped_when_walking(tmp_path: Path) -> None:
    git_init(tmp_path)
    (tmp_path / ".gitignore").write_text("generated/\n*_pb2.py\n")
    files(tmp_path, "keep.py", "generated/model.py", "proto/api_pb2.py", "proto/api.py")
    assert found([tmp_path], root=tmp_path) == ["keep.py", "proto/api.py"]


@needs_git
def test_tracked_and_untracked_files_are_both_seen(tmp_path: Path) -> None:
    git_init(tmp_path)
    files(tmp_path, "tracked.py", "untracked.py")
    subprocess.run(["git", "add", "tracked.py"], cwd=tmp_path, check=True)
    assert found([tmp_path], root=tmp_path) == ["tracked.py", "untracked.py"]


@needs_git
def test_walking_a_subdirectory_of_a_work_tree(tmp_path: Path) -> None:
    git_init(tmp_path)
    (tmp_path / ".gitignore").write_text("sub/skip.py\n")
    files(tmp_path, "sub/keep.py", "sub/skip.py", "top.py")
    assert found([tmp_path / "sub"], root=tmp_path) == ["sub/keep.py"]


def test_outside_git_nothing_is_skipped_for_gitignore(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text("*.py\n")
    files(tmp_path, "a.py")
    assert found([tmp_path], root=tmp_path) == ["a.py"]


def test_exclude_globs(tmp_path: Path) -> None:
    files(tmp_path, "a.py", "legacy/old.py", "pkg/legacy/old.py", "pkg/b_old.py",
          "pkg/gen/x.py", "gen/y.py")
    exclude = (anchor("legacy", tmp_path), anchor("*_old.py", tmp_path),
               anchor("pkg/gen", tmp_path))
    assert found([tmp_path], exclude, root=tmp_path) == ["a.py", "gen/y.py"]


def test_explicit_files_are_processed_unless_force_exclude(tmp_path: Path) -> None:
    files(tmp_path, "legacy/old.py", "a.py")
    exclude = (anchor("legacy", tmp_path),)
    named = [tmp_path / "legacy" / "old.py", tmp_path / "a.py"]
    assert found(named, exclude, root=tmp_path) == ["legacy/old.py", "a.py"]
    assert found(named, exclude, force=True, root=tmp_path) == ["a.py"]


@needs_git
def test_force_exclude_applies_gitignore_to_explicit_files(tmp_path: Path) -> None:
    git_init(tmp_path)
    (tmp_path / ".gitignore").write_text("scratch.py\n")
    files(tmp_path, "scratch.py", "a.py")
    named = [tmp_path / "scratch.py", tmp_path / "a.py"]
    assert found(named, root=tmp_path) == ["scratch.py", "a.py"]
    assert found(named, force=True, root=tmp_path) == ["a.py"]


def test_bare_names_match_the_path_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files(tmp_path, "proj/legacy/a.py")
    monkeypatch.chdir(tmp_path / "proj")
    # The directory the checkout lives in is not part of a relative path, so it never matches.
    above = (anchor(tmp_path.name, tmp_path),)
    assert [str(p) for p in gather(["legacy/a.py"], above, force_exclude=True)] == [
        "legacy/a.py"
    ]
    inside = (anchor("legacy", tmp_path),)
    assert list(gather(["legacy/a.py"], inside, force_exclude=True)) == []


def test_anchor() -> None:
    base = Path("/repo")
    assert anchor("legacy", base) == "legacy"
    assert anchor("legacy/", base) == "legacy"
    assert anchor("./src/gen/*", base) == "/repo/src/gen/*"
    assert anchor("/abs/path", base) == "/abs/path"
    assert anchor("a[b]/c", Path("/we[i]rd")) == "/we[[]i]rd/a[b]/c"


def test_each_file_once(tmp_path: Path) -> None:
    files(tmp_path, "a.py")
    assert found([tmp_path, tmp_path / "a.py"], root=tmp_path) == ["a.py"]


@needs_git
def test_force_exclude_from_inside_the_work_tree_uses_one_git_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    git_init(tmp_path)
    (tmp_path / ".gitignore").write_text("scratch.py\nout/\n")
    files(tmp_path, "scratch.py", "a.py", "out/b.py", "pkg/c.py")
    monkeypatch.chdir(tmp_path)
    calls: list[tuple[str, ...]] = []
    real_run = subprocess.run

    def counting_run(args: list[str], **kwargs: object) -> object:
        calls.append(tuple(args))
        return real_run(args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(subprocess, "run", counting_run)
    named = ["scratch.py", "a.py", "out/b.py", "pkg/c.py"]
    assert [str(p) for p in gather(named, force_exclude=True)] == ["a.py", "pkg/c.py"]
    assert len(calls) == 1 and calls[0][1] == "check-ignore"


@needs_git
def test_a_named_directory_git_ignores_as_a_whole_is_walked(tmp_path: Path) -> None:
    git_init(tmp_path)
    (tmp_path / ".gitignore").write_text("experiments/\n")
    files(tmp_path, "experiments/run.py", "experiments/sub/x.py", "a.py")
    assert found([tmp_path / "experiments"], root=tmp_path) == [
        "experiments/run.py", "experiments/sub/x.py"
    ]
    assert found([tmp_path], root=tmp_path) == ["a.py"]


def _git_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, ...]]:
    calls: list[tuple[str, ...]] = []
    real_run = subprocess.run

    def counting_run(args: list[str], **kwargs: object) -> object:
        calls.append(tuple(args))
        return real_run(args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(subprocess, "run", counting_run)
    return calls


def test_outside_any_work_tree_git_is_not_asked(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    if any((parent / ".git").exists() for parent in (tmp_path, *tmp_path.parents)):
        pytest.skip("the temporary directory is inside a git work tree")
    files(tmp_path, "a.py", "pkg/b.py")
    monkeypatch.delenv("GIT_DIR", raising=False)
    monkeypatch.delenv("GIT_WORK_TREE", raising=False)
    calls = _git_calls(monkeypatch)
    assert found([tmp_path], root=tmp_path) == ["a.py", "pkg/b.py"]
    assert calls == []
    monkeypatch.setenv("GIT_DIR", str(tmp_path / "elsewhere.git"))  # git decides, then
    assert found([tmp_path], root=tmp_path) == ["a.py", "pkg/b.py"]
    assert calls and calls[0][1] == "ls-files"


@needs_git
def test_inside_a_work_tree_git_is_asked_once_per_named_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    git_init(tmp_path)
    files(tmp_path, "a.py", "pkg/b.py")
    calls = _git_calls(monkeypatch)
    assert found([tmp_path / "pkg"], root=tmp_path) == ["pkg/b.py"]
    assert [call[1] for call in calls] == ["ls-files"]


def test_suffixes_as_path_suffix_reads_them(tmp_path: Path) -> None:
    files(tmp_path, ".py", "..py", "a.py", "b.PY", "c.py.txt", "d.ipynb", "e.sh", ".sh", "f.")
    expected = sorted(name for name in ("..py", "a.py", "d.ipynb", "e.sh")
                      if Path(name).suffix in (".py", ".ipynb", ".sh"))
    assert found([tmp_path], root=tmp_path) == expected
