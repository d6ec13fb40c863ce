"""The result cache: an unchanged file is not migrated twice, and nothing that changes a result
ever gets an old one (the file, a setting, the target release, the tool, a checkpoint config
the migration reads). Whether a file was migrated is observed with a handler that counts its
calls."""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

import tnx2nxdi
from tests.helpers import FIXTURES
from tnx2nxdi import cache, kinds, settings
from tnx2nxdi.cli import main
from tnx2nxdi.findings import FileResult, Outcome
from tnx2nxdi.kinds.python import migrate_python
from tnx2nxdi.options import Options
from tnx2nxdi.runner import run

TNX = (
    "from transformers_neuronx import LlamaForSampling, NeuronConfig\n"
    "nc = NeuronConfig(attention_layout='BSH')\n"
    "model = LlamaForSampling.from_pretrained('/m/llama', neuron_config=nc, tp_degree={tp})\n"
    "model.to_neuron()\n"
)
SRC = Path(tnx2nxdi.__file__).parent


class Counter:
    def __init__(self) -> None:
        self.paths: list[str] = []

    def __call__(self, data: bytes, options: Options, path: str | None) -> Outcome:
        self.paths.append(Path(path or "").name)
        return migrate_python(data, options, path)


@pytest.fixture
def counter(monkeypatch: pytest.MonkeyPatch) -> Counter:
    counting = Counter()
    monkeypatch.setitem(kinds.KINDS, ".py", kinds.Kind("Python", counting))
    return counting


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "tree"
    root.mkdir()
    for tp in (2, 8):
        (root / f"serve_{tp}.py").write_text(TNX.format(tp=tp))
    (root / "plain.py").write_text("print('no TNx here')\n")
    return root


def _run(root: Path, directory: Path, **options: object) -> list[FileResult]:
    configured = Options(**{"mode": "check", "jobs": 1, **options})  # type: ignore[arg-type]
    return run([str(root)], configured, cache_directory=directory,
               configuration=settings.Configuration(configured, given={
                   name for name in options if name in settings.FIELDS})).files


def test_an_unchanged_file_is_not_migrated_again(tree: Path, tmp_path: Path,
                                                 counter: Counter) -> None:
    first = _run(tree, tmp_path / "cache")
    assert sorted(counter.paths) == ["serve_2.py", "serve_8.py"]
    second = _run(tree, tmp_path / "cache")
    assert sorted(counter.paths) == ["serve_2.py", "serve_8.py"]  # no new call
    assert second == first
    assert any(file.changed for file in second) and any(file.findings for file in second)


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_changed_file_is_migrated_again_and_only_it(tree: Path, tmp_path: Path,
                                                      counter: Counter, jobs: int) -> None:
    _run(tree, tmp_path / "cache", jobs=jobs)
    counter.paths.clear()
    (tree / "serve_8.py").write_text(TNX.format(tp=16))
    files = _run(tree, tmp_path / "cache", jobs=jobs)
    if jobs == 1:  # a worker's calls are counted in the worker
        assert counter.paths == ["serve_8.py"]
    [changed] = [file for file in files if file.path.endswith("serve_8.py")]
    assert changed.migrated is not None and "tp_degree=16" in changed.migrated


@pytest.mark.parametrize("change", [
    {"target_version": "2.22"}, {"ignore": frozenset({"TNX303"})},
    {"select": frozenset({"TNX303"})}, {"compiled_model_path": "/srv/compiled"},
])
def test_a_changed_setting_is_a_miss(tree: Path, tmp_path: Path, counter: Counter,
                                     change: dict[str, object]) -> None:
    before = _run(tree, tmp_path / "cache")
    counter.paths.clear()
    after = _run(tree, tmp_path / "cache", **change)
    assert sorted(counter.paths) == ["serve_2.py", "serve_8.py"]
    assert after == _run(tree, tmp_path / "fresh", **change)  # what a cold run gives
    if "target_version" not in change:
        assert after != before


def test_a_changed_pyproject_is_a_miss(tree: Path, tmp_path: Path, counter: Counter) -> None:
    """The key holds each file's own settings, whatever set them."""
    runner = CliRunner()
    arguments = ["--check", "--show-fixes", "-j", "1", str(tree)]
    assert "TNX303 [fixed]" in runner.invoke(main, arguments).output
    (tree / "pyproject.toml").write_text('[tool.tnx2nxdi]\nignore = ["TNX303"]\n')
    calls = len(counter.paths)
    result = runner.invoke(main, arguments)
    assert "TNX303 [fixed] [ignored]" in result.output  # ignore applied: not the old result
    assert len(counter.paths) == calls + 2


def test_another_tool_version_is_a_miss(tree: Path, tmp_path: Path, counter: Counter,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    _run(tree, tmp_path / "cache")
    counter.paths.clear()
    monkeypatch.setattr(tnx2nxdi, "__version__", "99.0.0")
    _run(tree, tmp_path / "cache")
    assert sorted(counter.paths) == ["serve_2.py", "serve_8.py"]


def test_edited_or_reinstalled_code_has_another_fingerprint(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "module.py").write_text("x = 1\n")
    before = cache._tree_fingerprint(package, recursive=True)
    assert cache._tree_fingerprint(package, recursive=True) == before
    (package / "sub" / "module.py").write_text("x = 22\n")
    assert cache._tree_fingerprint(package, recursive=True) != before
    now = cache._tree_fingerprint(package, recursive=True)
    stamp = os.stat(package / "__init__.py").st_mtime_ns + 10**9
    os.utime(package / "__init__.py", ns=(stamp, stamp))  # reinstalled: same bytes, new file
    assert cache._tree_fingerprint(package, recursive=True) != now
    fingerprint = cache.tool_fingerprint()
    assert tnx2nxdi.__version__ in fingerprint and sys.version in fingerprint
    assert "libcst" in fingerprint and "nbformat" in fingerprint


def test_a_changed_added_or_removed_checkpoint_config_is_a_miss(tmp_path: Path,
                                                                counter: Counter) -> None:
    """An auto-model program's family comes from its checkpoint's config.json."""
    root = tmp_path / "tree"
    (root / "ckpt").mkdir(parents=True)
    (root / "serve.py").write_text(
        "from transformers_neuronx import NeuronAutoModelForCausalLM\n"
        "model = NeuronAutoModelForCausalLM.from_pretrained('ckpt', tp_degree=8)\n"
        "model.to_neuron()\n"
    )
    config = root / "ckpt" / "config.json"

    def migrated() -> str:
        [file] = _run(root, tmp_path / "cache")
        return file.migrated or ""

    config.write_text(json.dumps({"model_type": "llama"}))
    assert "NeuronLlamaForCausalLM" in migrated()
    assert "NeuronLlamaForCausalLM" in migrated()
    assert counter.paths == ["serve.py"]  # unchanged, config too: from the cache
    config.write_text(json.dumps({"model_type": "mixtral"}))
    assert "NeuronMixtralForCausalLM" in migrated()
    config.unlink()
    without = migrated()
    [cold] = _run(root, tmp_path / "cold")  # what a run without the cache says
    assert without == cold.migrated and "model = NeuronMixtral" not in without
    config.write_text(json.dumps({"model_type": "mixtral"}))
    assert "NeuronMixtralForCausalLM" in migrated()  # the entry of before, still right
    assert counter.paths == ["serve.py"] * 4  # llama, mixtral, none, and the cold run


def test_an_auto_model_program_moved_next_to_another_config_is_a_miss(
    tmp_path: Path, counter: Counter
) -> None:
    program = ("from transformers_neuronx import NeuronAutoModelForCausalLM\n"
               "model = NeuronAutoModelForCausalLM.from_pretrained('ckpt')\n"
               "model.to_neuron()\n")
    results = []
    for name, family in (("a", "llama"), ("b", "mixtral")):
        (tmp_path / name / "ckpt").mkdir(parents=True)
        (tmp_path / name / "ckpt" / "config.json").write_text(json.dumps({"model_type": family}))
        (tmp_path / name / "serve.py").write_text(program)
        [file] = _run(tmp_path / name, tmp_path / "cache")
        results.append(file.migrated or "")
    assert "NeuronLlamaForCausalLM" in results[0] and "NeuronMixtralForCausalLM" in results[1]
    assert len(counter.paths) == 2


def test_a_checkpoint_directory_that_appears_is_a_miss(tmp_path: Path, counter: Counter) -> None:
    """``org/name`` is a Hub id unless the program's directory holds such a directory."""
    root = tmp_path / "tree"
    root.mkdir()
    (root / "serve.py").write_text(
        "from transformers_neuronx import LlamaForSampling\n"
        "model = LlamaForSampling.from_pretrained('meta-llama/Llama-2-7b', tp_degree=8)\n"
        "model.to_neuron()\n"
    )
    results = []
    for present in (False, True, True, False):
        if present:
            (root / "meta-llama" / "Llama-2-7b").mkdir(parents=True, exist_ok=True)
        elif (root / "meta-llama").exists():
            (root / "meta-llama" / "Llama-2-7b").rmdir()
        [file] = _run(root, tmp_path / "cache")
        [cold] = _run(root, tmp_path / f"cold-{len(results)}")
        assert file == cold
        results.append(file.migrated)
    assert results[0] != results[1] and results[1] == results[2] and results[3] == results[0]
    assert counter.paths.count("serve.py") == 4 + 2  # four cold runs, two misses


def test_write_mode_rewrites_a_file_the_cache_knows(tree: Path, tmp_path: Path) -> None:
    original = (tree / "serve_2.py").read_text()
    _run(tree, tmp_path / "cache")  # --check fills the cache
    _run(tree, tmp_path / "cache", mode="write")
    migrated = (tree / "serve_2.py").read_text()
    assert migrated != original
    (tree / "serve_2.py").write_text(original)
    _run(tree, tmp_path / "cache", mode="write")
    assert (tree / "serve_2.py").read_text() == migrated


def test_internal_errors_are_never_cached(tree: Path, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []

    def broken(data: bytes, options: Options, path: str | None) -> Outcome:
        calls.append(path)
        raise RuntimeError("a bug")

    monkeypatch.setitem(kinds.KINDS, ".py", kinds.Kind("Python", broken))
    for _ in range(2):
        files = _run(tree, tmp_path / "cache")
        assert sum(bool(file.error and file.error.startswith("TNX999")) for file in files) == 2
    assert len(calls) == 4


def test_a_broken_entry_is_a_miss(tree: Path, tmp_path: Path, counter: Counter) -> None:
    first = _run(tree, tmp_path / "cache")
    entries = list((tmp_path / "cache").rglob("*.json"))
    assert len(entries) == 2
    entries[0].write_text("{not json")
    entries[1].write_text(json.dumps({"original": 1}))
    counter.paths.clear()
    assert _run(tree, tmp_path / "cache") == first
    assert len(counter.paths) == 2


def test_no_cache_neither_reads_nor_writes(tree: Path, tmp_path: Path, counter: Counter) -> None:
    directory = Path(os.environ[cache.ENV_DIRECTORY])
    CliRunner().invoke(main, ["--check", "-j", "1", "--no-cache", str(tree)])
    assert not list(directory.rglob("*.json"))
    CliRunner().invoke(main, ["--check", "-j", "1", str(tree)])
    assert len(list(directory.rglob("*.json"))) == 2
    assert (directory / "CACHEDIR.TAG").read_text().startswith("Signature: 8a477f597d28d1")
    calls = len(counter.paths)
    CliRunner().invoke(main, ["--check", "-j", "1", "--no-cache", str(tree)])
    assert len(counter.paths) == calls + 2


def test_an_unwritable_cache_is_not_used(tree: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    files = _run(tree, blocker / "cache")
    assert sum(file.changed for file in files) == 2


def test_default_directory_follows_the_platform_conventions(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(cache.ENV_DIRECTORY, str(tmp_path / "here"))
    assert cache.default_directory() == tmp_path / "here"
    monkeypatch.delenv(cache.ENV_DIRECTORY)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    if sys.platform.startswith("linux"):
        assert cache.default_directory() == tmp_path / "xdg" / "tnx2nxdi"
        monkeypatch.delenv("XDG_CACHE_HOME")
        assert cache.default_directory() == Path.home() / ".cache" / "tnx2nxdi"


def test_a_cached_run_imports_no_libcst(tree: Path, tmp_path: Path) -> None:
    code = textwrap.dedent(f"""
        import sys
        from tnx2nxdi.cli import main
        sys.argv = ["tnx2nxdi", "--check", "-j", "1", {str(tree)!r}]
        try:
            main()
        except SystemExit as done:
            print("exit", done.code, "libcst" in sys.modules, file=sys.stderr)
    """)
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=False) for _ in range(2)]
    assert runs[0].stderr.splitlines()[-1] == "exit 1 True"
    assert runs[1].stderr.splitlines()[-1] == "exit 1 False"
    assert runs[0].stdout == runs[1].stdout and "Would migrate" in runs[0].stdout


# -- what a migration may read ------------------------------------------------------------------

#: Calls that read something besides the file's bytes, and the only places that make them: each
#: must be in the cache key or make the result uncacheable (tnx2nxdi/cache.py).
READERS = {"open", "read_text", "read_bytes", "exists", "is_file", "is_dir", "iterdir", "glob",
           "rglob", "listdir", "scandir", "stat", "lstat", "which", "cwd", "getcwd", "getenv",
           "load"}
ALLOWED = {
    ("models.py", "read_text"): "the checkpoint's config.json: cache.outside_inputs",
    ("models.py", "is_dir"): "whether a Hub-id-like checkpoint is a local directory: "
    "cache.outside_inputs",
    ("models.py", "cwd"): "only without a path (standard input), which is not cached",
    ("shell.py", "which"): "the bash that checks scripts: in the key of shell scripts",
}


def test_migrations_read_nothing_the_cache_key_does_not_cover() -> None:
    found = set()
    for folder in ("steps", "kinds", "engine"):
        for path in (SRC / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Call):
                    name = node.func.attr if isinstance(node.func, ast.Attribute) else (
                        node.func.id if isinstance(node.func, ast.Name) else "")
                    if name in READERS:
                        found.add((path.name, name))
                elif isinstance(node, ast.Attribute) and node.attr == "environ":
                    found.add((path.name, "environ"))
    assert found <= set(ALLOWED), sorted(found - set(ALLOWED))


@pytest.mark.parametrize("output_format", ["text", "json", "github", "markdown", "sarif"])
def test_a_cached_run_reports_what_a_fresh_run_reports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, output_format: str,
) -> None:
    """Entries hold whole results (findings with their end positions, a notebook finding's cell
    and file line, a parse error's position): every format reads the same from the cache, and
    the printing settings (--docs-url, --show-fixes) apply to cached results too."""
    project = tmp_path / "project"
    project.mkdir()
    for source in ("config/every_guide_option.in.py", "notebooks/llama_sampling.in.ipynb"):
        shutil.copy(FIXTURES / source, project / Path(source).name.replace(".in.", "."))
    (project / "py2.py").write_text('import transformers_neuronx\nprint "x"\n')
    monkeypatch.chdir(project)
    directory = Path(os.environ[cache.ENV_DIRECTORY])
    for docs in ("https://example.org/a/rules.md", "https://example.org/b/rules.md"):
        arguments = ["--check", "-j", "1", "--output-format", output_format, "--show-fixes",
                     "--docs-url", docs, "."]
        fresh = CliRunner().invoke(main, ["--no-cache", *arguments])
        assert fresh.exit_code == 2, fresh.output  # the parse error
        for _ in range(2):  # the first fills the cache (on the first docs URL), then reads it
            assert CliRunner().invoke(main, arguments).stdout == fresh.stdout
        assert len(list(directory.rglob("*.json"))) == 3
        if output_format in ("json", "markdown", "sarif"):  # the formats that carry links
            assert docs in fresh.stdout


def test_an_entry_keeps_positions_cells_and_the_parse_error_s_finding(tmp_path: Path) -> None:
    root = tmp_path / "tree"
    root.mkdir()
    shutil.copy(FIXTURES / "notebooks/llama_sampling.in.ipynb", root / "notebook.ipynb")
    (root / "serve.py").write_text(TNX.format(tp=2))
    (root / "py2.py").write_text('import transformers_neuronx\nprint "x"\n')
    first = _run(root, tmp_path / "cache")
    second = _run(root, tmp_path / "cache")
    assert second == first
    by_name = {Path(file.path).name: file for file in second}
    assert by_name["py2.py"].error_finding is not None
    assert any(finding.end_line is not None for finding in by_name["serve.py"].findings)
    cells = by_name["notebook.ipynb"].findings
    assert cells and all(f.cell is not None and f.file_line is not None for f in cells)
