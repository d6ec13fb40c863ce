"""The runner: prefilter before any parse, a pool only when it pays, input order, per-file
errors, the progress bar, and Ctrl-C leaving every file old or fully rewritten."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tnx2nxdi import kinds, runner
from tnx2nxdi.findings import Outcome
from tnx2nxdi.kinds.python import migrate_python, migrate_source
from tnx2nxdi.options import Options
from tnx2nxdi.runner import run

TNX = (
    "from transformers_neuronx import LlamaForSampling\n"
    "\n"
    "model = LlamaForSampling.from_pretrained('/m/llama', tp_degree=8, amp='bf16')\n"
    "model.to_neuron()\n"
    "model.save('out')\n"
)
PLAIN = "import transformers\n\nprint(transformers.__version__)\n"


def _helpers(count: int) -> str:
    """Ordinary code that makes a TNx file take a while to migrate."""
    return "".join(
        f"\n\ndef helper_{i}(items: list[int]) -> int:\n"
        f"    total = 0\n"
        f"    for item in items:\n"
        f"        total += item * {i} if item % 2 else -item\n"
        f"    return total\n"
        for i in range(count)
    )


def _tree(root: Path, tnx: int, plain: int, helpers: int = 0) -> list[Path]:
    """``tnx`` TNx programs spread among ``plain`` other modules; returned in walk order."""
    step = (tnx + plain) // tnx if tnx else 0
    paths = []
    for index in range(tnx + plain):
        is_tnx = bool(step) and index % step == 0 and index // step < tnx
        path = root / f"d{index // 10:02d}" / f"{index:03d}_{'serve' if is_tnx else 'mod'}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(TNX + _helpers(helpers) if is_tnx else PLAIN)
        paths.append(path)
    return paths


def _fail(*args: object, **kwargs: object) -> None:
    raise AssertionError("a process pool was started")


def test_results_come_back_in_input_order_with_a_pool(tmp_path: Path) -> None:
    paths = _tree(tmp_path, tnx=12, plain=12, helpers=5)
    serial = run([str(tmp_path)], Options(mode="check", jobs=1))
    parallel = run([str(tmp_path)], Options(mode="check", jobs=3))
    assert [file.path for file in parallel.files] == [str(path) for path in paths]
    assert parallel.files == serial.files
    assert len(parallel.changed) == 12


def test_explicit_paths_keep_their_order(tmp_path: Path) -> None:
    paths = _tree(tmp_path, tnx=4, plain=4)
    shuffled = [str(path) for path in reversed(paths)]
    result = run(shuffled, Options(mode="check", jobs=2))
    assert [file.path for file in result.files] == shuffled


def test_no_pool_for_a_single_file_to_parse(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _tree(tmp_path, tnx=1, plain=30)
    monkeypatch.setattr(runner, "ProcessPoolExecutor", _fail)
    result = run([str(tmp_path)], Options(mode="check", jobs=8))
    assert len(result.changed) == 1
    assert sum(file.skipped for file in result.files) == 30


def test_no_pool_with_one_job(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _tree(tmp_path, tnx=5, plain=0)
    monkeypatch.setattr(runner, "ProcessPoolExecutor", _fail)
    assert len(run([str(tmp_path)], Options(mode="check", jobs=1)).changed) == 5


def test_jobs_below_one_means_one_worker_per_cpu(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _tree(tmp_path, tnx=6, plain=2)
    seen: list[int] = []

    def record(files: object, todo: list[int], options: Options, jobs: int, *rest: object) -> None:
        seen.append(jobs)
        results = rest[0]
        for index in todo:
            results[index] = runner.process_path(files[index], options)  # type: ignore[index]

    monkeypatch.setattr(runner, "_in_pool", record)
    monkeypatch.setattr(runner, "available_cpus", lambda: 4)
    run([str(tmp_path)], Options(mode="check", jobs=0))
    # Never more workers than files that need parsing.
    monkeypatch.setattr(runner, "available_cpus", lambda: 64)
    run([str(tmp_path)], Options(mode="check", jobs=0))
    assert seen == [4, 6]


def test_prefiltered_files_never_import_libcst(tmp_path: Path) -> None:
    _tree(tmp_path, tnx=0, plain=40)
    code = textwrap.dedent(f"""
        import sys
        from tnx2nxdi.options import Options
        from tnx2nxdi.runner import run
        result = run([{str(tmp_path)!r}], Options(mode="check", jobs=4))
        assert all(file.skipped for file in result.files) and len(result.files) == 40
        assert "libcst" not in sys.modules, "LibCST was imported"
    """)
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_crash_on_one_file_is_that_file_s_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = _tree(tmp_path, tnx=3, plain=0)

    def handler(data: bytes, options: Options, path: str | None) -> Outcome:
        if b"crash" in data:
            raise ValueError("boom\nsecond line")
        return migrate_python(data, options, path)

    paths[1].write_text(TNX + "# crash\n")
    monkeypatch.setitem(kinds.KINDS, ".py", kinds.Kind("Python", handler))
    result = run([str(tmp_path)], Options(mode="write", jobs=1))
    errors = [file for file in result.files if file.error]
    assert [Path(file.path) for file in errors] == [paths[1]]
    assert errors[0].error == "TNX999 internal error (ValueError: boom); unchanged"
    assert paths[1].read_text() == TNX + "# crash\n"
    assert len(result.changed) == 2


def test_unreadable_files_are_reported_and_the_run_goes_on(tmp_path: Path) -> None:
    paths = _tree(tmp_path, tnx=2, plain=0)
    missing = tmp_path / "missing.py"
    result = run([str(paths[0]), str(missing), str(paths[1])], Options(mode="check", jobs=2))
    assert [file.error for file in result.files] == [None, "no such file", None]
    assert len(result.changed) == 2


def test_pool_writes_atomically_and_leaves_no_temporary_files(tmp_path: Path) -> None:
    paths = _tree(tmp_path, tnx=8, plain=4)
    expected = migrate_source(TNX, Options()).code
    result = run([str(tmp_path)], Options(mode="write", jobs=2))
    assert len(result.changed) == 8
    for path in paths:
        assert path.read_text() in (expected, PLAIN)
    assert not list(tmp_path.rglob("*.tnx2nxdi"))


def test_progress_bar_only_for_many_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runner, "PROGRESS_DELAY", 0.0)
    few, many = tmp_path / "few", tmp_path / "many"
    _tree(few, tnx=2, plain=3)
    _tree(many, tnx=2, plain=runner.PROGRESS_MIN_FILES)
    stream = io.StringIO()
    run([str(few)], Options(mode="check"), progress=stream)
    assert stream.getvalue() == ""
    run([str(many)], Options(mode="check", jobs=2), progress=stream)
    drawn = stream.getvalue()
    total = runner.PROGRESS_MIN_FILES + 2
    assert f"] {total}/{total} files" in drawn
    assert drawn.startswith("\r[") and drawn.endswith("\r")  # the line is cleared at the end


def test_quick_runs_draw_no_progress(tmp_path: Path) -> None:
    _tree(tmp_path, tnx=0, plain=runner.PROGRESS_MIN_FILES)
    stream = io.StringIO()
    run([str(tmp_path)], Options(mode="check"), progress=stream)
    assert stream.getvalue() == ""


@pytest.mark.skipif(sys.platform == "win32", reason="process groups and SIGINT are POSIX")
@pytest.mark.parametrize("jobs", [1, 2])
def test_ctrl_c_leaves_every_file_old_or_fully_rewritten(tmp_path: Path, jobs: int) -> None:
    paths = _tree(tmp_path, tnx=40, plain=0, helpers=120)
    original = paths[0].read_text()
    expected = migrate_source(original, Options()).code
    command = [sys.executable, "-m", "tnx2nxdi", "-j", str(jobs), str(tmp_path)]
    # A terminal's Ctrl-C signals the whole foreground process group: the CLI and its workers.
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               start_new_session=True)
    deadline = time.monotonic() + 60
    while not any(path.read_text() != original for path in paths):
        assert time.monotonic() < deadline and process.poll() is None, "no file was rewritten"
        time.sleep(0.01)
    os.killpg(process.pid, signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr.decode()
    assert b"Interrupted: every file is either unchanged or fully migrated." in stderr
    contents = [path.read_text() for path in paths]
    assert all(text in (original, expected) for text in contents)
    assert 0 < contents.count(expected) < len(paths), "interrupted neither early nor late"
    assert not list(tmp_path.rglob("*.tnx2nxdi")), "a temporary file was left behind"
    assert b"Traceback" not in stderr, stderr.decode()


def test_prefilter_gates_cover_every_marker() -> None:
    assert len(runner._GATES) < len(runner.PREFILTER_MARKERS)
    for marker in runner.PREFILTER_MARKERS:
        assert any(gate in marker for gate in runner._GATES), marker
        assert runner.needs_handler(b"x = 1\n# " + marker + b"\n")
    assert not runner.needs_handler(b"import transformers\nneuron = 1\nVLLM_NONE = 2\n")


def test_each_file_once_however_it_is_named(tmp_path: Path) -> None:
    root = tmp_path / "tree"
    paths = _tree(root, tnx=3, plain=9)
    link = tmp_path / "link"
    link.symlink_to(root, target_is_directory=True)
    named = [str(root), str(link), str(root / "d00"), str(paths[0])]
    result = run(named, Options(mode="check", jobs=2))
    assert [file.path for file in result.files] == [str(path) for path in paths]


def test_cli_runs_one_worker_per_cpu_unless_told(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from tnx2nxdi.cli import main

    _tree(tmp_path, tnx=3, plain=2)
    seen: list[int] = []

    def record(files: list[Path], todo: list[int], options: Options, jobs: int,
               results: list[object], bar: object) -> None:
        seen.append(jobs)
        for index in todo:
            results[index] = runner.process_path(files[index], options)

    monkeypatch.setattr(runner, "_in_pool", record)
    monkeypatch.setattr(runner, "available_cpus", lambda: 4)
    for arguments in (["--check"], ["--check", "-j", "2"], ["--check", "-j", "1"]):
        result = CliRunner().invoke(main, [*arguments, str(tmp_path)], catch_exceptions=False)
        assert result.exit_code == 1
        assert "[" not in result.stderr  # no progress bar off a terminal
    assert seen == [3, 2]  # the CPU count, capped by the 3 files to parse; -j 1: no pool
