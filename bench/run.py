"""The tnx2nxdi benchmark: whole processes against floors measured in the same run, and memory.

    python bench/run.py                      # every scenario (7–11 minutes on 2 cores)
    python bench/run.py --quick              # small trees, 2 repeats: checks the benchmark
    python bench/run.py --only clean --repeat 7 --json out.json

Run it with the interpreter tnx2nxdi is installed in. Every scenario builds its tree with
bench/generate.py in a temporary directory and runs the installed ``tnx2nxdi`` command, a floor
and the tool in turn (floor, tool, floor, tool, ...), so both see the same machine:

* ``startup``: ``tnx2nxdi --help``; one file without TNx and one TNx file rewritten in place,
  in a git work tree, the way the pre-commit hook runs them (``--force-exclude FILE``); and
  whether each imports LibCST (``-X importtime``).
* ``clean-N``: N files without TNx, ``--check`` with the default ``-j``; floor
  ``grep -rl transformers_neuronx`` (reads every byte of every file). Three sizes show whether
  the time per file stays the same.
* ``monorepo-N``: N files, 0.5% of them TNx programs, ``--check --no-cache`` (cold); floor
  ``grep -rl`` plus a Python process that imports LibCST and round-trips
  ``parse_module(text).code`` over the tree's TNx files (the least any tool built on LibCST must
  do). Then ``repeated``: the same run with a warm result cache, against ``grep -rl``.
* ``tnx-N -j J`` and ``dense-N -j 1``: N TNx programs (with helper code, or the fixture
  programs alone), ``--check --no-cache``; floor the LibCST round trip of the same files.
* ``memory``: the largest sum of PSS (proportional set size: pages shared between the tool and
  its forked workers counted once, ``/proc/PID/smaps_rollup``) over the tool and all its
  processes, sampled every 20 ms, in runs of their own (the sampling costs CPU).

Wall time covers the whole process, interpreter start-up included. CPU time is user plus system
time of the process and the workers it waited for (``wait4``). Times are medians; a ratio is the
median of the tool over the median of its floor. The load average is printed at the start and
end: on a shared machine, compare ``cpu s`` with the wall time before trusting a ``-j`` figure.
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
from collections.abc import Callable, Sequence
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


@dataclass
class Sample:
    wall: float
    cpu: float
    exit_code: int
    output: str = ""


@dataclass
class Row:
    scenario: str
    files: int
    runs: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    floor: str = ""
    floor_runs: list[float] = field(default_factory=list)
    peak_pss_mb: float | None = None
    libcst: bool | None = None
    note: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.runs)

    @property
    def floor_median(self) -> float:
        return statistics.median(self.floor_runs) if self.floor_runs else float("nan")

    @property
    def ratio(self) -> float:
        return self.median / self.floor_median if self.floor_runs else float("nan")


class Bench:
    def __init__(self, work: Path, repeat: int) -> None:
        self.work, self.repeat = work, repeat
        self.cache = work / "cache"
        # The tool runs with bytecode caching on, as an installed package has its .pyc files,
        # and with a result cache of its own (never the user's).
        self.env = {key: value for key, value in os.environ.items()
                    if key != "PYTHONDONTWRITEBYTECODE"}
        self.env["TNX2NXDI_CACHE_DIR"] = str(self.cache)

    def tool(self, *arguments: str) -> list[str]:
        script = Path(sys.executable).with_name("tnx2nxdi")
        command = [str(script)] if script.exists() else [sys.executable, "-m", "tnx2nxdi"]
        return [*command, *arguments]

    def measure(self, command: Sequence[str], cwd: Path | None = None) -> Sample:
        with tempfile.TemporaryFile() as out:
            start = time.perf_counter()
            process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, cwd=cwd,
                                       env=self.env)
            _, status, usage = os.wait4(process.pid, 0)
            wall = time.perf_counter() - start
            out.seek(0)
            text = out.read().decode(errors="replace")
        return Sample(wall, usage.ru_utime + usage.ru_stime, os.waitstatus_to_exitcode(status),
                      text)

    def paired(self, row: Row, tool: Sequence[str], floors: Sequence[Sequence[str]],
               expect: int, before: Callable[[], None] | None = None) -> Row:
        """Floor (the sum of ``floors``), then tool, ``repeat`` times."""
        for _ in range(self.repeat):
            if floors:
                row.floor_runs.append(sum(self.measure(floor).wall for floor in floors))
            if before is not None:
                before()
            sample = self.measure(tool)
            _expect(sample, expect)
            row.runs.append(sample.wall)
            row.cpu.append(sample.cpu)
            row.note = _summary(sample.output)
        return row

    def peak_pss(self, command: Sequence[str], runs: int = 2) -> float:
        """The largest PSS sum over the process tree of ``command``, in MB."""
        return max(self._peak_pss_once(command) for _ in range(runs))

    def _peak_pss_once(self, command: Sequence[str]) -> float:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL, env=self.env)
        highest = 0
        done = threading.Event()

        def sample() -> None:
            nonlocal highest
            while not done.is_set():
                highest = max(highest, sum(_pss_kb(pid) for pid in _descendants(process.pid)))
                done.wait(0.02)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        process.wait()
        done.set()
        sampler.join()
        return highest / 1024


def _pss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as rollup:
            for line in rollup:
                if line.startswith("Pss:"):
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


def _summary(text: str) -> str:
    lines = [line for line in text.splitlines() if "left unchanged" in line]
    return lines[-1] if lines else text[-300:]


def _expect(sample: Sample, code: int) -> None:
    if sample.exit_code != code:
        raise SystemExit(f"unexpected exit {sample.exit_code} (wanted {code}):\n"
                         + sample.output[-2000:])


# -- scenarios ---------------------------------------------------------------------------------


def startup(bench: Bench) -> list[Row]:
    """--help, one file without TNx and one TNx file rewritten in place, as the hook runs them."""
    rng = generate.random.Random(8)
    repo = bench.work / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=False)
    fixture = next(text for text in generate.fixture_inputs() if "to_neuron" in text)
    text = generate.tnx_program(rng, fixture)
    plain, target = repo / "plain.py", repo / "serve.py"
    plain.write_text(generate.plain_module(rng))
    rows = [
        Row("tnx2nxdi --help", 0), Row("pre-commit: 1 file without TNx", 1),
        Row("pre-commit: 1 TNx file, in place", 1),
    ]
    commands = [bench.tool("--help"), bench.tool("--force-exclude", str(plain)),
                bench.tool("--force-exclude", str(target))]
    for _ in range(max(bench.repeat, 5)):
        for row, command, code in zip(rows, commands, (0, 0, 1), strict=True):
            target.write_text(text)
            sample = bench.measure(command, cwd=repo)
            _expect(sample, code)
            row.runs.append(sample.wall)
            row.cpu.append(sample.cpu)
            row.note = _summary(sample.output)
    target.write_text(text)
    for row, command in zip(rows, commands, strict=True):
        row.libcst = _imports_libcst(bench, command[1:], repo)
    return rows


def _imports_libcst(bench: Bench, arguments: list[str], cwd: Path) -> bool:
    command = [sys.executable, "-X", "importtime", "-m", "tnx2nxdi", *arguments]
    result = subprocess.run(command, capture_output=True, text=True, check=False, env=bench.env,
                            cwd=cwd)
    return any(line.split("|")[-1].strip() == "libcst" for line in result.stderr.splitlines())


def clean(bench: Bench, sizes: Sequence[int]) -> list[Row]:
    rows = []
    for size in sizes:
        tree = generate.build(bench.work / f"clean-{size}", size, 0.0)
        grep = ["grep", "-rl", "transformers_neuronx", str(tree.root)]
        row = Row(f"clean-{size} --check", size, floor="grep -rl")
        rows.append(bench.paired(row, bench.tool("--check", str(tree.root)), [grep], 0))
        shutil.rmtree(tree.root)
    return rows


def monorepo(bench: Bench, size: int, memory: bool) -> list[Row]:
    tree = generate.build(bench.work / f"monorepo-{size}", size, 0.005)
    listing = bench.work / f"monorepo-{size}.txt"
    listing.write_text("\n".join(str(path) for path in tree.tnx_files))
    grep = ["grep", "-rl", "transformers_neuronx", str(tree.root)]
    parse = [sys.executable, "-c", PARSE_FLOOR, str(listing)]
    cold_command = bench.tool("--check", "--no-cache", str(tree.root))
    cold = bench.paired(Row(f"monorepo-{size} --check --no-cache (cold)", size,
                            floor="grep -rl + parse of its TNx files"),
                        cold_command, [grep, parse], 1)
    bench.measure(bench.tool("--check", str(tree.root)))  # fills the cache
    warm = bench.paired(Row(f"monorepo-{size} --check, repeated (cache)", size, floor="grep -rl"),
                        bench.tool("--check", str(tree.root)), [grep], 1)
    if memory:
        cold.peak_pss_mb = bench.peak_pss(cold_command)
    shutil.rmtree(tree.root)
    return [cold, warm]


def memory_only(bench: Bench, size: int) -> Row:
    tree = generate.build(bench.work / f"memory-{size}", size, 0.005)
    row = Row(f"monorepo-{size} --check --no-cache: memory", size)
    command = bench.tool("--check", "--no-cache", str(tree.root))
    sample = bench.measure(command)
    _expect(sample, 1)
    row.runs.append(sample.wall)
    row.cpu.append(sample.cpu)
    row.note = _summary(sample.output)
    row.peak_pss_mb = bench.peak_pss(command)
    shutil.rmtree(tree.root)
    return row


def tnx_programs(bench: Bench, size: int, jobs: Sequence[int], *, dense: bool) -> list[Row]:
    name = "dense" if dense else "tnx"
    tree = generate.build(bench.work / f"{name}-{size}", size, 1.0, helpers=not dense)
    listing = bench.work / f"{name}-{size}.txt"
    listing.write_text("\n".join(str(path) for path in tree.tnx_files))
    floor = [sys.executable, "-c", PARSE_FLOOR, str(listing)]
    rows = [Row(f"{name}-{size} --check -j {j}", size, floor="parse") for j in jobs]
    for _ in range(bench.repeat):
        floor_wall = bench.measure(floor).wall
        for j, row in zip(jobs, rows, strict=True):
            row.floor_runs.append(floor_wall)
            sample = bench.measure(bench.tool("--check", "--no-cache", "-j", str(j),
                                              str(tree.root)))
            _expect(sample, 1)
            row.runs.append(sample.wall)
            row.cpu.append(sample.cpu)
            row.note = _summary(sample.output)
    shutil.rmtree(tree.root)
    return rows


# -- report ------------------------------------------------------------------------------------


def machine() -> dict[str, str]:
    cpu, ram = "unknown", "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        kb = Path("/proc/meminfo").read_text().split("\n", 1)[0].split()[1]
        ram = f"{int(kb) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    version = subprocess.run(
        [sys.executable, "-c", "import importlib.metadata as m; print(m.version('libcst'))"],
        capture_output=True, text=True, check=False,
    ).stdout.strip()
    return {
        "cpus (affinity)": str(len(os.sched_getaffinity(0))),
        "cpu": cpu, "ram": ram, "os": platform.platform(),
        "python": platform.python_version(), "libcst": version,
    }


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def table(rows: list[Row]) -> str:
    lines = [
        "| scenario | files | median s | cpu s | floor | floor s | ratio | peak PSS MB |",
        "|---|---:|---:|---:|---|---:|---:|---:|",
    ]
    for row in rows:
        if not row.runs:
            continue
        cpu = statistics.median(row.cpu) if row.cpu else 0.0
        floor = f"{row.floor_median:.3f}" if row.floor_runs else ""
        ratio = f"{row.ratio:.2f}x" if row.floor_runs else ""
        pss = f"{row.peak_pss_mb:.1f}" if row.peak_pss_mb is not None else ""
        lines.append(f"| {row.scenario} | {row.files} | {row.median:.3f} | {cpu:.3f} "
                     f"| {row.floor} | {floor} | {ratio} | {pss} |")
    return "\n".join(lines) + "\n"


def checks(rows: list[Row]) -> list[str]:
    """The targets, each as a line PASS/FAIL with the figures behind it."""
    by_name = {row.scenario: row for row in rows}
    out: list[str] = []

    def check(ok: bool, text: str) -> None:
        out.append(f"{'PASS' if ok else 'FAIL'}  {text}")

    for name, limit in (("tnx2nxdi --help", None), ("pre-commit: 1 file without TNx", 0.060),
                        ("pre-commit: 1 TNx file, in place", 0.220)):
        row = by_name.get(name)
        if row is None:
            continue
        if limit is not None:
            check(row.median <= limit, f"{name}: {row.median:.3f} s (target <= {limit} s)")
        if row.libcst is not None and not name.endswith("in place"):
            check(not row.libcst, f"{name}: imports LibCST: {row.libcst}")
    cleans = sorted((row for row in rows if row.scenario.startswith("clean-")),
                    key=lambda row: row.files)
    for row in cleans:
        limit = 2.5 if row.files == 10_000 else 1.6 if row.files == 100_000 else None
        if limit is not None:
            check(row.ratio <= limit, f"{row.scenario}: {row.ratio:.2f}x grep (target <= {limit}x)")
    if len(cleans) >= 3:
        slopes = [(b.median - a.median) / (b.files - a.files) * 1e6
                  for a, b in zip(cleans, cleans[1:], strict=False)]
        spread = max(slopes) / min(slopes) - 1
        check(spread <= 0.10, "time per added file: " + ", ".join(
            f"{slope:.2f} us" for slope in slopes) + f" ({spread:.0%} apart, target <= 10%)")
    for row in rows:
        if row.scenario.endswith("(cold)"):
            check(row.ratio <= 1.3, f"{row.scenario}: {row.ratio:.2f}x grep + parse floor "
                                    "(target <= 1.3x)")
        if row.scenario.endswith("repeated (cache)"):
            check(row.ratio <= 3, f"{row.scenario}: {row.ratio:.2f}x grep (target <= 3x)")
        if row.peak_pss_mb is not None and row.files >= 100_000:
            check(row.peak_pss_mb < 150, f"{row.scenario}: peak PSS {row.peak_pss_mb:.1f} MB "
                                         "(target < 150 MB)")
        if row.scenario.endswith("-j 1") and row.floor_runs:
            check(row.ratio <= 2, f"{row.scenario}: {row.ratio:.2f}x the parse floor "
                                  "(target <= 2x)")
        if row.scenario.endswith("-j 2"):
            one = by_name.get(row.scenario[:-1] + "1")
            if one is not None and row.files >= 500:
                speedup = one.median / row.median
                check(speedup >= 1.8, f"{row.scenario}: {speedup:.2f}x faster than -j 1, "
                                      f"{statistics.median(row.cpu):.2f} CPU s against "
                                      f"{statistics.median(one.cpu):.2f} (target >= 1.8x)")
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="small trees, two repeats")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", type=Path, help="also write the rows and machine as JSON")
    parser.add_argument("--only", action="append",
                        choices=("startup", "clean", "monorepo", "memory", "tnx"))
    args = parser.parse_args(argv)
    repeat = 2 if args.quick else args.repeat
    clean_sizes = (500, 1_000, 2_000) if args.quick else (1_000, 10_000, 100_000)
    mono, big, programs = (1_000, 2_000, 50) if args.quick else (10_000, 100_000, 500)
    only = set(args.only or ("startup", "clean", "monorepo", "memory", "tnx"))
    info = machine()
    info["load average at start"] = _load()
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="tnx2nxdi-bench-") as temporary:
        bench = Bench(Path(temporary), repeat)
        _warm_up(bench)
        if "startup" in only:
            rows += startup(bench)
        if "clean" in only:
            rows += clean(bench, clean_sizes)
        if "monorepo" in only:
            rows += monorepo(bench, mono, memory=True)
        if "memory" in only:
            rows.append(memory_only(bench, big))
        if "tnx" in only:
            rows += tnx_programs(bench, programs, (1, 2), dense=False)
            rows += tnx_programs(bench, programs, (1,), dense=True)
    info["load average at end"] = _load()
    print("## Machine\n")
    print("\n".join(f"- {key}: {value}" for key, value in info.items()))
    print(f"\n## Results (median of {repeat})\n")
    print(table(rows))
    print("## Targets\n")
    print("\n".join(checks(rows)))
    notes = [f"- {row.scenario}: {row.note}"
             + ("" if row.libcst is None else f" (imports LibCST: {row.libcst})")
             for row in rows if row.note or row.libcst is not None]
    print("\n## Tool output\n\n" + "\n".join(notes))
    if args.json:
        payload = {"machine": info, "rows": [asdict(row) for row in rows]}
        args.json.write_text(json.dumps(payload, indent=2) + "\n")
    return 0


def _warm_up(bench: Bench) -> None:
    """Compile the tool's bytecode and fill the page cache before anything is timed."""
    path = bench.work / "warm.py"
    path.write_text(generate.fixture_inputs()[0])
    for arguments in (["--help"], ["--check", "--no-cache", str(path)]):
        subprocess.run(bench.tool(*arguments), env=bench.env, capture_output=True, check=False)


if __name__ == "__main__":
    sys.exit(main())
