"""The runner: prefilter before any parse, workers only when there is work for them, input order,
per-file errors (a worker that dies too), progress on a terminal and in a log, files that skip
themselves, and Ctrl-C leaving every file old or fully rewritten.

Which process migrated a file is observed, not patched: a handler that wraps the real one writes
its process id to a log, and forked workers inherit it."""

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

from tnx2nxdi import discovery, kinds, runner
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


class Recorder:
    """A Python handler that logs the id of the process running it (optionally slowly, so that
    the pool has to start more workers) before migrating as usual."""

    def __init__(self, log: Path, delay: float = 0.0) -> None:
        self.log, self.delay = log, delay

    def __call__(self, data: bytes, options: Options, path: str | None) -> Outcome:
        with open(self.log, "a", encoding="ascii") as stream:
            stream.write(f"{os.getpid()}\n")
        time.sleep(self.delay)
        return migrate_python(data, options, path)

    def install(self, monkeypatch: pytest.MonkeyPatch) -> Recorder:
        monkeypatch.setitem(kinds.KINDS, ".py", kinds.Kind("Python", self))
        return self

    def processes(self) -> list[int]:
        """The distinct processes that migrated a file, in the order they started."""
        if not self.log.exists():
            return []
        return list(dict.fromkeys(int(line) for line in self.log.read_text().split()))

    def calls(self) -> int:
        return len(self.log.read_text().split()) if self.log.exists() else 0


@pytest.fixture
def recorder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Recorder:
    return Recorder(tmp_path / "pids.log").install(monkeypatch)


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


def test_one_file_to_parse_at_the_end_is_migrated_without_a_worker(
    tmp_path: Path, recorder: Recorder
) -> None:
    paths = _tree(tmp_path / "tree", tnx=0, plain=30)
    last = paths[-1].with_name("zz_serve.py")
    last.write_text(TNX)
    result = run([str(tmp_path / "tree")], Options(mode="check", jobs=8))
    assert len(result.changed) == 1 and Path(result.changed[0].path) == last
    assert sum(file.skipped for file in result.files) == 30
    assert recorder.processes() == [os.getpid()]


def test_one_file_to_parse_early_gets_one_worker_while_screening_goes_on(
    tmp_path: Path, recorder: Recorder
) -> None:
    _tree(tmp_path, tnx=1, plain=30)  # the TNx file comes first
    result = run([str(tmp_path)], Options(mode="check", jobs=8))
    assert len(result.changed) == 1
    processes = recorder.processes()
    assert len(processes) == 1 and processes != [os.getpid()]


def test_one_job_migrates_everything_in_this_process(
    tmp_path: Path, recorder: Recorder
) -> None:
    _tree(tmp_path, tnx=5, plain=0)
    assert len(run([str(tmp_path)], Options(mode="check", jobs=1)).changed) == 5
    assert recorder.processes() == [os.getpid()]


def test_workers_are_started_for_work_and_never_more_than_jobs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _tree(tmp_path, tnx=6, plain=2)
    for jobs, expected in ((4, 4), (64, 6), (0, min(runner.available_cpus(), 6))):
        recorder = Recorder(tmp_path / f"pids-{jobs}.log", delay=0.3).install(monkeypatch)
        result = run([str(tmp_path)], Options(mode="check", jobs=jobs))
        assert len(result.changed) == 6
        processes = recorder.processes()
        # -j 0 is one worker per CPU; never more workers than files to migrate.
        assert len(processes) == expected, (jobs, processes)
        if expected > 1:
            assert os.getpid() not in processes


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


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_only_for_many_files_on_a_terminal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runner, "PROGRESS_DELAY", 0.0)
    few, many = tmp_path / "few", tmp_path / "many"
    _tree(few, tnx=2, plain=3)
    _tree(many, tnx=2, plain=runner.PROGRESS_MIN_FILES)
    stream = Terminal()
    run([str(few)], Options(mode="check"), progress=stream)
    assert stream.getvalue() == ""
    run([str(many)], Options(mode="check", jobs=2), progress=stream)
    drawn = stream.getvalue()
    total = runner.PROGRESS_MIN_FILES + 2
    assert f"] {total}/{total} files" in drawn
    assert drawn.startswith("\r[") and drawn.endswith("\r")  # the line is cleared at the end


def test_quick_runs_draw_no_progress(tmp_path: Path) -> None:
    _tree(tmp_path, tnx=0, plain=runner.PROGRESS_MIN_FILES)
    for stream in (Terminal(), io.StringIO()):
        run([str(tmp_path)], Options(mode="check"), progress=stream)
        assert stream.getvalue() == ""


@pytest.mark.parametrize("jobs", [1, 2])
def test_off_a_terminal_a_long_run_prints_a_line_every_few_seconds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jobs: int
) -> None:
    monkeypatch.setattr(runner, "PROGRESS_LOG_EVERY", 0.2)
    Recorder(tmp_path / "pids.log", delay=0.15).install(monkeypatch)
    total = runner.PROGRESS_MIN_FILES + 6
    _tree(tmp_path / "tree", tnx=6, plain=runner.PROGRESS_MIN_FILES)
    stream = io.StringIO()
    result = run([str(tmp_path / "tree")], Options(mode="check", jobs=jobs), progress=stream)
    assert len(result.changed) == 6
    lines = stream.getvalue().splitlines()
    assert 1 <= len(lines) <= 6, lines
    for line in lines:  # whole lines for a log: no carriage return, no bar
        assert line.startswith("tnx2nxdi: ") and f"/{total} files (" in line, line
        assert "\r" not in line and "#" not in line


# -- a worker that dies ---------------------------------------------------------------------


def _dies(how: str) -> kinds.Handler:
    def handler(data: bytes, options: Options, path: str | None) -> Outcome:
        if b"# die" in data:
            if how == "sigkill":
                os.kill(os.getpid(), signal.SIGKILL)
            elif how == "segfault":
                os.kill(os.getpid(), signal.SIGSEGV)
            else:
                os._exit(3)
        return migrate_python(data, options, path)

    return handler


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize(("how", "said"), [
    ("sigkill", "killed by SIGKILL, most likely for lack of memory"),
    ("segfault", "killed by SIGSEGV"),
    ("exit", "exit code 3"),
])
@pytest.mark.parametrize("mode", ["check", "write"])
def test_a_worker_that_dies_costs_only_its_file_and_the_run_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str, said: str, mode: str
) -> None:
    from click.testing import CliRunner

    from tnx2nxdi.cli import main

    paths = _tree(tmp_path, tnx=6, plain=6)
    victim = [path for path in paths if "serve" in path.name][2]
    victim.write_text(TNX + "# die\n")
    monkeypatch.setitem(kinds.KINDS, ".py", kinds.Kind("Python", _dies(how)))
    arguments = ["-j", "2", str(tmp_path)] + (["--check"] if mode == "check" else [])
    result = CliRunner().invoke(main, arguments, catch_exceptions=False)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    [line] = [line for line in result.output.splitlines() if ": error: " in line]
    assert line.startswith(f"{victim}: error: TNX999 internal error (the worker process died: "
                           f"{said})"), line
    assert victim.read_text() == TNX + "# die\n"
    migrated = [path for path in paths if "serve" in path.name and path != victim]
    if mode == "write":
        assert all(path.read_text() != TNX for path in migrated)
        assert not list(tmp_path.rglob("*.tnx2nxdi"))
    else:
        assert sum(f"Would migrate {path}" in result.output for path in migrated) == 5


def test_a_worker_that_dies_over_a_large_tree_costs_only_its_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where workers read and screen batches of files too, the files of its batches it had not
    reached are done by another worker."""
    count = runner.PARALLEL_SCREEN_MIN
    paths = _tree(tmp_path, tnx=10, plain=count)
    victim = [path for path in paths if "serve" in path.name][4]
    victim.write_text(TNX + "# die\n")
    monkeypatch.setitem(kinds.KINDS, ".py", kinds.Kind("Python", _dies("sigkill")))
    result = run([str(tmp_path)], Options(mode="check", jobs=2))
    assert [file.path for file in result.files] == list(discovery.gather([str(tmp_path)]))
    assert [Path(file.path) for file in result.files if file.error] == [victim]
    assert len(result.changed) == 9
    assert sum(file.skipped for file in result.files) == count


# -- files that skip themselves ---------------------------------------------------------------


@pytest.mark.parametrize("header", [
    "# tnx2nxdi: skip-file\n",
    "#!/usr/bin/env python\n# -*- coding: utf-8 -*-\n\n#   tnx2nxdi: skip-file  (kept for TNx)\n",
    "# Copyright 2024\n# tnx2nxdi: skip-file\n",
])
def test_a_skip_file_comment_at_the_top_skips_the_file(tmp_path: Path, header: str) -> None:
    path = tmp_path / "serve.py"
    path.write_text(header + TNX)
    [result] = run([str(path)], Options(mode="write")).files
    assert result.skipped and result.skip_reason == "# tnx2nxdi: skip-file"
    assert not result.findings and not result.changed and result.error is None
    assert path.read_text() == header + TNX


@pytest.mark.parametrize("text", [
    TNX + "# tnx2nxdi: skip-file\n",  # after code: too late
    '"""Doc."""\n# tnx2nxdi: skip-file\n' + TNX,
    "x = 1  # tnx2nxdi: skip-file\n" + TNX,  # not on a line of its own
    "# tnx2nxdi: skip-files\n" + TNX,
])
def test_a_skip_file_comment_elsewhere_does_nothing(tmp_path: Path, text: str) -> None:
    path = tmp_path / "serve.py"
    path.write_text(text)
    [result] = run([str(path)], Options(mode="check")).files
    assert not result.skipped and result.changed


def test_a_shell_script_and_a_notebook_can_skip_themselves(tmp_path: Path) -> None:
    import json

    script = tmp_path / "serve.sh"
    launch = "vllm serve /m/llama --device neuron --tensor-parallel-size 8\n"
    script.write_text("#!/bin/bash\n# tnx2nxdi: skip-file\n" + launch)
    cells = [
        {"cell_type": "markdown", "metadata": {}, "source": ["# Title\n"]},
        {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
         "source": ["# tnx2nxdi: skip-file\n", "import os\n"]},
        {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
         "source": TNX},
    ]
    notebook = tmp_path / "demo.ipynb"
    notebook.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4,
                                    "nbformat_minor": 5}, indent=1))
    late = tmp_path / "late.ipynb"
    cells[1]["source"], cells[2]["source"] = ["import os\n"], "# tnx2nxdi: skip-file\n" + TNX
    late.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4,
                                "nbformat_minor": 5}, indent=1))
    result = run([str(script), str(notebook), str(late)], Options(mode="check"))
    assert [file.skipped for file in result.files] == [True, True, False]
    assert result.files[2].changed  # only the first code cell counts


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
    cpus = runner.available_cpus()
    runs = ((["--check"], min(cpus, 3)), (["--check", "-j", "2"], 2), (["--check", "-j", "1"], 1))
    for number, (arguments, expected) in enumerate(runs):
        log = tmp_path / f"pids{number}.log"
        recorder = Recorder(log, delay=0.3).install(monkeypatch)
        result = CliRunner().invoke(main, [*arguments, "--no-cache", str(tmp_path)],
                                    catch_exceptions=False)
        assert result.exit_code == 1
        assert "[" not in result.stderr  # no progress bar off a terminal
        assert len(recorder.processes()) == expected, arguments


@pytest.mark.parametrize("arguments", [["--help"], ["--force-exclude", "{plain}"],
                                       ["--check", "{tree}"]])
def test_help_and_plain_files_never_import_libcst(tmp_path: Path, arguments: list[str]) -> None:
    if "{tree}" in arguments:
        _tree(tmp_path / "tree", tnx=0, plain=runner.PARALLEL_SCREEN_MIN + 10)  # workers screen
    plain = tmp_path / "plain.py"
    plain.write_text(PLAIN)
    given = [a.format(plain=plain, tree=tmp_path / "tree") for a in arguments]
    code = textwrap.dedent(f"""
        import sys
        from tnx2nxdi.cli import main
        sys.argv = ["tnx2nxdi", *{given!r}]
        try:
            main()
        except SystemExit as done:
            assert done.code == 0, done.code
        loaded = [name for name in ("libcst", "nbformat") if name in sys.modules]
        assert not loaded, loaded
    """)
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)


@pytest.mark.parametrize("size", [0, 1, runner._FIRST_READ - 1, runner._FIRST_READ,
                                  runner._FIRST_READ + 1, 5 * runner._FIRST_READ + 3])
@pytest.mark.parametrize("regular", [True, False])
def test_read_file_reads_every_byte(tmp_path: Path, size: int, regular: bool) -> None:
    path = tmp_path / "data.py"
    data = bytes(index % 251 for index in range(size))
    path.write_bytes(data)
    assert runner.read_file(str(path), regular) == data


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX devices and FIFOs")
def test_a_device_is_never_read_to_its_end(tmp_path: Path) -> None:
    """Even when the walk had listed a regular file there (it was replaced since)."""
    for regular in (True, False):
        with pytest.raises(runner.SourceError, match="not a regular file"):
            runner.read_file("/dev/zero", regular)
    fifo = tmp_path / "pipe.py"
    os.mkfifo(fifo)
    (tmp_path / "a.py").write_text(TNX)
    result = run([str(tmp_path)], Options(mode="check", jobs=2))
    assert [file.error for file in result.files] == [None, "not a regular file"]


def test_a_screened_out_result_is_the_dataclass_s_own() -> None:
    from tnx2nxdi.findings import FileResult

    made = runner.screened_out("a/b.py")
    assert made == FileResult("a/b.py", skipped=True)
    assert vars(made) == vars(FileResult("a/b.py", skipped=True))
    assert hash(made) == hash(FileResult("a/b.py", skipped=True))
    assert made is not runner.screened_out("a/b.py")


def test_screening_in_the_buffer_is_the_byte_screen(tmp_path: Path) -> None:
    """What a worker screens in its reused buffer gives what needs_handler gives, and a marker
    left in the buffer by a longer file before is not seen in a shorter one after it."""
    texts = [PLAIN.encode(), TNX.encode(), b"x = 1\n" * 4000 + b"# transformers_neuronx\n",
             *(b"y = 2\n# " + marker + b"\n" for marker in runner.PREFILTER_MARKERS),
             b"import transformers\nneuron = 1\nVLLM_NONE = 2\n", b""]
    long_with_marker = b"# " + b"#" * 200 + b" transformers_neuronx\n"
    for text in texts:
        (tmp_path / "long.py").write_bytes(long_with_marker)
        (tmp_path / "short.py").write_bytes(text)
        for name in ("long.py", "short.py"):
            size = runner._peek(str(tmp_path / name), [runner._BUFFER])
            if size < 0 or size >= runner._FIRST_READ:
                continue  # read in full elsewhere
            data = (tmp_path / name).read_bytes()
            assert runner._passes(runner._BUFFER, size) == runner.needs_handler(data), text[:40]


def test_progress_over_a_tree_the_workers_screen(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Batches go out while the walk goes on: the bar appears once the total is known."""
    monkeypatch.setattr(runner, "PROGRESS_DELAY", 0.0)
    total = runner.PARALLEL_SCREEN_MIN + 50
    _tree(tmp_path, tnx=2, plain=total - 2)
    stream = Terminal()
    result = run([str(tmp_path)], Options(mode="check", jobs=2), progress=stream)
    assert len(result.files) == total and len(result.changed) == 2
    drawn = stream.getvalue()
    assert f"] {total}/{total} files" in drawn and drawn.endswith("\r")
