"""Migrate one Python source text: parse once, analyse once, plan every rule, apply once.

``migrate_source(text, options)`` is the pure text-to-text core that the runner, the notebook
support and the tests call. It never raises for user input: a file it cannot parse or whose
migration would not compile comes back unchanged with an error.
"""

from __future__ import annotations

import ast
import re
import sys
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import libcst as cst

from tnx2nxdi import suppression
from tnx2nxdi.analysis import Analysis
from tnx2nxdi.findings import Finding
from tnx2nxdi.locate import statement_positions
from tnx2nxdi.mappings import MARKER_PREFIX
from tnx2nxdi.options import Options
from tnx2nxdi.transforms._base import Context, PendingFinding, Plan, marker_text, with_markers
from tnx2nxdi.transforms.imports import plan_imports
from tnx2nxdi.transforms.manual import report_leftovers
from tnx2nxdi.transforms.model_classes import plan_follow_ups, plan_models
from tnx2nxdi.transforms.vllm import plan_vllm, wants_vllm
from tnx2nxdi.walk import walk, with_ancestors

_MARKER_LINE = re.compile(r"^[ \t]*" + re.escape(MARKER_PREFIX) + r" (TNX\d{3}) (.*?)\s*$",
                          re.MULTILINE)


@dataclass(frozen=True)
class Migration:
    code: str
    findings: tuple[Finding, ...]
    #: Set when the source could not be migrated (it is then returned unchanged).
    error: str | None = None


class MigrationError(Exception):
    """The source cannot be migrated; the message is one line for the user."""


def migrate_source(source: str, options: Options) -> Migration:
    if _nested_too_deeply(source):
        return Migration(source, (), "cannot parse: the code is nested too deeply")
    try:
        module = cst.parse_module(source)
    except cst.ParserSyntaxError as error:
        return Migration(source, (), f"cannot parse: line {error.raw_line}: {error.message}")
    except RecursionError:
        return Migration(source, (), "cannot parse: the code is nested too deeply")
    try:
        return _migrate_module(module, source, options)
    except RecursionError:
        return Migration(source, (), "cannot migrate: the code is nested too deeply")


def _migrate_module(
    module: cst.Module, source: str, options: Options, frozen: frozenset[int] | None = None
) -> Migration:
    analysis = Analysis()
    parents: dict[int, cst.CSTNode] = {}
    walk(module, analysis, parents)  # module.visit() would rebuild the whole tree (issue 8)
    vllm = wants_vllm(analysis, source)
    if not vllm and not any(analysis.tnx_imports()):
        return Migration(source, _existing_markers(source, set(), options))
    suppressed = suppression.find(module, source)  # `# tnx2nxdi: ignore` comments
    frozen = suppressed.bare if frozen is None else frozen
    suppression.resolve_references(analysis, frozen)
    ctx = Context(options)
    plan = Plan()
    plan_models(analysis, ctx, plan)
    if any(analysis.tnx_imports()):
        plan_follow_ups(analysis, ctx, plan)
    still_used = plan_imports(analysis, ctx, plan)
    if vllm:
        plan_vllm(module, analysis, ctx, plan)
    report_leftovers(still_used, ctx)
    suppression.report_suppressed_uses(analysis, still_used, frozen, ctx)
    if suppressed.to_freeze(ctx.findings) - frozen:  # ignore[CODES] matched: plan again
        return _migrate_module(module, source, options,
                               frozen | suppressed.to_freeze(ctx.findings))
    suppression.keep_frozen(plan, frozen, suppressed)
    pending = [f for f in ctx.findings
               if options.reports(f.code) and not suppressed.hides(f, frozen)]
    for finding in pending:
        if finding.marker and finding.anchor is not None:
            plan.mark(finding.anchor, marker_text(finding.code, finding.message))
    new_module = module.visit(_Applier(plan, parents))
    edited = plan.statements or plan.calls or plan.markers or plan.before
    code = new_module.code if edited else source
    try:
        _compile_quietly(code, "<migrated>")
    except (SyntaxError, ValueError, RecursionError) as error:
        message = f"TNX999 internal error: the migration did not compile ({error}); unchanged"
        if _python_rejects(source):  # e.g. PEP 695 syntax read by an older Python
            message = (f"this Python ({sys.version_info[0]}.{sys.version_info[1]}) cannot "
                       f"compile the file, so its migration cannot be checked; unchanged")
        return Migration(source, (), message)
    positions = statement_positions(module, source)
    located = sorted((_locate(f, positions) for f in pending), key=_order)
    produced = {marker_text(f.code, f.message) for f in pending if f.marker}
    return Migration(code, (*located, *_existing_markers(source, produced, options)))


def _nested_too_deeply(source: str) -> bool:
    """LibCST's native parser overflows the C stack (the process dies) on code nested a few
    thousand levels deep; CPython's own parser refuses such code cleanly, so it is asked first."""
    try:
        _compile_quietly(source, "<input>", ast.PyCF_ONLY_AST)
    except (RecursionError, MemoryError):
        return True
    except SyntaxError as error:
        return "too many nested" in str(error.msg) or "too complex" in str(error.msg)
    except ValueError:  # NUL bytes: LibCST reports them
        return False
    return False


def _python_rejects(source: str) -> bool:
    try:
        _compile_quietly(source, "<input>", ast.PyCF_ONLY_AST)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return True
    return False


def _compile_quietly(source: str, filename: str, flags: int = 0) -> None:
    """compile() without printing the SyntaxWarnings of the user's own code (``"\\d"``,
    ``1(2)``) into the tool's output."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compile(source, filename, "exec", flags, dont_inherit=True)


def _order(finding: Finding) -> tuple[int, int, str]:
    return finding.line, finding.column, finding.code


def _locate(finding: PendingFinding, positions: dict[int, tuple[int, int]]) -> Finding:
    line, column = positions.get(id(finding.anchor), (1, 1))
    return Finding(finding.code, finding.message, line, column, finding.fixed)


def _existing_markers(source: str, produced: set[str], options: Options) -> tuple[Finding, ...]:
    """Markers left by an earlier run still ask for a person until someone removes them."""
    if MARKER_PREFIX not in source:
        return ()
    found = []
    for match in _MARKER_LINE.finditer(source):
        code, message = match.group(1), match.group(2)
        if marker_text(code, message) in produced or not options.reports(code):
            continue
        line = source.count("\n", 0, match.start()) + 1
        column = len(match.group(0)) - len(match.group(0).lstrip()) + 1
        found.append(Finding(code, f"(marker) {message}", line, column, fixed=False))
    return tuple(found)


class _Applier(cst.CSTTransformer):
    """Apply a Plan: replace calls, replace or remove statements, add marker comments."""

    def __init__(self, plan: Plan, parents: dict[int, cst.CSTNode]) -> None:
        super().__init__()
        self.plan = plan
        #: The planned nodes and the nodes above them: nothing else changes.
        self.needed = with_ancestors(
            [*plan.statements, *plan.calls, *plan.markers, *plan.before], parents
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
            if replacement is not None and not replacement:
                carried += [*_leading(original), *_trailing_comment(original)]
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
    if isinstance(statement, cst.SimpleStatementLine) and statement.trailing_whitespace.comment:
        return [cst.EmptyLine(comment=statement.trailing_whitespace.comment)]
    return []


def _prepend(statement: cst.BaseStatement, lines: list[cst.EmptyLine]) -> cst.BaseStatement:
    if not lines:
        return statement
    own = list(_leading(statement))
    if any(line.comment is None for line in lines):
        own = [line for line in own if line.comment is not None]  # no doubled blank lines
    return statement.with_changes(leading_lines=[*lines, *own])
