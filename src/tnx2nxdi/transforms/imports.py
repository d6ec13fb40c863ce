"""TNX1xx: drop TNx imports the migrated code no longer reads; import what it needs from NxDI's
concrete modules, at the place of the TNx import (so notebooks get them in the same cell and
function-local imports stay local)."""

from __future__ import annotations

from collections import defaultdict

import libcst as cst

from tnx2nxdi import mappings as m
from tnx2nxdi.analysis import Analysis, ImportBinding
from tnx2nxdi.transforms._base import WRAP_AT, Context, Plan, code_of


def plan_imports(analysis: Analysis, ctx: Context, plan: Plan) -> list[ImportBinding]:
    """Rewrite TNx import lines; return the TNx bindings that are still read afterwards."""
    by_statement: dict[int, list[ImportBinding]] = defaultdict(list)
    for binding in analysis.tnx_imports():
        by_statement[id(binding.statement)].append(binding)
    still_used: list[ImportBinding] = []
    for bindings in by_statement.values():
        statement = bindings[0].statement
        if not isinstance(statement, cst.SimpleStatementLine):
            still_used += bindings  # in a one-line block: kept, and reported as still used
            continue
        kept = {b.local for b in bindings if b.local == "*" or _read_after(b, analysis, plan)}
        still_used += [b for b in bindings if b.local in kept]
        added = _needed_imports(statement, bindings[0], analysis, ctx)
        if kept == {b.local for b in bindings} and not added:
            continue
        new = _pruned(statement, kept, {b.local for b in bindings})
        plan.replace(statement, [*new, *added])
        if len(kept) < len(bindings):
            shown = "; ".join(code_of(small) for small in statement.body)
            ctx.report("TNX101", f"{shown}: TNx imports replaced", statement, fixed=True)
    return still_used


def _read_after(binding: ImportBinding, analysis: Analysis, plan: Plan) -> bool:
    for reference in analysis.references:
        if reference.key != binding.local or reference.statement is None:
            continue
        replaced_call = analysis.call_of_func.get(id(reference.node))
        if replaced_call is not None and id(replaced_call) in plan.calls:
            continue
        if id(reference.statement) not in plan.statements:
            return True
    return False


def _pruned(
    statement: cst.SimpleStatementLine, kept: set[str], tnx_locals: set[str]
) -> list[cst.SimpleStatementLine]:
    body: list[cst.BaseSmallStatement] = []
    for small in statement.body:
        if not isinstance(small, (cst.Import, cst.ImportFrom)) or not _is_tnx(small):
            body.append(small)
            continue
        if isinstance(small.names, cst.ImportStar):
            body.append(small)
            continue
        names = [alias for alias in small.names if _local(alias) in kept]
        if names:
            names[-1] = names[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
            body.append(small.with_changes(names=names))
    if not body:
        return []
    body[-1] = body[-1].with_changes(semicolon=cst.MaybeSentinel.DEFAULT)
    return [statement.with_changes(body=body)]


def _is_tnx(small: cst.Import | cst.ImportFrom) -> bool:
    if isinstance(small, cst.ImportFrom):
        module = code_of(small.module) if small.module is not None else ""
        return not small.relative and (
            module == m.TNX_PACKAGE or module.startswith(m.TNX_PACKAGE + ".")
        )
    return any(code_of(alias.name).split(".")[0] == m.TNX_PACKAGE for alias in small.names)


def _local(alias: cst.ImportAlias) -> str:
    if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
        return alias.asname.name.value
    return code_of(alias.name).split(".")[0]


def _needed_imports(
    statement: cst.SimpleStatementLine, binding: ImportBinding, analysis: Analysis,
    ctx: Context,
) -> list[cst.SimpleStatementLine]:
    needed = ctx.needed.get(id(statement), set())
    visible = {
        (b.qualified, b.local)
        for b in analysis.imports
        if b.scope is binding.scope or isinstance(b.scope, cst.Module)
    }
    modules: dict[str, list[str]] = defaultdict(list)
    for module, name in sorted(needed):
        if (f"{module}.{name}", name) not in visible:
            modules[module].append(name)
    lines = []
    if id(statement) in ctx.needs_torch and (m.TORCH_MODULE, m.TORCH_MODULE) not in visible:
        lines.append(cst.parse_statement(f"import {m.TORCH_MODULE}"))
    for module in sorted(modules):
        lines.append(cst.parse_statement(_from_import(module, modules[module])))
    return [line for line in lines if isinstance(line, cst.SimpleStatementLine)]


def _from_import(module: str, names: list[str]) -> str:
    """One line, or black's parenthesised one-name-per-line form when it would be long."""
    flat = f"from {module} import {', '.join(names)}"
    if len(flat) <= WRAP_AT or len(names) == 1:
        return flat
    inner = "".join(f"    {name},\n" for name in names)
    return f"from {module} import (\n{inner})"
