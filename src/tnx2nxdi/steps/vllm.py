"""TNX6xx: vLLM programs for Neuron move to the NxD Inference framework.

A program that builds a vLLM engine for Neuron (``LLM(..., device="neuron")``, ``EngineArgs`` /
``AsyncEngineArgs``, or any of them given ``override_neuron_config``, the V1 plugin's
``additional_config={"override_neuron_config": ...}`` or ``quantization="neuron_quant"``; matched
by what was imported from ``vllm``) gets ``VLLM_NEURON_FRAMEWORK=neuronx-distributed-inference``
before the engine is created (not for the V1 plugin, which always runs NxDI). Each engine's
override is translated, and what only vLLM's TNx loader read (``neuron_quant`` with
``NEURON_QUANT_DTYPE``, the bucket variables, EAGLE chosen by the draft's config) is written into
it (:mod:`.overrides` decides; this module reads and writes the Python). What NxDI through vLLM
cannot do is reported at the line concerned. A program that already selects NxDI is left alone.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass, field

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
    statement_from,
    string,
)
from tnx2nxdi.engine.state import Reporter
from tnx2nxdi.steps import overrides

CODES = frozenset({"TNX303", "TNX305", "TNX601", "TNX602", "TNX603", "TNX604", "TNX605",
                   "TNX606"})

_ENV_QUALIFIED = "os.environ"
_SETDEFAULT = "setdefault"


@dataclass
class _Engine:
    call: cst.Call
    statement: Statement
    keywords: dict[str, cst.BaseExpression]

    @property
    def plugin(self) -> bool:
        """Built for the V1 Neuron plugin (overrides in ``additional_config``)."""
        return (m.VLLM_ADDITIONAL_CONFIG_KEYWORD in self.keywords
                and m.VLLM_OVERRIDE_KEYWORD not in self.keywords)


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
    # A variable only vLLM's TNx loader reads says the program runs on Neuron, device or not.
    tnx_env = any(w.name in m.VLLM_BUCKET_ENV or w.name == m.VLLM_QUANT_DTYPE_ENV for w in env)
    neuron = [engine for engine in engines if tnx_env or _for_neuron(f.analysis, engine)]
    if not neuron and m.VLLM_FRAMEWORK_TNX not in values:
        return  # vLLM on GPUs (or no engine): not ours
    v0 = [engine for engine in engines if not engine.plugin]
    _select_nxdi(f, v0 if any(not e.plugin for e in neuron) or not neuron else [], framework)
    settings = _settings(f, env)
    done: set[int] = set()
    for engine in neuron:
        _Rewrite(f, engine, settings, done).run()
    for write in env:
        if write.name in m.VLLM_BUCKET_ENV and neuron:
            continue  # said with the engines that read them
        message = overrides.env_message(write.name, f.analysis.literal(write.value))
        if message is not None:
            f.state.report(message[0], message[1], write.call or write.statement, fixed=False)


def _for_neuron(analysis: Analysis, engine: _Engine) -> bool:
    keywords = engine.keywords
    device = keywords.get(m.VLLM_DEVICE_KEYWORD)
    quantization = keywords.get(m.VLLM_QUANTIZATION_KEYWORD)
    return (
        m.VLLM_OVERRIDE_KEYWORD in keywords
        or (device is not None and analysis.literal(device) == m.VLLM_NEURON_DEVICE)
        or (quantization is not None
            and analysis.literal(quantization) == m.VLLM_TNX_QUANTIZATION)
        or (engine.plugin and _plugin_entry(analysis, engine) is not None)
    )


def _settings(f: FileMigration, env: list[_EnvWrite]) -> list[overrides.EnvSetting]:
    """The variables an engine's migration reads, each reporting once at its own line."""
    return [overrides.EnvSetting(write.name, f.analysis.literal(write.value),
                                 _once(f.state.at(write.statement)))
            for write in env if write.name in m.VLLM_BUCKET_ENV
            or write.name == m.VLLM_QUANT_DTYPE_ENV]


def _once(report: Reporter) -> Reporter:
    """A reporter that says each finding once (several engines read one variable)."""
    said: set[tuple[str, str]] = set()

    def once(code: str, message: str, *, fixed: bool, at: cst.CSTNode | None = None) -> None:
        if (code, message) not in said:
            said.add((code, message))
            report(code, message, fixed=fixed, at=at)

    return once


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
    env = statement_from(
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



# -- one engine: its override, and what vLLM's TNx loader read for it ------------------------------


def _plugin_entry(
    analysis: Analysis, engine: _Engine
) -> tuple[str, cst.BaseExpression] | None:
    """The V1 plugin's override entry of ``additional_config`` (its key as written, its value)."""
    container = analysis.value_of(engine.keywords[m.VLLM_ADDITIONAL_CONFIG_KEYWORD])
    for key, value in _entries(container) or []:
        if key in (m.VLLM_OVERRIDE_KEYWORD, *m.VLLM_PLUGIN_OVERRIDE_ALIASES):
            return key, value
    return None


def _entries(node: cst.BaseExpression) -> list[tuple[str, cst.BaseExpression]] | None:
    """``{"k": v}`` or ``dict(k=v)`` as (key, value) pairs; None for anything else."""
    if isinstance(node, cst.Dict):
        items = overrides.dict_items(node)
        return None if items is None else [(key, element.value) for key, element in items]
    if _is_dict_call(node):
        assert isinstance(node, cst.Call)
        return [(arg.keyword.value, arg.value) for arg in node.args if arg.keyword is not None]
    return None


def _is_dict_call(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Call) and overrides.is_dict_like(node)


@dataclass
class _Place:
    """An override value (or the container holding the V1 entry) and where it is written."""

    node: cst.BaseExpression
    #: The assignment statement holding it; None when it sits in the engine call.
    statement: Statement | None


@dataclass
class _Rewrite:
    f: FileMigration
    engine: _Engine
    settings: list[overrides.EnvSetting]
    #: Assignments already rewritten for an earlier engine (a dict shared by two engines).
    done: set[int]
    #: Engine keyword -> new value (None: remove it), and keywords to add.
    call_edits: dict[str, cst.BaseExpression | None] = field(default_factory=dict)
    call_adds: list[tuple[str, cst.BaseExpression]] = field(default_factory=list)
    #: Where the override's own findings go (the engine, or the assignment of its dict).
    _anchor: Statement = field(init=False)

    def __post_init__(self) -> None:
        self._anchor = self.engine.statement

    @property
    def keywords(self) -> dict[str, cst.BaseExpression]:
        return self.engine.keywords

    def run(self) -> None:
        ctx = self._context()
        plan = overrides.plan_launch(self._launch(ctx), self.settings)
        try:
            applied = self._override(ctx, plan)
        except CannotRead as why:
            self.f.state.report("TNX603", overrides.override_dynamic(ctx.where, str(why)),
                                self._anchor, fixed=False)
            overrides.report_additions(plan.additions, applied=False)
            applied = False
        if applied and plan.drop_quantization:
            self.call_edits[m.VLLM_QUANTIZATION_KEYWORD] = None
        if self.call_edits or self.call_adds:
            new = _rewrite_call(self.engine.call, self.call_edits, self.call_adds)
            self.f.plan.replace_call(self.engine.call, new)

    # -- reading ------------------------------------------------------------------------------

    def _literal(self, keyword: str) -> object:
        node = self.keywords.get(keyword)
        return None if node is None else self.f.analysis.literal(node)

    def _context(self) -> overrides.Context:
        model = self.keywords.get(m.VLLM_MODEL_KEYWORD)
        if model is None and self.engine.call.args and self.engine.call.args[0].keyword is None:
            model = self.engine.call.args[0].value
        checkpoint = self.f.analysis.literal(model) if model is not None else NOT_LITERAL
        where = (f'{m.VLLM_ADDITIONAL_CONFIG_KEYWORD}["{m.VLLM_OVERRIDE_KEYWORD}"]'
                 if self.engine.plugin else m.VLLM_OVERRIDE_KEYWORD)
        return overrides.Context(self.f.state.at(self.engine.call),
                                 overrides.model_name(checkpoint),
                                 self.f.state.options.target_version, self.engine.plugin, where)

    def _launch(self, ctx: overrides.Context) -> overrides.Launch:
        quantization = self.keywords.get(m.VLLM_QUANTIZATION_KEYWORD)
        speculative = self.f.analysis.value_of(
            self.keywords.get(m.VLLM_SPECULATIVE_CONFIG, cst.Name("None")))
        entries = dict(_entries(speculative) or [])
        draft = self._literal(m.VLLM_SPECULATIVE_MODEL)
        if "model" in entries:
            draft = self.f.analysis.literal(entries["model"])
        method = entries.get(m.VLLM_SPECULATIVE_METHOD[0])
        eagle = _marks_eagle_draft(self.f.analysis) or (
            method is not None and self.f.analysis.literal(method) == m.VLLM_SPECULATIVE_METHOD[1])
        max_model_len = self._literal(m.VLLM_MAX_MODEL_LEN)
        return overrides.Launch(
            ctx,
            quantization=None if quantization is None else (
                f"{m.VLLM_QUANTIZATION_KEYWORD}={code_of(quantization)}"),
            quantization_value=None if quantization is None else self._literal(
                m.VLLM_QUANTIZATION_KEYWORD),
            speculates=any(literal_value(self.keywords[k]) is not None
                           for k in m.VLLM_SPECULATION_KEYWORDS if k in self.keywords),
            eagle=eagle,
            eagle_hint=overrides.looks_like_eagle(draft),
            max_num_seqs=self._literal(m.VLLM_MAX_NUM_SEQS),
            max_model_len=NOT_LITERAL if max_model_len is None else max_model_len,
        )

    def _follow(self, node: cst.BaseExpression) -> _Place:
        """The dict a name stands for, at its assignment (assigned once, never changed in
        place); raises CannotRead otherwise."""
        if not isinstance(node, cst.Name):
            return _Place(node, None)
        target = self.f.analysis.bound_once(node)
        reference = self.f.analysis.reference_by_node.get(id(node))
        assigned = reference.target if reference is not None else None
        if target is None or assigned is None or target.value is None or any(
            ref.method is not None for ref in assigned.references
        ):
            raise CannotRead(f"{node.value} is not a dict the tool can follow")
        return _Place(target.value, target.statement)

    # -- writing ------------------------------------------------------------------------------

    def _override(self, ctx: overrides.Context, plan: overrides.LaunchPlan) -> bool:
        """Translate the override and add what the plan needs; whether the additions went in."""
        if self.engine.plugin:
            return self._plugin_override(ctx, plan)
        value = self.keywords.get(m.VLLM_OVERRIDE_KEYWORD)
        if value is None or literal_value(value) is None:  # absent, or None: none to translate
            self._new_override(plan, replaces=value is not None)
            return True
        place = self._follow(value)
        if place.statement is not None:
            if id(place.statement) in self.done:
                overrides.report_additions(plan.additions, applied=False)
                return False
            self.done.add(id(place.statement))
            self._anchor = place.statement
        new = self._translated(place.node, ctx, plan)
        if new is None:
            return True
        if place.statement is None:
            self.call_edits[m.VLLM_OVERRIDE_KEYWORD] = None if _is_empty(new) else new
        else:
            self._swap(place.statement, place.node, new)
        return True

    def _plugin_override(self, ctx: overrides.Context, plan: overrides.LaunchPlan) -> bool:
        container = self._follow(self.keywords[m.VLLM_ADDITIONAL_CONFIG_KEYWORD])
        if _entries(container.node) is None:
            raise CannotRead(f"{code_of(container.node)} cannot be read statically")
        entry = _plugin_entry(self.f.analysis, self.engine)
        if entry is None:
            additions = overrides.keep_missing(plan.additions, set())
            items = overrides.items_of(additions)
            if not items:
                overrides.report_additions(additions, applied=True)
                return True
            new_container = _set_entry(container.node, m.VLLM_OVERRIDE_KEYWORD,
                                       _new_dict(items, None))
            self._write(container, new_container, m.VLLM_ADDITIONAL_CONFIG_KEYWORD)
            overrides.report_additions(additions, applied=True)
            return True
        key, value = entry
        inner = self._follow(value)
        if inner.statement is not None:
            self._anchor = inner.statement
        new = self._translated(inner.node, ctx, plan)
        renamed = key != m.VLLM_OVERRIDE_KEYWORD
        if renamed:
            message = overrides.plugin_key_renamed(m.VLLM_ADDITIONAL_CONFIG_KEYWORD, key)
            self.f.state.report("TNX602", message, self.engine.statement, fixed=True)
        if inner.statement is not None:  # the dict has its own assignment
            if new is not None:
                self._swap(inner.statement, inner.node, new)
            if renamed:
                self._write(container, _set_entry(container.node, key, value),
                            m.VLLM_ADDITIONAL_CONFIG_KEYWORD)
            return True
        if new is None and not renamed:
            return True
        kept = inner.node if new is None else (None if _is_empty(new) else new)
        self._write(container, _set_entry(container.node, key, kept),
                    m.VLLM_ADDITIONAL_CONFIG_KEYWORD)
        return True

    def _new_override(self, plan: overrides.LaunchPlan, *, replaces: bool) -> None:
        additions = overrides.keep_missing(plan.additions, set())
        items = overrides.items_of(additions)
        if not items:
            overrides.report_additions(additions, applied=True)
            return
        new = _new_dict(items, _arg_indent(self.engine.call))
        if replaces:
            self.call_edits[m.VLLM_OVERRIDE_KEYWORD] = new
        else:
            self.call_adds.append((m.VLLM_OVERRIDE_KEYWORD, new))
        overrides.report_additions(additions, applied=True)

    def _translated(self, node: cst.BaseExpression, ctx: overrides.Context,
                    plan: overrides.LaunchPlan) -> cst.BaseExpression | None:
        """The override translated with the plan's additions (None: unchanged); the findings
        are reported. Raises CannotRead when it cannot be read."""
        report = self.f.state.at(node)
        ctx = overrides.Context(report, ctx.model_name, ctx.target, ctx.plugin, ctx.where)
        text = literal_value(node) if isinstance(node, cst.SimpleString) else NOT_LITERAL
        if isinstance(text, str):
            additions = overrides.keep_missing(plan.additions, overrides.json_keys(text, ctx))
            extra = overrides.items_of(additions)
            json_result = overrides.translate_json(text, ctx, extra)
            new: cst.BaseExpression | None = None
            changes: list[str] = []
            if json_result is not None:
                new, changes = _string_like(node, json_result[0]), json_result[1]
        elif isinstance(node, cst.Dict) or _is_dict_call(node):
            view = _dict_view(node)
            additions = overrides.keep_missing(plan.additions, overrides.present_keys(view, ctx))
            extra = overrides.items_of(additions)
            dict_result = overrides.translate_dict(view, ctx, extra)
            new, changes = None, []
            if dict_result is not None:
                laid_out = _laid_out(view, dict_result[0], self._indent(node))
                new, changes = _dict_like(node, laid_out), dict_result[1]
        else:
            raise CannotRead(f"{code_of(node)} cannot be read statically")
        if changes:
            report("TNX602", overrides.translated(ctx.where, changes), fixed=True)
        overrides.report_additions(additions, applied=True)
        return new

    def _indent(self, node: cst.BaseExpression) -> str:
        """The indentation a dict's entries are written at, less four (relative to the block of
        the statement holding it)."""
        if any(arg.value is node for arg in self.engine.call.args):
            return _arg_indent(self.engine.call) or ""
        return ""

    def _write(self, place: _Place, new: cst.BaseExpression | None, keyword: str) -> None:
        if place.statement is None:
            self.call_edits[keyword] = None if new is None or _is_empty(new) else new
        else:
            self._swap(place.statement, place.node, new if new is not None else cst.Dict([]))

    def _swap(self, statement: Statement, old: cst.BaseExpression,
              new: cst.BaseExpression) -> None:
        if _is_empty(new):
            new = cst.Dict([])  # no whitespace-only line left inside the braces
        _replace(self.f, statement, statement.deep_replace(old, new))


def _marks_eagle_draft(analysis: Analysis) -> bool:
    """The program writes ``config["is_eagle"] = True`` (the TNx loader's EAGLE switch)."""
    for item in analysis.item_assignments:
        key = single_index(item.target)
        if (key is not None and literal_value(key) == m.VLLM_EAGLE_DRAFT_FLAG
                and analysis.literal(item.value) is True):
            return True
    return False


#: An inline dict that grows past this many characters is written one entry per line.
_INLINE_DICT_WIDTH = 60


def _laid_out(original: cst.Dict, new: cst.Dict, indent: str) -> cst.Dict:
    """``new`` one entry per line when the migration made an inline dict long."""
    if (isinstance(original.lbrace.whitespace_after, cst.ParenthesizedWhitespace)
            or len(code_of(new)) <= max(_INLINE_DICT_WIDTH, len(code_of(original)))):
        return new
    items = [(key, element.value) for key, element in overrides.dict_items(new) or []]
    return _new_dict(items, indent)


def _is_empty(node: cst.BaseExpression) -> bool:
    if isinstance(node, cst.Dict):
        return not node.elements
    if isinstance(node, cst.SimpleString):
        text = literal_value(node)
        return isinstance(text, str) and text.strip() in ("{}", "")
    return _is_dict_call(node) and not getattr(node, "args", ())


def _string_like(node: cst.BaseExpression, text: str) -> cst.SimpleString:
    """The new JSON in the same kind of quotes when it fits, else a double-quoted literal."""
    assert isinstance(node, cst.SimpleString)
    quote, prefix = node.quote, node.prefix
    if "r" not in prefix.lower() and "\\" not in text and quote[0] not in text and (
        len(quote) == 3 or "\n" not in text
    ):
        return cst.SimpleString(f"{prefix}{quote}{text}{quote}")
    return cst.SimpleString(string(text))


# -- dict() calls read like dict literals -------------------------------------------------------


def _dict_view(node: cst.BaseExpression) -> cst.Dict:
    """A dict literal standing for ``node`` (itself, or ``dict(k=v, ...)`` with its layout)."""
    if isinstance(node, cst.Dict):
        return node
    assert isinstance(node, cst.Call)
    last = node.args[-1] if node.args else None
    return cst.Dict(
        [cst.DictElement(cst.SimpleString(string(arg.keyword.value)), arg.value,
                         comma=arg.comma) for arg in node.args if arg.keyword is not None],
        lbrace=cst.LeftCurlyBrace(whitespace_after=node.whitespace_before_args),
        rbrace=cst.RightCurlyBrace(
            whitespace_before=last.whitespace_after_arg if last is not None
            else cst.SimpleWhitespace("")),
    )


def _dict_like(original: cst.BaseExpression, new: cst.Dict) -> cst.BaseExpression:
    """``new`` written the way ``original`` was (a dict literal, or a ``dict(...)`` call)."""
    if isinstance(original, cst.Dict):
        return new
    assert isinstance(original, cst.Call)
    args = []
    items = overrides.dict_items(new) or []
    for index, (key, element) in enumerate(items):
        if not key.isidentifier():
            raise CannotRead(f"{key!r} cannot be a dict() keyword")
        last = index == len(items) - 1
        args.append(cst.Arg(
            value=element.value, keyword=cst.Name(key),
            equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace("")),
            comma=element.comma,
            whitespace_after_arg=new.rbrace.whitespace_before if last
            else cst.SimpleWhitespace("")))
    return original.with_changes(args=args, whitespace_before_args=new.lbrace.whitespace_after)


# -- editing calls and containers ---------------------------------------------------------------


def _rewrite_call(call: cst.Call, edits: dict[str, cst.BaseExpression | None],
                  adds: Sequence[tuple[str, cst.BaseExpression]]) -> cst.Call:
    """``call`` with keyword values replaced (None: the argument removed) and keywords added
    at the end, keeping its layout (one argument per line or inline, trailing comma)."""
    args: list[cst.Arg] = []
    for arg in call.args:
        name = arg.keyword.value if arg.keyword is not None else None
        if name is not None and name in edits:
            value = edits[name]
            if value is None:
                continue
            arg = arg.with_changes(value=value)
        args.append(arg)
    original_last = call.args[-1] if call.args else None
    if args and original_last is not None and args[-1] is not original_last and (
        original_last.keyword is not None and edits.get(original_last.keyword.value) is None
        and original_last.keyword.value in edits
    ):
        args[-1] = args[-1].with_changes(comma=original_last.comma,
                                         whitespace_after_arg=original_last.whitespace_after_arg)
    for name, value in adds:
        new = cst.Arg(value=value, keyword=cst.Name(name),
                      equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace("")))
        if args:
            last = args[-1]
            separator = _arg_separator(call, args)
            args[-1] = last.with_changes(comma=separator,
                                         whitespace_after_arg=cst.SimpleWhitespace(""))
            new = new.with_changes(comma=last.comma, whitespace_after_arg=last.whitespace_after_arg)
        args.append(new)
    return call.with_changes(args=args)


def _arg_separator(call: cst.Call, args: list[cst.Arg]) -> cst.Comma:
    """A comma followed by a line break when the call is written on several lines (a new
    argument gets its own line), else the comma the call writes between arguments."""
    for space in _spaces(call):
        if isinstance(space, cst.ParenthesizedWhitespace):
            return cst.Comma(whitespace_after=space)
    for arg in args[:-1]:
        if isinstance(arg.comma, cst.Comma):
            return arg.comma
    if isinstance(call.whitespace_before_args, cst.ParenthesizedWhitespace):
        return cst.Comma(whitespace_after=call.whitespace_before_args)
    return cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))


def _arg_indent(call: cst.Call) -> str | None:
    """The indentation of a call written one argument per line (relative to its block)."""
    for space in _spaces(call):
        if isinstance(space, cst.ParenthesizedWhitespace):
            return space.last_line.value
    return None


def _spaces(call: cst.Call) -> list[cst.BaseParenthesizableWhitespace]:
    """The whitespace after the call's ``(`` and after each comma between its arguments."""
    return [call.whitespace_before_args, *(arg.comma.whitespace_after for arg in call.args[:-1]
                                           if isinstance(arg.comma, cst.Comma))]


def _break(indent: str) -> cst.ParenthesizedWhitespace:
    return cst.ParenthesizedWhitespace(first_line=cst.TrailingWhitespace(), empty_lines=[],
                                       indent=True, last_line=cst.SimpleWhitespace(indent))


def _new_dict(items: Sequence[tuple[str, cst.BaseExpression]], indent: str | None) -> cst.Dict:
    """A dict literal for new items: inline, or one entry per line at ``indent`` + 4."""
    if indent is None:
        inline = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
        return cst.Dict([cst.DictElement(cst.SimpleString(string(key)), value,
                                         comma=inline if index < len(items) - 1
                                         else cst.MaybeSentinel.DEFAULT)
                         for index, (key, value) in enumerate(items)])
    inner, closing = _break(indent + "    "), _break(indent)
    return cst.Dict(
        [cst.DictElement(cst.SimpleString(string(key)), value,
                         comma=cst.Comma(whitespace_after=inner if index < len(items) - 1
                                         else closing))
         for index, (key, value) in enumerate(items)],
        lbrace=cst.LeftCurlyBrace(whitespace_after=inner),
    )


def _set_entry(container: cst.BaseExpression, key: str,
               value: cst.BaseExpression | None) -> cst.BaseExpression:
    """The V1 ``additional_config`` with its override entry set (under the key NxDI's plugin
    reads), removed (None) or added."""
    if _is_dict_call(container):
        assert isinstance(container, cst.Call)
        present = any(arg.keyword is not None and arg.keyword.value == key
                      for arg in container.args)
        if present:
            return _rewrite_call(container, {key: value}, ())
        return container if value is None else _rewrite_call(container, {}, [(key, value)])
    assert isinstance(container, cst.Dict)
    elements: list[cst.BaseDictElement] = []
    found = False
    for element in container.elements:
        if isinstance(element, cst.DictElement) and literal_value(element.key) == key:
            found = True
            if value is None:
                continue
            quote = quote_of(element.key)
            element = element.with_changes(
                key=cst.SimpleString(f"{quote}{m.VLLM_OVERRIDE_KEYWORD}{quote}"), value=value)
        elements.append(element)
    if found and value is None and elements and container.elements and (
        elements[-1] is not container.elements[-1]
    ):
        last = container.elements[-1]
        elements[-1] = elements[-1].with_changes(comma=last.comma)
    if not found and value is not None:
        entry = cst.DictElement(cst.SimpleString(string(m.VLLM_OVERRIDE_KEYWORD)), value)
        if elements:
            last = elements[-1]
            elements[-1] = last.with_changes(comma=cst.Comma(
                whitespace_after=cst.SimpleWhitespace(" ")))
            entry = entry.with_changes(comma=last.comma)
        elements.append(entry)
    return container.with_changes(elements=elements)
