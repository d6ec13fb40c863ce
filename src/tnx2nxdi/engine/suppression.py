"""``# tnx2nxdi: ignore`` comments: statements a person asked the tool to leave as they are.

A statement carrying ``# tnx2nxdi: ignore`` on any of its lines (for a compound statement: on a
line of its header) is *frozen*: the analysis does not see what it assigns, the names it reads do
not resolve, so no rule plans an edit of it; the findings about it (anchored at it or at a node
inside it, so the ones whose position is on its lines) are dropped. A frozen TNx import line is
kept as written, with the NxDI imports the migrated code needs added below it.
``# tnx2nxdi: ignore[TNX303, TNX9]`` freezes the statement only when a finding with one of those
codes (or prefixes) is about it, and then drops that finding the same way. Either way the comment
stays: a frozen statement is written back as it was.

Everything here costs nothing for a file without the comment (one substring test).
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import libcst as cst

from tnx2nxdi.engine.locate import enclosing_statement, quiet_parse, statement_positions
from tnx2nxdi.engine.nodes import is_import_line
from tnx2nxdi.engine.state import PendingFinding, Plan
from tnx2nxdi.engine.walk import walk

MARKER = "tnx2nxdi: ignore"
#: What a file must contain for a comment to be worth looking for (spacing varies).
_QUICK = "tnx2nxdi:"
_COMMENT = re.compile(r"#\s*tnx2nxdi:\s*ignore\b(?:\[([^\]]*)\])?")
#: Selectors of one comment: None means every code.
Selectors = tuple[str, ...] | None


@dataclass(frozen=True)
class Suppressions:
    #: id(statement) -> selectors of the ignore comment on it.
    by_statement: dict[int, Selectors] = field(default_factory=dict)
    nodes: dict[int, cst.CSTNode] = field(default_factory=dict)

    @property
    def bare(self) -> frozenset[int]:
        """Statements frozen whatever their findings (``# tnx2nxdi: ignore``)."""
        return frozenset(key for key, codes in self.by_statement.items() if codes is None)

    def to_freeze(
        self, findings: Iterable[PendingFinding], parents: Mapping[int, cst.CSTNode]
    ) -> frozenset[int]:
        """Bare-ignored statements, and coded ones where one of their codes was found."""
        found = set()
        for finding in findings:
            key = _statement_key(finding, parents)
            if key is not None and self._covers(key, finding.code):
                found.add(key)
        return self.bare | found

    def hides(
        self, finding: PendingFinding, frozen: frozenset[int], parents: Mapping[int, cst.CSTNode]
    ) -> bool:
        key = _statement_key(finding, parents)
        return key is not None and (key in frozen or self._covers(key, finding.code))

    def _covers(self, key: int, code: str) -> bool:
        if key not in self.by_statement:
            return False
        codes = self.by_statement[key]
        return codes is None or any(code.startswith(selector) for selector in codes)


NONE = Suppressions()


def _statement_key(finding: PendingFinding, parents: Mapping[int, cst.CSTNode]) -> int | None:
    """The statement a finding is about: the one holding its anchor (the statement whose lines
    hold the finding's position)."""
    if finding.anchor is None:
        return None
    return id(enclosing_statement(finding.anchor, parents))


def find(
    module: cst.Module, source: str, statements: Sequence[cst.CSTNode]
) -> Suppressions:
    """The ignore comments of a module, keyed by the ``statements`` they sit on."""
    if _QUICK not in source:
        return NONE
    comments = _comment_lines(source)
    if not comments:
        return NONE
    ends = _end_lines(source)
    positions = statement_positions(module, source)
    by_statement: dict[int, Selectors] = {}
    nodes: dict[int, cst.CSTNode] = {}
    for statement in statements:
        start = positions.get(id(statement))
        if start is None:
            continue
        last = ends.get(start, start[0])  # a compound statement: the end of its header
        if isinstance(statement, cst.SimpleStatementLine):
            last = ends.get(positions.get(id(statement.body[-1]), start), start[0])
        for line in range(start[0], last + 1):
            if line in comments:
                by_statement[id(statement)] = _merge(by_statement, id(statement), comments[line])
                nodes[id(statement)] = statement
    return Suppressions(by_statement, nodes) if by_statement else NONE


def keep_frozen(plan: Plan, frozen: frozenset[int], suppressions: Suppressions) -> None:
    """Take frozen statements out of the plan; a frozen import line stays, followed by the
    imports the plan added in its place."""
    for key in frozen:
        node = suppressions.nodes.get(key)
        if node is None:
            continue
        replacement = plan.forget(node)
        for call in _calls_in(node):
            plan.calls.pop(id(call), None)
        if replacement is not None and is_import_line(node):
            assert isinstance(node, cst.SimpleStatementLine)
            added = [
                statement for statement in replacement
                if not (isinstance(statement, cst.SimpleStatementLine)
                        and statement.trailing_whitespace is node.trailing_whitespace)
            ]
            if added:
                plan.replace(node, [node, *added])


def _comment_lines(source: str) -> dict[int, Selectors]:
    found: dict[int, Selectors] = {}
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, SyntaxError):
        return found
    for token in tokens:
        if token.type != tokenize.COMMENT:
            continue
        match = _COMMENT.search(token.string)
        if match is None:
            continue
        if match.group(1) is None:
            found[token.start[0]] = None
        else:
            codes = tuple(c.upper() for c in re.split(r"[\s,]+", match.group(1)) if c)
            found[token.start[0]] = codes or None
    return found


def _end_lines(source: str) -> dict[tuple[int, int], int]:
    """(line, column) of every ast statement -> its last line; for a compound statement, the last
    line of its header (``with f(\n    a=1,\n):``), the comment lines above its body left out."""
    tree = quiet_parse(source)
    if tree is None:
        return {}
    lines = source.splitlines()
    ends = {}
    for node in ast.walk(tree):
        if not isinstance(node, ast.stmt):
            continue
        end = node.end_lineno or node.lineno
        body = getattr(node, "body", None)
        subject = getattr(node, "subject", None)  # ``match`` (3.10+): its cases follow
        if isinstance(subject, ast.expr):
            end = subject.end_lineno or node.lineno
        elif isinstance(body, list) and body and isinstance(body[0], ast.stmt):
            end = max(node.lineno, body[0].lineno - 1)
            while end > node.lineno and lines[end - 1].strip()[:1] in ("", "#"):
                end -= 1
        ends[(node.lineno, node.col_offset + 1)] = end
    return ends


def _merge(existing: dict[int, Selectors], key: int, codes: Selectors) -> Selectors:
    if key not in existing:
        return codes
    before = existing[key]
    return None if before is None or codes is None else (*before, *codes)


class _Calls(cst.CSTVisitor):
    def __init__(self) -> None:
        super().__init__()
        self.calls: list[cst.Call] = []

    def visit_Call(self, node: cst.Call) -> None:
        self.calls.append(node)


def _calls_in(node: cst.CSTNode) -> list[cst.Call]:
    if not isinstance(node, cst.SimpleStatementLine):
        return []  # a compound statement's body is not frozen with its header
    collector = _Calls()
    walk(node, collector)
    return collector.calls
