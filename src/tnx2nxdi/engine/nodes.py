"""Stateless LibCST helpers: reading expressions and calls, building statements and calls.

Nothing here knows about TNx or NxDI. Every reader that cannot read a construct statically raises
:class:`CannotRead` with a one-line reason the steps pass on to the user.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Sequence

import libcst as cst

from tnx2nxdi.literals import NOT_LITERAL, LiteralValue, NotLiteral

_CODEGEN = cst.Module(body=[])

#: Generated calls longer than this are written one argument per line (black's style).
WRAP_AT = 88

Statement = cst.SimpleStatementLine | cst.BaseCompoundStatement


class CannotRead(Exception):
    """A construct cannot be read statically; the message says why, for the user."""


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


#: Reads the literal a name stands for (see ``Analysis.literal``); NOT_LITERAL when unknown.
NameReader = Callable[[cst.Name], "LiteralValue | NotLiteral"]


def literal_value(
    node: cst.BaseExpression, names: NameReader | None = None
) -> LiteralValue | NotLiteral:
    """The Python value of a literal expression (lists become tuples), else NOT_LITERAL.
    ``names`` reads names bound to literals; without it a name is not a literal."""
    if isinstance(node, cst.Name):
        if node.value in ("True", "False", "None"):
            return {"True": True, "False": False, "None": None}[node.value]
        return names(node) if names is not None else NOT_LITERAL
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
            value = literal_value(element.value, names)
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


def quote_of(node: cst.BaseExpression) -> str:
    """The quote character a string literal uses (``"`` for anything else)."""
    if isinstance(node, cst.SimpleString) and node.quote in ("'", '"'):
        return node.quote
    return '"'


def read_args(
    node: cst.Call, positional: tuple[str, ...] = (), *, skip: int = 0
) -> dict[str, cst.BaseExpression]:
    """A call's arguments by parameter name: the first ``len(positional)`` positional arguments
    take those names, keywords their own (``skip`` leading arguments are left out). Raises
    CannotRead on ``*args``/``**kwargs`` or on positional arguments beyond ``positional``."""
    named: dict[str, cst.BaseExpression] = {}
    for index, arg in enumerate(node.args[skip:], start=skip):
        if arg.star:
            raise CannotRead(f"{code_of(arg).strip().rstrip(',')} cannot be read statically")
        if arg.keyword is not None:
            named[arg.keyword.value] = arg.value
        elif index < len(positional):
            named[positional[index]] = arg.value
        elif positional:
            raise CannotRead(f"positional arguments after {positional[-1]}")
        else:
            raise CannotRead(f"{code_of(arg).strip().rstrip(',')} cannot be read statically")
    return named


def positional_args(node: cst.Call) -> list[cst.BaseExpression]:
    return [arg.value for arg in node.args if arg.keyword is None and not arg.star]


def single_index(node: cst.BaseExpression) -> cst.BaseExpression | None:
    """``x[key]``'s key when the subscript has exactly one plain index, else None."""
    if (
        isinstance(node, cst.Subscript)
        and len(node.slice) == 1
        and isinstance(node.slice[0].slice, cst.Index)
    ):
        return node.slice[0].slice.value
    return None


def is_plain_assign(statement: cst.CSTNode, small: cst.CSTNode | None) -> bool:
    """``target = value`` alone on its line, with one target."""
    return (
        isinstance(statement, cst.SimpleStatementLine)
        and len(statement.body) == 1
        and isinstance(small, cst.Assign)
        and len(small.targets) == 1
    )


def is_import_line(node: cst.CSTNode) -> bool:
    return isinstance(node, cst.SimpleStatementLine) and all(
        isinstance(small, (cst.Import, cst.ImportFrom)) for small in node.body
    )


def expr(source: str) -> cst.BaseExpression:
    return cst.parse_expression(source)


def kwarg(name: str, value: cst.BaseExpression) -> cst.Arg:
    return cst.Arg(
        value=value,
        keyword=cst.Name(name),
        equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace("")),
    )


def call(func: str, args: list[cst.Arg], *, prefix: int = 0, wrap: bool = True) -> cst.Call:
    """``func(args)`` on one line, or one argument per line when the line would be long or an
    argument carries a comment (:func:`with_comment`; ``prefix`` is the width of what precedes
    the call on its line). Calls nested in another call's arguments stay on one line
    (``wrap=False``), without comments."""
    comments = [argument_comment(arg) for arg in args]
    flat = cst.Call(func=expr(func), args=_spaced_args(args))
    if not wrap or not args or (
        not any(comments) and prefix + len(code_of(flat)) <= WRAP_AT
    ):
        return flat
    return _wrapped(flat, comments)


def argument_comment(arg: cst.Arg) -> str | None:
    """The end-of-line comment after an argument of a call written one argument per line
    (``tp_degree=24,  # Change to 32 for trn1.32xlarge``), or None."""
    comma = arg.comma
    for space in (comma.whitespace_after if isinstance(comma, cst.Comma) else None,
                  arg.whitespace_after_arg):
        if isinstance(space, cst.ParenthesizedWhitespace) and space.first_line.comment:
            return space.first_line.comment.value
    return None


def argument_comments(*nodes: cst.BaseExpression | None) -> dict[int, str]:
    """id(argument value) -> its end-of-line comment, for the arguments of these calls and of
    the calls nested in their arguments (``neuron_config=NeuronConfig(...)``)."""
    found: dict[int, str] = {}
    for node in nodes:
        if not isinstance(node, cst.Call):
            continue
        for arg in node.args:
            comment = argument_comment(arg)
            if comment is not None:
                found[id(arg.value)] = comment
            found.update(argument_comments(arg.value))
    return found


def with_comment(arg: cst.Arg, comment: str | None) -> cst.Arg:
    """``arg`` carrying an end-of-line comment: :func:`call` writes it after the argument."""
    if comment is None:
        return arg
    return arg.with_changes(comma=cst.Comma(whitespace_after=_break("", comment)))


def with_trailing_comment(
    statement: cst.SimpleStatementLine, comment: str | None
) -> cst.SimpleStatementLine:
    """``statement`` with an end-of-line comment, unless it has one already."""
    if comment is None or statement.trailing_whitespace.comment is not None:
        return statement
    return statement.with_changes(trailing_whitespace=cst.TrailingWhitespace(
        whitespace=cst.SimpleWhitespace("  "), comment=cst.Comment(comment)))


def _spaced_args(args: list[cst.Arg]) -> list[cst.Arg]:
    """Normalise separators so that generated calls read ``f(a, b=1)``."""
    spaced = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    out = []
    for index, arg in enumerate(args):
        last = index == len(args) - 1
        out.append(arg.with_changes(comma=cst.MaybeSentinel.DEFAULT if last else spaced))
    return out


def spaced_dict(node: cst.Dict) -> cst.Dict:
    """Normalise separators so that a generated dict reads ``{"a": 1, "b": 2}``."""
    spaced = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    last = len(node.elements) - 1
    elements = [
        element.with_changes(comma=cst.MaybeSentinel.DEFAULT if index == last else spaced)
        for index, element in enumerate(node.elements)
    ]
    return node.with_changes(elements=elements)


def _break(last_line: str, comment: str | None = None) -> cst.ParenthesizedWhitespace:
    # indent=True continues at the enclosing block's indentation, so nested code reads right.
    first_line = cst.TrailingWhitespace() if comment is None else cst.TrailingWhitespace(
        whitespace=cst.SimpleWhitespace("  "), comment=cst.Comment(comment))
    return cst.ParenthesizedWhitespace(
        first_line=first_line,
        empty_lines=[],
        indent=True,
        last_line=cst.SimpleWhitespace(last_line),
    )


def _wrapped(flat: cst.Call, comments: Sequence[str | None] = ()) -> cst.Call:
    args = []
    for index, arg in enumerate(flat.args):
        last = index == len(flat.args) - 1
        comment = comments[index] if index < len(comments) else None
        args.append(
            arg.with_changes(
                comma=cst.Comma(whitespace_after=_break("" if last else "    ", comment))
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


def import_from(module: str, names: Sequence[str]) -> cst.SimpleStatementLine:
    """``from module import a, b`` on one line, or black's parenthesised one-name-per-line form
    when it would be long."""
    flat = f"from {module} import {', '.join(names)}"
    if len(flat) > WRAP_AT and len(names) > 1:
        inner = "".join(f"    {name},\n" for name in names)
        flat = f"from {module} import (\n{inner})"
    line = cst.parse_statement(flat)
    assert isinstance(line, cst.SimpleStatementLine)
    return line


def plain_import(module: str) -> cst.SimpleStatementLine:
    line = cst.parse_statement(f"import {module}")
    assert isinstance(line, cst.SimpleStatementLine)
    return line


__all__ = [
    "NOT_LITERAL", "WRAP_AT", "CannotRead", "LiteralValue", "NotLiteral", "Statement",
    "argument_comment", "argument_comments", "assign", "call", "code_of", "dotted_name", "expr",
    "expression_statement", "import_from", "plain_import", "is_import_line", "is_plain_assign",
    "kwarg", "literal_value", "positional_args", "quote_of", "read_args", "single_index",
    "spaced_dict", "string", "with_comment", "with_trailing_comment",
]
