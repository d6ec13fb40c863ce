"""TNX6xx: vLLM programs for Neuron move to the NxD Inference framework.

A program that builds a vLLM engine for Neuron (``LLM(..., device="neuron")``, ``EngineArgs`` /
``AsyncEngineArgs``, or any of them given ``override_neuron_config``; matched by what was imported
from ``vllm``) gets ``VLLM_NEURON_FRAMEWORK=neuronx-distributed-inference`` before the engine is
created, and its ``override_neuron_config`` keys are translated (:mod:`.overrides`). What NxDI
through vLLM cannot do is reported at the line concerned. A program that already selects NxDI is
left alone.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass

import libcst as cst

from tnx2nxdi import mappings as m
from tnx2nxdi.engine import FileMigration
from tnx2nxdi.engine.analysis import Analysis
from tnx2nxdi.engine.nodes import (
    NOT_LITERAL,
    CannotRead,
    Statement,
    code_of,
    is_import_line,
    literal_value,
    plain_import,
    quote_of,
    single_index,
    string,
)
from tnx2nxdi.engine.state import Reporter
from tnx2nxdi.steps import overrides

CODES = frozenset({"TNX601", "TNX602", "TNX603", "TNX604", "TNX605"})

_ENV_QUALIFIED = "os.environ"
_SETDEFAULT = "setdefault"


@dataclass
class _Engine:
    call: cst.Call
    statement: Statement
    keywords: dict[str, cst.BaseExpression]

    @property
    def for_neuron(self) -> bool:
        device = self.keywords.get(m.VLLM_DEVICE_KEYWORD)
        return m.VLLM_OVERRIDE_KEYWORD in self.keywords or (
            device is not None and literal_value(device) == m.VLLM_NEURON_DEVICE
        )


@dataclass
class _EnvWrite:
    """``os.environ[NAME] = value`` or ``os.environ.setdefault(NAME, value)``."""

    name: str
    value: cst.BaseExpression
    statement: Statement
    #: The setdefault call, when it is one (rewritten as a call; assignments as statements).
    call: cst.Call | None = None


def wants_vllm(analysis: Analysis, source: str) -> bool:
    """Worth planning: vllm is imported, or the framework variable is written."""
    return m.VLLM_FRAMEWORK_ENV in source or any(analysis.imports_from(m.VLLM_PACKAGE))


def plan_vllm(f: FileMigration) -> None:
    engines, env = _engines(f.analysis), _env_writes(f.analysis)
    framework = [w for w in env if w.name == m.VLLM_FRAMEWORK_ENV]
    values = [literal_value(w.value) for w in framework]
    if m.VLLM_FRAMEWORK_NXDI in values:
        return  # already runs on NxDI: its overrides are NxDI's
    neuron = [engine for engine in engines if engine.for_neuron]
    if not neuron and m.VLLM_FRAMEWORK_TNX not in values:
        return  # vLLM on GPUs (or no engine): not ours
    _select_nxdi(f, engines, framework)
    done: set[int] = set()
    for engine in engines:
        if m.VLLM_OVERRIDE_KEYWORD in engine.keywords:
            _override(f, engine, done)
        _speculation(f, engine)
    for write in env:
        message = overrides.env_message(write.name, literal_value(write.value))
        if message is not None:
            f.state.report(message[0], message[1], write.call or write.statement, fixed=False)


def _engines(analysis: Analysis) -> list[_Engine]:
    return [
        _Engine(site.call, site.statement, {arg.keyword.value: arg.value
                                            for arg in site.call.args if arg.keyword is not None})
        for site in analysis.calls
        if _qualified(analysis, site.call.func) in m.VLLM_ENGINE_CLASSES
    ]


def _env_writes(analysis: Analysis) -> list[_EnvWrite]:
    """``os.environ`` writes with a literal name, in source order."""
    found: list[tuple[int, _EnvWrite]] = []
    order = {id(statement): index for index, statement in enumerate(analysis.statements)}
    for site in analysis.calls:
        func = site.call.func
        if (
            isinstance(func, cst.Attribute)
            and func.attr.value == _SETDEFAULT
            and _qualified(analysis, func.value) == _ENV_QUALIFIED
            and len(site.call.args) == 2
        ):
            name = literal_value(site.call.args[0].value)
            if isinstance(name, str):
                write = _EnvWrite(name, site.call.args[1].value, site.statement, site.call)
                found.append((order[id(site.statement)], write))
    for item in analysis.item_assignments:
        key = single_index(item.target)
        name = literal_value(key) if key is not None else NOT_LITERAL
        if isinstance(name, str) and _qualified(analysis, item.target.value) == _ENV_QUALIFIED:
            found.append((order[id(item.statement)], _EnvWrite(name, item.value, item.statement)))
    return [write for _, write in sorted(found, key=lambda pair: pair[0])]


def _qualified(analysis: Analysis, node: cst.BaseExpression) -> str | None:
    return analysis.qualified_name(node, analysis.chain_of(node))


def _select_nxdi(f: FileMigration, engines: list[_Engine], framework: list[_EnvWrite]) -> None:
    for write in framework:
        value = literal_value(write.value)
        if value == m.VLLM_FRAMEWORK_TNX:
            quote = quote_of(write.value)
            new = cst.SimpleString(f"{quote}{m.VLLM_FRAMEWORK_NXDI}{quote}")
            if write.call is not None:
                f.plan.replace_call(write.call, write.call.deep_replace(write.value, new))
            else:
                _replace(f, write.statement, write.statement.deep_replace(write.value, new))
            f.state.report("TNX601", overrides.framework_switched(), write.value, fixed=True)
        else:
            f.state.report("TNX603", overrides.framework_other(code_of(write.value)),
                           write.value, fixed=False)
    if framework or not engines:
        return
    first = engines[0]
    if _insert_framework(f, first):
        f.state.report("TNX601", overrides.framework_added(
            f"{m.VLLM_FRAMEWORK_ENV}={m.VLLM_FRAMEWORK_NXDI} set", "before the engine is created"),
            first.call, fixed=True)


def _replace(f: FileMigration, statement: cst.CSTNode, new: cst.CSTNode) -> None:
    assert isinstance(new, (cst.SimpleStatementLine, cst.BaseCompoundStatement))
    f.plan.replace(statement, [new])


def _insert_framework(f: FileMigration, engine: _Engine) -> bool:
    """After the run of imports holding the engine class's import (at the same block level);
    ``import os`` is added when ``os`` is not imported there."""
    analysis, plan = f.analysis, f.plan
    binding = analysis.import_for(engine.call.func, analysis.chain_of(engine.call.func))
    if binding is None:
        return False
    scope = binding.scope
    body: Sequence[cst.BaseStatement] = ()
    if isinstance(scope, cst.Module):
        body = scope.body
    elif isinstance(scope, cst.FunctionDef) and isinstance(scope.body, cst.IndentedBlock):
        body = scope.body.body
    at_module = isinstance(scope, cst.Module)
    has_os = any(b.local == "os" and b.qualified == "os" and
                 (b.scope is scope or isinstance(b.scope, cst.Module)) for b in analysis.imports)
    env = cst.parse_statement(
        f"os.environ[{string(m.VLLM_FRAMEWORK_ENV)}] = {string(m.VLLM_FRAMEWORK_NXDI)}")
    env = env.with_changes(leading_lines=[cst.EmptyLine(indent=False)])
    import_os = plain_import("os")
    index = next((i for i, s in enumerate(body) if s is binding.statement), None)
    if index is None:  # the import sits in a nested block: right after it, in that block
        plan.append_after(binding.statement, [*([] if has_os else [import_os]), env])
        return True
    last = index
    while last + 1 < len(body) and is_import_line(body[last + 1]):
        last += 1
    if has_os:
        plan.append_after(body[last], [env])
    elif at_module:
        first = next(i for i, s in enumerate(body) if is_import_line(s) and not _is_future(s))
        _prepend_before(f, body[first], import_os)
        plan.append_after(body[last], [env])
    else:
        plan.append_after(body[last], [import_os, env])
    return True


def _is_future(statement: cst.BaseStatement) -> bool:
    return is_import_line(statement) and any(
        isinstance(small, cst.ImportFrom) and small.module is not None
        and code_of(small.module) == "__future__"
        for small in getattr(statement, "body", ()))


def _prepend_before(f: FileMigration, statement: cst.BaseStatement,
                    new: cst.BaseStatement) -> None:
    current = f.plan.current(statement)
    if current and isinstance(current[0], (cst.SimpleStatementLine,
                                           cst.BaseCompoundStatement)):
        # isort's sections: a blank line between ``import os`` and third-party imports.
        blank = [] if _is_stdlib_import(current[0]) else [cst.EmptyLine(indent=False)]
        current[0] = current[0].with_changes(leading_lines=blank)
    f.plan.replace(statement, [new, *current], compose=True)


def _is_stdlib_import(statement: cst.BaseStatement) -> bool:
    if not isinstance(statement, cst.SimpleStatementLine) or not statement.body:
        return False
    small = statement.body[0]
    if isinstance(small, cst.ImportFrom):
        name = code_of(small.module) if small.module is not None else ""
    elif isinstance(small, cst.Import):
        name = code_of(small.names[0].name)
    else:
        return False
    return name.split(".")[0] in sys.stdlib_module_names


# -- overrides ---------------------------------------------------------------------------------


def _override(f: FileMigration, engine: _Engine, done: set[int]) -> None:
    value = engine.keywords[m.VLLM_OVERRIDE_KEYWORD]
    name = overrides.model_name(_checkpoint(engine))
    anchor: Statement = engine.statement
    if isinstance(value, cst.Name):
        reference = f.analysis.reference_by_node.get(id(value))
        target = reference.target if reference is not None else None
        if target is None or target.value is None or any(
            ref.method is not None for ref in target.references
        ):
            _dynamic(f, value, f"{value.value} is not a dict the tool can follow")
            return
        if id(target.statement) in done:
            return
        done.add(id(target.statement))
        anchor, node = target.statement, target.value
    else:
        node = value
    try:
        new = _translated(node, f.state.at(node), name)
    except CannotRead as why:
        _dynamic(f, node, str(why))
        return
    if new is None:
        return
    replacement, changes = new
    if anchor is engine.statement:
        f.plan.replace_call(engine.call, engine.call.deep_replace(node, replacement))
    else:
        _replace(f, anchor, anchor.deep_replace(node, replacement))
    f.state.report("TNX602", f"{m.VLLM_OVERRIDE_KEYWORD} translated for NxDI: "
                   + "; ".join(changes), node, fixed=True)


def _translated(
    node: cst.BaseExpression, report: Reporter, model_name: str
) -> tuple[cst.BaseExpression, list[str]] | None:
    if isinstance(node, cst.Dict):
        return overrides.translate_dict(node, report, model_name)
    text = literal_value(node) if isinstance(node, cst.SimpleString) else NOT_LITERAL
    if isinstance(text, str):
        translated = overrides.translate_json(text, report, model_name)
        if translated is None:
            return None
        return _string_like(node, translated[0]), translated[1]
    if literal_value(node) is None:
        return None
    raise CannotRead(f"{code_of(node)} cannot be read statically")


def _string_like(node: cst.BaseExpression, text: str) -> cst.SimpleString:
    """The new JSON in the same kind of quotes when it fits, else a double-quoted literal."""
    assert isinstance(node, cst.SimpleString)
    quote, prefix = node.quote, node.prefix
    if "r" not in prefix.lower() and "\\" not in text and quote[0] not in text and (
        len(quote) == 3 or "\n" not in text
    ):
        return cst.SimpleString(f"{prefix}{quote}{text}{quote}")
    return cst.SimpleString(string(text))


def _checkpoint(engine: _Engine) -> object:
    model = engine.keywords.get(m.VLLM_MODEL_KEYWORD)
    if model is None and engine.call.args and engine.call.args[0].keyword is None:
        model = engine.call.args[0].value
    return literal_value(model) if model is not None else NOT_LITERAL


def _dynamic(f: FileMigration, anchor: cst.CSTNode, why: str) -> None:
    f.state.report("TNX603", overrides.override_dynamic(m.VLLM_OVERRIDE_KEYWORD, why), anchor,
                   fixed=False)


# -- what NxDI through vLLM does not support ----------------------------------------------------


def _speculation(f: FileMigration, engine: _Engine) -> None:
    if not overrides.speculation_needs_one_sequence(
        any(literal_value(engine.keywords[k]) is not None
            for k in m.VLLM_SPECULATION_KEYWORDS if k in engine.keywords),
        engine.keywords.get(m.VLLM_MAX_NUM_SEQS),
    ):
        return
    f.state.report("TNX604", overrides.speculation_note(m.VLLM_MAX_NUM_SEQS),
                   engine.keywords.get(m.VLLM_MAX_NUM_SEQS) or engine.call,
                   fixed=False)
