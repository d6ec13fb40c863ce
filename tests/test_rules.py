"""The rule registry is true: every code the tool can emit is registered, declared by the module
that writes it and documented; every emitted finding is fixed or manual as its rule says; every
rule's example migrates exactly as documented; and ``docs/rules.md`` is exactly what
``scripts/document_rules.py`` generates from the registry."""

from __future__ import annotations

import ast
import importlib
import importlib.util
import json
import pkgutil
import re
from pathlib import Path
from types import ModuleType
from typing import get_args

import nbformat
import pytest

import tnx2nxdi
from tests.helpers import FIXTURES, ROOT, fixture_files, process_fixture
from tnx2nxdi import rules
from tnx2nxdi.findings import Finding
from tnx2nxdi.options import Options
from tnx2nxdi.runner import process_bytes

SOURCES = ROOT / "src" / "tnx2nxdi"
DOCS = ROOT / "docs" / "rules.md"
CODE = re.compile(r"\bTNX\d{3}\b")
#: A string that emits a code is the code itself or starts with it ("TNX999 internal error ...");
#: a code further inside a string is a mention (a message pointing at another rule).
EMITTED = re.compile(r"(TNX\d{3})(?:\b|$)")
#: Where a file holds codes it does not write itself: mappings.py is data, and the step that
#: reads the table declares the codes in it; the runner writes the internal-error code TNX999
#: when a file kind's handler raises (the kinds and the engine declare it where they write it).
ELSEWHERE: dict[str, tuple[str, frozenset[str] | None]] = {
    "mappings.py": ("tnx2nxdi.steps.manual", None),  # MANUAL_SYMBOLS: (code, advice) entries
    "runner.py": ("tnx2nxdi.engine", frozenset({"TNX999"})),
    "cache.py": ("tnx2nxdi.engine", frozenset({"TNX999"})),  # internal errors are never kept
}
#: The rules without an example: a rewrite that does not compile has no example to give, and a
#: file that does not parse is left as it is (an example would show no change).
NO_EXAMPLE = {"TNX998", "TNX999"}
#: The file name each kind of example is migrated under (its suffix chooses the handler).
EXAMPLE_FILE = {"python": "example.py", "notebook": "example.ipynb", "shell": "example.sh"}


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


def _module_name(path: Path) -> str:
    parts = path.relative_to(SOURCES.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _documentation(tree: ast.AST) -> set[int]:
    """ids of the string statements (docstrings, attribute docs): prose, never an emission."""
    return {
        id(node.value) for node in ast.walk(tree)
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
    }


def emitted_literals(path: Path) -> set[str]:
    """Codes a module writes: string literals (f-strings by their first part) that are a code or
    start with one."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    prose = _documentation(tree)
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr) and node.values:
            node = node.values[0]
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in prose:
            match = EMITTED.match(node.value)
            if match:
                found.add(match.group(1))
    return found


def declarations() -> dict[str, frozenset[str]]:
    """``CODES`` of every module of the package that declares it."""
    declared = {}
    for info in pkgutil.walk_packages(tnx2nxdi.__path__, "tnx2nxdi."):
        if info.name.endswith(".__main__"):
            continue  # importing it edits sys.path
        codes = getattr(importlib.import_module(info.name), "CODES", None)
        if codes is not None:
            declared[info.name] = frozenset(codes)
    return declared


# -- the registry --------------------------------------------------------------------------------


def test_registry_is_well_formed() -> None:
    codes = [rule.code for rule in rules.RULES]
    names = [rule.name for rule in rules.RULES]
    assert len(codes) == len(set(codes)), "duplicate rule codes"
    assert len(names) == len(set(names)), "duplicate rule names"
    for rule in rules.RULES:
        assert re.fullmatch(r"TNX[1-69]\d{2}", rule.code), rule.code
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", rule.name), rule.name
        assert rule.fix in get_args(rules.FixKind), rule.code
        assert rule.kind in get_args(rules.ExampleKind), rule.code
        assert rule.summary and rule.description, rule.code
        assert rule.anchor == rule.code.lower() and rule.url(None) is None
        assert rule.url("https://example.org/rules.md") == f"https://example.org/rules.md#{rule.anchor}"


def test_every_kind_has_its_wording() -> None:
    assert tuple(rules.FIX_KINDS) == get_args(rules.FixKind)
    assert tuple(rules.EXAMPLE_KINDS) == get_args(rules.ExampleKind)
    assert set(EXAMPLE_FILE) == set(rules.EXAMPLE_KINDS)


def test_every_code_in_the_sources_is_registered_and_documented() -> None:
    found = codes_in_sources()
    unknown = {code: files for code, files in found.items() if code not in rules.RULE_BY_CODE}
    assert not unknown, f"codes used but not in rules.py: {unknown}"
    undocumented = set(found) - documented_codes()
    assert not undocumented, f"codes used but not in docs/rules.md: {sorted(undocumented)}"


# -- every code is declared where it is written -------------------------------------------------


def test_the_declarations_cover_the_registry_exactly() -> None:
    declared = declarations()
    assert {"tnx2nxdi.engine", "tnx2nxdi.kinds.notebook", "tnx2nxdi.kinds.shell"} <= set(declared)
    steps = {module.__name__ for module in importlib.import_module("tnx2nxdi.steps").MODULES}
    assert {name for name in declared if name.startswith("tnx2nxdi.steps.")} == steps
    union = frozenset().union(*declared.values())
    assert union == set(rules.RULE_BY_CODE), (
        f"declared, not registered: {sorted(union - set(rules.RULE_BY_CODE))}; "
        f"registered, declared nowhere: {sorted(set(rules.RULE_BY_CODE) - union)}"
    )


@pytest.mark.parametrize(
    "path", sorted(p for p in SOURCES.rglob("*.py") if p.name != "rules.py"),
    ids=lambda p: p.relative_to(SOURCES).as_posix(),
)
def test_a_module_writes_only_the_codes_it_declares(path: Path) -> None:
    written = emitted_literals(path)
    if not written:
        return
    declared = declarations()
    name = _module_name(path)
    if path.name in ELSEWHERE and name not in declared:
        owner, allowed = ELSEWHERE[path.name]
        assert allowed is None or written <= allowed, sorted(written - (allowed or set()))
        assert written <= declared[owner], (
            f"{path.name} holds {sorted(written - declared[owner])}, not declared by {owner}"
        )
        return
    assert name in declared, f"{name} writes {sorted(written)} but declares no CODES"
    assert written <= declared[name], (
        f"{name} writes {sorted(written - declared[name])} without declaring them in CODES"
    )


def test_the_declaration_check_sees_emissions_and_skips_mentions(tmp_path: Path) -> None:
    module = tmp_path / "step.py"
    module.write_text(
        '"""Reports TNX101 (a docstring mention)."""\n'
        'CODE = "TNX201"\n'
        'def f(n):\n'
        '    """TNX202 in a docstring."""\n'
        '    report(f"TNX999 internal error {n}")\n'
        '    report("TNX301", "see TNX401 for the rest")\n'
    )
    assert emitted_literals(module) == {"TNX201", "TNX999", "TNX301"}


def test_every_fixed_flag_written_in_the_sources_agrees_with_its_rule() -> None:
    """``report("TNXnnn", ..., fixed=<literal>)``: the static half of the fix-kind check."""
    wrong = []
    for path in sorted(SOURCES.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and node.args
                    and isinstance(node.args[0], ast.Constant)
                    and node.args[0].value in rules.RULE_BY_CODE):
                continue
            for keyword in node.keywords:
                if keyword.arg == "fixed" and isinstance(keyword.value, ast.Constant):
                    rule = rules.RULE_BY_CODE[node.args[0].value]
                    if not _agrees(rule, bool(keyword.value.value)):
                        wrong.append(f"{path.name}:{node.lineno} {rule.code} "
                                     f"fixed={keyword.value.value} but the rule is {rule.fix}")
    assert not wrong, wrong


# -- every emitted finding is fixed or manual as its rule says -----------------------------------


def _agrees(rule: rules.Rule, fixed: bool) -> bool:
    return rule.fix == "sometimes" or fixed == (rule.fix == "fix")


def _disagreements(findings: tuple[Finding, ...]) -> list[str]:
    return [
        f"{finding.code} fixed={finding.fixed} but the rule is "
        f"{rules.RULE_BY_CODE[finding.code].fix}: {finding.message}"
        for finding in findings
        if not _agrees(rules.RULE_BY_CODE[finding.code], finding.fixed)
    ]


ALL_FIXTURES = fixture_files("in") + fixture_files("out") + fixture_files("noop")


@pytest.mark.parametrize("source", ALL_FIXTURES, ids=lambda p: p.relative_to(FIXTURES).as_posix())
def test_findings_on_every_fixture_agree_with_their_rules(source: Path) -> None:
    result, _ = process_fixture(source)
    assert {f.code for f in result.findings} <= set(rules.RULE_BY_CODE)
    assert not _disagreements(result.findings)


def test_the_fixtures_exercise_both_sides_of_every_sometimes_rule() -> None:
    seen: dict[str, set[bool]] = {}
    for source in ALL_FIXTURES:
        for finding in process_fixture(source)[0].findings:
            seen.setdefault(finding.code, set()).add(finding.fixed)
    for rule in rules.RULES:
        if rule.fix == "sometimes":
            assert seen.get(rule.code) == {True, False}, rule.code


def test_every_code_emitted_on_the_fixtures_is_registered_and_documented() -> None:
    """Codes built at run time would escape the source scan; the fixtures exercise them."""
    emitted: set[str] = set()
    for source in ALL_FIXTURES:
        emitted |= {finding.code for finding in process_fixture(source)[0].findings}
    for expected in FIXTURES.glob("*/*.findings.txt"):
        emitted |= set(CODE.findall(expected.read_text()))
    assert emitted, "the fixtures emit no findings at all"
    assert emitted <= set(rules.RULE_BY_CODE), emitted - set(rules.RULE_BY_CODE)
    assert emitted <= documented_codes(), emitted - documented_codes()


# -- every example migrates as documented --------------------------------------------------------


def _example_bytes(rule: rules.Rule, text: str) -> bytes:
    if rule.kind != "notebook":
        return text.encode("utf-8")
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}
    notebook.cells.append(nbformat.v4.new_code_cell(text))
    return (json.dumps(notebook, indent=1, sort_keys=True) + "\n").encode("utf-8")


def _example_text(rule: rules.Rule, data: bytes) -> str:
    if rule.kind != "notebook":
        return data.decode("utf-8")
    return "".join(json.loads(data)["cells"][0]["source"])


def _run_example(rule: rules.Rule, text: str) -> tuple[str, tuple[Finding, ...]]:
    result, data = process_bytes(_example_bytes(rule, text), Options(), EXAMPLE_FILE[rule.kind])
    assert result.error is None, result.error
    return _example_text(rule, data), result.findings


EXAMPLES = [rule for rule in rules.RULES if rule.code not in NO_EXAMPLE]


def test_every_rule_but_the_safety_net_has_an_example() -> None:
    assert {rule.code for rule in rules.RULES if not rule.before} == NO_EXAMPLE
    for rule in EXAMPLES:
        assert rule.before.endswith("\n") and rule.after.endswith("\n"), rule.code
        assert rule.before != rule.after, f"{rule.code}: the example shows no change"


@pytest.mark.parametrize("rule", EXAMPLES, ids=lambda rule: rule.code)
def test_the_example_migrates_as_documented(rule: rules.Rule) -> None:
    after, findings = _run_example(rule, rule.before)
    assert after == rule.after, f"{rule.code}: run the example and copy the output into rules.py"
    assert rule.code in {finding.code for finding in findings}
    assert not _disagreements(findings)
    again, _ = _run_example(rule, rule.after)
    assert again == rule.after, f"{rule.code}: a second run changes the documented output"


# -- the generated page and selectors ------------------------------------------------------------


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
