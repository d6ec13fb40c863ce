"""Stateless LibCST helpers: reading expressions and calls, building statements and calls.

Nothing here knows about TNx or NxDI. Every reader that cannot read a construct statically raises
:class:`CannotRead` with a one-line reason the steps pass on to the user.

Printing a node with LibCST goes through a context manager per node, and parsing a snippet costs
a tenth of a millisecond, so the helpers avoid both where a migration calls them most: dotted
names, numbers and plain strings are built as nodes (``expr``), imports too (``import_from``),
simple nodes are printed from their fields (``code_of``), and the width of a generated call is
added up from its parts (``width``) instead of printed. Each shortcut gives exactly what LibCST
would (tests compare them on every fixture); anything else takes LibCST's own way.
"""

from __future__ import annotations

import ast
import keyword
import re
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
    simple = _simple_code(node)
    return simple if simple is not None else _CODEGEN.code_for_node(node)


_TOKENS = (cst.Name, cst.Integer, cst.Float, cst.Imaginary, cst.SimpleString)


def _simple_code(node: cst.CSTNode) -> str | None:
    """The code of a name, number, plain string or dotted name without parentheses or
    whitespace, from its fields; None for anything else."""
    if isinstance(node, _TOKENS):
        return None if node.lpar or node.rpar else node.value
    if isinstance(node, cst.Attribute) and not node.lpar and not node.rpar:
        dot = node.dot
        if not isinstance(dot, cst.Dot) or not (_empty(dot.whitespace_before)
                                                and _empty(dot.whitespace_after)):
            return None
        base = _simple_code(node.value)
        return None if base is None else f"{base}.{node.attr.value}"
    return None


def _empty(whitespace: cst.BaseParenthesizableWhitespace) -> bool:
    return isinstance(whitespace, cst.SimpleWhitespace) and not whitespace.value


def width(node: cst.CSTNode) -> int:
    """``len(code_of(node))``, added up from the parts of names, numbers, strings, attributes,
    calls and arguments (the nodes generated calls are made of); printed for anything else."""
    if isinstance(node, _TOKENS):
        return len(node.value) + _parentheses(node)
    if isinstance(node, cst.Attribute) and isinstance(node.dot, cst.Dot):
        return (_parentheses(node) + width(node.value) + _space(node.dot.whitespace_before) + 1
                + _space(node.dot.whitespace_after) + len(node.attr.value)
                + _parentheses(node.attr))
    if isinstance(node, cst.Call):
        last = len(node.args) - 1
        return (_parentheses(node) + width(node.func) + _space(node.whitespace_after_func) + 2
                + _space(node.whitespace_before_args)
                + sum(_argument(arg, index != last) for index, arg in enumerate(node.args)))
    return len(_CODEGEN.code_for_node(node))


def _argument(arg: cst.Arg, default_comma: bool) -> int:
    """An argument as ``Call`` prints it: a default comma is ", " except after the last."""
    total = len(arg.star) + _space(arg.whitespace_after_star) + width(arg.value)
    if arg.keyword is not None:
        total += width(arg.keyword)
        if arg.equal is cst.MaybeSentinel.DEFAULT:
            total += 3  # " = "
    if isinstance(arg.equal, cst.AssignEqual):
        total += _space(arg.equal.whitespace_before) + 1 + _space(arg.equal.whitespace_after)
    if arg.comma is cst.MaybeSentinel.DEFAULT:
        total += 2 if default_comma else 0
    elif isinstance(arg.comma, cst.Comma):
        total += _space(arg.comma.whitespace_before) + 1 + _space(arg.comma.whitespace_after)
    return total + _space(arg.whitespace_after_arg)


def _space(whitespace: cst.CSTNode) -> int:
    if isinstance(whitespace, cst.SimpleWhitespace):
        return len(whitespace.value)
    return len(_CODEGEN.code_for_node(whitespace))


def _parentheses(node: cst.BaseExpression) -> int:
    total = 0
    for left in node.lpar:
        total += 1 + _space(left.whitespace_after)
    for right in node.rpar:
        total += 1 + _space(right.whitespace_before)
    return total


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
        text = node.value if isinstance(node, _TOKENS) else code_of(node).strip()
        try:  # parentheses around a token change nothing: its own text is read
            value = ast.literal_eval(text)
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


_DOTTED = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*\Z")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
#: The tokens of the snippets migrations build (``model.compile("dir")``, ``torch.float32``):
#: names, decimal integers, one-line strings without escapes, ``.``, ``(``, ``)``, ``, `` and
#: ``=``. Anything else is parsed.
_SNIPPET = re.compile(
    r"""(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<number>(?:0|[1-9][0-9]*)(?![\w.]))"""
    r"""|(?P<string>'[^'\\\n\r]*'|"[^"\\\n\r]*")|(?P<dot>\.)|(?P<open>\()|(?P<close>\))"""
    r"""|(?P<comma>, )|(?P<equal>=)"""
)
_CONSTANTS = frozenset({"True", "False", "None"})
Token = tuple[str, str]


def expr(source: str) -> cst.BaseExpression:
    """The expression ``source``. The snippets migrations build (names, attributes, calls with
    plain arguments, numbers, strings) become the nodes ``parse_expression`` would give without
    parsing; the rest is parsed."""
    return _snippet(source) or cst.parse_expression(source)


def _snippet(source: str) -> cst.BaseExpression | None:
    tokens: list[Token] = []
    position = 0
    while position < len(source):
        match = _SNIPPET.match(source, position)
        if match is None or match.lastgroup is None:
            return None
        tokens.append((match.lastgroup, match.group()))
        position = match.end()
    built = _primary(tokens, 0)
    return built[0] if built is not None and built[1] == len(tokens) else None


def _primary(tokens: list[Token], index: int) -> tuple[cst.BaseExpression, int] | None:
    """``atom (.name | (arguments))*`` from ``tokens[index]`` on, and where it ends."""
    if index >= len(tokens):
        return None
    kind, text = tokens[index]
    node: cst.BaseExpression
    if kind == "name" and (text in _CONSTANTS or not keyword.iskeyword(text)):
        node = cst.Name(text)
    elif kind == "number":
        node = cst.Integer(text)
    elif kind == "string":
        node = cst.SimpleString(text)
    else:
        return None
    index += 1
    while index < len(tokens):
        kind = tokens[index][0]
        if kind == "dot":
            if not _plain_name(tokens, index + 1):
                return None
            node = cst.Attribute(value=node, attr=cst.Name(tokens[index + 1][1]))
            index += 2
        elif kind == "open":
            arguments = _arguments(tokens, index + 1)
            if arguments is None:
                return None
            args, index = arguments
            node = cst.Call(func=node, args=args)
        else:
            break
    return node, index


def _arguments(tokens: list[Token], index: int) -> tuple[list[cst.Arg], int] | None:
    """``a, k=b)`` from ``tokens[index]`` on: the arguments and the index after ``)``."""
    args: list[cst.Arg] = []
    if index < len(tokens) and tokens[index][0] == "close":
        return args, index + 1
    while True:
        name: cst.Name | None = None
        if (_plain_name(tokens, index) and index + 1 < len(tokens)
                and tokens[index + 1][0] == "equal"):
            name = cst.Name(tokens[index][1])
            index += 2
        value = _primary(tokens, index)
        if value is None or value[1] >= len(tokens):
            return None
        node, index = value
        equal = cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""),
                                whitespace_after=cst.SimpleWhitespace("")) if name else (
            cst.MaybeSentinel.DEFAULT)
        kind = tokens[index][0]
        if kind == "close":
            args.append(cst.Arg(value=node, keyword=name, equal=equal))
            return args, index + 1
        if kind != "comma":
            return None
        args.append(cst.Arg(value=node, keyword=name, equal=equal,
                            comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))))
        index += 1


def _plain_name(tokens: list[Token], index: int) -> bool:
    return index < len(tokens) and tokens[index][0] == "name" and not keyword.iskeyword(
        tokens[index][1])


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
    if not wrap or not args or (not any(comments) and prefix + width(flat) <= WRAP_AT):
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


def statement_from(source: str) -> cst.BaseStatement:
    """The statement ``source`` (one line, or a compound statement such as a guarded call):
    for the statements the other helpers do not build, so that steps never parse."""
    return cst.parse_statement(source)


def import_from(module: str, names: Sequence[str]) -> cst.SimpleStatementLine:
    """``from module import a, b`` on one line, or black's parenthesised one-name-per-line form
    when it would be long."""
    flat = f"from {module} import {', '.join(names)}"
    wrapped = len(flat) > WRAP_AT and len(names) > 1
    if _dotted_names(module) and all(_plain(name) for name in names):
        return _import_from(module, names, wrapped)
    if wrapped:
        inner = "".join(f"    {name},\n" for name in names)
        flat = f"from {module} import (\n{inner})"
    line = cst.parse_statement(flat)
    assert isinstance(line, cst.SimpleStatementLine)
    return line


def _import_from(module: str, names: Sequence[str], wrapped: bool) -> cst.SimpleStatementLine:
    """The nodes the parser gives for ``from module import ...`` (``wrapped``: one name per
    line in parentheses, each followed by a comma)."""
    last = len(names) - 1
    lpar: cst.LeftParen | None = None
    rpar: cst.RightParen | None = None
    if wrapped:
        lpar, rpar = cst.LeftParen(whitespace_after=_break("    ")), cst.RightParen()
    aliases = []
    for index, name in enumerate(names):
        comma: cst.Comma | cst.MaybeSentinel = cst.MaybeSentinel.DEFAULT
        if wrapped:
            comma = cst.Comma(whitespace_after=_break("" if index == last else "    "))
        elif index != last:
            comma = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
        aliases.append(cst.ImportAlias(name=cst.Name(name), comma=comma))
    module_node = expr(module)
    assert isinstance(module_node, (cst.Name, cst.Attribute))
    return cst.SimpleStatementLine(
        body=[cst.ImportFrom(module=module_node, names=aliases, lpar=lpar, rpar=rpar)])


def plain_import(module: str) -> cst.SimpleStatementLine:
    if _dotted_names(module):
        name = expr(module)
        assert isinstance(name, (cst.Name, cst.Attribute))
        return cst.SimpleStatementLine(body=[cst.Import(names=[cst.ImportAlias(name=name)])])
    line = cst.parse_statement(f"import {module}")
    assert isinstance(line, cst.SimpleStatementLine)
    return line


def _dotted_names(text: str) -> bool:
    """``text`` is a dotted name (no alias, no star, no keyword)."""
    return bool(_DOTTED.match(text)) and all(_plain(part) for part in text.split("."))


def _plain(name: str) -> bool:
    return bool(_IDENTIFIER.match(name)) and not keyword.iskeyword(name)


__all__ = [
    "NOT_LITERAL", "WRAP_AT", "CannotRead", "LiteralValue", "NotLiteral", "Statement",
    "argument_comment", "argument_comments", "assign", "call", "code_of", "dotted_name", "expr",
    "expression_statement", "import_from", "plain_import", "is_import_line", "is_plain_assign",
    "kwarg", "literal_value", "positional_args", "quote_of", "read_args", "single_index",
    "spaced_dict", "string", "width", "with_comment", "with_trailing_comment",
]
