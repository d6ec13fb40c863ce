"""Models that leave the statement building them: loader functions that return a model, and
constructions that are not assigned to a name (TNX903, TNX901)."""

from __future__ import annotations

import libcst as cst

from tnx2nxdi import mappings as m
from tnx2nxdi.engine import FileMigration
from tnx2nxdi.engine.analysis import Assignment
from tnx2nxdi.steps import generation, lifecycle
from tnx2nxdi.steps.models import Models

CODES = frozenset({"TNX901", "TNX903"})

#: Methods on a loader function's result that the migration rewrites.
_FOLLOWED = frozenset({m.SAMPLE, m.TO_NEURON, m.CPU_COMPILE, m.SAVE, m.LOAD})


def plan_loaders(f: FileMigration, models: Models) -> None:
    """Follow a loader function of this module that builds and returns a TNx model
    (``model = build_model(path)``): its callers' generation and life-cycle calls migrate too."""
    analysis = f.analysis
    for spec in models.specs:
        function = spec.binding.function
        if not isinstance(function, cst.FunctionDef) or not _returned(spec.binding):
            continue
        name = function.name.value
        if len(analysis.function_defs.get(name, [])) != 1:
            continue
        for derived in analysis.all_assignments():
            value = derived.value
            if not (isinstance(value, cst.Call) and isinstance(value.func, cst.Name)
                    and value.func.value == name):
                continue
            if not any(use.method in _FOLLOWED for use in derived.references):
                continue
            if not isinstance(derived.chain[-1], cst.Module) or not _module_level(
                    f, spec.import_statement):
                f.state.report("TNX903", f"{derived.key} comes from {name}(), whose imports are "
                               "local to it: migrate its generation calls by hand",
                               derived.statement, fixed=False)
                continue
            lifecycle.plan_lifecycle(f, derived, derived.key.split(".")[-1], models.compiled)
            generation.plan_generation(f, derived, spec.import_statement)


def _returned(binding: Assignment) -> bool:
    for use in binding.references:
        statement = use.statement
        if (
            isinstance(statement, cst.SimpleStatementLine)
            and isinstance(statement.body[0], cst.Return)
            and statement.body[0].value is use.node
        ):
            return True
    return False


def _module_level(f: FileMigration, import_statement: cst.CSTNode) -> bool:
    return any(
        b.statement is import_statement and isinstance(b.scope, cst.Module)
        for b in f.analysis.imports
    )


def report_unassigned(f: FileMigration, models: Models) -> set[str]:
    """``return LlamaForSampling.from_pretrained(...)`` and other constructions that are not
    assigned to a name cannot be followed: say so instead of leaving a bare TNX990. Returns
    the TNx names reported."""
    tnx = {b.local for b in f.analysis.imports_from(m.TNX_PACKAGE)}
    accounted: set[str] = set()
    for reference in f.analysis.references:
        if (
            reference.method == m.FROM_PRETRAINED
            and reference.key in tnx
            and reference.statement is not None
            and id(reference.statement) not in models.constructions
        ):
            f.state.report("TNX901", "left as it is: the model is not assigned to a variable "
                           "(assign it, e.g. model = ..., and run tnx2nxdi again)",
                           reference.statement, fixed=False)
            accounted.add(reference.key)
    return accounted
