"""The engine: migrate one Python source text with a list of steps. It knows LibCST, not TNx.

``migrate_source(text, options, steps)`` parses once, analyses once (:mod:`.analysis`), hands the
analysis, the per-file state and an empty plan to the steps, applies the plan once
(:mod:`.apply`), checks that the result compiles and gives every finding its position. It never
raises for user input: a file it cannot parse or whose migration would not compile comes back
unchanged with an error. The steps (``tnx2nxdi.steps``) know TNx; they never parse or write.
"""

from __future__ import annotations

import ast
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import libcst as cst

from tnx2nxdi.engine import suppression
from tnx2nxdi.engine.analysis import Analysis
from tnx2nxdi.engine.apply import apply
from tnx2nxdi.engine.locate import Span, enclosing_statement, node_spans, statement_twins
from tnx2nxdi.engine.state import FileState, PendingFinding, Plan
from tnx2nxdi.findings import Finding
from tnx2nxdi.markers import existing_markers, marker_text
from tnx2nxdi.options import Options

#: The rule of files that are not valid Python.
PARSE_ERROR = "TNX998"
#: The safety net: a migration that would not compile is an error and the file stays as it was;
#: a file that does not parse is an error at the parser's position.
CODES = frozenset({PARSE_ERROR, "TNX999"})


@dataclass(frozen=True)
class Migration:
    code: str
    findings: tuple[Finding, ...]
    #: Set when the source could not be migrated (it is then returned unchanged).
    error: str | None = None
    #: The error as a finding with a position (a TNX998 parse error), when it has one.
    error_finding: Finding | None = None


@dataclass
class FileMigration:
    """What the steps of one file work on: its analysis, its state (options, path, findings)
    and the plan of edits. ``frozen`` holds the statements ``# tnx2nxdi: ignore`` keeps."""

    module: cst.Module
    source: str
    analysis: Analysis
    state: FileState
    plan: Plan
    frozen: frozenset[int] = frozenset()


@dataclass(frozen=True)
class Steps:
    """A migration as the engine runs it: whether a file is worth planning at all (cheap, on
    the analysis alone), and the steps that plan its edits."""

    wants: Callable[[Analysis, str], bool]
    run: Callable[[FileMigration], None]


def migrate_source(
    source: str, options: Options, steps: Steps, path: str | None = None
) -> Migration:
    rejected, tree = _python_syntax_error(source)
    if rejected is _NESTED:
        return Migration(source, (), NESTED)
    try:
        module = cst.parse_module(source)
    except cst.ParserSyntaxError as error:
        if isinstance(rejected, SyntaxError):
            return _syntax_error(source, rejected)
        return _parse_error(source, f"LibCST cannot parse this: {error.message}",
                            error.raw_line, error.raw_column + 1)
    except RecursionError:
        return Migration(source, (), NESTED)
    if isinstance(rejected, SyntaxError):  # e.g. PEP 695 syntax read by an older Python
        version = f"{sys.version_info[0]}.{sys.version_info[1]}"
        return _syntax_error(source, rejected, f" (this Python, {version}, cannot compile the "
                                               "file, so its migration cannot be checked)")
    try:
        return _migrate_module(module, source, options, steps, path, tree)
    except RecursionError:
        return Migration(source, (), "cannot migrate: the code is nested too deeply")


def _migrate_module(
    module: cst.Module, source: str, options: Options, steps: Steps, path: str | None,
    tree: ast.Module | None,
) -> Migration:
    analysis = Analysis.build(module)
    if not steps.wants(analysis, source):
        return Migration(source, _earlier_markers(source, set()))
    suppressed = suppression.find(module, source, analysis.statements)
    frozen = suppressed.bare
    if frozen:
        analysis = Analysis.build(module, frozen)
    while True:
        file = FileMigration(module, source, analysis, FileState(options, path), Plan(), frozen)
        steps.run(file)
        _settle_anchors(file.state.findings, analysis.parents)
        more = suppressed.to_freeze(file.state.findings, analysis.parents) - frozen
        if not more:
            break
        frozen |= more  # ignore[CODES] matched: plan again with those statements frozen
        analysis = Analysis.build(module, frozen)
    plan = file.plan
    suppression.keep_frozen(plan, frozen, suppressed)
    parents = analysis.parents
    pending = [f for f in file.state.findings if not suppressed.hides(f, frozen, parents)]
    anchors = [f.anchor for f in pending if f.anchor is not None]
    spans = node_spans(module, source, anchors, parents, statement_twins(module, source, tree))
    located = [(_locate(f, spans), f) for f in pending]
    for finding, origin in sorted(located, key=lambda pair: _order(pair[0])):  # top to bottom
        if origin.marker and origin.anchor is not None and options.reports(finding.code):
            plan.mark(_marked_statement(origin, plan, parents),
                      marker_text(finding.code, finding.message))
    code = apply(module, plan, analysis.parents).code if plan.edits else source
    try:
        _compile_quietly(code, "<migrated>")
    except (SyntaxError, ValueError, RecursionError) as error:
        try:  # the parser lets some errors through that compiling finds ('return' outside def)
            _compile_quietly(source, "<input>")
        except SyntaxError as own:
            return _syntax_error(source, own)
        except (ValueError, RecursionError, MemoryError):
            pass
        message = f"TNX999 internal error: the migration did not compile ({error}); unchanged"
        return Migration(source, (), message)
    produced = {marker_text(f.code, f.message) for f in pending if f.marker}
    # One config shared by two models gives each the same finding at the same place: once.
    ordered = sorted(dict.fromkeys(finding for finding, _ in located), key=_order)
    return Migration(code, (*ordered, *_earlier_markers(source, produced)))


#: The one-line error of code nested beyond what the parsers can take.
NESTED = "cannot parse: the code is nested too deeply"
_NESTED = object()
#: Python 3.10's parser builds trees of any depth, which LibCST's native parser then takes
#: minutes over or dies on (its time grows with the square of the depth); newer Pythons refuse
#: them themselves. Deeper than this is refused on 3.10 as it is on 3.11.
_MAX_DEPTH_310 = 2000


def _python_syntax_error(source: str) -> tuple[SyntaxError | object | None, ast.Module | None]:
    """What CPython's own parser says of ``source``: None (it parses), its SyntaxError, or
    ``_NESTED``; and its tree when it parses (the statements' positions come from it). LibCST's
    native parser overflows the C stack (the process dies) on code nested a few thousand levels
    deep; CPython refuses such code cleanly, so it is asked first."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = compile(source, "<input>", "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
    except (RecursionError, MemoryError):
        return _NESTED, None
    except SyntaxError as error:
        if "too many nested" in str(error.msg) or "too complex" in str(error.msg):
            return _NESTED, None
        return error, None
    except ValueError:  # NUL bytes: LibCST reports them
        return None, None
    if sys.version_info < (3, 11) and _deeper_than(tree, _MAX_DEPTH_310):
        return _NESTED, None
    return None, tree if isinstance(tree, ast.Module) else None


def _deeper_than(tree: ast.AST, limit: int) -> bool:
    stack = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return False


def _syntax_error(source: str, error: SyntaxError, note: str = "") -> Migration:
    line = error.lineno or 1
    column = error.offset or 1
    end_line = getattr(error, "end_lineno", None)
    end_column = getattr(error, "end_offset", None)
    if end_line is None or end_column is None or (end_line, end_column) <= (line, column):
        end_line = end_column = None
    return _parse_error(source, f"{error.msg}{note}", line, column, end_line, end_column)


def _parse_error(source: str, message: str, line: int, column: int,
                 end_line: int | None = None, end_column: int | None = None) -> Migration:
    """A file that does not parse: TNX998 at the position the parser gave, and the one-line
    error that makes the run exit 2."""
    finding = Finding(PARSE_ERROR, message, max(1, line), max(1, column), fixed=False,
                      end_line=end_line, end_column=end_column)
    return Migration(source, (), f"cannot parse: {message} (line {finding.line}, column "
                                 f"{finding.column})", finding)


def _compile_quietly(source: str, filename: str, flags: int = 0) -> None:
    """compile() without printing the SyntaxWarnings of the user's own code (``"\\d"``,
    ``1(2)``) into the tool's output."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compile(source, filename, "exec", flags, dont_inherit=True)


def _marked_statement(
    finding: PendingFinding, plan: Plan, parents: dict[int, cst.CSTNode]
) -> cst.CSTNode:
    """Where a finding's marker goes: above the statement holding its anchor, or, when the
    plan removes that statement (a config merged into the model's construction), above the
    statement it was reported for, which holds the merged code."""
    assert finding.anchor is not None
    statement = enclosing_statement(finding.anchor, parents)
    if finding.fallback is not None and plan.statements.get(id(statement)) == []:
        return enclosing_statement(finding.fallback, parents)
    return statement


def _settle_anchors(findings: list[PendingFinding], parents: dict[int, cst.CSTNode]) -> None:
    """A finding pointed at a node the steps built (not one of the module's) goes back to the
    statement it was reported for, so its marker and its position are never lost."""
    for finding in findings:
        anchor = finding.anchor
        if anchor is not None and finding.fallback is not None and id(anchor) not in parents:
            finding.anchor = finding.fallback


def _order(finding: Finding) -> tuple[int, int, str]:
    return finding.line, finding.column, finding.code


def _locate(finding: PendingFinding, spans: dict[int, Span]) -> Finding:
    span = spans.get(id(finding.anchor))
    if span is None:  # no anchor, or a file this Python's own parser cannot read
        return Finding(finding.code, finding.message, 1, 1, finding.fixed)
    line, column, end_line, end_column = span
    return Finding(finding.code, finding.message, line, column, finding.fixed,
                   end_line=end_line, end_column=end_column)


def _earlier_markers(source: str, produced: set[str]) -> tuple[Finding, ...]:
    """Markers left by an earlier run still ask for a person until someone removes them."""
    return tuple(
        Finding(marker.code, marker.message, marker.line, marker.column, fixed=False)
        for marker in existing_markers(source, produced)
    )
