"""TNX4xx: the compile / save / load life cycle of a migrated model.

TNx ``to_neuron()`` compiles and loads; NxDI splits that into ``compile(path)`` and ``load(path)``,
and ``load`` is only written when the program runs the model afterwards. ``save(dir)`` folds into
``compile(dir)``; ``load(dir)`` before ``to_neuron()`` stays an NxDI ``load(dir)``, with a finding
because NxDI cannot read TNx-compiled artifacts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from tnx2nxdi import mappings as m
from tnx2nxdi.analysis import Analysis, Assignment, Reference
from tnx2nxdi.transforms._base import (
    Context,
    Plan,
    code_of,
    expr,
    expression_statement,
    literal_value,
    string,
)


@dataclass
class LifecycleFacts:
    """What the life cycle adds to the NeuronConfig (e.g. save_sharded_checkpoint)."""

    config_kwargs: dict[str, cst.BaseExpression] = field(default_factory=dict)


_COMPILERS = (m.TO_NEURON, m.CPU_COMPILE)


def plan_lifecycle(
    binding: Assignment, model_name: str, analysis: Analysis, ctx: Context, plan: Plan
) -> LifecycleFacts:
    facts = LifecycleFacts()
    uses = sorted(binding.references, key=lambda r: r.order)
    pending_load: Reference | None = None
    for index, use in enumerate(uses):
        if use.method == m.LOAD and use.standalone:
            pending_load = use
        elif use.method in _COMPILERS and use.standalone:
            later = uses[index + 1:]
            if pending_load is not None:
                _load_instead(use, pending_load, ctx, plan)
                pending_load = None
            else:
                _compile(use, later, model_name, facts, ctx, plan)
        elif use.method in (m.TO_NEURON, m.CPU_COMPILE, m.SAVE, m.LOAD):
            if id(use.statement) not in plan.statements:
                _manual(use, f"{use.method}() is used in a way tnx2nxdi cannot migrate", ctx)
        elif use.method in m.FORWARD_METHODS:
            ctx.report(
                "TNX503",
                f"{code_of(use.node)}(...) is a TNx forward call (last-position logits from "
                "cache_ids/start_ids); NxDI's forward takes input_ids, attention_mask, "
                "position_ids, seq_ids and sampling_params: rewrite it or generate through "
                "HuggingFaceGenerationAdapter",
                use.statement,
                fixed=False,
            )
        elif use.method is not None and use.method not in m.SAME_METHODS | {m.SAMPLE}:
            _manual(use, f"{use.method}() has no NxDI equivalent tnx2nxdi knows", ctx)
    return facts


def _compile(
    use: Reference, later: list[Reference], model_name: str, facts: LifecycleFacts,
    ctx: Context, plan: Plan,
) -> None:
    assert use.statement is not None and use.call is not None
    receiver = code_of(use.node)
    save = _following_save(later)
    if save is not None:
        assert save.statement is not None and save.call is not None
        directory = _first_arg(save.call)
        plan.replace(save.statement, [])
        _sharded(save.call, facts, ctx)
        ctx.report("TNX402", f"{receiver}.save({code_of(directory)}) folded into "
                   f"{receiver}.compile({code_of(directory)})", save.statement, fixed=True)
    else:
        directory = _default_directory(model_name, ctx)
    runs_later = any(r.method not in (m.SAVE,) for r in later)
    where_to = code_of(directory)
    ctx.compiled_dirs.add(where_to)
    new: list[cst.BaseStatement] = [
        expression_statement(expr(f"{receiver}.{m.NXDI_COMPILE}({where_to})"))
    ]
    if runs_later and use.method == m.TO_NEURON:
        new.append(expression_statement(expr(f"{receiver}.{m.NXDI_LOAD}({where_to})")))
    plan.replace(use.statement, new)
    became = f"{m.NXDI_COMPILE}({where_to})"
    if len(new) == 2:
        became += f" and {m.NXDI_LOAD}({where_to})"
    if save is None:
        became += " (the program never saved; choose the directory with --compiled-model-path)"
    ctx.report("TNX401", f"{receiver}.{use.method}() became {became}", use.statement, fixed=True)


def _following_save(later: list[Reference]) -> Reference | None:
    for use in later:
        if use.method in _COMPILERS:
            return None
        if (
            use.method == m.SAVE
            and use.call is not None
            and use.standalone
            and _first_arg(use.call) is not None
        ):
            return use
    return None


def _first_arg(node: cst.Call) -> cst.BaseExpression:
    for arg in node.args:
        if arg.keyword is None and not arg.star:
            return arg.value
    for arg in node.args:
        if arg.keyword is not None and arg.keyword.value in m.SAVE_DIRECTORY_KEYWORDS:
            return arg.value
    return None  # type: ignore[return-value]


def _sharded(save: cst.Call, facts: LifecycleFacts, ctx: Context) -> None:
    """TNx writes presharded weights only when asked; NxDI's default changed in 2.23."""
    value: cst.BaseExpression = expr("False")
    for arg in save.args:
        if arg.keyword is not None and arg.keyword.value == m.SAVE_SHARDED_KEYWORD:
            value = arg.value
    default = m.nxdi_default(m.SAVE_SHARDED_KEY, ctx.options.target_version)
    if literal_value(value) != default:
        facts.config_kwargs[m.SAVE_SHARDED_KEY] = value


def _default_directory(model_name: str, ctx: Context) -> cst.BaseExpression:
    chosen = ctx.options.compiled_model_path or m.DEFAULT_COMPILED_DIR.format(name=model_name)
    return expr(string(chosen))


def _load_instead(use: Reference, load: Reference, ctx: Context, plan: Plan) -> None:
    assert use.statement is not None and load.statement is not None
    plan.replace(use.statement, [])
    directory = code_of(_first_arg(load.call)) if load.call is not None else "?"
    if directory in ctx.compiled_dirs:
        ctx.report("TNX404", f"{code_of(load.node)}.{m.NXDI_LOAD}({directory}) loads what the "
                   "program compiled into that directory above; to_neuron() dropped",
                   load.statement, fixed=True)
        return
    message = (
        f"NxDI cannot load TNx-compiled artifacts: compile once into {directory} with "
        f"{code_of(load.node)}.{m.NXDI_COMPILE}({directory}) before this load"
    )
    ctx.report("TNX403", message, load.statement, fixed=False)


def load_directory(binding: Assignment) -> str | None:
    """The directory a model loads before ``to_neuron()``, as source code."""
    for use in sorted(binding.references, key=lambda r: r.order):
        if use.method in _COMPILERS:
            return None
        if use.method == m.LOAD and use.call is not None and _first_arg(use.call) is not None:
            return code_of(_first_arg(use.call))
    return None


def plan_split_checkpoints(analysis: Analysis, ctx: Context, plan: Plan) -> None:
    """``save_pretrained_split(model, dir)`` -> ``model.save_pretrained(dir)``: NxDI reads a
    standard checkpoint, so the directory the program loads from keeps existing."""
    for binding in analysis.tnx_imports():
        if binding.qualified not in m.SAVE_PRETRAINED_SPLIT:
            continue
        for reference in analysis.references:
            node = analysis.call_of_func.get(id(reference.node))
            if reference.key != binding.local or node is None:
                continue
            args = [arg for arg in node.args if arg.keyword is None and not arg.star]
            if len(args) != 2 or len(node.args) != 2:
                ctx.accounted.add(binding.local)
                continue
            model, directory = (code_of(arg.value) for arg in args)
            plan.calls[id(node)] = expr(f"{model}.{m.HF_SAVE_PRETRAINED}({directory})")
            ctx.report("TNX405", f"save_pretrained_split({model}, {directory}) became "
                       f"{model}.{m.HF_SAVE_PRETRAINED}({directory}): NxDI reads standard "
                       "checkpoints", reference.statement, fixed=True)


def plan_cache_settings(analysis: Analysis, ctx: Context) -> None:
    """TNx's persistent compile cache has no NxDI counterpart: say so where it is set."""
    for text, statement in analysis.strings:
        if any(name in text for name in m.CACHE_ENV_VARS) or m.CACHE_DIR_FLAG in text:
            ctx.report(
                "TNX406",
                "NxDI has no Neuron persistent cache, so this setting has no effect: compile "
                "once with model.compile(dir) and reuse that directory (vLLM: "
                f"{m.NXDI_ARTIFACTS_ENV})",
                statement,
                fixed=False,
            )


def _manual(use: Reference, message: str, ctx: Context) -> None:
    ctx.report("TNX902", message, use.statement, fixed=False)


__all__ = [
    "LifecycleFacts", "load_directory", "plan_cache_settings", "plan_lifecycle",
    "plan_split_checkpoints",
]
