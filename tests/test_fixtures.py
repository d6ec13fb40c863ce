"""Every fixture pair, byte for byte: ``<case>.in.py`` becomes ``<case>.out.py`` with the findings
of ``<case>.findings.txt``; ``<case>.noop.py`` stays byte-identical. Expected outputs must compile
and be fixed points. ``pytest --update-fixtures`` rewrites the expectations (then read them)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import FIXTURES, assert_valid_fixed_point, migrate, render

PAIRS = sorted(FIXTURES.glob("*/*.in.py"))
NOOPS = sorted(FIXTURES.glob("*/*.noop.py"))


def _id(path: Path) -> str:
    return f"{path.parent.name}/{path.name.split('.')[0]}"


def _options(path: Path) -> dict[str, object]:
    """A first-line comment ``# tnx2nxdi-options: target_version=2.22`` sets options."""
    first = path.read_text().splitlines()[0] if path.read_text() else ""
    prefix = "# tnx2nxdi-options:"
    if not first.startswith(prefix):
        return {}
    pairs = (item.split("=", 1) for item in first[len(prefix):].split())
    return dict(pairs)


@pytest.mark.parametrize("source", PAIRS, ids=_id)
def test_fixture_pair(source: Path, update_fixtures: bool) -> None:
    expected = source.with_name(source.name.replace(".in.py", ".out.py"))
    findings_file = source.with_name(source.name.replace(".in.py", ".findings.txt"))
    options = _options(source)
    code, findings = migrate(source.read_text(), str(source), **options)
    if update_fixtures:
        expected.write_text(code)
        findings_file.write_text(render(findings))
    assert code == expected.read_text()
    assert render(findings) == findings_file.read_text()
    assert code != source.read_text(), "a pair must change something; use .noop.py otherwise"
    assert_valid_fixed_point(code, **options)


@pytest.mark.parametrize("source", NOOPS, ids=_id)
def test_noop_fixture(source: Path) -> None:
    text = source.read_text()
    code, findings = migrate(text, **_options(source))
    assert code == text
    assert not [f for f in findings if f.fixed], "a no-op fixture cannot report fixes"


def test_there_are_fixtures() -> None:
    assert len(PAIRS) >= 10 and len(NOOPS) >= 3
