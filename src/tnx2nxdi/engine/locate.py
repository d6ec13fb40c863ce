"""Line and column of original statements, from Python's own parser.

LibCST's position metadata costs about as much as a second parse; ``ast.parse`` costs a tenth of
that. Statements appear in the same order in both trees, so walking the two bodies side by side
maps each LibCST statement to its ``ast`` twin and that twin's position.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence

import libcst as cst

Position = tuple[int, int]
#: ``try`` statements (``except*`` only parses on Python 3.11+).
_AST_TRY: tuple[type[ast.stmt], ...] = tuple(
    getattr(ast, name) for name in ("Try", "TryStar") if hasattr(ast, name)
)


def statement_positions(module: cst.Module, source: str) -> dict[int, Position]:
    """``id(statement) -> (line, column)``, 1-based, for statements and small statements."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return {}
    positions: dict[int, Position] = {}
    _walk(module.body, tree.body, positions)
    return positions


def _walk(
    statements: Sequence[cst.BaseStatement | cst.BaseSmallStatement],
    nodes: Sequence[ast.stmt],
    positions: dict[int, Position],
) -> None:
    index = 0
    for statement in statements:
        if index >= len(nodes):
            return
        positions[id(statement)] = _at(nodes[index])
        if isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                if index < len(nodes):
                    positions[id(small)] = _at(nodes[index])
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


def _compound(statement: cst.CSTNode, node: ast.stmt, positions: dict[int, Position]) -> None:
    # Compound statements differ in shape; getattr keeps one walker for all of them.
    body = getattr(statement, "body", None)
    if isinstance(body, cst.BaseSuite):
        _walk(_body(body), getattr(node, "body", []), positions)
    orelse = getattr(statement, "orelse", None)
    ast_orelse: list[ast.stmt] = getattr(node, "orelse", [])
    if isinstance(orelse, cst.If) and ast_orelse:  # elif
        positions[id(orelse)] = _at(ast_orelse[0])
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
