"""Shared pieces of the transformers: the per-file context, CST helpers and marker comments."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING

import libcst as cst

from tnx2nxdi.mappings import MARKER_PREFIX, LiteralValue
from tnx2nxdi.options import Options

if TYPE_CHECKING:  # analysis imports this module at run time
    from tnx2nxdi.analysis import Assignment

_CODEGEN = cst.Module(body=[])


def code_of(node: cst.CSTNode) -> str:
    """Source code of a node, as written (whitespace inside the node is kept)."""
    return _CODEGEN.code_for_node(node)


def dotted_name(node: cst.BaseExpression) -> str | None:
    """``a.b.c`` for a chain of Names and Attributes, else None."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        base = dotted_name(node.value)
        return None if base is None else f"{base}.{node.attr.value}"
    return None


class NotLiteral(Enum):
    TOKEN = 0


NOT_LITERAL = NotLiteral.TOKEN


def literal_value(node: cst.BaseExpression) -> LiteralValue | NotLiteral:
    """The Python value of a literal expression (lists become tuples), else NOT_LITERAL."""
    if isinstance(node, cst.Name) and node.value in ("True", "False", "None"):
        return {"True": True, "False": False, "None": None}[node.value]
    if isinstance(node, (cst.Integer, cst.Float, cst.SimpleString, cst.UnaryOperation)):
        try:
            value = ast.literal_eval(code_of(node).strip())
        except (ValueError, SyntaxError):
            return NOT_LITERAL
        return value if isinstance(value, (bool, int, float, str)) else NOT_LITERAL
    if isinstance(node, (cst.List, cst.Tuple)):
        items: list[int] = []
        for element in node.elements:
            if not isinstance(element, cst.Element):
                return NOT_LITERAL
            value = literal_value(element.value)
            if not isinstance(value, int) or isinstance(value, bool):
                return NOT_LITERAL
            items.append(value)
        return tuple(items)
    return NOT_LITERAL


def string(value: str) -> str:
    """A double-quoted Python string literal (black's preferred quotes)."""
    body = repr(value)[1:-1]
    if repr(value).startswith("'"):
        body = body.replace('"', '\\"').replace("\\'", "'")
    return f'"{body}"'


def named_arguments(node: cst.Call, positional: tuple[str, ...]) -> dict[str, cst.BaseExpression]:
    """A call's arguments by parameter name (``positional`` names the leading parameters);
    ValueError, with the reason, when they cannot be read statically."""
    named: dict[str, cst.BaseExpression] = {}
    for index, arg in enumerate(node.args):
        if arg.star:
            raise ValueError(f"{code_of(arg).strip().rstrip(',')} cannot be read statically")
        if arg.keyword is not None:
            named[arg.keyword.value] = arg.value
        elif index < len(positional):
            named[positional[index]] = arg.value
        else:
            raise ValueError(f"positional arguments after {positional[-1] if positional else '('}")
    return named


def expr(source: str) -> cst.BaseExpression:
    return cst.parse_expression(source)


def kwarg(name: str, value: cst.BaseExpression) -> cst.Arg:
    return cst.Arg(
        value=value,
        keyword=cst.Name(name),
        equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace("")),
    )


#: Generated calls longer than this are written one argument per line (black's style).
WRAP_AT = 88


def call(func: str, args: list[cst.Arg], *, prefix: int = 0, wrap: bool = True) -> cst.Call:
    """``func(args)`` on one line, or one argument per line when the line would be long
    (``prefix`` is the width of what precedes the call on its line). Calls nested in another
    call's arguments stay on one line (``wrap=False``)."""
    flat = cst.Call(func=expr(func), args=_with_commas(args))
    if not wrap or prefix + len(code_of(flat)) <= WRAP_AT or not args:
        return flat
    return _wrapped(flat)


def _with_commas(args: list[cst.Arg]) -> list[cst.Arg]:
    """Normalise separators so that generated calls read ``f(a, b=1)``."""
    spaced = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    out = []
    for index, arg in enumerate(args):
        last = index == len(args) - 1
        out.append(arg.with_changes(comma=cst.MaybeSentinel.DEFAULT if last else spaced))
    return out


def _break(last_line: str) -> cst.ParenthesizedWhitespace:
    # indent=True continues at the enclosing block's indentation, so nested code reads right.
    return cst.ParenthesizedWhitespace(
        first_line=cst.TrailingWhitespace(),
        empty_lines=[],
        indent=True,
        last_line=cst.SimpleWhitespace(last_line),
    )


def _wrapped(flat: cst.Call) -> cst.Call:
    args = []
    for index, arg in enumerate(flat.args):
        last = index == len(flat.args) - 1
        args.append(
            arg.with_changes(
                comma=cst.Comma(whitespace_after=_break("" if last else "    "))
            )
        )
    return flat.with_changes(whitespace_before_args=_break("    "), args=args)


def assign(target: str, value: cst.BaseExpression) -> cst.SimpleStatementLine:
    target_node = expr(target)
    assert isinstance(target_node, (cst.Name, cst.Attribute))
    return cst.SimpleStatementLine(
        body=[cst.Assign(targets=[cst.AssignTarget(target=target_node)], value=value)]
    )


def expression_statement(value: cst.BaseExpression) -> cst.SimpleStatementLine:
    return cst.SimpleStatementLine(body=[cst.Expr(value=value)])


def marker_text(code: str, message: str) -> str:
    return f"{MARKER_PREFIX} {code} {message}"


def with_markers(
    statement: cst.SimpleStatementLine | cst.BaseCompoundStatement, markers: list[str]
) -> cst.SimpleStatementLine | cst.BaseCompoundStatement:
    """Add marker comments above a statement, each at most once (a second run adds nothing)."""
    existing = {line.comment.value for line in statement.leading_lines if line.comment}
    new_lines = [
        cst.EmptyLine(comment=cst.Comment(text))
        for text in dict.fromkeys(markers)
        if text not in existing
    ]
    if not new_lines:
        return statement
    return statement.with_changes(leading_lines=[*statement.leading_lines, *new_lines])


@dataclass
class PendingFinding:
    """A finding before it has a position: anchored to an original statement node."""

    code: str
    message: str
    fixed: bool
    anchor: cst.CSTNode | None
    #: Leave a marker comment at the anchor statement (findings that need a person do).
    marker: bool = False


@dataclass
class Context:
    """What the transformers of one file share."""

    options: Options
    findings: list[PendingFinding] = field(default_factory=list)
    #: (module, name) pairs the migrated code needs, per anchor import statement.
    needed: dict[int, set[tuple[str, str]]] = field(default_factory=dict)
    #: ``import torch`` needed, per anchor import statement.
    needs_torch: set[int] = field(default_factory=set)
    #: TNx local names whose remaining uses already carry a finding that needs a person.
    accounted: set[str] = field(default_factory=set)
    #: Directories (as source code) the migrated program compiles into, in source order.
    compiled_dirs: set[str] = field(default_factory=set)
    #: Original statements that build a TNx model, migrated or not.
    constructions: set[int] = field(default_factory=set)
    #: Migrated models with the TNx import their class came from (for loader functions).
    loader_candidates: list[tuple[Assignment, cst.CSTNode]] = field(default_factory=list)

    def report(
        self,
        code: str,
        message: str,
        anchor: cst.CSTNode | None,
        *,
        fixed: bool,
        marker: bool | None = None,
    ) -> None:
        # One line, always: messages quote user code, which may span lines, and become comments.
        message = " ".join(message.split()).replace("( ", "(").replace(", )", ")")
        self.findings.append(
            PendingFinding(code, message, fixed, anchor, (not fixed) if marker is None else marker)
        )


@dataclass
class Plan:
    """Edits decided by the transformers, keyed by the identity of original nodes."""

    #: Original statement -> statements replacing it (an empty list removes it).
    statements: dict[int, list[cst.BaseStatement]] = field(default_factory=dict)
    #: Original call -> expression replacing it.
    calls: dict[int, cst.BaseExpression] = field(default_factory=dict)
    #: Original statement -> marker comments to add above it.
    markers: dict[int, list[str]] = field(default_factory=dict)
    #: Original statement -> statements inserted before it (e.g. a function-local import).
    before: dict[int, list[cst.BaseStatement]] = field(default_factory=dict)

    def replace(self, statement: cst.CSTNode, new: list[cst.BaseStatement]) -> None:
        self.statements[id(statement)] = new

    def mark(self, statement: cst.CSTNode, text: str) -> None:
        self.markers.setdefault(id(statement), []).append(text)
