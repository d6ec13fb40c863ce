"""Apply a :class:`~tnx2nxdi.engine.state.Plan` to the module in one pass.

Only the planned nodes and the nodes above them are rebuilt; every other subtree is kept as it
was (its ``leave_*`` methods would change nothing). Comments around a replaced or removed line
stay with what replaced it, and marker comments go above their statements, once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import libcst as cst

from tnx2nxdi.engine.state import Plan
from tnx2nxdi.engine.walk import with_ancestors


def apply(module: cst.Module, plan: Plan, parents: dict[int, cst.CSTNode]) -> cst.Module:
    return module.visit(Applier(plan, parents))


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


class Applier(cst.CSTTransformer):
    """Apply a Plan: replace calls, replace or remove statements, add marker comments."""

    def __init__(self, plan: Plan, parents: dict[int, cst.CSTNode]) -> None:
        super().__init__()
        self.plan = plan
        #: Statement -> the comments of removed lines whose work it took over.
        self.moved: dict[int, _Moved] = {}
        for removed, into in plan.folded.values():
            entry = self.moved.setdefault(id(into), _Moved())
            entry.leading += _attached(removed)
            comment = _end_of_line(removed)
            if comment is not None:
                entry.trailing.append(comment)
        #: The planned nodes and the nodes above them: nothing else changes.
        self.needed = with_ancestors(
            [*plan.statements, *plan.calls, *plan.markers, *plan.before, *self.moved], parents
        )

    def on_visit(self, node: cst.CSTNode) -> bool:
        # A transformer rebuilds every node it descends into; subtrees without an edit are
        # left as they are (their leave_* methods would change nothing).
        return id(node) in self.needed

    def leave_Call(
        self, original_node: cst.Call, updated_node: cst.Call
    ) -> cst.BaseExpression:
        return self.plan.calls.get(id(original_node), updated_node)

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        # Comments above the first statement live in the module header, markers included.
        header = {line.comment.value for line in updated_node.header if line.comment}
        body, leftover = self._rebuild(original_node.body, updated_node.body, header)
        return updated_node.with_changes(body=body, footer=[*leftover, *updated_node.footer])

    def leave_IndentedBlock(
        self, original_node: cst.IndentedBlock, updated_node: cst.IndentedBlock
    ) -> cst.IndentedBlock:
        body, leftover = self._rebuild(original_node.body, updated_node.body)
        if not body:
            body = [cst.SimpleStatementLine(body=[cst.Pass()])]
        return updated_node.with_changes(body=body, footer=[*leftover, *updated_node.footer])

    def _rebuild(
        self,
        originals: Sequence[cst.BaseStatement],
        updated: Sequence[cst.BaseStatement],
        header: set[str] = frozenset(),  # type: ignore[assignment]
    ) -> tuple[list[cst.BaseStatement], list[cst.EmptyLine]]:
        out: list[cst.BaseStatement] = []
        carried: list[cst.EmptyLine] = []
        markers: list[str] = []
        for original, current in zip(originals, updated, strict=True):
            replacement = self.plan.statements.get(id(original))
            markers += self.plan.markers.get(id(original), [])
            moved = self.moved.get(id(original), _Moved())
            if replacement is not None and not replacement:
                own = list(_leading(original))
                if id(original) in self.plan.folded:  # its comments went with its replacement
                    own = own[:len(own) - len(_attached(original))]
                else:
                    own += _trailing_comment(original)
                carried += [*own, *moved.leading, *_lines(moved.trailing)]
                continue
            new = [current] if replacement is None else list(replacement)
            first = new[0]
            if replacement is not None:
                first = _take_over(original, first)
            first = _prepend(first, carried)
            carried = []
            markers = [text for text in markers if not (not out and text in header)]
            if markers:
                first = with_markers(first, markers)  # type: ignore[arg-type]
                markers = []
            first = _with_moved(first, moved)
            out += [*self.plan.before.get(id(original), []), first, *new[1:]]
        return out, [line for line in carried if line.comment is not None]


def _take_over(original: cst.BaseStatement, first: cst.BaseStatement) -> cst.BaseStatement:
    """A replacement keeps the comments around the line it replaces."""
    changes: dict[str, object] = {"leading_lines": _leading(original)}
    if isinstance(original, cst.SimpleStatementLine) and isinstance(
        first, cst.SimpleStatementLine
    ):
        changes["trailing_whitespace"] = original.trailing_whitespace
    return first.with_changes(**changes)


def _leading(statement: cst.BaseStatement) -> Sequence[cst.EmptyLine]:
    assert isinstance(statement, (cst.SimpleStatementLine, cst.BaseCompoundStatement))
    return statement.leading_lines


def _trailing_comment(statement: cst.BaseStatement) -> list[cst.EmptyLine]:
    """The end-of-line comment of a removed line, kept as a comment line."""
    return _lines([comment] if (comment := _end_of_line(statement)) is not None else [])


def _end_of_line(statement: cst.CSTNode) -> cst.Comment | None:
    if isinstance(statement, cst.SimpleStatementLine):
        return statement.trailing_whitespace.comment
    return None


def _lines(comments: Sequence[cst.Comment]) -> list[cst.EmptyLine]:
    return [cst.EmptyLine(comment=comment) for comment in comments]


@dataclass
class _Moved:
    """Comments of removed lines that go with the statement that took over their work: the
    comment lines right above them, and their end-of-line comments."""

    leading: list[cst.EmptyLine] = field(default_factory=list)
    trailing: list[cst.Comment] = field(default_factory=list)


#: Comment lines the tool itself relies on where they are (notebook cell boundaries,
#: ``# tnx2nxdi: ignore``) never move with a statement.
_PINNED = "# tnx2nxdi"


def _attached(statement: cst.CSTNode) -> list[cst.EmptyLine]:
    """The comment lines right above a statement (no blank line between), which describe it."""
    if not isinstance(statement, (cst.SimpleStatementLine, cst.BaseCompoundStatement)):
        return []
    lines = list(statement.leading_lines)
    start = len(lines)
    while start > 0 and lines[start - 1].comment is not None and not (
        lines[start - 1].comment.value.startswith(_PINNED)  # type: ignore[union-attr]
    ):
        start -= 1
    return lines[start:]


def _with_moved(statement: cst.BaseStatement, moved: _Moved) -> cst.BaseStatement:
    """The comments of lines folded into ``statement``: their comment lines above it, and
    their end-of-line comment at its end when that is free (else on a line above it too)."""
    if not moved.leading and not moved.trailing:
        return statement
    trailing = list(moved.trailing)
    if (
        len(trailing) == 1
        and isinstance(statement, cst.SimpleStatementLine)
        and statement.trailing_whitespace.comment is None
    ):
        end = statement.trailing_whitespace.with_changes(
            whitespace=cst.SimpleWhitespace("  "), comment=trailing.pop())
        statement = statement.with_changes(trailing_whitespace=end)
    own = list(_leading(statement))
    return statement.with_changes(leading_lines=[*own, *moved.leading, *_lines(trailing)])


def _prepend(statement: cst.BaseStatement, lines: list[cst.EmptyLine]) -> cst.BaseStatement:
    if not lines:
        return statement
    own = list(_leading(statement))
    if any(line.comment is None for line in lines):
        own = [line for line in own if line.comment is not None]  # no doubled blank lines
    return statement.with_changes(leading_lines=[*lines, *own])
