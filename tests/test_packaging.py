"""The package as it is shipped: the sdist holds what its own test suite needs (downstream
packagers run the tests from it; .ci/run does too) and the metadata says what the project is.
.ci/run also installs the wheel in a clean virtual environment and runs it."""

from __future__ import annotations

import email.parser
import subprocess
import sys
import tarfile

import pytest

from tests.helpers import ROOT

#: What the test suite reads besides src/: every file of these, as in the repository.
NEEDED = ("tests", "fixtures", "docs", "scripts", "examples")


def _repository_files(folder: str) -> set[str]:
    return {
        path.relative_to(ROOT).as_posix() for path in (ROOT / folder).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }


@pytest.fixture(scope="module")
def sdist(tmp_path_factory: pytest.TempPathFactory) -> tarfile.TarFile:
    pytest.importorskip("build")
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "build", "--sdist", "--no-isolation", "--outdir",
                    str(out), str(ROOT)], check=True, capture_output=True)
    [archive] = out.glob("tnx2nxdi-*.tar.gz")
    return tarfile.open(archive)


def _members(sdist: tarfile.TarFile) -> set[str]:
    return {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}


def test_the_sdist_holds_everything_the_tests_read(sdist: tarfile.TarFile) -> None:
    members = _members(sdist)
    for folder in NEEDED:
        missing = _repository_files(folder) - members
        assert not missing, f"not in the sdist: {sorted(missing)[:10]}"
    for name in ("LICENSE", "README.md", "pyproject.toml", ".pre-commit-hooks.yaml",
                 "tests/conftest.py", "tests/helpers.py", "tests/execution.py"):
        assert name in members, name
    assert not [name for name in members if name.endswith(".pyc")]


def test_metadata_license_classifiers_and_floors(sdist: tarfile.TarFile) -> None:
    [info] = [m for m in sdist.getmembers() if m.name.count("/") == 1
              and m.name.endswith("/PKG-INFO")]
    stream = sdist.extractfile(info)
    assert stream is not None
    metadata = email.parser.Parser().parsestr(stream.read().decode())
    assert metadata["License-Expression"] == "Apache-2.0"
    assert metadata["License-File"] == "LICENSE"
    assert "Apache License" in (ROOT / "LICENSE").read_text() and "Version 2.0" in (
        ROOT / "LICENSE").read_text()
    classifiers = metadata.get_all("Classifier") or []
    assert metadata["Requires-Python"] == ">=3.10"
    assert "Programming Language :: Python :: 3.10" in classifiers
    assert not [c for c in classifiers if c.startswith("License ::")]  # the SPDX string says it


def test_ci_tests_the_declared_floors() -> None:
    """.ci/run installs exactly the lowest versions pyproject.toml allows (on Python 3.10)."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:
        import tomli as tomllib
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    run = (ROOT / ".ci" / "run").read_text()
    for requirement in project["dependencies"]:
        name, _, rest = requirement.partition(">=")
        floor = rest.split(",")[0].split(";")[0].strip()
        assert f"{name.strip()}=={floor}" in run, (name, floor)
