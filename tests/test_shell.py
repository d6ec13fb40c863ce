"""Shell launch scripts: where the export and the markers go, what is rewritten in place, quoting
and heredocs, plus the runner and the CLI on ``.sh`` files. The fixture pairs in
``fixtures/shell/`` run with every other kind's in ``tests/test_fixtures.py``."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from tnx2nxdi.cli import main
from tnx2nxdi.findings import Finding
from tnx2nxdi.kinds.shell import migrate_script
from tnx2nxdi.options import Options
from tnx2nxdi.runner import process_bytes, run

BASH = shutil.which("bash")
NXDI_EXPORT = "export VLLM_NEURON_FRAMEWORK=neuronx-distributed-inference"


def _migrate(text: str, **options: object) -> tuple[str, tuple[Finding, ...]]:
    code, findings, error = migrate_script(text, Options(**options))  # type: ignore[arg-type]
    assert error is None, error
    return code, findings


def _bash_n(text: str) -> None:
    if BASH is None:
        pytest.skip("bash is not installed")
    done = subprocess.run([BASH, "-n"], input=text.encode(), capture_output=True, check=False)
    assert done.returncode == 0, done.stderr.decode()


def test_export_goes_before_the_first_server_and_markers_above_the_command() -> None:
    code, findings = _migrate(
        "#!/bin/sh\n"
        "vllm serve /m --device neuron \\\n"
        "    --override-neuron-config '{\"attention_layout\": \"HSB\", \"fuse_qkv\": false}'\n"
    )
    assert code == (
        "#!/bin/sh\n"
        f"{NXDI_EXPORT}\n"
        "vllm serve /m --device neuron \\\n"
        "    --override-neuron-config '{\"fused_qkv\": false}'\n"
    )
    # attention_layout set to its TNx default is dropped quietly, like in Python.
    assert [(f.code, f.line, f.fixed) for f in findings] == [
        ("TNX601", 2, True), ("TNX602", 2, True)]


def test_a_finding_inside_a_continued_command_puts_its_marker_above_the_command() -> None:
    code, findings = _migrate(
        "NEURON_TOKEN_GEN_BUCKETS=512,128 \\\n"
        "  python -m vllm.entrypoints.openai.api_server --device=neuron\n"
    )
    lines = code.splitlines()
    assert lines[0] == NXDI_EXPORT
    assert lines[1].startswith("# TODO(tnx2nxdi): TNX605 NEURON_TOKEN_GEN_BUCKETS")
    assert '"token_generation_buckets": [128, 512]' in lines[1]
    assert lines[2].startswith("NEURON_TOKEN_GEN_BUCKETS=512,128 \\")
    assert [(f.code, f.line, f.column) for f in findings if not f.fixed] == [("TNX605", 1, 1)]
    _bash_n(code)


def test_inline_framework_prefix_is_rewritten_in_place() -> None:
    code, findings = _migrate(
        "VLLM_NEURON_FRAMEWORK=transformers-neuronx vllm serve /m --device neuron\n")
    assert code == ("VLLM_NEURON_FRAMEWORK=neuronx-distributed-inference "
                    "vllm serve /m --device neuron\n")
    assert [f.code for f in findings] == ["TNX601"]


def test_only_the_framework_value_is_rewritten_on_its_line() -> None:
    code, findings = _migrate(
        "pip install transformers-neuronx && "
        "VLLM_NEURON_FRAMEWORK=transformers-neuronx vllm serve /m --device neuron\n")
    # The install on the same line is marked (TNX102), never rewritten.
    marker, line = code.splitlines(keepends=True)
    assert marker.startswith("# TODO(tnx2nxdi): TNX102 installs transformers-neuronx")
    assert line == ("pip install transformers-neuronx && "
                    "VLLM_NEURON_FRAMEWORK=neuronx-distributed-inference vllm serve /m "
                    "--device neuron\n")
    assert sorted(f.code for f in findings) == ["TNX102", "TNX601"]


def test_speculation_with_more_than_one_sequence_is_reported_for_2_21_only() -> None:
    text = "vllm serve /m --device neuron --speculative-model /d \\\n    --max-num-seqs 4\n"
    code, findings = _migrate(text, target_version="2.21")
    assert [(f.code, f.line) for f in findings if not f.fixed] == [("TNX604", 1)]
    assert code.splitlines()[1].startswith("# TODO(tnx2nxdi): TNX604 with NxDI 2.21")
    _bash_n(code)
    code, findings = _migrate(text, target_version="2.22")
    assert [f.code for f in findings] == ["TNX601"]


def test_double_quoted_and_equals_forms_keep_their_quoting() -> None:
    code, _ = _migrate(
        'vllm serve /m --device neuron --override-neuron-config="{\\"fuse_qkv\\": true}"\n')
    assert code.endswith('--override-neuron-config="{\\"fused_qkv\\": true}"\n')


def test_shell_expansions_in_the_override_are_left_alone_with_a_finding() -> None:
    code, findings = _migrate(
        "vllm serve /m --device neuron --override-neuron-config \"$OVERRIDES\"\n")
    assert "--override-neuron-config \"$OVERRIDES\"" in code
    assert [f.code for f in findings if not f.fixed] == ["TNX603"]


def test_a_heredoc_body_is_not_read_as_commands() -> None:
    text = (
        "cat > notes.txt <<'EOF'\n"
        "vllm serve /m --device neuron --override-neuron-config '{\"fuse_qkv\": true}'\n"
        "EOF\n"
    )
    assert _migrate(text) == (text, ())


def test_crlf_scripts_keep_their_newlines() -> None:
    code, _ = _migrate("vllm serve /m --device neuron\r\n")
    assert code == f"{NXDI_EXPORT}\r\nvllm serve /m --device neuron\r\n"


def test_select_and_ignore_apply_to_scripts() -> None:
    text = "export NEURON_COMPILE_CACHE_URL=s3://b/c\nvllm serve /m --device neuron\n"
    result, data = process_bytes(text.encode(), Options(ignore=frozenset({"TNX604"})), "s.sh")
    assert b"TODO(tnx2nxdi)" not in data
    assert [f.code for f in result.findings if not f.ignored] == ["TNX601"]
    assert [f.code for f in result.findings if f.ignored] == ["TNX604"]


def test_output_that_bash_rejects_leaves_the_script_unchanged(monkeypatch: pytest.MonkeyPatch
                                                              ) -> None:
    import tnx2nxdi.kinds.shell as shell

    monkeypatch.setattr(shell, "_bash_ok", lambda bash, text: NXDI_EXPORT not in text)
    text = "vllm serve /m --device neuron\n"
    if BASH is None:
        pytest.skip("bash is not installed")
    code, findings, error = migrate_script(text, Options())
    assert (code, findings) == (text, ())
    assert error is not None and "bash -n" in error


def test_runner_walks_scripts_and_touches_only_neuron_launchers(tmp_path: Path) -> None:
    (tmp_path / "serve.sh").write_text("vllm serve /m --device neuron\n")
    (tmp_path / "build.sh").write_text("make all\n")
    (tmp_path / "gpu.sh").write_text("vllm serve /m --tensor-parallel-size 2\n")
    (tmp_path / "serve.sh").chmod(0o755)
    result = run([str(tmp_path)], Options())
    assert [Path(f.path).name for f in result.changed] == ["serve.sh"]
    assert (tmp_path / "serve.sh").read_text().startswith(NXDI_EXPORT)
    assert (tmp_path / "serve.sh").stat().st_mode & 0o777 == 0o755
    assert (tmp_path / "gpu.sh").read_text() == "vllm serve /m --tensor-parallel-size 2\n"


def test_cli_reports_script_findings_with_file_and_line(tmp_path: Path) -> None:
    script = tmp_path / "serve.sh"
    script.write_text("#!/bin/bash\nexport NEURON_RANK_ID=1\nvllm serve /m --device neuron\n")
    result = CliRunner().invoke(main, ["--check", str(script)])
    assert result.exit_code == 1
    assert f"{script}:2:8: TNX604 NEURON_RANK_ID (multi-node inference)" in result.output
    assert script.read_text().count("TODO") == 0  # --check writes nothing


# -- what vLLM's TNx loader read, moved into the override ----------------------------------------


def test_a_quantized_launch_without_device_or_override_is_seen_and_moved() -> None:
    text = "export NEURON_QUANT_DTYPE=f8e4m3fn\nvllm serve /m/llama-3-8b -q neuron_quant --port 1\n"
    result, data = process_bytes(text.encode(), Options(), "serve.sh")
    assert result.changed
    code = data.decode()
    assert "neuron_quant" not in code.splitlines()[-1]
    assert '"quantization_dtype": "f8e4m3"' in code
    assert '"quantization_type": "per_channel_symmetric"' in code
    assert [f.code for f in result.findings if not f.fixed] == ["TNX305"]
    _bash_n(code)


def test_quantization_written_with_equals_is_removed_with_its_value() -> None:
    code, _ = _migrate("vllm serve /m --device neuron --quantization=neuron_quant --port 1\n")
    assert "--quantization" not in code and code.rstrip().endswith("--port 1")


def test_modules_to_not_convert_is_not_written_for_2_21_which_ignores_it() -> None:
    code, findings = _migrate("vllm serve /m --device neuron --quantization neuron_quant\n",
                              target_version="2.21")
    assert "modules_to_not_convert" not in code.splitlines()[-1]
    assert any(f.code == "TNX303" and "lm_head is quantized too" in f.message and not f.fixed
               for f in findings)


def test_a_bucket_prefix_on_the_launch_is_moved_and_a_plain_assignment_is_marked() -> None:
    code, findings = _migrate(
        "NEURON_TOKEN_GEN_BUCKETS=128,512 vllm serve /m --device neuron --max-model-len 512\n")
    assert '"token_generation_buckets": [128, 512]' in code
    assert [f.code for f in findings if not f.fixed] == []
    code, findings = _migrate("NEURON_TOKEN_GEN_BUCKETS=128,512\n"
                              "vllm serve /m --device neuron --max-model-len 512\n")
    assert "token_generation_buckets" not in code.splitlines()[-1]
    assert [(f.code, "not exported" in f.message) for f in findings if not f.fixed] == [
        ("TNX605", True)]


def test_buckets_beyond_max_model_len_stay_a_marker() -> None:
    code, findings = _migrate("export NEURON_CONTEXT_LENGTH_BUCKETS=128,4096\n"
                              "vllm serve /m --device neuron --max-model-len 2048\n")
    assert code.splitlines()[-1] == "vllm serve /m --device neuron --max-model-len 2048"
    assert [f.code for f in findings if not f.fixed] == ["TNX605"]
    assert "at most max_model_len (2048)" in findings[0].message


def test_a_max_model_len_from_a_variable_is_read() -> None:
    code, findings = _migrate("LEN=1024\nexport NEURON_TOKEN_GEN_BUCKETS=256,1024\n"
                              "vllm serve /m --device neuron --max-model-len $LEN\n")
    assert '"token_generation_buckets": [256, 1024]' in code
    assert [f.code for f in findings if not f.fixed] == []


def test_an_override_variable_set_twice_is_left_with_a_marker() -> None:
    text = ("OVR='{\"fuse_qkv\": true}'\n[ -n \"$1\" ] && OVR=\"$1\"\n"
            "vllm serve /m --device neuron --override-neuron-config \"$OVR\"\n")
    code, findings = _migrate(text)
    assert "fuse_qkv" in code
    assert [f.code for f in findings if not f.fixed] == ["TNX603"]


def test_additions_to_an_override_that_cannot_be_read_become_markers() -> None:
    code, findings = _migrate("export NEURON_TOKEN_GEN_BUCKETS=512\n"
                              "vllm serve /m --device neuron --max-model-len 512 "
                              "--override-neuron-config \"$OVR\"\n")
    assert [f.code for f in findings if not f.fixed] == ["TNX605", "TNX603"]
    assert 'add "token_generation_buckets": [512], "enable_bucketing": true' in findings[0].message


def test_the_v1_plugin_gets_no_framework_variable() -> None:
    code, findings = _migrate(
        "vllm serve /m --additional-config '{\"override_neuron_config\": {\"fuse_qkv\": true}}'\n")
    assert "VLLM_NEURON_FRAMEWORK" not in code
    assert '{"override_neuron_config": {"fused_qkv": true}}' in code
    assert [f.code for f in findings] == ["TNX602"]


def test_the_fork_branch_for_2_21_is_fine_when_2_21_is_targeted() -> None:
    text = "git clone -b v0.6.x-neuron https://github.com/aws-neuron/upstreaming-to-vllm.git\n"
    assert _migrate(text, target_version="2.21") == (text, ())
    code, findings = _migrate(text)
    assert [f.code for f in findings] == ["TNX607"]
