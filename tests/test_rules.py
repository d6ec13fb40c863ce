"""The rule registry: every code the tool can emit is registered and documented, and
``docs/rules.md`` is exactly what ``scripts/document_rules.py`` generates from the registry."""

from __future__ import annotations

import importlib.util
import re
from types import ModuleType

import pytest

from tests.helpers import FIXTURES, ROOT, migrate
from tnx2nxdi import rules

SOURCES = ROOT / "src" / "tnx2nxdi"
DOCS = ROOT / "docs" / "rules.md"
CODE = re.compile(r"\bTNX\d{3}\b")


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "document_rules", ROOT / "scripts" / "document_rules.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def documented_codes() -> set[str]:
    return set(re.findall(r"^### (TNX\d{3})$", DOCS.read_text(encoding="utf-8"), re.MULTILINE))


def codes_in_sources() -> dict[str, set[str]]:
    """Every ``TNXnnn`` written in the package (outside the registry), by file."""
    found: dict[str, set[str]] = {}
    for path in sorted(SOURCES.rglob("*.py")):
        if path.name == "rules.py":
            continue
        for code in CODE.findall(path.read_text(encoding="utf-8")):
            found.setdefault(code, set()).add(path.relative_to(ROOT).as_posix())
    return found


def test_registry_is_well_formed() -> None:
    codes = [rule.code for rule in rules.RULES]
    names = [rule.name for rule in rules.RULES]
    assert len(codes) == len(set(codes)), "duplicate rule codes"
    assert len(names) == len(set(names)), "duplicate rule names"
    for rule in rules.RULES:
        assert re.fullmatch(r"TNX[1-69]\d{2}", rule.code), rule.code
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", rule.name), rule.name
        assert rule.fix in ("fix", "manual", "sometimes"), rule.code
        assert rule.summary and rule.description, rule.code
        assert rule.anchor == rule.code.lower() and rule.url(None) is None
        assert rule.url("https://example.org/rules.md") == f"https://example.org/rules.md#{rule.anchor}"


def test_every_code_in_the_sources_is_registered_and_documented() -> None:
    found = codes_in_sources()
    unknown = {code: files for code, files in found.items() if code not in rules.RULE_BY_CODE}
    assert not unknown, f"codes used but not in rules.py: {unknown}"
    undocumented = set(found) - documented_codes()
    assert not undocumented, f"codes used but not in docs/rules.md: {sorted(undocumented)}"


def test_every_code_emitted_on_the_fixtures_is_registered_and_documented() -> None:
    """Codes built at run time would escape the source scan; the fixtures exercise them."""
    emitted: set[str] = set()
    for source in sorted(FIXTURES.glob("*/*.in.py")) + sorted(FIXTURES.glob("*/*.noop.py")):
        _, findings = migrate(source.read_text())
        emitted |= {finding.code for finding in findings}
    for expected in FIXTURES.glob("*/*.findings.txt"):
        emitted |= set(CODE.findall(expected.read_text()))
    assert emitted, "the fixtures emit no findings at all"
    assert emitted <= set(rules.RULE_BY_CODE), emitted - set(rules.RULE_BY_CODE)
    assert emitted <= documented_codes(), emitted - documented_codes()


def test_docs_rules_md_is_generated_from_the_registry() -> None:
    assert DOCS.read_text(encoding="utf-8") == _generator().render(), (
        "docs/rules.md is out of date: run python scripts/document_rules.py"
    )


def test_every_registered_rule_is_documented() -> None:
    assert documented_codes() == set(rules.RULE_BY_CODE)


@pytest.mark.parametrize(
    ("selectors", "expected"),
    [
        (["TNX303"], {"TNX303"}),
        (["tnx30"], {c for c in rules.RULE_BY_CODE if c.startswith("TNX30")}),
        (["ALL"], set(rules.RULE_BY_CODE)),
        (["TNX9", " TNX101 ", ""], {c for c in rules.RULE_BY_CODE if c[3] == "9"} | {"TNX101"}),
    ],
)
def test_expand(selectors: list[str], expected: set[str]) -> None:
    assert rules.expand(selectors) == expected


@pytest.mark.parametrize("selector", ["TNX7", "TNX3031", "E501", "X"])
def test_expand_rejects_unknown_selectors(selector: str) -> None:
    with pytest.raises(ValueError, match="unknown rule code or prefix"):
        rules.expand([selector])
