"""TNX9xx: what is left for a person. A file that still reads a TNx name after the run gets a
finding for it, so it is never reported clean (design §2, "never silent")."""

from __future__ import annotations

import libcst as cst

from tnx2nxdi import mappings as m
from tnx2nxdi.analysis import Analysis, ImportBinding, Reference
from tnx2nxdi.transforms._base import Context, Plan, code_of


def report_leftovers(still_used: list[ImportBinding], ctx: Context) -> None:
    for binding in still_used:
        if binding.local in ctx.accounted:
            continue
        if binding.local == "*":
            ctx.report("TNX990", f"from {binding.qualified[:-2]} import *: the names it brings "
                       "cannot be traced; import them by name and run tnx2nxdi again",
                       binding.statement, fixed=False)
            continue
        code, advice = _advice(binding.qualified)
        ctx.report(
            code,
            f"{binding.local} still comes from {m.TNX_PACKAGE} ({binding.qualified}); {advice}",
            binding.statement,
            fixed=False,
        )


def _advice(qualified: str) -> tuple[str, str]:
    for prefix, (code, advice) in m.MANUAL_SYMBOLS.items():
        if qualified == prefix or qualified.startswith(prefix + "."):
            return code, advice
    return "TNX990", "tnx2nxdi could not migrate its uses, so migrate them by hand"


def report_untracked(analysis: Analysis, ctx: Context, plan: Plan) -> None:
    """TNx-only methods called on objects scope analysis cannot follow (a parameter, another
    object's attribute): the object may be a migrated model, so the call needs a person."""
    for reference in analysis.references:
        if reference.call is None or not _tnx_only(reference):
            continue
        if reference.target is not None and (
            id(reference.target.statement) in ctx.constructions
            or _tnx_object(reference.target.value, reference, analysis)
        ):
            continue  # a model the migration handled, or TNx code left with its own finding
        if reference.statement is None or id(reference.statement) in plan.statements:
            continue
        if id(reference.call) in plan.calls:
            continue
        ctx.report(
            "TNX903",
            f"{code_of(reference.node)}.{reference.method}(...) looks like a TNx model call, but "
            "tnx2nxdi cannot tell what the object is; if it is a migrated model, migrate this "
            "call by hand (see TNX401/TNX501)",
            reference.statement,
            fixed=False,
        )


def _tnx_object(value: cst.BaseExpression | None, reference: Reference,
                analysis: Analysis) -> bool:
    if not isinstance(value, cst.Call):
        return False
    qualified = analysis.qualified_name(value.func, reference.chain) or ""
    return qualified.startswith(m.TNX_PACKAGE + ".")


def _tnx_only(reference: Reference) -> bool:
    if reference.method in m.TNX_ONLY_METHODS:
        return True
    if reference.method != m.SAMPLE or reference.call is None:
        return False
    keywords = {arg.keyword.value for arg in reference.call.args if arg.keyword is not None}
    return m.SAMPLE_LENGTH in keywords or isinstance(reference.node, cst.Attribute)
