"""The command line: every mode and exit code, through click's CliRunner."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from tnx2nxdi.cli import main

TNX = (
    "from transformers_neuronx import LlamaForSampling\n"
    "\n"
    "model = LlamaForSampling.from_pretrained('/m/llama', tp_degree=8, amp='bf16')\n"
    "model.to_neuron()\n"
    "model.save('out')\n"
)
CLEAN = "print('no TNx here')\n"
DROPS_OPTION = (
    "from transformers_neuronx import LlamaForSampling, NeuronConfig\n"
    "nc = NeuronConfig(output_all_logits=True)\n"
    "model = LlamaForSampling.from_pretrained('/m/llama', neuron_config=nc)\n"
)


def invoke(*args: str, input: str | bytes | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "serve.py").write_text(TNX)
    (tmp_path / "pkg" / "clean.py").write_text(CLEAN)
    return tmp_path


def test_in_place_rewrites_and_exits_1(tree: Path) -> None:
    result = invoke(str(tree))
    assert result.exit_code == 1
    migrated = (tree / "pkg" / "serve.py").read_text()
    assert "model = NeuronLlamaForCausalLM('/m/llama', config)\nmodel.compile('out')\n" in migrated
    assert "transformers_neuronx" not in migrated
    assert (tree / "pkg" / "clean.py").read_text() == CLEAN
    assert "1 file migrated, 1 left unchanged, 0 findings need attention." in result.output


def test_second_run_is_clean_and_exits_0(tree: Path) -> None:
    invoke(str(tree))
    again = invoke(str(tree))
    assert again.exit_code == 0
    assert "0 files migrated" in again.output


def test_diff_writes_nothing(tree: Path) -> None:
    result = invoke("--diff", str(tree))
    assert result.exit_code == 1
    path = str(tree / "pkg" / "serve.py")
    assert f"--- {path}\n+++ {path}\n" in result.stdout
    assert "-model.to_neuron()\n" in result.stdout
    assert (tree / "pkg" / "serve.py").read_text() == TNX


def test_check_lists_files_and_writes_nothing(tree: Path) -> None:
    result = invoke("--check", str(tree))
    assert result.exit_code == 1
    assert f"Would migrate {tree / 'pkg' / 'serve.py'}" in result.output
    assert (tree / "pkg" / "serve.py").read_text() == TNX


def test_clean_tree_exits_0(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text(CLEAN)
    result = invoke("--check", str(tmp_path))
    assert result.exit_code == 0
    assert "0 files would be migrated, 1 left unchanged, 0 findings need attention." in (
        result.output
    )


def test_findings_that_need_a_person_exit_1_even_with_exit_zero_flag(tmp_path: Path) -> None:
    path = tmp_path / "a.py"
    path.write_text(DROPS_OPTION)
    result = invoke("--exit-zero-even-if-changed", str(path))
    assert result.exit_code == 1
    assert f"{path}:2:19: TNX303 output_all_logits=True has no NxDI equivalent" in result.output


def test_exit_zero_even_if_changed(tree: Path) -> None:
    assert invoke("--exit-zero-even-if-changed", str(tree)).exit_code == 0


def test_stdin_to_stdout() -> None:
    result = CliRunner().invoke(main, ["-"], input=TNX)
    assert result.exit_code == 1
    assert "NeuronLlamaForCausalLM" in result.stdout
    assert "transformers_neuronx" not in result.stdout


def test_stdin_clean_passes_through() -> None:
    result = CliRunner().invoke(main, ["-"], input=CLEAN)
    assert result.exit_code == 0
    assert result.stdout == CLEAN


def test_syntax_error_exits_2_and_others_still_processed(tree: Path) -> None:
    broken = tree / "pkg" / "broken.py"
    broken.write_text("import transformers_neuronx\ndef f(:\n")
    result = invoke(str(tree))
    assert result.exit_code == 2
    assert broken.read_text() == "import transformers_neuronx\ndef f(:\n"
    with pytest.raises(SyntaxError) as python:
        compile(broken.read_text(), str(broken), "exec")
    error = python.value  # the same position and message as Python's own
    assert f"{broken}:{error.lineno}:{error.offset}: TNX998 {error.msg}\n" in result.output
    assert error.lineno == 2
    assert "transformers_neuronx" not in (tree / "pkg" / "serve.py").read_text()


def test_missing_path_exits_2(tmp_path: Path) -> None:
    result = invoke(str(tmp_path / "nope.py"))
    assert result.exit_code == 2
    assert "nope.py: error: no such file" in result.output


def test_non_utf8_without_cookie_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "latin.py"
    data = b"# caf\xe9\nimport transformers_neuronx\n"
    path.write_bytes(data)
    result = invoke(str(path))
    assert result.exit_code == 2
    assert "not UTF-8 and has no coding cookie" in result.output
    assert path.read_bytes() == data


def test_crlf_and_permissions_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "win.py"
    path.write_bytes(TNX.replace("\n", "\r\n").encode())
    os.chmod(path, 0o750)
    assert invoke(str(path)).exit_code == 1
    data = path.read_bytes()
    assert b"NeuronLlamaForCausalLM" in data
    assert data.count(b"\n") == data.count(b"\r\n")
    assert stat.S_IMODE(path.stat().st_mode) == 0o750
    assert not [p for p in tmp_path.iterdir() if p.name != "win.py"], "temporary files left"


def test_bom_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "bom.py"
    path.write_bytes(b"\xef\xbb\xbf" + TNX.encode())
    invoke(str(path))
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and b"NeuronLlamaForCausalLM" in data


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert invoke().exit_code == 2
    assert invoke("--select", "TNX7", str(tmp_path)).exit_code == 2
    assert invoke("--target-version", "3.0", str(tmp_path)).exit_code == 2


def test_json_output(tmp_path: Path) -> None:
    path = tmp_path / "a.py"
    path.write_text(DROPS_OPTION)
    result = invoke("--check", "--output-format", "json", str(path))
    rows = json.loads(result.stdout)["findings"]
    dropped = [row for row in rows if row["code"] == "TNX303"]
    assert dropped and (dropped[0]["line"], dropped[0]["column"]) == (2, 19)
    assert dropped[0]["fixed"] is False
    assert {"path", "line", "column", "code", "message", "fixed"} <= set(dropped[0])


def test_list_rules_and_explain() -> None:
    listing = invoke("--list-rules")
    assert listing.exit_code == 0 and "TNX201" in listing.output
    explained = invoke("--explain", "tnx402")
    assert explained.exit_code == 0 and "save_sharded_checkpoint" in explained.output
    assert invoke("--explain", "TNX000").exit_code == 2


def test_ignore_suppresses_findings_and_markers(tmp_path: Path) -> None:
    path = tmp_path / "a.py"
    path.write_text(DROPS_OPTION)
    result = invoke("--ignore", "TNX3", str(path))
    assert result.exit_code == 1  # still changed
    assert "TNX303" not in result.output
    assert "TODO(tnx2nxdi)" not in path.read_text()


# -- reports, colors, exclusion, rules, the never-a-false-all-clear guarantee ---------------------


def test_markdown_report_for_a_pull_request(tree: Path) -> None:
    (tree / "pkg" / "drops.py").write_text(DROPS_OPTION)
    result = invoke("--check", "--output-format", "markdown", str(tree))
    assert result.exit_code == 1
    assert result.stdout.startswith("## tnx2nxdi\n\n2 files would be migrated, 1 left unchanged")
    assert f"| `{tree / 'pkg' / 'serve.py'}` | would be migrated | 0 |" in result.stdout
    assert "| TNX303 |" in result.stdout and "](" not in result.stdout  # no link by default
    assert "Would migrate" not in result.stdout  # one markdown document, nothing else
    (tree / "pyproject.toml").write_text(
        '[tool.tnx2nxdi]\ndocs-url = "https://example.org/tnx2nxdi/docs/rules.md"\n')
    linked = invoke("--check", "--output-format", "markdown", str(tree))
    assert "[TNX303](https://example.org/tnx2nxdi/docs/rules.md#tnx303)" in linked.stdout


def test_markdown_in_diff_mode_folds_the_diffs_in(tree: Path) -> None:
    result = invoke("--diff", "--output-format", "markdown", str(tree))
    assert result.exit_code == 1
    assert "```diff\n--- " in result.stdout and "-model.to_neuron()\n" in result.stdout
    assert (tree / "pkg" / "serve.py").read_text() == TNX


@pytest.mark.parametrize(("flag", "colored"), [("always", True), ("never", False), ("auto", False)])
def test_diff_color(tree: Path, flag: str, colored: bool) -> None:
    # CliRunner's output is not a terminal, so "auto" means no color here.
    result = invoke("--diff", "--color", flag, str(tree))
    assert ("\x1b[31m-model.to_neuron()" in result.stdout) is colored
    assert ("\x1b[" in result.stdout) is colored


def test_no_color_environment_variable(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    assert "\x1b[" not in invoke("--diff", str(tree)).stdout
    assert "\x1b[" in invoke("--diff", "--color", "always", str(tree)).stdout


def test_exclude_and_force_exclude(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tree)
    (tree / "legacy").mkdir()
    (tree / "legacy" / "old.py").write_text(TNX)
    walked = invoke("--check", "--exclude", "legacy,*.txt", ".")
    assert "old.py" not in walked.output and "serve.py" in walked.output
    named = invoke("--check", "--exclude", "legacy", "legacy/old.py")
    assert "Would migrate legacy/old.py" in named.output
    forced = invoke("--check", "--exclude", "legacy", "--force-exclude", "legacy/old.py")
    assert forced.exit_code == 0 and "old.py" not in forced.output


def test_stdin_with_an_excluded_filename_passes_through(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.tnx2nxdi]\nexclude = ["vendored"]\n')
    name = str(tmp_path / "vendored" / "x.py")
    result = CliRunner().invoke(
        main, ["--force-exclude", "--stdin-filename", name, "-"], input=TNX
    )
    assert result.exit_code == 0 and result.stdout == TNX
    migrated = CliRunner().invoke(main, ["--stdin-filename", name, "-"], input=TNX)
    assert migrated.exit_code == 1 and "NeuronLlamaForCausalLM" in migrated.stdout


def test_list_rules_covers_the_registry() -> None:
    from tnx2nxdi.rules import RULES

    lines = invoke("--list-rules").output.splitlines()
    for rule in RULES:
        assert any(line.startswith(f"{rule.code} ") and rule.name in line for line in lines)


def test_explain_prints_before_after_and_the_docs_link() -> None:
    result = invoke("--explain", "TNX303")
    assert result.exit_code == 0
    assert ("Before (a Python program):\n"
            "    from transformers_neuronx import LlamaForSampling, NeuronConfig\n"
            "\n"
            '    neuron_config = NeuronConfig(output_all_logits=True)\n') in result.output
    assert "After:\n" in result.output
    assert "    # TODO(tnx2nxdi): TNX303 output_all_logits=" in result.output
    notebook = invoke("--explain", "TNX102").output
    assert "Before (a notebook code cell):\n    %pip install" in notebook
    assert "Docs:" not in result.output  # no link that leads nowhere
    assert "What happens: migrated automatically, or left for a person" in result.output
    linked = invoke("--explain", "TNX303", "--docs-url", "https://example.org/rules.md")
    assert linked.output.rstrip().endswith("Docs: https://example.org/rules.md#tnx303")
    bad = invoke("--explain", "TNX303", "--docs-url", "docs/rules.md")
    assert bad.exit_code == 2 and "absolute" in bad.output
    parse = invoke("--explain", "TNX998").output
    assert "What happens: the file is left as it is, no marker is written" in parse
    unknown = invoke("--explain", "TNX7")
    assert unknown.exit_code == 2 and "--list-rules" in unknown.output


@pytest.mark.parametrize(
    "source",
    [
        "from transformers_neuronx import dtypes\nx = dtypes.to_torch_dtype('bf16')\n",
        "import transformers_neuronx\nprint(transformers_neuronx.__version__)\n",
        "from transformers_neuronx import *\nm = LlamaForSampling.from_pretrained('x')\n",
        "import transformers_neuronx.llama.model as tm\ndef f(cls=tm.LlamaForSampling):\n"
        "    return cls\n",
    ],
    ids=["unknown-helper", "module-attribute", "star-import", "class-as-default"],
)
def test_never_a_false_all_clear(tmp_path: Path, source: str) -> None:
    """A file that still uses TNx after the run, whatever the construct, is never clean."""
    path = tmp_path / "a.py"
    path.write_text(source)
    for mode in ("--check", "--diff"):
        result = invoke(mode, "--exit-zero-even-if-changed", str(path))
        assert result.exit_code == 1, result.output
        assert ": TNX9" in result.output
    invoke(str(path))
    again = invoke("--exit-zero-even-if-changed", str(path))
    assert again.exit_code == 1 and ": TNX9" in again.output  # a second run is not clean
    assert path.read_text().count("# TODO(tnx2nxdi): TNX9") == 1  # and adds no second marker
    assert "transformers_neuronx" in path.read_text()


def test_every_help_option_is_documented_in_usage() -> None:
    usage = (Path(__file__).resolve().parent.parent / "docs" / "usage.md").read_text()
    missing = [
        option
        for param in main.params
        for option in (*param.opts, *param.secondary_opts)
        if option.startswith("-") and f"`{option}" not in usage
    ]
    assert not missing, f"options in --help but not in docs/usage.md: {missing}"
    help_text = invoke("--help").output
    for choice in ("text", "json", "github", "markdown", "auto", "always", "never"):
        assert choice in help_text and f"`{choice}`" in usage


def test_github_workflow_is_valid_and_uses_real_options() -> None:
    yaml = pytest.importorskip("yaml")  # PyYAML comes with pre-commit (a test dependency)
    path = Path(__file__).resolve().parent.parent / "docs" / "github-workflow.yml"
    workflow = yaml.safe_load(path.read_text())
    steps = workflow["jobs"]["tnx2nxdi"]["steps"]
    commands = [line for step in steps for line in str(step.get("run", "")).splitlines()
                if line.strip().startswith("tnx2nxdi ")]
    assert len(commands) == 3
    known = {option for param in main.params for option in param.opts}
    for command in commands:
        options = {word for word in command.split() if word.startswith("--")}
        assert options <= known, options - known
    assert "--output-format markdown" in commands[1] and "--diff" in commands[1]
    assert "--output-format json" in commands[2]  # the whole report, kept as an artifact
    uploads = [step for step in steps if str(step.get("uses", "")).startswith(
        "actions/upload-artifact@")]
    assert uploads and "tnx2nxdi-report.json" in uploads[0]["with"]["path"]


def test_stdin_markdown_report_goes_to_stdout() -> None:
    result = CliRunner().invoke(main, ["--diff", "--output-format", "markdown", "-"], input=TNX)
    assert result.exit_code == 1
    assert result.stdout.startswith("## tnx2nxdi\n") and "```diff\n" in result.stdout


def test_help_rules_and_configuration_do_not_import_libcst(tmp_path: Path) -> None:
    import subprocess
    import sys
    import textwrap

    (tmp_path / "pyproject.toml").write_text('[tool.tnx2nxdi]\nexclude = ["x"]\n')
    (tmp_path / "clean.py").write_text(CLEAN)
    code = textwrap.dedent(f"""
        import sys
        from click.testing import CliRunner
        from tnx2nxdi.cli import main
        for args in (["--help"], ["--list-rules"], ["--explain", "TNX303"],
                     ["--check", {str(tmp_path)!r}]):
            assert CliRunner().invoke(main, args).exit_code == 0, args
        assert "libcst" not in sys.modules, "LibCST was imported"
    """)
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.skipif(not __import__("shutil").which("bash"), reason="bash is not installed")
def test_github_workflow_shell_steps_run(tmp_path: Path) -> None:
    """The workflow's own shell steps, run with bash in a project that needs migrating."""
    import subprocess
    import sys

    yaml = pytest.importorskip("yaml")
    path = Path(__file__).resolve().parent.parent / "docs" / "github-workflow.yml"
    steps = {step.get("name"): step for step in yaml.safe_load(path.read_text())["jobs"][
        "tnx2nxdi"]["steps"]}
    (tmp_path / "serve.py").write_text(TNX)
    outputs, summary = tmp_path / "outputs.txt", tmp_path / "summary.md"
    env = {**os.environ, "GITHUB_OUTPUT": str(outputs), "GITHUB_STEP_SUMMARY": str(summary),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    for name in ("Annotate findings", "Build the report"):
        result = subprocess.run(["bash", "-e", "-c", steps[name]["run"]], cwd=tmp_path, env=env,
                                capture_output=True, text=True, check=False)
        assert result.returncode == 0, (name, result.stdout, result.stderr)
    assert "status=1" in outputs.read_text()
    report_md = (tmp_path / "tnx2nxdi-report.md").read_text()
    assert report_md.startswith("## tnx2nxdi\n") and "```diff" in report_md
    assert summary.read_text() == report_md
    assert (tmp_path / "serve.py").read_text() == TNX
    full = json.loads((tmp_path / "tnx2nxdi-report.json").read_text())
    assert full["files"][0]["diff"].startswith("--- ")  # the artifact: the whole report
    unset = subprocess.run(["bash", "-e", "-c", steps["Install tnx2nxdi"]["run"]], cwd=tmp_path,
                           env={**env, "TNX2NXDI": ""}, capture_output=True, text=True,
                           check=False)
    assert unset.returncode == 1 and "::error::set TNX2NXDI" in unset.stdout
