"""TNX9xx: what is left for a person. A file that still reads a TNx name after the run gets a
finding for it, so it is never reported clean ("never silent")."""

from __future__ import annotations

from collections.abc import Iterable

import libcst as cst

from tnx2nxdi import mappings as m
from tnx2nxdi.engine import FileMigration
from tnx2nxdi.engine.analysis import ImportBinding, Reference
from tnx2nxdi.engine.nodes import code_of
from tnx2nxdi.engine.suppression import MARKER
from tnx2nxdi.steps import imports, library

CODES = frozenset({"TNX903", "TNX910", "TNX990"})


def report_leftovers(
    f: FileMigration, still_used: list[ImportBinding], accounted: set[str]
) -> None:
    """A TNx name still read after the run, and not already reported by the step that left its
    use, gets a finding at its import."""
    for binding in still_used:
        if binding.local in accounted or library.optional_import(f.analysis, binding):
            continue
        if binding.local == "*":
            f.state.report("TNX990", f"from {binding.qualified[:-2]} import *: the names it brings "
                       "cannot be traced; import them by name and run tnx2nxdi again",
                       binding.statement, fixed=False)
            continue
        code, advice = _advice(binding.qualified)
        shadow = _shadowed_by(f, binding)
        if shadow is not None:
            advice = (f"the NxDI import this migration adds ({shadow}) rebinds the name, so "
                      f"the uses left here get NxDI's {binding.local} instead: migrate them by "
                      "hand, or import one of the two under another name")
        why = imports.reexport(f, binding)
        if why is not None:
            counterpart = m.nxdi_counterpart(binding.qualified)
            target = f"at {counterpart.qualified}" if counterpart else "at its NxDI counterpart"
            advice = (f"it is re-exported ({why}), so modules importing it from here still get "
                      f"the TNx one: point them {target}, or keep TNx on purpose")
        f.state.report(code, f"{_still(binding)}; {advice}", binding.statement, fixed=False)


def _shadowed_by(f: FileMigration, binding: ImportBinding) -> str | None:
    """The NxDI import the plan adds that binds the same name as a TNx import the file keeps
    (``NeuronConfig`` from both): ``from module import name``, or None."""
    if binding.module_import:
        return None
    for pairs in f.plan.needed.values():
        for module, name in sorted(pairs):
            if name == binding.local:
                return f"from {module} import {name}"
    return None


def _still(binding: ImportBinding) -> str:
    """What still ties the file to TNx, in words that do not repeat themselves."""
    if binding.module_import:
        alias = "" if binding.local == binding.qualified else f" as {binding.local}"
        return f"import {binding.qualified}{alias} is still used"
    return f"{binding.local} still comes from {m.TNX_PACKAGE} ({binding.qualified})"


def _advice(qualified: str) -> tuple[str, str]:
    for prefix, (code, advice) in m.MANUAL_SYMBOLS.items():
        if qualified == prefix or qualified.startswith(prefix + "."):
            return code, advice
    return "TNX990", "tnx2nxdi could not migrate its uses, so migrate them by hand"


def report_suppressed_uses(
    f: FileMigration, still_used: Iterable[ImportBinding], accounted: set[str]
) -> None:
    """A TNx name read only on ignored lines still ties the file to TNx: say so at its import
    (unless the import is ignored too), so that suppression never yields a false all-clear.
    Names without another finding already got TNX990 from ``report_leftovers``."""
    if not f.frozen:
        return
    for binding in still_used:
        if binding.local not in accounted or id(binding.statement) in f.frozen:
            continue
        reads = [r for r in f.analysis.references
                 if r.key == binding.local and r.statement is not None]
        if reads and all(id(r.statement) in f.frozen for r in reads):
            f.state.report(
                "TNX990",
                f"{binding.local} still comes from {m.TNX_PACKAGE} ({binding.qualified}) and is "
                f"used only on lines marked '# {MARKER}'; migrate them by hand, or mark this "
                "import too to keep TNx on purpose",
                binding.statement,
                fixed=False,
            )


def report_untracked(f: FileMigration, constructions: set[int]) -> None:
    """TNx-only methods called on objects scope analysis cannot follow (a parameter, another
    object's attribute): the object may be a migrated model, so the call needs a person.
    ``constructions`` holds the statements that build TNx models (handled by other steps)."""
    for reference in f.analysis.references:
        if reference.call is None or not _tnx_only(reference):
            continue
        if reference.target is not None and (
            id(reference.target.statement) in constructions
            or _tnx_object(reference.target.value, reference, f)
        ):
            continue  # a model the migration handled, or TNx code left with its own finding
        if reference.statement is None or f.plan.replaces(reference.statement):
            continue
        if f.plan.replaces_call(reference.call):
            continue
        f.state.report(
            "TNX903",
            f"{code_of(reference.node)}.{reference.method}(...) looks like a TNx model call, but "
            "tnx2nxdi cannot tell what the object is; if it is a migrated model, migrate this "
            "call by hand (see TNX401/TNX501)",
            reference.statement,
            fixed=False,
        )


def _tnx_object(value: cst.BaseExpression | None, reference: Reference,
                f: FileMigration) -> bool:
    if not isinstance(value, cst.Call):
        return False
    return m.is_tnx(f.analysis.qualified_name(value.func, reference.chain))


def _tnx_only(reference: Reference) -> bool:
    if reference.method in m.TNX_ONLY_METHODS:
        return True
    if reference.method != m.SAMPLE or reference.call is None:
        return False
    keywords = {arg.keyword.value for arg in reference.call.args if arg.keyword is not None}
    if not keywords <= m.TNX_SAMPLE_PARAMETERS:
        return False  # another library's sample() (vLLM's sampler takes logits=...)
    return m.SAMPLE_LENGTH in keywords or isinstance(reference.node, cst.Attribute)
