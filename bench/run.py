"""The tnx2nxdi benchmark: wall time, throughput and peak memory against two floors.

    python bench/run.py               # every scenario, 3 repeats each (about 3 minutes on 2 cores)
    python bench/run.py --quick       # smaller trees, 1 repeat: a smoke test of the benchmark
    python bench/run.py --json out.json --repeat 5

Run it with the interpreter tnx2nxdi is installed in. Scenarios, each on a generated tree
(bench/generate.py) in a temporary directory:

* ``monorepo-N``: N files, 0.5% TNx programs, ``tnx2nxdi --check`` with the default ``-j``;
  floor: ``grep -rl transformers_neuronx`` over the same tree (it reads every byte of every file
  without a match). Three sizes show that time and memory grow linearly.
* ``tnx-N -j J``: N TNx programs, ``tnx2nxdi --check -j J``; floor: a Python process that imports
  LibCST and round-trips ``parse_module(text).code`` over the same files (the parse floor).
* ``pre-commit``: one TNx file in a git work tree rewritten in place the way the hook runs it
  (``tnx2nxdi --force-exclude FILE``), wall time from process start; ``--help`` and one non-TNx
  file, which must not import LibCST.

Wall time is measured around the whole process (interpreter start-up included). Peak memory is
the largest sum of VmRSS over the tool process and all its descendants, sampled every 5 ms
(shared copy-on-write pages of forked workers count once per process: an upper bound), and the
exact peak RSS of the main process from ``wait4``. Times are the best and the median of the
repeats; ratios compare the medians of runs made side by side.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import generate  # noqa: E402  (bench/ is not a package)

PARSE_FLOOR = (
    "import sys\n"
    "import libcst\n"
    "for name in open(sys.argv[1]).read().split('\\n'):\n"
    "    if name:\n"
    "        libcst.parse_module(open(name, encoding='utf-8').read()).code\n"
)


#: The tool runs with bytecode caching on, as an installed package has its .pyc files.
ENV = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}


@dataclass
class Sample:
    wall: float
    peak_tree_mb: float
    peak_main_mb: float
    exit_code: int
    stdout: str = ""
    #: CPU seconds (user + system) of the process and the children it waited for (workers).
    cpu: float = 0.0


@dataclass
class Row:
    scenario: str
    files: int
    lines: int
    tnx_files: int
    runs: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    floor: str = ""
    floor_runs: list[float] = field(default_factory=list)
    peak_tree_mb: float = 0.0
    peak_main_mb: float = 0.0
    note: str = ""
    #: Whether the run imported LibCST (checked with ``-X importtime``), when it was checked.
    libcst: bool | None = None

    @property
    def median(self) -> float:
        return statistics.median(self.runs)

    @property
    def floor_median(self) -> float:
        return statistics.median(self.floor_runs) if self.floor_runs else float("nan")


# -- measuring one process ---------------------------------------------------------------------


def _rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        try:
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children", encoding="ascii") as handle:
                    todo += [int(child) for child in handle.read().split()]
        except OSError:
            continue
    return found


def measure(command: Sequence[str], cwd: Path | None = None) -> Sample:
    """Run ``command``; wall time, peak RSS of its process tree and of the process itself."""
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, cwd=cwd,
                                   env=ENV)
        peak = 0
        done = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max(peak, sum(_rss_kb(pid) for pid in _descendants(process.pid)))
                done.wait(0.005)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        done.set()
        sampler.join()
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().decode(errors="replace")
    main_kb = usage.ru_maxrss
    cpu = usage.ru_utime + usage.ru_stime
    return Sample(wall, max(peak, main_kb) / 1024, main_kb / 1024, process.returncode, text, cpu)


def tool() -> list[str]:
    script = Path(sys.executable).with_name("tnx2nxdi")
    return [str(script)] if script.exists() else [sys.executable, "-m", "tnx2nxdi"]


def _summary(text: str) -> str:
    lines = [line for line in text.splitlines() if "left unchanged" in line]
    return lines[-1] if lines else text[-300:]


# -- scenarios ---------------------------------------------------------------------------------


def monorepo(work: Path, files: int, repeat: int, fraction: float = 0.005) -> Row:
    tree = generate.build(work / f"monorepo-{files}", files, fraction)
    label = "" if fraction == 0.005 else f" ({fraction:.1%} TNx)"
    row = Row(f"monorepo-{files}{label} --check", tree.files, tree.lines, len(tree.tnx_files),
              floor="grep -rl")
    grep = ["grep", "-rl", "transformers_neuronx", str(tree.root)]
    for _ in range(repeat):
        row.floor_runs.append(measure(grep).wall)
        sample = measure([*tool(), "--check", str(tree.root)])
        _expect(sample, 1 if tree.tnx_files else 0,
                f"{len(tree.tnx_files)} files would be migrated")
        row.runs.append(sample.wall)
        row.cpu.append(sample.cpu)
        row.peak_tree_mb = max(row.peak_tree_mb, sample.peak_tree_mb)
        row.peak_main_mb = max(row.peak_main_mb, sample.peak_main_mb)
    row.note = _summary(sample.stdout)
    shutil.rmtree(tree.root)
    return row


def tnx_programs(work: Path, files: int, jobs: Sequence[int], repeat: int) -> list[Row]:
    tree = generate.build(work / f"tnx-{files}", files, 1.0)
    listing = work / f"tnx-{files}.txt"
    listing.write_text("\n".join(str(path) for path in tree.tnx_files))
    rows = [
        Row(f"tnx-{files} --check -j {j}", tree.files, tree.lines, files, floor="parse")
        for j in jobs
    ]
    floor = [sys.executable, "-c", PARSE_FLOOR, str(listing)]
    for _ in range(repeat):
        floor_wall = measure(floor).wall
        for j, row in zip(jobs, rows, strict=True):
            row.floor_runs.append(floor_wall)
            sample = measure([*tool(), "--check", "-j", str(j), str(tree.root)])
            _expect(sample, 1, f"{files} files would be migrated")
            row.runs.append(sample.wall)
            row.cpu.append(sample.cpu)
            row.peak_tree_mb = max(row.peak_tree_mb, sample.peak_tree_mb)
            row.peak_main_mb = max(row.peak_main_mb, sample.peak_main_mb)
            row.note = _summary(sample.stdout)
    shutil.rmtree(tree.root)
    return rows


def pre_commit(work: Path, repeat: int) -> list[Row]:
    """One TNx file rewritten in place, from process start; and what must not import LibCST."""
    rng = generate.random.Random(8)
    work = work / "repo"  # pre-commit runs inside a git work tree (git check-ignore is asked)
    work.mkdir()
    subprocess.run(["git", "init", "-q", str(work)], check=False)
    fixture = next(text for text in generate.fixture_inputs() if "to_neuron" in text)
    text = generate.tnx_program(rng, fixture)
    plain = work / "plain.py"
    plain.write_text(generate.plain_module(rng))
    single = Row("pre-commit: 1 TNx file, in place", 1, text.count("\n"), 1)
    clean = Row("pre-commit: 1 non-TNx file", 1, plain.read_text().count("\n"), 0)
    helps = Row("tnx2nxdi --help", 0, 0, 0)
    target = work / "serve.py"
    for _ in range(max(repeat, 5)):
        target.write_text(text)
        sample = measure([*tool(), "--force-exclude", str(target)])  # the hook's entry
        _expect(sample, 1, "1 file migrated")
        single.runs.append(sample.wall)
        single.cpu.append(sample.cpu)
        single.peak_main_mb = max(single.peak_main_mb, sample.peak_main_mb)
        single.peak_tree_mb = max(single.peak_tree_mb, sample.peak_tree_mb)
        for row, arguments in ((clean, ["--force-exclude", str(plain)]), (helps, ["--help"])):
            other = measure([*tool(), *arguments])
            row.runs.append(other.wall)
            row.cpu.append(other.cpu)
            row.peak_main_mb = max(row.peak_main_mb, other.peak_main_mb)
            row.peak_tree_mb = max(row.peak_tree_mb, other.peak_tree_mb)
    single.note = _summary(sample.stdout)
    clean.libcst = _imports_libcst([str(plain)])
    helps.libcst = _imports_libcst(["--help"])
    target.write_text(text)
    single.libcst = _imports_libcst([str(target)])
    return [single, clean, helps]


def _warm_up() -> None:
    """Compile the tool's bytecode and fill the page cache before anything is timed."""
    with tempfile.TemporaryDirectory() as temporary:
        path = Path(temporary, "serve.py")
        path.write_text(generate.fixture_inputs()[0])
        for arguments in (["--help"], ["--check", str(path)]):
            subprocess.run([*tool(), *arguments], env=ENV, capture_output=True, check=False)


def _imports_libcst(arguments: list[str]) -> bool:
    command = [sys.executable, "-X", "importtime", "-m", "tnx2nxdi", *arguments]
    result = subprocess.run(command, capture_output=True, text=True, check=False, env=ENV)
    return any(line.split("|")[-1].strip() == "libcst" for line in result.stderr.splitlines())


def _expect(sample: Sample, code: int, text: str) -> None:
    if sample.exit_code != code or text not in sample.stdout:
        raise SystemExit(
            f"unexpected result (exit {sample.exit_code}, wanted {code} and {text!r}):\n"
            + sample.stdout[-2000:]
        )


# -- report ------------------------------------------------------------------------------------


def machine() -> dict[str, str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        ram = Path("/proc/meminfo").read_text().split("\n", 1)[0].split()[1]
        ram_text = f"{int(ram) / 1024 / 1024:.1f} GiB"
    except OSError:
        ram_text = "unknown"
    import libcst  # the benchmark may import it; the tool is measured in its own processes

    version = subprocess.run(
        [sys.executable, "-c", "import importlib.metadata as m; print(m.version('libcst'))"],
        capture_output=True, text=True, check=False,
    ).stdout.strip() or getattr(libcst, "__version__", "?")
    return {
        "cpus (nproc)": str(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                            else os.cpu_count()),
        "cpu": cpu,
        "ram": ram_text,
        "os": platform.platform(),
        "python": platform.python_version(),
        "libcst": version,
        "load average at start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def table(rows: list[Row]) -> str:
    head = (
        "| scenario | files | lines | best s | median s | cpu s | files/s | lines/s | floor "
        "| floor s | ratio | peak MB (tree) | peak MB (main) |\n"
        "|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|\n"
    )
    body = []
    for row in rows:
        median = row.median
        ratio = f"{median / row.floor_median:.2f}x" if row.floor_runs else ""
        floor = f"{row.floor_median:.3f}" if row.floor_runs else ""
        cpu = statistics.median(row.cpu) if row.cpu else 0.0
        body.append(
            f"| {row.scenario} | {row.files} | {row.lines} | {min(row.runs):.3f} | {median:.3f} "
            f"| {cpu:.3f} | {row.files / median:,.0f} | {row.lines / median:,.0f} | {row.floor} "
            f"| {floor} | {ratio} | {row.peak_tree_mb:.1f} | {row.peak_main_mb:.1f} |"
        )
    return head + "\n".join(body) + "\n"


def checks(rows: list[Row], big: int, tnx: int) -> list[str]:
    """The issue's targets, each as a line ``PASS``/``FAIL`` with the numbers behind it."""
    by_name = {row.scenario: row for row in rows}
    out = []

    def check(ok: bool, text: str) -> None:
        out.append(f"{'PASS' if ok else 'FAIL'}  {text}")

    mono = by_name.get(f"monorepo-{big} --check")
    if mono:
        ratio = mono.median / mono.floor_median
        check(ratio <= 3, f"{big} files, 0.5% TNx: {ratio:.2f}x the grep floor (target <= 3x)")
        check(mono.peak_tree_mb < 150,
              f"{big} files: peak {mono.peak_tree_mb:.1f} MB (target < 150 MB)")
    one, two = by_name.get(f"tnx-{tnx} --check -j 1"), by_name.get(f"tnx-{tnx} --check -j 2")
    if one:
        ratio = one.median / one.floor_median
        check(ratio <= 3, f"{tnx} TNx programs -j 1: {ratio:.2f}x the parse floor (target <= 3x)")
    if one and two:
        speedup = one.median / two.median
        check(speedup >= 1.6, f"{tnx} TNx programs: -j 2 is {speedup:.2f}x faster than -j 1 "
                              "(target >= 1.6x)")
    single = by_name.get("pre-commit: 1 TNx file, in place")
    if single:
        check(single.median < 0.4,
              f"one TNx file in place: {single.median:.3f} s median from process start "
              "(target < 0.4 s)")
    for row in rows:
        if row.libcst is not None and not row.tnx_files:
            check(not row.libcst, f"{row.scenario}: imports LibCST: {row.libcst}")
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="small trees, one repeat")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path, help="also write the rows and machine as JSON")
    parser.add_argument("--only", choices=("monorepo", "tnx", "pre-commit"), action="append")
    args = parser.parse_args(argv)
    repeat = 1 if args.quick else args.repeat
    sizes = (500, 1_000, 2_000) if args.quick else (2_500, 5_000, 10_000)
    tnx_sizes = (25, 50, 100) if args.quick else (125, 250, 500)
    only = set(args.only or ("monorepo", "tnx", "pre-commit"))
    info = machine()
    _warm_up()
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="tnx2nxdi-bench-") as temporary:
        work = Path(temporary)
        if "pre-commit" in only:
            rows += pre_commit(work, repeat)
        if "monorepo" in only:
            rows += [monorepo(work, size, repeat) for size in sizes]
            rows.append(monorepo(work, sizes[-1], repeat, fraction=0.0))  # screening alone
        if "tnx" in only:
            for size in tnx_sizes:
                jobs = (1, 2) if size == tnx_sizes[-1] else (1,)
                rows += tnx_programs(work, size, jobs, repeat)
    print("## Machine\n")
    print("\n".join(f"- {key}: {value}" for key, value in info.items()))
    print(f"\n## Results ({repeat} repeat{'s' if repeat > 1 else ''})\n")
    print(table(rows))
    print("## Targets\n")
    print("\n".join(checks(rows, sizes[-1], tnx_sizes[-1])))
    notes = [
        f"- {row.scenario}: {row.note}"
        + ("" if row.libcst is None else f" (imports LibCST: {row.libcst})")
        for row in rows if row.note or row.libcst is not None
    ]
    print("\n## Tool output\n\n" + "\n".join(notes))
    if args.json:
        payload = {"machine": info, "rows": [asdict(row) for row in rows]}
        args.json.write_text(json.dumps(payload, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
