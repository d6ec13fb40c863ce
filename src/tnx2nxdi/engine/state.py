"""What one file's migration accumulates: findings, the plan of edits, the imports it needs.

Edits are keyed by the identity of original nodes and applied once, at the end
(:mod:`tnx2nxdi.engine.apply`). A statement belongs to one writer: a second ``replace`` of the
same statement fails loudly unless it says it composes (``compose=True``, building on
``current()``), so no step can silently undo another's edit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import libcst as cst

from tnx2nxdi.engine.nodes import code_of
from tnx2nxdi.options import Options


class PlanConflict(AssertionError):
    """Two steps planned different edits of one node without composing them (a tool bug)."""


@dataclass
class PendingFinding:
    """A finding before it has a position: anchored to an original node (statement, call,
    argument or expression) whose line and column it gets. A keyword argument's value points at
    its keyword (``tp_degree=8``), a dict value at its key. Its marker goes above the statement
    in a block that holds the anchor, and ``# tnx2nxdi: ignore`` on that statement's lines
    suppresses it (:mod:`tnx2nxdi.engine.suppression`)."""

    code: str
    message: str
    fixed: bool
    anchor: cst.CSTNode | None
    #: Leave a marker comment at the anchor's statement (findings that need a person do).
    marker: bool = False
    #: Where the finding goes if ``anchor`` is not a node of the module (a node a step built):
    #: the statement the step reported for.
    fallback: cst.CSTNode | None = None


class Reporter(Protocol):
    """Records a finding at a place the caller chose (see :meth:`FileState.at`); ``at`` points
    it at a node inside that place instead (the option or argument it is about)."""

    def __call__(
        self, code: str, message: str, *, fixed: bool, at: cst.CSTNode | None = None
    ) -> None: ...


@dataclass
class FileState:
    """The options of the run, the file being migrated and the findings so far."""

    options: Options
    #: The file's path as shown to the user (relative checkpoint paths are read next to it);
    #: None for standard input without --stdin-filename.
    path: str | None = None
    findings: list[PendingFinding] = field(default_factory=list)

    def report(
        self,
        code: str,
        message: str,
        anchor: cst.CSTNode | None,
        *,
        fixed: bool,
        marker: bool | None = None,
        fallback: cst.CSTNode | None = None,
    ) -> None:
        # One line, always: messages quote user code, which may span lines, and become comments.
        message = " ".join(message.split()).replace("( ", "(").replace(", )", ")")
        self.findings.append(PendingFinding(
            code, message, fixed, anchor, (not fixed) if marker is None else marker, fallback,
        ))

    def at(self, anchor: cst.CSTNode | None) -> Reporter:
        """A reporter whose findings are anchored at ``anchor`` (or at the node it is given)."""

        def report(
            code: str, message: str, *, fixed: bool, at: cst.CSTNode | None = None
        ) -> None:
            if at is None:
                self.report(code, message, anchor, fixed=fixed)
            else:
                self.report(code, message, at, fixed=fixed, fallback=anchor)

        return report


@dataclass
class Plan:
    """Edits decided by the steps, keyed by the identity of original nodes."""

    #: Original statement -> statements replacing it (an empty list removes it).
    statements: dict[int, list[cst.BaseStatement]] = field(default_factory=dict)
    #: Original call -> expression replacing it.
    calls: dict[int, cst.BaseExpression] = field(default_factory=dict)
    #: Original statement -> marker comments to add above it.
    markers: dict[int, list[str]] = field(default_factory=dict)
    #: Original statement -> statements inserted before it (e.g. a function-local import).
    before: dict[int, list[cst.BaseStatement]] = field(default_factory=dict)
    #: Import statement -> (module, name) pairs the migrated code needs imported next to it.
    needed: dict[int, set[tuple[str, str]]] = field(default_factory=dict)
    #: Import statements next to which ``import <module>`` is needed.
    needed_modules: dict[int, set[str]] = field(default_factory=dict)
    #: Removed statement -> (it, the statement whose replacement does its work): the removed
    #: line's end-of-line comment goes with that replacement (:meth:`remove`).
    folded: dict[int, tuple[cst.CSTNode, cst.CSTNode]] = field(default_factory=dict)

    # -- edits --------------------------------------------------------------------------------

    def replace(
        self, statement: cst.CSTNode, new: Sequence[cst.BaseStatement], *, compose: bool = False
    ) -> None:
        """Replace ``statement`` by ``new`` (nothing: remove it). Replacing a statement another
        edit already replaced is a conflict unless ``compose`` says ``new`` was built on
        :meth:`current`."""
        key = id(statement)
        if key in self.statements and not compose:
            raise PlanConflict(f"two edits of one statement: {code_of(statement).strip()[:80]}")
        self.statements[key] = list(new)

    def remove(self, statement: cst.CSTNode, *, into: cst.CSTNode | None = None) -> None:
        """Remove ``statement``; when its work moves into another statement (``save(dir)``
        folded into the ``compile(dir)`` that replaces ``to_neuron()``), its end-of-line comment
        moves there too instead of staying behind on a line of its own."""
        self.replace(statement, [])
        if into is not None:
            self.folded[id(statement)] = (statement, into)

    def current(self, statement: cst.BaseStatement) -> list[cst.BaseStatement]:
        """What ``statement`` stands as in the plan so far (itself when untouched)."""
        return list(self.statements.get(id(statement), [statement]))

    def append_after(self, statement: cst.BaseStatement, new: Sequence[cst.BaseStatement]) -> None:
        self.replace(statement, [*self.current(statement), *new], compose=True)

    def insert_before(self, statement: cst.CSTNode, new: cst.BaseStatement) -> None:
        """Insert ``new`` before ``statement`` once (an equal statement is not added twice)."""
        inserted = self.before.setdefault(id(statement), [])
        if not any(code_of(existing) == code_of(new) for existing in inserted):
            inserted.append(new)

    def replace_call(self, node: cst.Call, new: cst.BaseExpression) -> None:
        if id(node) in self.calls and self.calls[id(node)] is not new:
            raise PlanConflict(f"two edits of one call: {code_of(node).strip()[:80]}")
        self.calls[id(node)] = new

    def mark(self, statement: cst.CSTNode, text: str) -> None:
        self.markers.setdefault(id(statement), []).append(text)

    def require(self, import_statement: cst.CSTNode, module: str, name: str) -> None:
        """``from module import name`` is needed, placed next to ``import_statement``."""
        self.needed.setdefault(id(import_statement), set()).add((module, name))

    def require_module(self, import_statement: cst.CSTNode, module: str) -> None:
        self.needed_modules.setdefault(id(import_statement), set()).add(module)

    def forget(self, statement: cst.CSTNode) -> list[cst.BaseStatement] | None:
        """Drop every edit of ``statement`` (a frozen statement); its replacement, if any."""
        self.markers.pop(id(statement), None)
        return self.statements.pop(id(statement), None)

    # -- questions steps may ask --------------------------------------------------------------

    def replaces(self, statement: cst.CSTNode | None) -> bool:
        """Whether ``statement`` is replaced or removed by an edit planned so far."""
        return statement is not None and id(statement) in self.statements

    def replaces_call(self, node: cst.Call | None) -> bool:
        return node is not None and id(node) in self.calls

    @property
    def edits(self) -> bool:
        return bool(self.statements or self.calls or self.markers or self.before)
