"""TNX5xx: ``model.sample(...)`` becomes generation through NxDI's HuggingFaceGenerationAdapter.

TNx ``sample(ids, sequence_length=N, top_k=K)`` is top-k multinomial sampling with K=50 by default
(greedy only when K is 1), and ``sequence_length`` counts the prompt. Hugging Face ``generate``
gets the same request: ``max_length=N, do_sample=True, top_k=K``.
"""

from __future__ import annotations

import libcst as cst

from tnx2nxdi import mappings as m
from tnx2nxdi.analysis import Analysis, Assignment, Reference
from tnx2nxdi.transforms._base import (
    Context,
    Plan,
    call,
    code_of,
    expr,
    kwarg,
    literal_value,
    named_arguments,
)

_POSITIONAL = m.SAMPLE_POSITIONAL


class _Unsupported(Exception):
    pass


#: Sampling settings that replace sample()'s own (from an on-device GenerationConfig).
Sampling = dict[str, cst.BaseExpression]


def plan_generation(
    binding: Assignment,
    analysis: Analysis,
    ctx: Context,
    plan: Plan,
    anchor: cst.CSTNode,
    on_device: Sampling | None = None,
) -> None:
    for use in binding.references:
        if use.method != m.SAMPLE or use.call is None:
            continue
        try:
            replacement = _generate(use, ctx, on_device)
        except _Unsupported as why:
            ctx.report("TNX502", f"sample() left as it is: {why}", use.statement, fixed=False)
            continue
        plan.calls[id(use.call)] = replacement
        require(m.NXDI_GENERATION_ADAPTER, use, anchor, analysis, ctx, plan)


def require(
    symbol: m.Symbol, use: Reference, anchor: cst.CSTNode, analysis: Analysis, ctx: Context,
    plan: Plan,
) -> None:
    """Import ``symbol`` where ``use`` can see it: next to the TNx import when that is at module
    level or in the same function, else at the top of the function holding the use."""
    scope = next((b.scope for b in analysis.imports if b.statement is anchor), None)
    function = use.function
    if isinstance(scope, cst.Module) or scope is function or not isinstance(
        function, cst.FunctionDef
    ):
        ctx.needed.setdefault(id(anchor), set()).add((symbol.module, symbol.name))
        return
    first = _first_statement(function)
    line = cst.parse_statement(f"from {symbol.module} import {symbol.name}")
    inserted = plan.before.setdefault(id(first), [])
    if not any(code_of(existing) == code_of(line) for existing in inserted):
        inserted.append(line)


def _first_statement(function: cst.FunctionDef) -> cst.CSTNode:
    """The first statement of a function body that is not its docstring."""
    body = function.body.body
    if len(body) > 1 and isinstance(body[0], cst.SimpleStatementLine) and isinstance(
        body[0].body[0], cst.Expr
    ) and isinstance(body[0].body[0].value, (cst.SimpleString, cst.ConcatenatedString)):
        return body[1]
    return body[0]


def _generate(use: Reference, ctx: Context, on_device: Sampling | None) -> cst.BaseExpression:
    assert use.call is not None
    given = _arguments(use.call)
    args: list[cst.Arg] = []
    ids = given.pop(m.SAMPLE_POSITIONAL[0], None)
    if ids is None:
        raise _Unsupported("no input ids")
    args.append(cst.Arg(ids))
    length = given.pop(m.SAMPLE_LENGTH, None)
    if length is not None:
        args.append(kwarg(m.SAMPLE_KEYWORDS[m.SAMPLE_LENGTH], length))
    mask = _attention_mask(ids)
    if mask is not None and m.ATTENTION_MASK_FIELD not in given:
        args.append(kwarg(m.ATTENTION_MASK_FIELD, mask))
    if on_device is None:
        args += _sampling(given.pop(m.SAMPLE_TOP_K, None))
        settings = "the same sampling settings"
    else:  # TNx sampled with the GenerationConfig, whatever the call said
        for name in m.ON_DEVICE_SAMPLING_FIELDS[1:]:
            given.pop(name, None)
        args += _on_device_sampling(on_device)
        settings = "the on-device GenerationConfig's sampling settings (TNx ignored sample()'s)"
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
        f"{receiver}.sample(...) became {adapter}.{m.NXDI_GENERATE}(...) with {settings}",
        use.statement,
        fixed=True,
    )
    return call(f"{adapter}.{m.NXDI_GENERATE}", args, prefix=8)


def _on_device_sampling(on_device: Sampling) -> list[cst.Arg]:
    values = [literal_value(on_device[name]) for name in m.ON_DEVICE_SAMPLING_FIELDS]
    if any(isinstance(value, tuple) for value in values):
        raise _Unsupported("per-row sampling settings (per_batch_line) have no generate() "
                           "equivalent")
    do_sample = on_device[m.ON_DEVICE_SAMPLING_FIELDS[0]]
    if literal_value(do_sample) is False:
        return [kwarg(m.HF_DO_SAMPLE, do_sample)]
    return [kwarg(m.HF_DO_SAMPLE, do_sample)] + [
        kwarg(m.SAMPLE_KEYWORDS[name], on_device[name]) for name in m.ON_DEVICE_SAMPLING_FIELDS[1:]
    ]


def _attention_mask(ids: cst.BaseExpression) -> cst.BaseExpression | None:
    """``inputs.input_ids`` / ``inputs["input_ids"]`` come with ``inputs``' attention mask."""
    if isinstance(ids, cst.Attribute) and ids.attr.value == m.INPUT_IDS_FIELD:
        return ids.with_changes(attr=cst.Name(m.ATTENTION_MASK_FIELD))
    if (
        isinstance(ids, cst.Subscript)
        and len(ids.slice) == 1
        and isinstance(ids.slice[0].slice, cst.Index)
        and literal_value(ids.slice[0].slice.value) == m.INPUT_IDS_FIELD
    ):
        key = ids.slice[0].slice.value
        assert isinstance(key, cst.SimpleString)
        quote = key.quote
        new_key = key.with_changes(value=f"{key.prefix}{quote}{m.ATTENTION_MASK_FIELD}{quote}")
        return ids.with_changes(
            slice=[ids.slice[0].with_changes(slice=cst.Index(value=new_key))]
        )
    return None


def plan_adapters(analysis: Analysis, ctx: Context, plan: Plan) -> None:
    """TNx ``HuggingFaceGenerationModelAdapter(config, model)`` -> NxDI
    ``HuggingFaceGenerationAdapter(model)``; its ``reset_generation()`` calls are dropped."""
    for binding in analysis.tnx_imports():
        if binding.qualified not in m.TNX_GENERATION_ADAPTERS:
            continue
        for reference in analysis.references:
            node = analysis.call_of_func.get(id(reference.node))
            if reference.key != binding.local or node is None or reference.method != "__call__":
                continue
            model = _adapter_model(node)
            if model is None:
                ctx.report("TNX502", "HuggingFaceGenerationModelAdapter(...) left as it is: "
                           "its model argument cannot be read", reference.statement, fixed=False)
                ctx.accounted.add(binding.local)
                continue
            symbol = m.NXDI_GENERATION_ADAPTER
            plan.calls[id(node)] = call(symbol.name, [cst.Arg(model)])
            require(symbol, reference, binding.statement, analysis, ctx, plan)
            ctx.report("TNX504", f"{code_of(node)} became {symbol.name}({code_of(model)})",
                       reference.statement, fixed=True)
            _drop_resets(node, analysis, ctx, plan)


def _adapter_model(node: cst.Call) -> cst.BaseExpression | None:
    positional = [arg for arg in node.args if arg.keyword is None and not arg.star]
    keywords = {arg.keyword.value: arg.value for arg in node.args if arg.keyword is not None}
    if any(arg.star for arg in node.args):
        return None
    if len(positional) >= 2:
        return positional[1].value
    return keywords.get(m.TNX_ADAPTER_PARAMETERS[1])


def _drop_resets(node: cst.Call, analysis: Analysis, ctx: Context, plan: Plan) -> None:
    for assignment in analysis.all_assignments():
        if assignment.value is not node:
            continue
        for use in assignment.references:
            if use.method == m.ADAPTER_RESET and use.standalone:
                assert use.statement is not None
                plan.replace(use.statement, [])
                ctx.report("TNX505", f"{code_of(use.node)}.{m.ADAPTER_RESET}() dropped: NxDI's "
                           "generate() resets the model first", use.statement, fixed=True)


def _arguments(node: cst.Call) -> dict[str, cst.BaseExpression]:
    try:
        return named_arguments(node, _POSITIONAL)
    except ValueError as why:
        raise _Unsupported(str(why)) from None


def _sampling(top_k: cst.BaseExpression | None) -> list[cst.Arg]:
    """do_sample/top_k exactly as TNx samples: top-k (50 unless given), greedy when k is 1."""
    top_k_name = m.SAMPLE_KEYWORDS[m.SAMPLE_TOP_K]
    if top_k is None:
        return [kwarg(m.HF_DO_SAMPLE, expr("True")),
                kwarg(top_k_name, expr(str(m.SAMPLE_DEFAULT_TOP_K)))]
    literal = literal_value(top_k)
    if literal == m.SAMPLE_GREEDY_TOP_K:
        return [kwarg(m.HF_DO_SAMPLE, expr("False"))]
    if isinstance(literal, int):
        return [kwarg(m.HF_DO_SAMPLE, expr("True")), kwarg(top_k_name, top_k)]
    return [
        kwarg(m.HF_DO_SAMPLE, expr(f"{code_of(top_k)} != {m.SAMPLE_GREEDY_TOP_K}")),
        kwarg(top_k_name, top_k),
    ]
