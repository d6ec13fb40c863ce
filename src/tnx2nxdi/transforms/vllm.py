"""TNX6xx: vLLM programs for Neuron move to the NxD Inference framework.

A program that builds a vLLM engine for Neuron (``LLM(..., device="neuron")``, ``EngineArgs`` /
``AsyncEngineArgs``, or any of them given ``override_neuron_config``; matched by what was imported
from ``vllm``) gets ``VLLM_NEURON_FRAMEWORK=neuronx-distributed-inference`` before the engine is
created, and its ``override_neuron_config`` keys are translated by the same
:class:`~tnx2nxdi.transforms.config.OptionTranslator` as TNx NeuronConfig options (nested TNx
sub-config dicts are fed to it as sub-config calls and come back as flat NxDI keys). What NxDI
through vLLM cannot do is reported at the line concerned (nxdi_api.md §7, tnx_usage_patterns.md
§8-§9). A program that already selects NxDI is left alone.
"""

from __future__ import annotations

import ast
import json
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field

import libcst as cst

from tnx2nxdi import mappings as m
from tnx2nxdi.analysis import Analysis, ScopeNode, Statement
from tnx2nxdi.transforms._base import (
    NOT_LITERAL,
    Context,
    NotLiteral,
    Plan,
    code_of,
    dotted_name,
    kwarg,
    literal_value,
    string,
)
from tnx2nxdi.transforms.config import Dynamic, OptionTranslator, SubConfigResolver
from tnx2nxdi.walk import walk

_ENV_QUALIFIED = "os.environ"
_SETDEFAULT = "setdefault"
#: Names of the NeuronConfig options an override may carry in their TNx spelling.
_TNX_OVERRIDE_KEYS: frozenset[str] = frozenset(rule.tnx for rule in m.NEURON_CONFIG_OPTIONS)
#: The TNx class standing for each sub-config field (the translator resolves calls to them).
_SUBCONFIG_CLASS: dict[str, str] = {
    name: qualified for qualified, name in reversed(list(m.SUBCONFIG_CLASSES.items()))
}
_NESTED_NAMES = {symbol.name for symbol in m.SUBCONFIG_NESTED_CLASS.values()}


# --------------------------------------------------------------------------------------------
# Override translation (shared with the shell launch scripts)
# --------------------------------------------------------------------------------------------


@dataclass
class OverrideResult:
    """The translated ``(key, value)`` items and one line per changed key for the report."""

    items: list[tuple[str, cst.BaseExpression]]
    changes: list[str] = field(default_factory=list)
    #: Original key -> translated items, only for keys that changed.
    by_key: dict[str, list[tuple[str, cst.BaseExpression]]] = field(default_factory=dict)


def translate_items(
    items: Sequence[tuple[str, cst.BaseExpression]],
    ctx: Context,
    anchor: cst.CSTNode,
    model_name: str,
) -> OverrideResult:
    """Translate override items; raises Dynamic when a TNx sub-config cannot be read."""
    result = OverrideResult([])
    for key, value in items:
        if not _is_tnx_key(key, value):
            result.items.append((key, value))
            continue
        translated = _translate_one(key, value, ctx, anchor, model_name)
        result.items.extend(translated)
        result.by_key[key] = translated
        shown = ", ".join(name for name, _ in translated) or "removed"
        result.changes.append(f"{key} -> {shown}")
    return result


def _is_tnx_key(key: str, value: cst.BaseExpression) -> bool:
    if key in m.VLLM_SHARED_KEYS or key not in _TNX_OVERRIDE_KEYS:
        return False  # NxDI reads it under this name (or neither does: left for NxDI to judge)
    if key in m.VLLM_TNX_SUBCONFIG_KEYS and not isinstance(value, cst.Dict):
        # kv_cache_quant=True is NxDI's flag; a None sub-config is TNx's "off".
        return key not in m.VLLM_NXDI_FLAGS or literal_value(value) is None
    return True


def _translate_one(
    key: str, value: cst.BaseExpression, ctx: Context, anchor: cst.CSTNode, model_name: str
) -> list[tuple[str, cst.BaseExpression]]:
    translator = OptionTranslator(ctx, anchor, _dict_resolver(key), model_name)
    translator.neuron_config({key: value})
    return [(name, _as_dict(expression)) for name, expression in
            translator.result.kwargs.items()]


def _dict_resolver(key: str) -> SubConfigResolver:
    """A TNx sub-config given as a dict reads like a call of its TNx class with those keywords."""

    def resolve(node: cst.BaseExpression) -> tuple[str, cst.Call] | None:
        if not isinstance(node, cst.Dict) or key not in _SUBCONFIG_CLASS:
            return None
        args = []
        for element in node.elements:
            if not isinstance(element, cst.DictElement):
                return None
            name = literal_value(element.key)
            if not isinstance(name, str) or not name.isidentifier():
                return None
            args.append(kwarg(name, element.value))
        return _SUBCONFIG_CLASS[key], cst.Call(func=cst.Name("_"), args=args)

    return resolve


def _as_dict(node: cst.BaseExpression) -> cst.BaseExpression:
    """NxDI converts a dict to OnDeviceSamplingConfig itself, so overrides keep plain dicts."""
    if not isinstance(node, cst.Call) or dotted_name(node.func) not in _NESTED_NAMES:
        return node
    elements = [
        cst.DictElement(cst.SimpleString(string(arg.keyword.value)), _as_dict(arg.value))
        for arg in node.args
        if arg.keyword is not None
    ]
    return _with_commas(cst.Dict(elements))


def _with_commas(node: cst.Dict) -> cst.Dict:
    spaced = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    last = len(node.elements) - 1
    elements = [
        element.with_changes(comma=cst.MaybeSentinel.DEFAULT if index == last else spaced)
        for index, element in enumerate(node.elements)
    ]
    return node.with_changes(elements=elements)


def dict_items(node: cst.Dict) -> list[tuple[str, cst.DictElement]] | None:
    """String-keyed elements of a dict literal, or None when it has ``**`` or other keys."""
    items = []
    for element in node.elements:
        if not isinstance(element, cst.DictElement):
            return None
        key = literal_value(element.key)
        if not isinstance(key, str):
            return None
        items.append((key, element))
    return items


def translate_dict(
    node: cst.Dict, ctx: Context, anchor: cst.CSTNode, model_name: str
) -> tuple[cst.Dict, list[str]] | None:
    """The dict literal with TNx keys translated (formatting of kept keys untouched), and the
    changes; None when nothing changes. Raises Dynamic when it cannot be read."""
    items = dict_items(node)
    if items is None:
        raise Dynamic(f"{m.VLLM_OVERRIDE_KEYWORD} has entries that are not string keys")
    result = translate_items([(key, el.value) for key, el in items], ctx, anchor, model_name)
    if not result.changes:
        return None
    last = items[-1][1]
    placed: list[tuple[cst.DictElement, cst.DictElement]] = []  # (new element, its source)
    for key, element in items:
        if key not in result.by_key:
            placed.append((element, element))
            continue
        quote = _quote_of(element.key)
        placed += [
            (element.with_changes(key=cst.SimpleString(f"{quote}{new_key}{quote}"), value=value),
             element)
            for new_key, value in result.by_key[key]
        ]
    separator = _separator(node, [element for _, element in items[:-1]])
    elements = []
    for index, (element, source) in enumerate(placed):
        if index == len(placed) - 1:
            comma = last.comma  # the dict keeps its closing layout (trailing comma or not)
        elif source is not last:
            comma = source.comma
        else:
            comma = separator
        elements.append(element.with_changes(comma=comma))
    return node.with_changes(elements=elements), result.changes


def _separator(node: cst.Dict, inner: list[cst.DictElement]) -> cst.Comma:
    """The comma between two entries as this dict writes it (one per line or inline)."""
    for element in inner:
        if isinstance(element.comma, cst.Comma):
            return element.comma
    if isinstance(node.lbrace.whitespace_after, cst.ParenthesizedWhitespace):
        return cst.Comma(whitespace_after=node.lbrace.whitespace_after)
    return cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))


def _quote_of(node: cst.BaseExpression) -> str:
    if isinstance(node, cst.SimpleString) and node.quote in ("'", '"'):
        return node.quote
    return '"'


def translate_json(
    text: str, ctx: Context, anchor: cst.CSTNode, model_name: str
) -> tuple[str, list[str]] | None:
    """JSON override text translated the same way (``--override-neuron-config`` style); None
    when nothing changes. Raises Dynamic when it is not a JSON object the tool can read."""
    try:
        data = json.loads(text)
    except ValueError:
        raise Dynamic("the override is not valid JSON") from None
    if not isinstance(data, dict):
        raise Dynamic("the override is not a JSON object")
    node = cst.parse_expression(repr(data))
    assert isinstance(node, cst.Dict)
    translated = translate_dict(node, ctx, anchor, model_name)
    if translated is None:
        return None
    try:
        value = ast.literal_eval(code_of(translated[0]))
    except (ValueError, SyntaxError):
        raise Dynamic("the translated override is not plain JSON") from None
    compact = not re.search(r"[:,][ \t]", text)
    separators = (",", ":") if compact else (", ", ": ")
    return json.dumps(value, separators=separators), translated[1]


# --------------------------------------------------------------------------------------------
# Python programs
# --------------------------------------------------------------------------------------------


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


class _Collector(cst.CSTVisitor):
    """Engine constructor calls and environment writes, in source order."""

    def __init__(self, analysis: Analysis) -> None:
        super().__init__()
        self.analysis = analysis
        self.engines: list[_Engine] = []
        self.env: list[_EnvWrite] = []
        self._statements: list[Statement] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, (cst.SimpleStatementLine, cst.BaseCompoundStatement)):
            self._statements.append(node)
        return super().on_visit(node)

    def on_leave(self, original_node: cst.CSTNode) -> None:
        super().on_leave(original_node)
        if isinstance(original_node, (cst.SimpleStatementLine, cst.BaseCompoundStatement)):
            self._statements.pop()

    def visit_Call(self, node: cst.Call) -> None:
        if not self._statements:
            return
        qualified = self._qualified(node.func)
        if qualified in m.VLLM_ENGINE_CLASSES:
            keywords = {arg.keyword.value: arg.value for arg in node.args
                        if arg.keyword is not None}
            self.engines.append(_Engine(node, self._statements[-1], keywords))
        elif (
            isinstance(node.func, cst.Attribute)
            and node.func.attr.value == _SETDEFAULT
            and self._qualified(node.func.value) == _ENV_QUALIFIED
            and len(node.args) == 2
        ):
            self._env(node.args[0].value, node.args[1].value, node)

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            subscript = target.target
            if (
                isinstance(subscript, cst.Subscript)
                and len(subscript.slice) == 1
                and isinstance(subscript.slice[0].slice, cst.Index)
                and self._qualified(subscript.value) == _ENV_QUALIFIED
            ):
                self._env(subscript.slice[0].slice.value, node.value, None)

    def _env(self, key: cst.BaseExpression, value: cst.BaseExpression,
             call: cst.Call | None) -> None:
        name = literal_value(key)
        if isinstance(name, str) and self._statements:
            self.env.append(_EnvWrite(name, value, self._statements[-1], call))

    def _qualified(self, node: cst.BaseExpression) -> str | None:
        head: cst.BaseExpression = node
        while isinstance(head, cst.Attribute):
            head = head.value
        reference = self.analysis.reference_by_node.get(id(head))
        if reference is None:
            return None
        return self.analysis.qualified_name(node, reference.chain)


def wants_vllm(analysis: Analysis, source: str) -> bool:
    """Worth planning: vllm is imported, or the framework variable is written."""
    return m.VLLM_FRAMEWORK_ENV in source or any(
        b.qualified == m.VLLM_PACKAGE or b.qualified.startswith(m.VLLM_PACKAGE + ".")
        for b in analysis.imports
    )


def plan_vllm(module: cst.Module, analysis: Analysis, ctx: Context, plan: Plan) -> None:
    collector = _Collector(analysis)
    walk(module, collector)  # read-only: no tree rebuild (issue 8)
    framework = [w for w in collector.env if w.name == m.VLLM_FRAMEWORK_ENV]
    values = [literal_value(w.value) for w in framework]
    if m.VLLM_FRAMEWORK_NXDI in values:
        return  # already runs on NxDI: its overrides are NxDI's
    neuron = [engine for engine in collector.engines if engine.for_neuron]
    if not neuron and m.VLLM_FRAMEWORK_TNX not in values:
        return  # vLLM on GPUs (or no engine): not ours
    _select_nxdi(module, analysis, collector, framework, ctx, plan)
    done: set[int] = set()
    for engine in collector.engines:
        if m.VLLM_OVERRIDE_KEYWORD in engine.keywords:
            _override(engine, analysis, ctx, plan, done)
        _speculation(engine, ctx)
    for write in collector.env:
        report_env(write.name, literal_value(write.value), ctx, write.statement)


def _select_nxdi(
    module: cst.Module, analysis: Analysis, collector: _Collector,
    framework: list[_EnvWrite], ctx: Context, plan: Plan,
) -> None:
    for write in framework:
        value = literal_value(write.value)
        if value == m.VLLM_FRAMEWORK_TNX:
            new = _same_quotes(write.value, m.VLLM_FRAMEWORK_NXDI)
            if write.call is not None:
                plan.calls[id(write.call)] = write.call.deep_replace(write.value, new)
            else:
                _replace(plan, write.statement, write.statement.deep_replace(write.value, new))
            ctx.report("TNX601", f"{m.VLLM_FRAMEWORK_ENV} now selects "
                       f"{m.VLLM_FRAMEWORK_NXDI} (was {m.VLLM_FRAMEWORK_TNX})",
                       write.statement, fixed=True)
        else:
            ctx.report("TNX603", f"{m.VLLM_FRAMEWORK_ENV} is set to {code_of(write.value)}; "
                       f"make sure it is {m.VLLM_FRAMEWORK_NXDI!r}", write.statement, fixed=False)
    if framework or not collector.engines:
        return
    first = collector.engines[0]
    if _insert_framework(module, analysis, first, plan):
        ctx.report("TNX601", f"{m.VLLM_FRAMEWORK_ENV}={m.VLLM_FRAMEWORK_NXDI} set before the "
                   "engine is created (the migration guide selects NxDI explicitly)",
                   first.statement, fixed=True)


def _same_quotes(node: cst.BaseExpression, value: str) -> cst.SimpleString:
    quote = _quote_of(node)
    return cst.SimpleString(f"{quote}{value}{quote}")


def _replace(plan: Plan, statement: cst.CSTNode, new: cst.CSTNode) -> None:
    assert isinstance(new, (cst.SimpleStatementLine, cst.BaseCompoundStatement))
    plan.replace(statement, [new])


def _insert_framework(
    module: cst.Module, analysis: Analysis, engine: _Engine, plan: Plan
) -> bool:
    """After the run of imports holding the engine class's import (at the same block level);
    ``import os`` is added when ``os`` is not imported there."""
    binding = analysis.import_for(engine.call.func, _chain(analysis, engine.call.func))
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
    import_os = cst.parse_statement("import os")
    index = next((i for i, s in enumerate(body) if s is binding.statement), None)
    if index is None:  # the import sits in a nested block: right after it, in that block
        _append_after(plan, binding.statement, [*([] if has_os else [import_os]), env])
        return True
    last = index
    while last + 1 < len(body) and _is_import(body[last + 1]):
        last += 1
    if has_os:
        _append_after(plan, body[last], [env])
    elif at_module:
        first = next(i for i, s in enumerate(body) if _is_import(s) and not _is_future(s))
        _prepend_before(plan, body[first], import_os)
        _append_after(plan, body[last], [env])
    else:
        _append_after(plan, body[last], [import_os, env])
    return True


def _chain(analysis: Analysis, node: cst.BaseExpression) -> tuple[ScopeNode, ...]:
    head: cst.BaseExpression = node
    while isinstance(head, cst.Attribute):
        head = head.value
    reference = analysis.reference_by_node.get(id(head))
    return reference.chain if reference is not None else ()


def _is_import(statement: cst.BaseStatement) -> bool:
    return isinstance(statement, cst.SimpleStatementLine) and all(
        isinstance(small, (cst.Import, cst.ImportFrom)) for small in statement.body)


def _is_future(statement: cst.BaseStatement) -> bool:
    return _is_import(statement) and any(
        isinstance(small, cst.ImportFrom) and small.module is not None
        and code_of(small.module) == "__future__"
        for small in getattr(statement, "body", ()))


def _current(plan: Plan, statement: cst.BaseStatement) -> list[cst.BaseStatement]:
    return list(plan.statements.get(id(statement), [statement]))


def _append_after(plan: Plan, statement: cst.BaseStatement,
                  new: list[cst.BaseStatement]) -> None:
    plan.replace(statement, [*_current(plan, statement), *new])


def _prepend_before(plan: Plan, statement: cst.BaseStatement, new: cst.BaseStatement) -> None:
    current = _current(plan, statement)
    if current and isinstance(current[0], (cst.SimpleStatementLine,
                                           cst.BaseCompoundStatement)):
        # isort's sections: a blank line between ``import os`` and third-party imports.
        blank = [] if _is_stdlib_import(current[0]) else [cst.EmptyLine(indent=False)]
        current[0] = current[0].with_changes(leading_lines=blank)
    plan.replace(statement, [new, *current])


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


def _override(engine: _Engine, analysis: Analysis, ctx: Context, plan: Plan,
              done: set[int]) -> None:
    value = engine.keywords[m.VLLM_OVERRIDE_KEYWORD]
    model_name = _model_name(engine)
    anchor: Statement = engine.statement
    if isinstance(value, cst.Name):
        reference = analysis.reference_by_node.get(id(value))
        target = reference.target if reference is not None else None
        if target is None or target.value is None or any(
            ref.method is not None for ref in target.references
        ):
            _dynamic(ctx, anchor, f"{value.value} is not a dict the tool can follow")
            return
        if id(target.statement) in done:
            return
        done.add(id(target.statement))
        anchor, node = target.statement, target.value
    else:
        node = value
    try:
        new = _translated(node, ctx, anchor, model_name)
    except Dynamic as why:
        _dynamic(ctx, anchor, str(why))
        return
    if new is None:
        return
    replacement, changes = new
    if anchor is engine.statement:
        plan.calls[id(engine.call)] = engine.call.deep_replace(node, replacement)
    else:
        _replace(plan, anchor, anchor.deep_replace(node, replacement))
    ctx.report("TNX602", f"{m.VLLM_OVERRIDE_KEYWORD} translated for NxDI: " + "; ".join(changes),
               anchor, fixed=True)


def _translated(
    node: cst.BaseExpression, ctx: Context, anchor: cst.CSTNode, model_name: str
) -> tuple[cst.BaseExpression, list[str]] | None:
    if isinstance(node, cst.Dict):
        return translate_dict(node, ctx, anchor, model_name)
    text = literal_value(node) if isinstance(node, cst.SimpleString) else NOT_LITERAL
    if isinstance(text, str):
        translated = translate_json(text, ctx, anchor, model_name)
        if translated is None:
            return None
        return _string_like(node, translated[0]), translated[1]
    if literal_value(node) is None:
        return None
    raise Dynamic(f"{code_of(node)} cannot be read statically")


def _string_like(node: cst.BaseExpression, text: str) -> cst.SimpleString:
    """The new JSON in the same kind of quotes when it fits, else a double-quoted literal."""
    assert isinstance(node, cst.SimpleString)
    quote, prefix = node.quote, node.prefix
    if "r" not in prefix.lower() and "\\" not in text and quote[0] not in text and (
        len(quote) == 3 or "\n" not in text
    ):
        return cst.SimpleString(f"{prefix}{quote}{text}{quote}")
    return cst.SimpleString(string(text))


def _model_name(engine: _Engine) -> str:
    model = engine.keywords.get(m.VLLM_MODEL_KEYWORD)
    if model is None and engine.call.args and engine.call.args[0].keyword is None:
        model = engine.call.args[0].value
    value = literal_value(model) if model is not None else NOT_LITERAL
    if isinstance(value, str) and value.strip("/"):
        return value.rstrip("/").split("/")[-1]
    return "model"


def _dynamic(ctx: Context, anchor: cst.CSTNode, why: str) -> None:
    ctx.report("TNX603", f"{m.VLLM_OVERRIDE_KEYWORD} left as it is ({why}): make sure it uses "
               "only NxDI NeuronConfig keys", anchor, fixed=False)


# -- what NxDI through vLLM does not support ----------------------------------------------------


def _speculation(engine: _Engine, ctx: Context) -> None:
    if not speculation_needs_one_sequence(
        any(literal_value(engine.keywords[k]) is not None
            for k in m.VLLM_SPECULATION_KEYWORDS if k in engine.keywords),
        engine.keywords.get(m.VLLM_MAX_NUM_SEQS),
    ):
        return
    ctx.report("TNX604", m.VLLM_SPECULATION_NOTE, engine.statement, fixed=False)


def speculation_needs_one_sequence(speculates: bool, max_num_seqs: object) -> bool:
    """True when speculation is on and more than one sequence may run (or it cannot be told)."""
    if not speculates:
        return False
    if max_num_seqs is None:
        return m.VLLM_MAX_NUM_SEQS_DEFAULT != 1
    value = literal_value(max_num_seqs) if isinstance(max_num_seqs, cst.BaseExpression) else (
        max_num_seqs)
    return value != 1


def report_env(name: str, value: object, ctx: Context, anchor: cst.CSTNode | None) -> None:
    """Findings for environment variables NxDI through vLLM does not read or support."""
    message = env_message(name, value)
    if message is not None:
        ctx.report(message[0], message[1], anchor, fixed=False)


def env_message(
    name: str, value: object, where: str = m.VLLM_OVERRIDE_KEYWORD
) -> tuple[str, str] | None:
    """The finding for an environment variable NxDI through vLLM does not support, if any
    (``where`` names the override setting as the user writes it)."""
    if name in m.VLLM_UNSUPPORTED_ENV:
        what, todo = m.VLLM_UNSUPPORTED_ENV[name]
        return "TNX604", f"{name} ({what}): {todo}"
    if name in m.VLLM_BUCKET_ENV:
        key = m.VLLM_BUCKET_ENV[name]
        buckets = _buckets(value)
        shown = f'"{key}": {buckets}' if buckets else f'"{key}": [...]'
        return "TNX605", f"{name} is read only by vLLM's TNx loader: add {shown} to {where}"
    return None


def _buckets(value: object) -> list[int] | None:
    if not isinstance(value, str) or isinstance(value, NotLiteral):
        return None
    parts = [part.strip() for part in value.strip("\"'").split(",")]
    if not parts or not all(part.isdigit() for part in parts):
        return None
    return sorted(int(part) for part in parts)
