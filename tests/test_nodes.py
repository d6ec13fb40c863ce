"""The node helpers' shortcuts give exactly what LibCST gives: nodes built instead of parsed,
code read from fields instead of printed, widths added up instead of printed."""

from __future__ import annotations

import libcst as cst
import pytest
from libcst._nodes.base import CSTCodegenError

from tests.helpers import FIXTURES
from tests.test_walk import TRICKY
from tnx2nxdi.engine import nodes
from tnx2nxdi.engine.walk import walk

_PRINTER = cst.Module(body=[])
SOURCES = [TRICKY, "x = ( a . b )( 1 ,  k = 'v' , ** w )\ny = (1)\nz = f ( * a )\n",
           *(path.read_text() for path in sorted(FIXTURES.glob("*/*.py")))]


class _All(cst.CSTVisitor):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[cst.CSTNode] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        self.found.append(node)
        return True


def _nodes(source: str) -> list[cst.CSTNode]:
    collector = _All()
    walk(cst.parse_module(source), collector)
    return collector.found


@pytest.mark.parametrize("source", SOURCES)
def test_code_and_width_of_every_node_are_libcst_s(source: str) -> None:
    for node in _nodes(source):
        try:
            printed = _PRINTER.code_for_node(node)
        except CSTCodegenError:
            continue  # printable only inside its parent (an annotation's colon)
        assert nodes.code_of(node) == printed, printed
        assert nodes.width(node) == len(printed), printed


def test_width_of_built_calls_with_default_commas() -> None:
    inner = nodes.call("load_pretrained_config", [cst.Arg(nodes.expr("path"))])
    built = cst.Call(func=nodes.expr("f.g"), args=[
        cst.Arg(nodes.expr("a")), nodes.kwarg("k", inner),
        cst.Arg(nodes.expr("'x'"), keyword=cst.Name("s")), cst.Arg(nodes.expr("b"), star="**"),
    ])
    for node in (inner, built, nodes.call("f", [nodes.kwarg("x", nodes.expr("1"))] * 12)):
        assert nodes.width(node) == len(_PRINTER.code_for_node(node))


EXPRESSIONS = ["x", "torch.float32", "a.b.c.d", "0", "2048", "'bf16'", '"it\'s"', "''",
               "True", "None", "x.True", "007", "1_000", "-1", "u'x'", "'a\\n'", "f(x)",
               "'''doc'''", "lambda: 0", "model_ε"]


@pytest.mark.parametrize("source", EXPRESSIONS)
def test_expr_builds_what_the_parser_would(source: str) -> None:
    try:
        parsed = cst.parse_expression(source)
    except cst.ParserSyntaxError:
        with pytest.raises(cst.ParserSyntaxError):
            nodes.expr(source)
        return
    built = nodes.expr(source)
    assert built.deep_equals(parsed), source
    assert nodes.code_of(built) == source


@pytest.mark.parametrize("source", SOURCES)
def test_expr_of_the_names_numbers_and_strings_of_the_fixtures(source: str) -> None:
    for node in _nodes(source):
        if isinstance(node, (cst.Name, cst.Attribute, cst.Integer, cst.SimpleString)):
            text = _PRINTER.code_for_node(node)
            try:
                parsed = cst.parse_expression(text)
            except cst.ParserSyntaxError:
                continue  # a keyword argument's name, an alias: not an expression alone
            assert nodes.expr(text).deep_equals(parsed), text


@pytest.mark.parametrize(("module", "names"), [
    ("neuronx_distributed_inference.models.config", ["NeuronConfig"]),
    ("a.b", ["C", "D", "E"]),
    ("m", ["x" * 40, "y" * 40, "z" * 10]),  # long: black's parenthesised form
    (".relative", ["x"]),
    ("m", ["a as b"]),
])
def test_import_from_builds_what_the_parser_would(module: str, names: list[str]) -> None:
    flat = f"from {module} import {', '.join(names)}"
    if len(flat) > nodes.WRAP_AT and len(names) > 1:
        inner = "".join(f"    {name},\n" for name in names)
        flat = f"from {module} import (\n{inner})"
    assert nodes.import_from(module, names).deep_equals(cst.parse_statement(flat))


@pytest.mark.parametrize("module", ["torch", "neuronx_distributed_inference.utils"])
def test_plain_import_builds_what_the_parser_would(module: str) -> None:
    assert nodes.plain_import(module).deep_equals(cst.parse_statement(f"import {module}"))


SNIPPETS = ['model.compile("dir")', "HuggingFaceGenerationAdapter(m).generate",
            "f()", "f(a, k=b, c=g(1, 'x'))", "f(a,b)", "f(a, )", "f(k = 1)", "'a'.join(x)",
            "1(2)", "f(**k)", "f(a)(b).c", "x.y(True, None)", "f(if=1)", "f(x=)", "f(", "f)"]


@pytest.mark.parametrize("source", SNIPPETS)
def test_expr_builds_call_snippets_as_the_parser_would(source: str) -> None:
    test_expr_builds_what_the_parser_would(source)
