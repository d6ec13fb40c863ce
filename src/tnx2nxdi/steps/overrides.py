"""What a vLLM engine for Neuron asks TNx for, said in NxDI's ``override_neuron_config``, and the
vLLM findings' messages: one implementation for Python programs and notebooks
(:mod:`tnx2nxdi.steps.vllm`) and launch scripts (:mod:`tnx2nxdi.kinds.shell`).

The front ends read the syntax (an engine call, a command line) into a :class:`Launch` and the
environment it runs in (:class:`EnvSetting`), and write back what comes out of here:

* override keys in their TNx spelling go through the same :class:`OptionTranslator` as TNx
  NeuronConfig options (nested TNx sub-config dicts are read as sub-config calls and come back as
  flat NxDI keys); keys NxDI reads are kept;
* what only vLLM's TNx loader read (``quantization="neuron_quant"`` with ``NEURON_QUANT_DTYPE``,
  the bucket variables, EAGLE chosen by the draft's config) becomes :class:`Addition` s: NxDI keys
  the override gets, each with the finding that says so, or a marker when the override cannot
  take them.

Findings go to a :class:`Reporter`, so each front end decides where they are anchored.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import libcst as cst

from tnx2nxdi import mappings as m
from tnx2nxdi.engine.nodes import (
    CannotRead,
    code_of,
    dotted_name,
    expr,
    kwarg,
    literal_value,
    quote_of,
    spaced_dict,
    string,
)
from tnx2nxdi.engine.state import Reporter
from tnx2nxdi.literals import NotLiteral
from tnx2nxdi.steps.options import OptionTranslator, SubConfigResolver

CODES = frozenset({"TNX303", "TNX305", "TNX601", "TNX602", "TNX603", "TNX604", "TNX605",
                   "TNX606", "TNX607"})

#: Names of the NeuronConfig options an override may carry in their TNx spelling.
_TNX_OVERRIDE_KEYS: frozenset[str] = frozenset(rule.tnx for rule in m.NEURON_CONFIG_OPTIONS)
#: The TNx class standing for each sub-config field (the translator resolves calls to them).
_SUBCONFIG_CLASS: dict[str, str] = {
    name: qualified for qualified, name in reversed(list(m.SUBCONFIG_CLASSES.items()))
}
_NESTED_NAMES = {symbol.name for symbol in m.SUBCONFIG_NESTED_CLASS.values()}
#: The finding the option translator gives a quantized config; vLLM words it for vLLM users.
_CHECKPOINT_CODE = "TNX305"

Items = list[tuple[str, cst.BaseExpression]]


@dataclass(frozen=True)
class Context:
    """One engine's override, as the translation needs to know it."""

    #: Where findings about the engine go (its call, or the launch command).
    report: Reporter
    #: Names derived paths (the quantized checkpoint directory).
    model_name: str
    target: str
    #: The V1 Neuron plugin (``additional_config``): it creates quantized checkpoints itself.
    plugin: bool = False
    #: The override setting as the user writes it, for messages.
    where: str = m.VLLM_OVERRIDE_KEYWORD


@dataclass
class OverrideResult:
    """The translated ``(key, value)`` items and one line per changed key for the report."""

    items: Items
    changes: list[str] = field(default_factory=list)
    #: Original key -> translated items, only for keys that changed.
    by_key: dict[str, Items] = field(default_factory=dict)


def translate_items(
    items: Sequence[tuple[str, cst.BaseExpression]], ctx: Context
) -> OverrideResult:
    """Translate override items; raises CannotRead when a TNx sub-config cannot be read."""
    result = OverrideResult([])
    for key, value in items:
        if _is_tnx_key(key, value):
            translated = _translate_one(key, value, ctx)
        else:
            result.items.append((key, value))
            continue
        result.items.extend(translated)
        result.by_key[key] = translated
        shown = ", ".join(name for name, _ in translated) or "removed"
        result.changes.append(f"{key} -> {shown}")
    return result


def _is_tnx_key(key: str, value: cst.BaseExpression) -> bool:
    if key in m.VLLM_SHARED_KEYS or key not in _TNX_OVERRIDE_KEYS:
        return False  # NxDI reads it under this name (or neither does: left for NxDI to judge)
    if key in m.VLLM_TNX_SUBCONFIG_KEYS and not is_dict_like(value):
        # kv_cache_quant=True is NxDI's flag; a None sub-config is TNx's "off".
        return key not in m.VLLM_NXDI_FLAGS or literal_value(value) is None
    return True


def _translate_one(key: str, value: cst.BaseExpression, ctx: Context) -> Items:
    def report(
        code: str, message: str, *, fixed: bool, at: cst.CSTNode | None = None
    ) -> None:
        if code != _CHECKPOINT_CODE:  # said below, in vLLM's terms
            ctx.report(code, message, fixed=fixed, at=at)

    translator = OptionTranslator(report, _dict_resolver(key), ctx.model_name,
                                  target_version=ctx.target)
    translator.neuron_config({key: value})
    items = [(name, _as_dict(expression)) for name, expression in
             translator.result.kwargs.items()]
    path = next((literal_value(v) for k, v in items if k == m.QUANTIZED_PATH_KEY), None)
    if path is not None:
        _checkpoint_finding(ctx, str(path))
    return items


def _shown(ctx: Context, items: Items) -> str:
    """``"key": value`` items as the user writes them: JSON on a command line, else Python."""
    if ctx.where.startswith("-"):
        return ", ".join(f'"{key}": {json.dumps(ast.literal_eval(code_of(value)))}'
                         for key, value in items)
    return ", ".join(f'"{key}": {code_of(value)}' for key, value in items)


def _reads_module_list(target: str) -> bool:
    return m.version_key(target) >= m.version_key(m.MODULES_TO_NOT_CONVERT_SINCE)


def _checkpoint_finding(ctx: Context, path: str) -> None:
    if ctx.plugin:
        return  # the V1 plugin runs save_quantized_state_dict itself before compiling
    ctx.report(
        _CHECKPOINT_CODE,
        f"NxDI through vLLM loads the quantized weights from {m.QUANTIZED_PATH_KEY}={path!r} and "
        "does not create them: create them once before vLLM starts, with the model's NxDI "
        "class (e.g. NeuronLlamaForCausalLM.save_quantized_state_dict(model_path, config)) "
        "and the same quantization settings",
        fixed=False,
    )


def _dict_resolver(key: str) -> SubConfigResolver:
    """A TNx sub-config given as a dict reads like a call of its TNx class with those keywords."""

    def resolve(node: cst.BaseExpression) -> tuple[str, cst.Call] | None:
        if key not in _SUBCONFIG_CLASS:
            return None
        if isinstance(node, cst.Call) and is_dict_like(node):
            return _SUBCONFIG_CLASS[key], node.with_changes(func=cst.Name("_"))
        if not isinstance(node, cst.Dict):
            return None
        items = dict_items(node)
        if items is None or not all(name.isidentifier() for name, _ in items):
            return None
        args = [kwarg(name, element.value) for name, element in items]
        return _SUBCONFIG_CLASS[key], cst.Call(func=cst.Name("_"), args=args)

    return resolve


def is_dict_like(node: cst.BaseExpression) -> bool:
    """A dict literal, or ``dict(k=v, ...)`` (read the same way)."""
    return isinstance(node, cst.Dict) or (
        isinstance(node, cst.Call) and isinstance(node.func, cst.Name)
        and node.func.value == "dict"
        and all(arg.keyword is not None and not arg.star for arg in node.args))


def _as_dict(node: cst.BaseExpression) -> cst.BaseExpression:
    """NxDI converts a dict to OnDeviceSamplingConfig itself, so overrides keep plain dicts."""
    if not isinstance(node, cst.Call) or dotted_name(node.func) not in _NESTED_NAMES:
        return node
    elements = [
        cst.DictElement(cst.SimpleString(string(arg.keyword.value)), _as_dict(arg.value))
        for arg in node.args
        if arg.keyword is not None
    ]
    return spaced_dict(cst.Dict(elements))


def _python(value: object) -> cst.BaseExpression:
    """A Python literal for a plain value (str, bool, int, list of them), in double quotes."""
    return expr(_source(value))


def _source(value: object) -> str:
    if isinstance(value, str):
        return string(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_source(item) for item in value) + "]"
    return repr(value)


# -- what vLLM's TNx loader did that NxDI's override must say ---------------------------------


@dataclass(frozen=True)
class EnvSetting:
    """An environment variable the program or script sets, as its front end read it."""

    name: str
    #: The text it is set to, or NOT_LITERAL.
    value: object
    #: Where findings about it go (its line).
    report: Reporter
    #: False for a shell assignment that is never exported (vLLM does not see it).
    reaches: bool = True


@dataclass(frozen=True)
class Launch:
    """One vLLM engine (an engine call, a launch command), as its front end read it."""

    ctx: Context
    #: vLLM's quantization setting as written (None: not given), and its value.
    quantization: str | None = None
    quantization_value: object = None
    speculates: bool = False
    #: The program marks its draft as an EAGLE draft (``is_eagle`` in the draft's config, or
    #: ``"method": "eagle"``).
    eagle: bool = False
    #: The draft's name when it looks like an EAGLE draft (``...-EAGLE-Draft``).
    eagle_hint: str | None = None
    #: Literal values, or NOT_LITERAL; None when not given (vLLM's default).
    max_num_seqs: object = None
    max_model_len: object = None


@dataclass
class Addition:
    """NxDI keys the override gets for something only vLLM's TNx loader read."""

    code: str
    items: Items
    report: Reporter
    #: The finding when the keys are in the override, and the marker when they cannot be.
    done: str
    todo: str
    #: A finding that follows once the keys are in (the quantized checkpoint to create).
    after: Callable[[], None] | None = None
    #: Only a question for a person, asked unless the override already sets these keys.
    ask: bool = False


@dataclass
class LaunchPlan:
    additions: list[Addition] = field(default_factory=list)
    #: vLLM's own quantization setting is removed (the override carries it now).
    drop_quantization: bool = False


def plan_launch(launch: Launch, env: Sequence[EnvSetting]) -> LaunchPlan:
    """What this engine's override must add, and the findings that need no override edit."""
    plan = LaunchPlan()
    _quantization(launch, env, plan)
    _buckets(launch, env, plan)
    _eagle(launch, plan)
    _one_sequence(launch)
    return plan


def _quantization(launch: Launch, env: Sequence[EnvSetting], plan: LaunchPlan) -> None:
    ctx, written, value = launch.ctx, launch.quantization, launch.quantization_value
    if written is None or value is None:
        return
    if value != m.VLLM_TNX_QUANTIZATION:
        ctx.report("TNX604", f"{written}: vLLM's NxDI loader does not read vLLM's quantization "
                   f"setting; quantize through {ctx.where} (quantized, quantization_type, "
                   "quantization_dtype, quantized_checkpoints_path)", fixed=False)
        return
    dtypes = [s for s in env if s.name == m.VLLM_QUANT_DTYPE_ENV and s.reaches]
    dtype: object = m.VLLM_QUANT_DTYPE_DEFAULT
    source = (f"{m.VLLM_QUANT_DTYPE_ENV} is not set here: vLLM's default "
              f"{m.VLLM_QUANT_DTYPE_DEFAULT!r} is assumed")
    if dtypes:
        dtype = dtypes[0].value if len(dtypes) == 1 else None
        source = f"{m.VLLM_QUANT_DTYPE_ENV}={dtype!r}"
    known = m.OPTION_BY_NAME["quant.quant_dtype"].values
    if not isinstance(dtype, str) or isinstance(dtype, NotLiteral) or dtype not in known:
        ctx.report("TNX606", f"{written} with {m.VLLM_QUANT_DTYPE_ENV} not known here: vLLM's "
                   f"NxDI loader reads neither; quantize through {ctx.where} (quantized, "
                   "quantization_type, quantization_dtype, quantized_checkpoints_path) and "
                   "remove it", fixed=False)
        return
    synthetic = cst.Dict([
        cst.DictElement(_python("quant_dtype"), _python(dtype)),
        cst.DictElement(_python("quantize_method"), _python(m.VLLM_TNX_QUANT_METHOD)),
    ])
    deferred: list[tuple[str, str, bool]] = []

    def hold(code: str, message: str, *, fixed: bool, at: cst.CSTNode | None = None) -> None:
        # The fork's TNx loader dequantized to the model dtype, as NxDI does: nothing to say.
        if not message.startswith(m.DEQUANT_OPTION):
            deferred.append((code, message, fixed))

    held = Context(hold, ctx.model_name, ctx.target, ctx.plugin, ctx.where)
    items = _translate_one("quant", synthetic, held)
    shown = _shown(ctx, items)
    why = (f"; {m.MODULES_TO_NOT_CONVERT_KEY} keeps lm_head unquantized, as TNx did"
           if _reads_module_list(ctx.target) else "")

    def after() -> None:
        for code, message, fixed in deferred:
            ctx.report(code, message, fixed=fixed)

    plan.drop_quantization = True
    plan.additions.append(Addition(
        "TNX606", items, ctx.report,
        done=f"{written} ({source}) moved into {ctx.where}: {shown} (vLLM's NxDI loader ignores "
        f"vLLM's quantization setting{why})",
        todo=f"{written} ({source}) is read only by vLLM's TNx loader: remove it and add "
        f"{shown} to {ctx.where}",
        after=after,
    ))


def _buckets(launch: Launch, env: Sequence[EnvSetting], plan: LaunchPlan) -> None:
    ctx = launch.ctx
    moved: list[tuple[str, EnvSetting, Items]] = []
    for name, key in m.VLLM_BUCKET_ENV.items():
        settings = [s for s in env if s.name == name]
        if not settings:
            continue
        buckets = _bucket_list(settings[0].value)
        why = _why_not_moved(settings, buckets, launch.max_model_len)
        if why is not None or buckets is None:
            for each in settings:
                message = env_message(name, each.value, ctx.where)
                assert message is not None
                each.report(message[0], f"{message[1]} ({why})", fixed=False)
            continue
        moved.append((name, settings[0], [(key, _python(buckets))]))
    if moved:  # bucketing is on by default in vLLM's NxDI loader; said once, explicitly
        moved[-1][2].append((m.BUCKETING_FLAG[0], _python(True)))
    for name, setting, items in moved:
        shown = _shown(ctx, items)
        plan.additions.append(Addition(
            "TNX605", items, setting.report,
            done=f"{name} moved into {ctx.where}: {shown} (vLLM's NxDI loader does not read the "
            "variable; the line can go)",
            todo=f"{name} is read only by vLLM's TNx loader: add {shown} to {ctx.where}",
        ))


def _why_not_moved(settings: Sequence[EnvSetting], buckets: list[int] | None,
                   max_model_len: object) -> str | None:
    if len(settings) > 1:
        return "it is set more than once"
    if not settings[0].reaches:
        return "it is not exported, so vLLM may not see it"
    if buckets is None:
        return "its value is not a literal list of sizes"
    if not isinstance(max_model_len, int) or isinstance(max_model_len, bool):
        return "max_model_len is not known here, and NxDI asserts every bucket fits in it"
    if max(buckets) > max_model_len:
        return f"NxDI asserts every bucket is at most max_model_len ({max_model_len})"
    return None


def _eagle(launch: Launch, plan: LaunchPlan) -> None:
    ctx = launch.ctx
    if not launch.speculates:
        return
    keys = _shown(ctx, [(key, _python(value)) for key, value in m.VLLM_EAGLE_KEYS])
    if launch.eagle and not ctx.plugin:
        plan.additions.append(Addition(
            "TNX602", [(key, _python(value)) for key, value in m.VLLM_EAGLE_KEYS], ctx.report,
            done=f"EAGLE speculation: {keys} added to {ctx.where} (NxDI through vLLM runs EAGLE "
            f"only when the override asks; the draft's {m.VLLM_EAGLE_DRAFT_FLAG} flag is read by "
            "TNx only)",
            todo=f"EAGLE speculation: add {keys} to {ctx.where} (NxDI through vLLM runs EAGLE "
            "only when the override asks)",
        ))
    elif launch.eagle_hint is not None and not ctx.plugin:
        question = (f"the draft {launch.eagle_hint} looks like an EAGLE draft: if its config.json "
                    f"sets {m.VLLM_EAGLE_DRAFT_FLAG} (how TNx chose EAGLE), add {keys} to "
                    f"{ctx.where}")
        plan.additions.append(Addition(
            "TNX603", [(m.VLLM_EAGLE_KEYS[0][0], _python(True))],
            ctx.report, done=question, todo=question, ask=True))


def _one_sequence(launch: Launch) -> None:
    ctx = launch.ctx
    if ctx.plugin or not launch.speculates or ctx.target not in m.VLLM_ONE_SEQUENCE_SPECULATION:
        return
    value = launch.max_num_seqs
    if value == 1 or (value is None and m.VLLM_MAX_NUM_SEQS_DEFAULT == 1):
        return
    ctx.report("TNX604", m.VLLM_SPECULATION_NOTE.format(release=ctx.target), fixed=False)


def keep_missing(additions: Sequence[Addition], present: set[str]) -> list[Addition]:
    """The additions with the keys the override already sets left out (none left: dropped)."""
    kept = []
    for addition in additions:
        items = [(key, value) for key, value in addition.items if key not in present]
        if items:
            addition.items = items
            kept.append(addition)
    return kept


def items_of(additions: Sequence[Addition]) -> Items:
    """The keys the additions write (questions write none)."""
    return [item for addition in additions if not addition.ask for item in addition.items]


def report_additions(additions: Sequence[Addition], *, applied: bool) -> None:
    for addition in additions:
        if addition.ask:
            addition.report(addition.code, addition.todo, fixed=False)
        elif applied:
            addition.report(addition.code, addition.done, fixed=True)
            if addition.after is not None:
                addition.after()
        else:
            addition.report(addition.code, addition.todo, fixed=False)


# -- dict literals and JSON ----------------------------------------------------------------------


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


def present_keys(node: cst.Dict, ctx: Context) -> set[str]:
    """The NxDI keys a dict literal sets once translated (for :func:`keep_missing`)."""
    items = dict_items(node)
    if items is None:
        raise CannotRead(f"{ctx.where} has entries that are not string keys")
    quiet = Context(_ignore, ctx.model_name, ctx.target, ctx.plugin, ctx.where)
    return {key for key, _ in translate_items([(k, el.value) for k, el in items], quiet).items}


def _ignore(code: str, message: str, *, fixed: bool, at: cst.CSTNode | None = None) -> None:
    return None


def translate_dict(
    node: cst.Dict, ctx: Context, extra: Items = ()  # type: ignore[assignment]
) -> tuple[cst.Dict, list[str]] | None:
    """The dict literal with TNx keys translated (formatting of kept keys untouched) and
    ``extra`` items appended, and the changes; None when nothing changes. An emptied dict comes
    back as ``{}``. Raises CannotRead when it cannot be read."""
    items = dict_items(node)
    if items is None:
        raise CannotRead(f"{ctx.where} has entries that are not string keys")
    result = translate_items([(key, el.value) for key, el in items], ctx)
    if not result.changes and not extra:
        return None
    quote = quote_of(items[0][1].key) if items else '"'
    placed: list[tuple[cst.DictElement, cst.DictElement | None]] = []  # (new, its source)
    for key, element in items:
        if key not in result.by_key:
            placed.append((element, element))
            continue
        own = quote_of(element.key)
        placed += [
            (element.with_changes(key=cst.SimpleString(f"{own}{new_key}{own}"), value=value),
             element)
            for new_key, value in result.by_key[key]
        ]
    placed += [(cst.DictElement(cst.SimpleString(f"{quote}{key}{quote}"), value), None)
               for key, value in extra]
    if not placed:
        return cst.Dict([]), result.changes
    last = items[-1][1] if items else None
    separator = _separator(node, [element for _, element in items[:-1]])
    elements = []
    for index, (element, source) in enumerate(placed):
        if index == len(placed) - 1:
            # The dict keeps its closing layout (trailing comma or not).
            comma = last.comma if last is not None else cst.MaybeSentinel.DEFAULT
        elif source is not None and source is not last:
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


def read_json(text: str, ctx: Context) -> dict[str, object]:
    """A JSON object (``--override-neuron-config`` style); raises CannotRead otherwise."""
    try:
        data = json.loads(text)
    except ValueError:
        raise CannotRead("it is not valid JSON") from None
    if not isinstance(data, dict):
        raise CannotRead("it is not a JSON object")
    return data


def translate_json(
    text: str, ctx: Context, extra: Items = ()  # type: ignore[assignment]
) -> tuple[str, list[str]] | None:
    """JSON override text translated the same way, with ``extra`` items appended; None when
    nothing changes. Raises CannotRead when it is not a JSON object the tool can read."""
    data = read_json(text, ctx)
    translated = translate_dict(_as_node(data), ctx, extra)
    if translated is None:
        return None
    return dump_json(_as_data(translated[0]), text), translated[1]


def plugin_entry(data: dict[str, object]) -> str | None:
    """The key of the override entry of the V1 plugin's additional config, if any."""
    for key in (m.VLLM_OVERRIDE_KEYWORD, *m.VLLM_PLUGIN_OVERRIDE_ALIASES):
        if key in data:
            return key
    return None


def translate_plugin_json(
    text: str, ctx: Context, extra: Items = ()  # type: ignore[assignment]
) -> tuple[str, list[str]] | None:
    """``--additional-config`` JSON with its override entry translated (and renamed to the key
    the plugin reads), ``extra`` items added; None when nothing changes."""
    data = read_json(text, ctx)
    key = plugin_entry(data)
    inner = data.get(key, {}) if key is not None else {}
    if not isinstance(inner, dict):
        raise CannotRead(f"{key} is not a JSON object")
    translated = translate_dict(_as_node(inner), ctx, extra)
    if translated is None and key in (None, m.VLLM_OVERRIDE_KEYWORD):
        return None
    changes = translated[1] if translated is not None else []
    if key is not None and key != m.VLLM_OVERRIDE_KEYWORD:
        ctx.report("TNX602", plugin_key_renamed(ctx.where, key), fixed=True)
    value = _as_data(translated[0]) if translated is not None else inner
    rebuilt = {(m.VLLM_OVERRIDE_KEYWORD if k == key else k): v for k, v in data.items()}
    rebuilt[m.VLLM_OVERRIDE_KEYWORD] = value  # in place when renamed, else added last
    if value == {}:
        del rebuilt[m.VLLM_OVERRIDE_KEYWORD]
    return dump_json(rebuilt, text), changes


def plugin_json_keys(text: str, ctx: Context) -> set[str]:
    data = read_json(text, ctx)
    key = plugin_entry(data)
    inner = data.get(key) if key is not None else {}
    if not isinstance(inner, dict):
        raise CannotRead(f"{key} is not a JSON object")
    return present_keys(_as_node(inner), ctx)


def json_keys(text: str, ctx: Context) -> set[str]:
    return present_keys(_as_node(read_json(text, ctx)), ctx)


def as_json_value(items: dict[str, cst.BaseExpression]) -> dict[str, object]:
    """New override items as plain values (for JSON)."""
    node = cst.Dict([cst.DictElement(_python(key), value) for key, value in items.items()])
    data = _as_data(node)
    assert isinstance(data, dict)
    return data


def _as_node(data: dict[str, object]) -> cst.Dict:
    node = expr(repr(data))
    assert isinstance(node, cst.Dict)
    return node


def _as_data(node: cst.Dict) -> object:
    try:
        return ast.literal_eval(code_of(node))
    except (ValueError, SyntaxError):
        raise CannotRead("the translated override is not plain JSON") from None


def dump_json(value: object, like: str) -> str:
    """JSON in the compactness of ``like`` (``{"a":1}`` or ``{"a": 1}``)."""
    compact = not re.search(r"[:,][ \t]", like)
    return json.dumps(value, separators=(",", ":") if compact else (", ", ": "))


def model_name(checkpoint: object) -> str:
    """The name derived paths get for a model given by this checkpoint (``"model"`` when the
    checkpoint is not a literal path or hub id)."""
    if isinstance(checkpoint, str) and checkpoint.strip("/"):
        return checkpoint.rstrip("/").split("/")[-1]
    return "model"


def looks_like_eagle(draft: object) -> str | None:
    """The draft's name when it says EAGLE (the TNx loader decided from its config.json)."""
    if isinstance(draft, str) and "eagle" in draft.lower():
        return repr(draft)
    return None


# -- messages shared by Python programs and launch scripts --------------------------------------


def framework_switched() -> str:
    return (f"{m.VLLM_FRAMEWORK_ENV} now selects {m.VLLM_FRAMEWORK_NXDI} "
            f"(was {m.VLLM_FRAMEWORK_TNX})")


def framework_other(value: str) -> str:
    """TNX603 for a framework value that is neither TNx nor NxDI (as written in the program)."""
    return f"{m.VLLM_FRAMEWORK_ENV} is set to {value}; make sure it is {m.VLLM_FRAMEWORK_NXDI!r}"


def framework_added(statement: str, before: str) -> str:
    """TNX601 for the framework variable added (``statement``) before the engine starts."""
    return f"{statement} {before} (the migration guide selects NxDI explicitly)"


def override_dynamic(setting: str, why: str) -> str:
    return f"{setting} left as it is ({why}): make sure it uses only NxDI NeuronConfig keys"


def translated(where: str, changes: Sequence[str]) -> str:
    """TNX602 for an override whose TNx keys were translated."""
    return f"{where} translated for NxDI: " + "; ".join(changes)


def plugin_key_renamed(where: str, alias: str) -> str:
    return (f"{where}: key {alias!r} renamed to {m.VLLM_OVERRIDE_KEYWORD!r} (the vLLM Neuron "
            "plugin reads only that spelling)")


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
        buckets = _bucket_list(value)
        shown = f'"{key}": {buckets}' if buckets else f'"{key}": [...]'
        return "TNX605", f"{name} is read only by vLLM's TNx loader: add {shown} to {where}"
    return None


def _bucket_list(value: object) -> list[int] | None:
    if not isinstance(value, str) or isinstance(value, NotLiteral):
        return None
    parts = [part.strip() for part in value.strip("\"'").split(",") if part.strip()]
    if not parts or not all(part.isdigit() for part in parts):
        return None
    return sorted(int(part) for part in parts)


def fork_branch_message(line: str, target: str) -> tuple[str, str] | None:
    """TNX607 for a command that installs the vLLM fork's branch for NxDI 2.21 while another
    release is targeted (shell scripts and notebook shell escapes)."""
    if target in m.VLLM_FORK_LEGACY_RELEASES or m.VLLM_FORK_REPOSITORY not in line:
        return None
    if not re.search(r"(?<![\w.-])" + re.escape(m.VLLM_FORK_LEGACY_BRANCH) + r"(?![\w.-])", line):
        return None
    return "TNX607", (
        f"the vLLM fork's {m.VLLM_FORK_LEGACY_BRANCH} branch pairs with NxDI 2.21 (it defaults "
        "to TNx and runs NxDI speculation with one sequence only): install the vLLM for Neuron "
        f"that the SDK's vLLM user guide gives for NxDI {target}")
