"""Line and column of original nodes: statements from Python's own parser, other nodes from
printing only the statements that hold them.

LibCST's position metadata costs about as much as a second parse; ``ast.parse`` costs a tenth of
that. Statements appear in the same order in both trees, so walking the two bodies side by side
maps each LibCST statement to its ``ast`` twin and that twin's position. A finding about an
argument or a call (:func:`node_spans`) needs the position of a node inside a statement: only
that statement is printed again, with LibCST's own code generator, from the line and indentation
its ``ast`` twin gave it, noting where the node's text starts and ends. That costs a small part
of position metadata over the whole module (measured in docs/performance.md). Columns of nodes
count characters; a statement's column is ``ast``'s (bytes, the same for the indentation that
precedes nearly every statement).
"""

from __future__ import annotations

import ast
import bisect
import itertools
import re
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import libcst as cst
from libcst import CSTNode
from libcst._nodes.internal import CodegenState

Position = tuple[int, int]
#: ``try`` statements (``except*`` only parses on Python 3.11+).
_AST_TRY: tuple[type[ast.stmt], ...] = tuple(
    getattr(ast, name) for name in ("Try", "TryStar") if hasattr(ast, name)
)


def statement_positions(module: cst.Module, source: str) -> dict[int, Position]:
    """``id(statement) -> (line, column)``, 1-based, for statements and small statements."""
    return {key: _at(twin) for key, twin in statement_twins(module, source).items()}


def _walk(
    statements: Sequence[cst.BaseStatement | cst.BaseSmallStatement],
    nodes: Sequence[ast.stmt],
    positions: dict[int, ast.stmt],
) -> None:
    index = 0
    for statement in statements:
        if index >= len(nodes):
            return
        positions[id(statement)] = nodes[index]
        if isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                if index < len(nodes):
                    positions[id(small)] = nodes[index]
                index += 1
            continue
        if isinstance(statement, cst.BaseSmallStatement):
            index += 1
            continue
        _compound(statement, nodes[index], positions)
        index += 1


def _at(node: ast.stmt) -> Position:
    return node.lineno, node.col_offset + 1


def _body(block: cst.BaseSuite) -> Sequence[cst.BaseStatement | cst.BaseSmallStatement]:
    return block.body


def _compound(statement: cst.CSTNode, node: ast.stmt, positions: dict[int, ast.stmt]) -> None:
    # Compound statements differ in shape; getattr keeps one walker for all of them.
    body = getattr(statement, "body", None)
    if isinstance(body, cst.BaseSuite):
        _walk(_body(body), getattr(node, "body", []), positions)
    orelse = getattr(statement, "orelse", None)
    ast_orelse: list[ast.stmt] = getattr(node, "orelse", [])
    if isinstance(orelse, cst.If) and ast_orelse:  # elif
        positions[id(orelse)] = ast_orelse[0]
        _compound(orelse, ast_orelse[0], positions)
    elif isinstance(orelse, cst.Else):
        _walk(_body(orelse.body), ast_orelse, positions)
    if isinstance(statement, (cst.Try, cst.TryStar)) and isinstance(node, _AST_TRY):
        handlers = getattr(node, "handlers", [])
        for handler, ast_handler in zip(statement.handlers, handlers, strict=False):
            _walk(_body(getattr(handler, "body")), ast_handler.body, positions)  # noqa: B009
        final = statement.finalbody
        if final is not None:
            _walk(_body(final.body), getattr(node, "finalbody", []), positions)


# -- any node: its enclosing statement, and its position -----------------------------------------

#: Where a finding points: 1-based (line, column) of its start and of its end.
Span = tuple[int, int, int, int]
#: Line breaks as Python counts them.
_NEWLINE = re.compile(r"\r\n?|\n")


def enclosing_statement(node: cst.CSTNode, parents: Mapping[int, cst.CSTNode]) -> cst.CSTNode:
    """The statement holding ``node`` that sits in a block (a module or an indented body): where a
    marker comment can go. A node of a one-line body (``if x: y = f()``) or of an ``elif``
    belongs to the compound statement; a node the analysis did not walk is its own statement."""
    current = node
    while True:
        parent = parents.get(id(current))
        if parent is None:
            return current
        if isinstance(parent, (cst.Module, cst.IndentedBlock)) and isinstance(
            current, (cst.SimpleStatementLine, cst.BaseCompoundStatement)
        ):
            return current
        current = parent


def pointed_at(node: cst.CSTNode, parents: Mapping[int, cst.CSTNode]) -> cst.CSTNode:
    """The node a finding about ``node`` points at: a keyword argument's value points at its
    keyword (``tp_degree=8``), a dict value at its key (``"tp_degree": 8``)."""
    parent = parents.get(id(node))
    if isinstance(parent, cst.Arg) and parent.value is node and parent.keyword is not None:
        return parent
    if isinstance(parent, cst.DictElement) and parent.value is node:
        return parent
    return node


def node_spans(
    module: cst.Module,
    source: str,
    anchors: Iterable[cst.CSTNode],
    parents: Mapping[int, cst.CSTNode],
    twins: Mapping[int, ast.stmt],
) -> dict[int, Span]:
    """``id(anchor) -> span`` for the anchors whose statement has an ``ast`` twin in ``twins``
    (see :func:`statement_twins`).

    A statement anchor's span is its twin's. For any other node, only the statement holding it
    is printed again, from the line and indentation its twin gave it, noting where the node's
    text starts and ends: a fraction of what position metadata over the whole module costs.
    """
    spans: dict[int, Span] = {}
    inside: dict[int, tuple[cst.CSTNode, list[cst.CSTNode]]] = {}
    for anchor in anchors:
        twin = twins.get(id(anchor))
        if twin is not None:
            spans[id(anchor)] = _statement_span(anchor, twin, twins)
            continue
        statement = enclosing_statement(anchor, parents)
        if id(statement) in twins:
            inside.setdefault(id(statement), (statement, []))[1].append(anchor)
    if not inside:
        return spans
    line_starts = [0] + [match.end() for match in _NEWLINE.finditer(source)]
    for key, (statement, nodes) in inside.items():
        first = _first_line(statement, twins[key])
        if not 1 <= first <= len(line_starts):
            continue
        start = line_starts[first - 1]
        text = source[start:start + 200]  # the indentation is all that is needed of the line
        bounds = {id(node): _bounds(node, parents) for node in nodes}
        printed = _Printed(module, statement, text[: len(text) - len(text.lstrip(" \t"))],
                           {part for pair in bounds.values() for part in pair})
        shift = first - _lines_above(statement)  # printed line 0 is source line ``shift``
        for node in nodes:
            begin, end = bounds[id(node)]
            if begin in printed.starts and end in printed.ends:
                line, column = printed.line_column(printed.starts[begin])
                end_line, end_column = printed.line_column(printed.ends[end])
                spans[id(node)] = (line + shift, column, end_line + shift, end_column)
    return spans


def statement_twins(
    module: cst.Module, source: str, tree: ast.Module | None = None
) -> dict[int, ast.stmt]:
    """``id(statement) -> its ast twin``: a simple statement line's is its first statement's.
    ``tree``: ``source`` already parsed by ``ast``, when the caller has it."""
    if tree is None:
        tree = quiet_parse(source)
        if tree is None:
            return {}
    twins: dict[int, ast.stmt] = {}
    _walk(module.body, tree.body, twins)
    return twins


def _statement_span(statement: cst.CSTNode, twin: ast.stmt, twins: Mapping[int, ast.stmt]) -> Span:
    line, column = _at(twin)
    last: ast.stmt | None = twin
    if isinstance(statement, cst.SimpleStatementLine):
        last = twins.get(id(statement.body[-1]), twin)
    elif isinstance(statement, cst.BaseCompoundStatement):
        last = None  # its end is the end of its body: the header is what it is about
    if last is None or last.end_lineno is None or last.end_col_offset is None:
        return line, column, line, column
    return line, column, last.end_lineno, last.end_col_offset + 1


def quiet_parse(source: str) -> ast.Module | None:
    """``ast.parse`` without printing the SyntaxWarnings of the user's own code (``"\\d"`` on
    Python 3.12+) into the tool's output; None when it does not parse."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def _bounds(node: cst.CSTNode, parents: Mapping[int, cst.CSTNode]) -> tuple[int, int]:
    """The nodes whose printed text starts and ends a finding about ``node``: a keyword
    argument from its keyword to the end of its value (not its comma)."""
    shown = pointed_at(node, parents)
    if isinstance(shown, (cst.Arg, cst.DictElement)):
        return id(shown), id(shown.value)
    return id(shown), id(shown)


def _first_line(statement: cst.CSTNode, twin: ast.stmt) -> int:
    """The source line of the statement's first line of code (its first decorator's, if any)."""
    decorators = getattr(twin, "decorator_list", None)
    if decorators and getattr(statement, "decorators", None):
        return int(decorators[0].lineno)
    return twin.lineno


def _lines_above(statement: cst.CSTNode) -> int:
    """Printed lines before the statement's first line of code: its comment and blank lines
    (each one line), and those above its first decorator."""
    above = len(getattr(statement, "leading_lines", ()))
    decorators = getattr(statement, "decorators", ())
    if decorators:
        above += len(decorators[0].leading_lines)
    return above


class _Printed:
    """A statement printed again, and where the text of some of its nodes starts and ends."""

    def __init__(
        self, module: cst.Module, statement: cst.CSTNode, indent: str, wanted: set[int]
    ) -> None:
        state = _Recorder(default_indent=module.default_indent,
                          default_newline=module.default_newline, wanted=frozenset(wanted))
        state.indent_tokens = [indent]
        statement._codegen(state)
        offsets = list(itertools.accumulate((len(token) for token in state.tokens), initial=0))
        self.starts = {key: offsets[index] for key, index in state.starts.items()}
        self.ends = {key: offsets[index] for key, index in state.ends.items()}
        text = "".join(state.tokens)
        self.line_starts = [0] + [match.end() for match in _NEWLINE.finditer(text)]

    def line_column(self, offset: int) -> tuple[int, int]:
        """0-based line and 1-based column of a text offset."""
        index = bisect.bisect_right(self.line_starts, offset) - 1
        return index, offset - self.line_starts[index] + 1


@dataclass
class _Recorder(CodegenState):
    """Plain code generation that notes where the ``wanted`` nodes' text starts and ends."""

    wanted: frozenset[int] = frozenset()
    starts: dict[int, int] = field(default_factory=dict)
    ends: dict[int, int] = field(default_factory=dict)

    def before_codegen(self, node: CSTNode) -> None:
        if id(node) in self.wanted:
            self.starts[id(node)] = len(self.tokens)

    def after_codegen(self, node: CSTNode) -> None:
        if id(node) in self.wanted:
            self.ends[id(node)] = len(self.tokens)
