"""TNX5xx: ``model.sample(...)`` becomes generation through NxDI's HuggingFaceGenerationAdapter.

TNx ``sample(ids, sequence_length=N, top_k=K)`` is top-k multinomial sampling with K=50 by default
(greedy only when K is 1), and ``sequence_length`` counts the prompt. Hugging Face ``generate``
gets the same request: ``max_length=N, do_sample=True, top_k=K``.
"""

from __future__ import annotations

import libcst as cst

from tnx2nxdi import mappings as m
from tnx2nxdi.engine import FileMigration
from tnx2nxdi.engine.analysis import Assignment, Reference
from tnx2nxdi.engine.nodes import (
    CannotRead,
    call,
    code_of,
    expr,
    import_from,
    kwarg,
    literal_value,
    read_args,
)

CODES = frozenset({"TNX501", "TNX502", "TNX503", "TNX504", "TNX505"})


#: Sampling settings that replace sample()'s own (from an on-device GenerationConfig).
Sampling = dict[str, cst.BaseExpression]


def plan_generation(
    f: FileMigration,
    binding: Assignment,
    anchor: cst.CSTNode,
    on_device: Sampling | None = None,
    longest: int | None = None,
) -> None:
    """The model's ``sample()`` calls become ``generate()`` through the NxDI adapter (imported
    next to ``anchor``, the TNx import of its class); TNx forward calls are reported.
    ``longest``: the longest sequence the model is compiled for, when it is known."""
    for use in binding.references:
        if use.method in m.FORWARD_METHODS:
            _forward(f, use)
        if use.method != m.SAMPLE or use.call is None:
            continue
        try:
            replacement = _generate(f, use, on_device, longest)
        except CannotRead as why:
            f.state.report("TNX502", f"sample() left as it is: {why}", use.call,
                           fixed=False)
            continue
        f.plan.replace_call(use.call, replacement)
        require(f, m.NXDI_GENERATION_ADAPTER, use, anchor)


def _forward(f: FileMigration, use: Reference) -> None:
    f.state.report(
        "TNX503",
        f"{code_of(use.node)}(...) is a TNx forward call (last-position logits from "
        "cache_ids/start_ids); NxDI's forward takes input_ids, attention_mask, "
        "position_ids, seq_ids and sampling_params: rewrite it or generate through "
        "HuggingFaceGenerationAdapter",
        use.call or use.statement,
        fixed=False,
    )


def require(f: FileMigration, symbol: m.Symbol, use: Reference, anchor: cst.CSTNode) -> None:
    """Import ``symbol`` where ``use`` can see it: next to the TNx import ``anchor`` when that
    is at module level or in the same function, else at the top of the function holding the
    use."""
    scope = next((b.scope for b in f.analysis.imports if b.statement is anchor), None)
    function = use.function
    if isinstance(scope, cst.Module) or scope is function or not isinstance(
        function, cst.FunctionDef
    ):
        f.plan.require(anchor, symbol.module, symbol.name)
        return
    f.plan.insert_before(_first_statement(function), import_from(symbol.module, [symbol.name]))


def _first_statement(function: cst.FunctionDef) -> cst.CSTNode:
    """The first statement of a function body that is not its docstring."""
    body = function.body.body
    if len(body) > 1 and isinstance(body[0], cst.SimpleStatementLine) and isinstance(
        body[0].body[0], cst.Expr
    ) and isinstance(body[0].body[0].value, (cst.SimpleString, cst.ConcatenatedString)):
        return body[1]
    return body[0]


def _generate(
    f: FileMigration, use: Reference, on_device: Sampling | None, longest: int | None = None
) -> cst.BaseExpression:
    assert use.call is not None
    given = read_args(use.call, m.SAMPLE_POSITIONAL)
    args: list[cst.Arg] = []
    ids = given.pop(m.SAMPLE_POSITIONAL[0], None)
    if ids is None:
        raise CannotRead("no input ids")
    args.append(cst.Arg(ids))
    length = given.pop(m.SAMPLE_LENGTH, None)
    if length is not None:
        args.append(kwarg(m.SAMPLE_KEYWORDS[m.SAMPLE_LENGTH], _within(f, use, length, longest)))
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
            raise CannotRead(f"{name}= has no Hugging Face generate() equivalent")
        args.append(kwarg(m.SAMPLE_KEYWORDS[name], value))
    receiver = code_of(use.node)
    adapter = f"{m.NXDI_GENERATION_ADAPTER.name}({receiver})"
    f.state.report(
        "TNX501",
        f"{receiver}.sample(...) became {adapter}.{m.NXDI_GENERATE}(...) with {settings}",
        use.call,
        fixed=True,
    )
    return call(f"{adapter}.{m.NXDI_GENERATE}", args, prefix=8)


def _within(
    f: FileMigration, use: Reference, length: cst.BaseExpression, longest: int | None
) -> cst.BaseExpression:
    """A sequence length past the longest the model is compiled for cannot be generated (NxDI
    stops with "exceeds largest bucket", as TNx ran out of positions): the compiled length."""
    value = f.analysis.literal(length)
    if longest is None or not isinstance(value, int) or isinstance(value, bool) or (
            value <= longest):
        return length
    f.state.report("TNX501", f"sample(sequence_length={code_of(length)}) asks for more than "
                   f"the {longest} positions the model is compiled for (n_positions): "
                   f"max_length={longest}, the most it can generate", use.statement, fixed=True)
    return expr(str(longest))


def _on_device_sampling(on_device: Sampling) -> list[cst.Arg]:
    values = [literal_value(on_device[name]) for name in m.ON_DEVICE_SAMPLING_FIELDS]
    if any(isinstance(value, tuple) for value in values):
        raise CannotRead("per-row sampling settings (per_batch_line) have no generate() "
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


def plan_adapters(f: FileMigration) -> set[str]:
    """TNx ``HuggingFaceGenerationModelAdapter(config, model)`` -> NxDI
    ``HuggingFaceGenerationAdapter(model)``; its ``reset_generation()`` calls are dropped.
    Returns the TNx names whose calls are left for a person."""
    accounted: set[str] = set()
    for binding in f.analysis.imports_from(m.TNX_PACKAGE):
        if binding.qualified not in m.TNX_GENERATION_ADAPTERS:
            continue
        for reference, node in f.analysis.calls_of(binding):
            if reference.method != "__call__":
                continue
            model = _adapter_model(node)
            if model is None:
                f.state.report("TNX502", "HuggingFaceGenerationModelAdapter(...) left as it is: "
                               "its model argument cannot be read", node,
                               fixed=False)
                accounted.add(binding.local)
                continue
            symbol = m.NXDI_GENERATION_ADAPTER
            f.plan.replace_call(node, call(symbol.name, [cst.Arg(model)]))
            require(f, symbol, reference, binding.statement)
            f.state.report("TNX504", f"{code_of(node)} became {symbol.name}({code_of(model)})",
                           node, fixed=True)
            _drop_resets(f, node)
    return accounted


def _adapter_model(node: cst.Call) -> cst.BaseExpression | None:
    positional = [arg for arg in node.args if arg.keyword is None and not arg.star]
    keywords = {arg.keyword.value: arg.value for arg in node.args if arg.keyword is not None}
    if any(arg.star for arg in node.args):
        return None
    if len(positional) >= 2:
        return positional[1].value
    return keywords.get(m.TNX_ADAPTER_PARAMETERS[1])


def _drop_resets(f: FileMigration, node: cst.Call) -> None:
    for assignment in f.analysis.all_assignments():
        if assignment.value is not node:
            continue
        for use in assignment.references:
            if use.method == m.ADAPTER_RESET and use.standalone:
                assert use.statement is not None
                f.plan.replace(use.statement, [])
                f.state.report("TNX505", f"{code_of(use.node)}.{m.ADAPTER_RESET}() dropped: NxDI's "
                           "generate() resets the model first", use.statement, fixed=True)


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
