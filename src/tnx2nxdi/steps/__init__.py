"""The steps of a Python migration, in order: the one table of contents.

Each step module knows a part of TNx and NxDI (from :mod:`tnx2nxdi.mappings`), declares the
finding codes it emits in ``CODES``, and plans edits on the :class:`~tnx2nxdi.engine.FileMigration`
it is given; none of them parses or writes code. Steps hand each other typed values (the models
found, the names already reported) instead of sharing fields; the order below is what makes
those values complete when they are read.
"""

from __future__ import annotations

from tnx2nxdi import mappings as m
from tnx2nxdi.engine import FileMigration, Steps
from tnx2nxdi.engine.analysis import Analysis
from tnx2nxdi.steps import (
    generation,
    imports,
    library,
    lifecycle,
    loaders,
    manual,
    models,
    options,
    overrides,
    vllm,
)

#: Every step module, for the registry checks. ``options`` and ``overrides`` plan nothing by
#: themselves: the model and vLLM steps (and the shell kind) call them.
MODULES = (library, models, options, lifecycle, generation, loaders, imports, manual, overrides,
           vllm)


def wants(analysis: Analysis, source: str) -> bool:
    """A file is planned when it imports TNx, may be a vLLM program for Neuron, or is built on
    TNx without importing it (TNx classes named in strings, modules loaded by name)."""
    return (any(analysis.imports_from(m.TNX_PACKAGE)) or vllm.wants_vllm(analysis, source)
            or library.wants_library(analysis, source))


def run_steps(f: FileMigration) -> None:
    # Before anything: a file built on TNx itself (TNx's own package, backends on its internals)
    # gets one file-level finding and no edit, since a partial migration would break it.
    if library.plan_library(f):
        return
    # Models first: each model's options, life cycle and sample() calls are planned with it
    # (TNX2xx-5xx), and what it finds (the models, the directories compiled into, the TNx names
    # left with a finding) is what the later steps read.
    found = models.plan_models(f)
    accounted = set(found.accounted)
    if any(f.analysis.imports_from(m.TNX_PACKAGE)):
        # After the models: a loader function is followed only for a model migrated above.
        loaders.plan_loaders(f, found)
        accounted |= loaders.report_unassigned(f, found)
        if library.stays_on_tnx(found):
            # No model moves to NxDI: the rewrites below would only help one that does, and
            # the TNx names left need no finding each (the models' own findings say it).
            accounted |= library.quiet_names(f)
        else:
            accounted |= generation.plan_adapters(f)
            accounted |= lifecycle.plan_split_checkpoints(f)
            lifecycle.report_cache_settings(f)
            # After every step that replaces statements or calls: only calls left untouched
            # are reported.
            manual.report_untracked(f, found.constructions)
    # After every step that edits code or requires imports: an import is dropped only when no
    # read of its name survives, and what the new code needs is added in its place.
    still_used = imports.plan_imports(f)
    if vllm.wants_vllm(f.analysis, f.source):
        # After the imports: the framework variable is placed after the import lines as they
        # were rewritten (it composes onto those edits).
        vllm.plan_vllm(f)
    # Last: a TNx name still read needs a finding unless a step above already reported its use.
    manual.report_leftovers(f, still_used, accounted)
    manual.report_suppressed_uses(f, still_used, accounted)


#: The Python migration as the engine runs it.
PYTHON = Steps(wants=wants, run=run_steps)

__all__ = ["MODULES", "PYTHON", "run_steps", "wants"]
