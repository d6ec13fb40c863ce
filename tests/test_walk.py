"""``walk`` is ``node.visit`` without the rebuild: same hooks, same nodes, same order."""

from __future__ import annotations

import dataclasses
import textwrap
from pathlib import Path

import libcst as cst
import pytest

from tests.helpers import FIXTURES
from tnx2nxdi.engine import walk as walk_module
from tnx2nxdi.engine.analysis import Analysis
from tnx2nxdi.engine.walk import walk, with_ancestors

TRICKY = textwrap.dedent('''
    """Docstring."""
    from os import *
    from . import sibling as s, other
    import a.b.c as d  # comment
    x: int = 1; y = z = (2, [3, *x], {4: 5, **w})
    f"{x}" f"{y!r:>{width}}" f"{z=}"; rb"raw"
    @decorator(arg)
    class C(Base, metaclass=M):
        attr = lambda q, *r, k=1, **s: (q, r, k, s)
        async def m(self, /, p: int = 2, *, k) -> "C":
            async with a as (b, c), d:
                async for i in g:
                    await h(i)
            return [i for i in range(3) if i if not i] or {i: j async for i, j in q}
    try:
        pass
    except (E, F) as e:
        raise G from e
    else:
        del x[1:2, ::3]
    finally:
        global gg
    while (n := n - 1) > 0:
        continue
    else:
        assert n, "message"
    match command.split():
        case [action, *rest] if action:
            pass
        case {"k": v, **kw} | Point(x=0) as p:
            pass
        case _:
            pass
    print(*args, sep="", **kwargs)[0].attr @ m
''')


class _Recorder(cst.CSTVisitor):
    """Every on_visit/on_leave call, with a branch skipped (Import returns False)."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, int]] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        self.calls.append(("visit", id(node)))
        return not isinstance(node, cst.Import)

    def on_leave(self, original_node: cst.CSTNode) -> None:
        self.calls.append(("leave", id(original_node)))


SOURCES = [TRICKY, *(path.read_text() for path in sorted(FIXTURES.glob("*/*.py")))]


@pytest.mark.parametrize("source", SOURCES)
def test_same_calls_on_the_same_nodes_in_the_same_order(source: str) -> None:
    module = cst.parse_module(source)
    by_visit, by_walk = _Recorder(), _Recorder()
    module.visit(by_visit)
    walk(module, by_walk)
    assert by_walk.calls == by_visit.calls


def _summary(analysis: Analysis) -> object:
    return (
        [(b.local, b.qualified, id(b.statement), id(b.scope)) for b in analysis.imports],
        {key: [(a.order, id(a.statement)) for a in value]
         for key, value in analysis.assignments.items()},
        [(r.order, r.key, id(r.node), r.method) for r in analysis.references],
        analysis.local_names,
    )


@pytest.mark.parametrize("source", SOURCES)
def test_analysis_sees_the_same_module(source: str) -> None:
    """Analysis has no hooks for layout nodes, so walk skips them; the result is the same."""
    module = cst.parse_module(source)
    by_visit, by_walk = Analysis(), Analysis()
    module.visit(by_visit)
    walk(module, by_walk)
    assert _summary(by_walk) == _summary(by_visit)


def test_format_spec_seen_only_on_a_later_node_is_still_walked() -> None:
    # The first f-string expression has no format spec; LibCST visits that field only when set.
    module = cst.parse_module('f"{a}"\nf"{b:{width}}"\n')
    names: list[str] = []

    class Names(cst.CSTVisitor):
        def visit_Name(self, node: cst.Name) -> None:
            names.append(node.value)

    walk(module, Names())
    assert names == ["a", "b", "width"]


def test_parents_and_ancestors() -> None:
    module = cst.parse_module("def f():\n    if x:\n        g(1)\n")
    parents: dict[int, cst.CSTNode] = {}
    walk(module, Analysis(), parents)
    function = module.body[0]
    assert isinstance(function, cst.FunctionDef)
    branch = function.body.body[0]
    assert isinstance(branch, cst.If)
    line = branch.body.body[0]
    assert isinstance(line, cst.SimpleStatementLine)
    call = line.body[0].value  # type: ignore[attr-defined]
    assert parents[id(call)] is line.body[0]
    found = with_ancestors([id(call)], parents)
    assert {id(module), id(function), id(branch), id(line), id(call)} <= found
    assert id(function.params) not in found


def test_attribute_hooks_are_refused() -> None:
    class Attribute(cst.CSTVisitor):
        def visit_Call_func(self, node: cst.Call) -> None:
            pass

    with pytest.raises(TypeError, match="attribute hooks"):
        walk(cst.parse_module("f()\n"), Attribute())


def test_deep_nesting_uses_less_stack_than_visit() -> None:
    source = "x = " + "(" * 150 + "1" + ")" * 150 + "\n"
    module = cst.parse_module(source)
    walk(module, Analysis())  # no RecursionError


def test_fixture_tree_exists() -> None:
    assert len(SOURCES) > 20 and isinstance(FIXTURES, Path)


class _Hooked(cst.CSTVisitor):
    """Own hooks for a few node types (punctuation among them), LibCST's on_visit/on_leave."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, str, int]] = []

    def visit_Call(self, node: cst.Call) -> None:
        self.calls.append(("visit", "Call", id(node)))

    def leave_Call(self, original_node: cst.Call) -> None:
        self.calls.append(("leave", "Call", id(original_node)))

    def visit_Name(self, node: cst.Name) -> None:
        self.calls.append(("visit", "Name", id(node)))

    def visit_Comma(self, node: cst.Comma) -> None:
        self.calls.append(("visit", "Comma", id(node)))

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False  # its parameters and body are not visited

    def leave_Add(self, original_node: cst.Add) -> None:
        self.calls.append(("leave", "Add", id(original_node)))


@pytest.mark.parametrize("source", SOURCES)
def test_a_pruned_walk_calls_the_same_hooks_in_the_same_order(source: str) -> None:
    module = cst.parse_module(source + "q = lambda a, b: c(d)\nx = 1 + y(z, w)\n")
    by_visit, by_walk = _Hooked(), _Hooked()
    module.visit(by_visit)
    parents: dict[int, cst.CSTNode] = {}
    walk(module, by_walk, parents)
    assert by_walk.calls == by_visit.calls
    assert any(kind == "Comma" for _, kind, _ in by_walk.calls)
    punctuation = tuple(walk_module._PUNCTUATION)
    assert not any(isinstance(parent, punctuation) for parent in parents.values())


def test_punctuation_passed_by_holds_only_whitespace() -> None:
    for kind in walk_module._PUNCTUATION:
        for field in dataclasses.fields(kind):
            # NotEqual.value is its spelling ("!=" or "<>"): text, no node
            assert field.name.startswith("whitespace") or field.type in ("str", str), (
                kind, field)
    assert {cst.Comma, cst.Dot, cst.Add, cst.NotIn, cst.AddAssign, cst.Not} <= (
        walk_module._PUNCTUATION)
