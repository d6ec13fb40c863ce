"""TNX1xx: drop TNx imports the migrated code no longer reads; import what it needs from NxDI's
concrete modules, at the place of the TNx import (so notebooks get them in the same cell and
function-local imports stay local)."""

from __future__ import annotations

from collections import defaultdict
from pathlib import PurePath

import libcst as cst

from tnx2nxdi import mappings as m
from tnx2nxdi.engine import FileMigration
from tnx2nxdi.engine.analysis import ImportBinding
from tnx2nxdi.engine.nodes import code_of, import_from, plain_import

CODES = frozenset({"TNX101"})


def plan_imports(f: FileMigration) -> list[ImportBinding]:
    """Rewrite TNx import lines; return the TNx bindings that are still read afterwards.
    Runs after every step that edits code or requires imports: it reads what they planned."""
    by_statement: dict[int, list[ImportBinding]] = defaultdict(list)
    for binding in f.analysis.imports_from(m.TNX_PACKAGE):
        by_statement[id(binding.statement)].append(binding)
    still_used: list[ImportBinding] = []
    for bindings in by_statement.values():
        statement = bindings[0].statement
        if not isinstance(statement, cst.SimpleStatementLine):
            still_used += bindings  # in a one-line block: kept, and reported as still used
            continue
        kept = {b.local for b in bindings if b.local == "*" or _read_after(f, b)}
        still_used += [b for b in bindings if b.local in kept]
        added = _needed_imports(f, statement, bindings[0])
        if kept == {b.local for b in bindings} and not added:
            continue
        new = _pruned(statement, kept, {b.local for b in bindings})
        f.plan.replace(statement, [*new, *added])
        if len(kept) < len(bindings):
            shown = "; ".join(code_of(small) for small in statement.body)
            f.state.report("TNX101", f"{shown}: TNx imports replaced", statement, fixed=True)
    return still_used


def _read_after(f: FileMigration, binding: ImportBinding) -> bool:
    if reexport(f, binding) is not None:
        return True  # another module may import it from here: deleting it would break that
    for reference in f.analysis.references:
        if reference.key != binding.local or reference.statement is None:
            continue
        if f.plan.replaces_call(f.analysis.call_of_func.get(id(reference.node))):
            continue
        if not f.plan.replaces(reference.statement):
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
    f: FileMigration, statement: cst.SimpleStatementLine, binding: ImportBinding
) -> list[cst.SimpleStatementLine]:
    needed = f.plan.needed.get(id(statement), set())
    order = {id(s): index for index, s in enumerate(f.analysis.statements)}
    here = order[id(statement)]
    visible = {  # imports that have run when the code next to this import runs
        (b.qualified, b.local)
        for b in f.analysis.imports
        if (b.scope is binding.scope and order[id(b.statement)] < here)
        or (isinstance(b.scope, cst.Module) and b.scope is not binding.scope)
    }
    modules: dict[str, list[str]] = defaultdict(list)
    for module, name in sorted(needed):
        if (f"{module}.{name}", name) not in visible:
            modules[module].append(name)
    lines = [
        plain_import(module) for module in sorted(f.plan.needed_modules.get(id(statement), ()))
        if (module, module) not in visible
    ]
    lines += [import_from(module, modules[module]) for module in sorted(modules)]
    return lines


def reexport(f: FileMigration, binding: ImportBinding) -> str | None:
    """Why a module-level TNx import is a name other modules may import from this file (listed
    in ``__all__``, imported in a package ``__init__.py``, or in a module that only re-exports),
    or None."""
    if not isinstance(binding.scope, cst.Module) or binding.local == "*":
        return None
    if binding.local in _all_names(f.module):
        return "listed in __all__"
    if f.state.path is not None and PurePath(f.state.path).name == "__init__.py":
        return "imported in a package __init__.py"
    if all(_reexport_statement(statement) for statement in f.module.body):
        return "in a module that only re-exports names"
    return None


def _all_names(module: cst.Module) -> set[str]:
    """The string literals assigned or added to ``__all__`` at module level."""
    names: set[str] = set()
    for statement in module.body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            value = _all_value(small)
            if isinstance(value, (cst.List, cst.Tuple, cst.Set)):
                names |= {element.value.evaluated_value for element in value.elements
                          if isinstance(element.value, cst.SimpleString)
                          and isinstance(element.value.evaluated_value, str)}
    return names


def _all_value(small: cst.BaseSmallStatement) -> cst.BaseExpression | None:
    if isinstance(small, cst.Assign) and any(
        isinstance(t.target, cst.Name) and t.target.value == _ALL for t in small.targets
    ):
        return small.value
    if isinstance(small, (cst.AugAssign, cst.AnnAssign)) and isinstance(
        small.target, cst.Name
    ) and small.target.value == _ALL:
        return small.value
    return None


def _reexport_statement(statement: cst.BaseStatement) -> bool:
    """An import, a docstring or an ``__all__`` assignment: what a re-export module holds."""
    if not isinstance(statement, cst.SimpleStatementLine):
        return False
    return all(
        isinstance(small, (cst.Import, cst.ImportFrom, cst.Pass))
        or _all_value(small) is not None
        or (isinstance(small, cst.Expr) and isinstance(
            small.value, (cst.SimpleString, cst.ConcatenatedString)))
        for small in statement.body
    )


_ALL = "__all__"
