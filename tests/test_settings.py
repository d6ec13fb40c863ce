"""``[tool.tnx2nxdi]`` in pyproject.toml: found by walking up, validated, and beaten by flags."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from tnx2nxdi import settings
from tnx2nxdi.cli import main
from tnx2nxdi.options import Options

DROPS_OPTION = (
    "from transformers_neuronx import LlamaForSampling, NeuronConfig\n"
    "nc = NeuronConfig(output_all_logits=True)\n"
    "model = LlamaForSampling.from_pretrained('/m/llama', neuron_config=nc)\n"
)
TNX = (
    "from transformers_neuronx import LlamaForSampling\n"
    "model = LlamaForSampling.from_pretrained('/m/llama', tp_degree=8)\n"
    "model.to_neuron()\n"
)


def project(root: Path, config: str) -> Path:
    (root / "pyproject.toml").write_text(config)
    (root / "src" / "pkg").mkdir(parents=True)
    return root / "src" / "pkg"


def test_found_by_walking_up_from_the_paths(tmp_path: Path) -> None:
    package = project(tmp_path, '[tool.tnx2nxdi]\nignore = ["TNX3"]\ntarget-version = "2.22"\n')
    loaded = settings.load([str(package)])
    assert loaded.source == (tmp_path / "pyproject.toml").resolve()
    assert "TNX303" in loaded.ignore and "TNX201" not in loaded.ignore
    assert loaded.target_version == "2.22"


def test_a_pyproject_without_the_table_is_passed_over(tmp_path: Path) -> None:
    package = project(tmp_path, '[tool.tnx2nxdi]\nselect = ["TNX9"]\n')
    (package / "pyproject.toml").write_text('[project]\nname = "pkg"\n# uses tnx2nxdi\n')
    loaded = settings.load([str(package / "a.py")])
    assert loaded.source == (tmp_path / "pyproject.toml").resolve()
    assert loaded.select is not None and "TNX901" in loaded.select


def test_common_directory_of_several_paths(tmp_path: Path) -> None:
    package = project(tmp_path, "[tool.tnx2nxdi]\n")
    (tmp_path / "other").mkdir()
    loaded = settings.load([str(package / "a.py"), str(tmp_path / "other")])
    assert loaded.source == (tmp_path / "pyproject.toml").resolve()


def test_no_configuration(tmp_path: Path) -> None:
    assert settings.load([str(tmp_path)]) == settings.Settings()


def test_stdin_filename_decides_where_to_look(tmp_path: Path) -> None:
    package = project(tmp_path, '[tool.tnx2nxdi]\ncompiled-model-path = "/srv/compiled"\n')
    loaded = settings.load(["-"], str(package / "a.py"))
    assert loaded.compiled_model_path == "/srv/compiled"


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ('[tool.tnx2nxdi]\nselcet = ["TNX3"]\n', "unknown key 'selcet'"),
        ('[tool.tnx2nxdi]\nselect = ["TNX7"]\n', "unknown rule code or prefix: 'TNX7'"),
        ('[tool.tnx2nxdi]\ntarget-version = "3.0"\n', "target-version: '3.0' is not one of"),
        ("[tool.tnx2nxdi]\ntarget-version = 2.22\n", "target-version: expected a string"),
        ("[tool.tnx2nxdi]\nexclude = [1]\n", "exclude: expected a string or a list"),
        ("[tool.tnx2nxdi\n", "cannot read"),
        ('[tool]\ntnx2nxdi = "yes"\n', "must be a table"),
    ],
)
def test_bad_configuration_names_the_key_and_exits_2(
    tmp_path: Path, config: str, message: str
) -> None:
    package = project(tmp_path, config)
    (package / "a.py").write_text(TNX)
    with pytest.raises(settings.SettingsError, match="pyproject.toml"):
        settings.load([str(package)])
    result = CliRunner().invoke(main, ["--check", str(package)])
    assert result.exit_code == 2
    assert message in result.output
    assert (package / "a.py").read_text() == TNX


def test_configured_ignore_applies_and_the_flag_wins(tmp_path: Path) -> None:
    package = project(tmp_path, '[tool.tnx2nxdi]\nignore = ["TNX303"]\n')
    (package / "a.py").write_text(DROPS_OPTION)
    quiet = CliRunner().invoke(main, ["--check", str(package)])
    assert "TNX303" not in quiet.output
    loud = CliRunner().invoke(main, ["--check", "--ignore", "TNX902", str(package)])
    assert "TNX303 output_all_logits=True" in loud.output


def test_configured_target_version_and_compiled_path_and_flags_win(tmp_path: Path) -> None:
    package = project(
        tmp_path, '[tool.tnx2nxdi]\ncompiled-model-path = "/srv/llama"\n'
    )
    (package / "a.py").write_text(TNX)
    configured = CliRunner().invoke(main, ["--diff", str(package)])
    assert '+model.compile("/srv/llama")' in configured.output
    flagged = CliRunner().invoke(
        main, ["--diff", "--compiled-model-path", "/tmp/x", str(package)]
    )
    assert "/srv/llama" not in flagged.output and "/tmp/x" in flagged.output


def test_configured_exclude_is_relative_to_the_pyproject(tmp_path: Path) -> None:
    package = project(tmp_path, '[tool.tnx2nxdi]\nexclude = ["src/pkg/generated"]\n')
    (package / "generated").mkdir()
    (package / "generated" / "a.py").write_text(TNX)
    (package / "b.py").write_text(TNX)
    result = CliRunner().invoke(main, ["--check", str(tmp_path)])
    assert "b.py" in result.output and "generated" not in result.output


def _options_of(monkeypatch: pytest.MonkeyPatch, *args: str) -> Options:
    """The Options the CLI hands to the runner."""
    from tnx2nxdi import runner
    from tnx2nxdi.findings import RunResult

    seen: list[Options] = []

    def fake_run(paths: object, options: Options, **kwargs: object) -> RunResult:
        seen.append(options)
        return RunResult()

    monkeypatch.setattr(runner, "run", fake_run)
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return seen[0]


def test_every_key_reaches_the_run_and_every_flag_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = project(tmp_path, (
        '[tool.tnx2nxdi]\nselect = ["TNX3"]\nignore = "TNX303,TNX304"\nexclude = ["gen"]\n'
        'target-version = "2.22"\ncompiled-model-path = "/srv/c"\n'
    ))
    configured = _options_of(monkeypatch, "--check", str(package))
    assert configured.select is not None and "TNX301" in configured.select
    assert "TNX201" not in configured.select
    assert configured.ignore == {"TNX303", "TNX304"}
    assert configured.exclude == ("gen",)
    assert (configured.target_version, configured.compiled_model_path) == ("2.22", "/srv/c")
    flagged = _options_of(
        monkeypatch, "--check", "--select", "TNX9", "--ignore", "TNX901", "--exclude", "old",
        "--target-version", "2.29", "--compiled-model-path", "/x", str(package),
    )
    assert flagged.select is not None and "TNX301" not in flagged.select
    assert flagged.ignore == {"TNX901"} and flagged.exclude == ("old",)
    assert (flagged.target_version, flagged.compiled_model_path) == ("2.29", "/x")


def test_every_key_is_documented() -> None:
    docs = (Path(__file__).resolve().parent.parent / "docs" / "configuration.md").read_text()
    for key in settings.KEYS:
        assert f"| `{key}` |" in docs, key
