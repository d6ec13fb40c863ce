"""TNX5xx: ``model.sample(...)`` becomes generation through NxDI's HuggingFaceGenerationAdapter.

TNx ``sample(ids, sequence_length=N, top_k=K)`` is top-k multinomial sampling with K=50 by default
(greedy only when K is 1), and ``sequence_length`` counts the prompt. Hugging Face ``generate``
gets the same request: ``max_length=N, do_sample=True, top_k=K``.
"""

from __future__ import annotations

import libcst as cst

from tnx2nxdi import mappings as m
from tnx2nxdi.analysis import Analysis, Assignment, Reference
from tnx2nxdi.transforms._base import Context, Plan, call, code_of, expr, kwarg, literal_value

_POSITIONAL = ("input_ids", "sequence_length")


class _Unsupported(Exception):
    pass


def plan_generation(
    binding: Assignment, analysis: Analysis, ctx: Context, plan: Plan, anchor: cst.CSTNode
) -> None:
    for use in binding.references:
        if use.method != m.SAMPLE or use.call is None:
            continue
        try:
            replacement = _generate(use, ctx)
        except _Unsupported as why:
            ctx.report("TNX502", f"sample() left as it is: {why}", use.statement, fixed=False)
            continue
        plan.calls[id(use.call)] = replacement
        symbol = m.NXDI_GENERATION_ADAPTER
        ctx.needed.setdefault(id(anchor), set()).add((symbol.module, symbol.name))


def _generate(use: Reference, ctx: Context) -> cst.BaseExpression:
    assert use.call is not None
    given = _arguments(use.call)
    args: list[cst.Arg] = []
    ids = given.pop("input_ids", None)
    if ids is None:
        raise _Unsupported("no input ids")
    args.append(cst.Arg(ids))
    length = given.pop("sequence_length", None)
    if length is not None:
        args.append(kwarg(m.SAMPLE_KEYWORDS["sequence_length"], length))
    args += _sampling(given.pop("top_k", None))
    for name in list(given):
        value = given.pop(name)
        if name in m.SAMPLE_NONE_DEFAULTS and literal_value(value) is None:
            continue
        if name not in m.SAMPLE_KEYWORDS:
            raise _Unsupported(f"{name}= has no Hugging Face generate() equivalent")
        args.append(kwarg(m.SAMPLE_KEYWORDS[name], value))
    receiver = code_of(use.node)
    adapter = f"{m.NXDI_GENERATION_ADAPTER.name}({receiver})"
    ctx.report(
        "TNX501",
        f"{receiver}.sample(...) became {adapter}.{m.NXDI_GENERATE}(...) with the same "
        "sampling settings",
        use.statement,
        fixed=True,
    )
    return call(f"{adapter}.{m.NXDI_GENERATE}", args, prefix=8)


def _arguments(node: cst.Call) -> dict[str, cst.BaseExpression]:
    given: dict[str, cst.BaseExpression] = {}
    for index, arg in enumerate(node.args):
        if arg.star:
            raise _Unsupported(f"{code_of(arg).strip()} cannot be read statically")
        if arg.keyword is not None:
            given[arg.keyword.value] = arg.value
        elif index < len(_POSITIONAL):
            given[_POSITIONAL[index]] = arg.value
        else:
            raise _Unsupported("positional arguments after sequence_length")
    return given


def _sampling(top_k: cst.BaseExpression | None) -> list[cst.Arg]:
    """do_sample/top_k exactly as TNx samples: top-k (50 unless given), greedy when k is 1."""
    if top_k is None:
        return [kwarg(m.HF_DO_SAMPLE, expr("True")),
                kwarg("top_k", expr(str(m.SAMPLE_DEFAULT_TOP_K)))]
    literal = literal_value(top_k)
    if literal == m.SAMPLE_GREEDY_TOP_K:
        return [kwarg(m.HF_DO_SAMPLE, expr("False"))]
    if isinstance(literal, int):
        return [kwarg(m.HF_DO_SAMPLE, expr("True")), kwarg("top_k", top_k)]
    return [
        kwarg(m.HF_DO_SAMPLE, expr(f"{code_of(top_k)} != {m.SAMPLE_GREEDY_TOP_K}")),
        kwarg("top_k", top_k),
    ]
