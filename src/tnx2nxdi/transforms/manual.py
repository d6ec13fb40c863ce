"""TNX9xx: what is left for a person. A file that still reads a TNx name after the run gets a
finding for it, so it is never reported clean (design §2, "never silent")."""

from __future__ import annotations

from tnx2nxdi import mappings as m
from tnx2nxdi.analysis import ImportBinding
from tnx2nxdi.transforms._base import Context


def report_leftovers(still_used: list[ImportBinding], ctx: Context) -> None:
    for binding in still_used:
        if binding.local in ctx.accounted:
            continue
        ctx.report(
            "TNX990",
            f"{binding.local} still comes from {m.TNX_PACKAGE} ({binding.qualified}); "
            "tnx2nxdi could not migrate its uses, so migrate them by hand",
            binding.statement,
            fixed=False,
        )
