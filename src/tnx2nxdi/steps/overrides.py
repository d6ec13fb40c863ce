"""vLLM's ``override_neuron_config`` translated for NxDI, and the vLLM findings' messages: one
implementation for Python programs (:mod:`tnx2nxdi.steps.vllm`) and launch scripts
(:mod:`tnx2nxdi.kinds.shell`).

Override keys in their TNx spelling go through the same :class:`OptionTranslator` as TNx
NeuronConfig options (nested TNx sub-config dicts are read as sub-config calls and come back as
flat NxDI keys); keys NxDI reads are kept. Findings go to a :class:`Reporter`, so each front end
decides where they are anchored.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import libcst as cst

from tnx2nxdi import mappings as m
from tnx2nxdi.engine.nodes import (
    CannotRead,
    code_of,
    dotted_name,
    kwarg,
    literal_value,
    quote_of,
    spaced_dict,
    string,
)
from tnx2nxdi.engine.state import Reporter
from tnx2nxdi.literals import NotLiteral
from tnx2nxdi.steps.options import OptionTranslator, SubConfigResolver

CODES = frozenset({"TNX601", "TNX603", "TNX604", "TNX605"})

#: Names of the NeuronConfig options an override may carry in their TNx spelling.
_TNX_OVERRIDE_KEYS: frozenset[str] = frozenset(rule.tnx for rule in m.NEURON_CONFIG_OPTIONS)
#: The TNx class standing for each sub-config field (the translator resolves calls to them).
_SUBCONFIG_CLASS: dict[str, str] = {
    name: qualified for qualified, name in reversed(list(m.SUBCONFIG_CLASSES.items()))
}
_NESTED_NAMES = {symbol.name for symbol in m.SUBCONFIG_NESTED_CLASS.values()}


@dataclass
class OverrideResult:
    """The translated ``(key, value)`` items and one line per changed key for the report."""

    items: list[tuple[str, cst.BaseExpression]]
    changes: list[str] = field(default_factory=list)
    #: Original key -> translated items, only for keys that changed.
    by_key: dict[str, list[tuple[str, cst.BaseExpression]]] = field(default_factory=dict)


def translate_items(
    items: Sequence[tuple[str, cst.BaseExpression]], report: Reporter, model_name: str
) -> OverrideResult:
    """Translate override items; raises CannotRead when a TNx sub-config cannot be read."""
    result = OverrideResult([])
    for key, value in items:
        if not _is_tnx_key(key, value):
            result.items.append((key, value))
            continue
        translated = _translate_one(key, value, report, model_name)
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
    key: str, value: cst.BaseExpression, report: Reporter, model_name: str
) -> list[tuple[str, cst.BaseExpression]]:
    translator = OptionTranslator(report, _dict_resolver(key), model_name)
    translator.neuron_config({key: value})
    return [(name, _as_dict(expression)) for name, expression in
            translator.result.kwargs.items()]


def _dict_resolver(key: str) -> SubConfigResolver:
    """A TNx sub-config given as a dict reads like a call of its TNx class with those keywords."""

    def resolve(node: cst.BaseExpression) -> tuple[str, cst.Call] | None:
        if not isinstance(node, cst.Dict) or key not in _SUBCONFIG_CLASS:
            return None
        items = dict_items(node)
        if items is None or not all(name.isidentifier() for name, _ in items):
            return None
        args = [kwarg(name, element.value) for name, element in items]
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
    return spaced_dict(cst.Dict(elements))


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
    node: cst.Dict, report: Reporter, model_name: str
) -> tuple[cst.Dict, list[str]] | None:
    """The dict literal with TNx keys translated (formatting of kept keys untouched), and the
    changes; None when nothing changes. Raises CannotRead when it cannot be read."""
    items = dict_items(node)
    if items is None:
        raise CannotRead(f"{m.VLLM_OVERRIDE_KEYWORD} has entries that are not string keys")
    result = translate_items([(key, el.value) for key, el in items], report, model_name)
    if not result.changes:
        return None
    last = items[-1][1]
    placed: list[tuple[cst.DictElement, cst.DictElement]] = []  # (new element, its source)
    for key, element in items:
        if key not in result.by_key:
            placed.append((element, element))
            continue
        quote = quote_of(element.key)
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


def translate_json(text: str, report: Reporter, model_name: str) -> tuple[str, list[str]] | None:
    """JSON override text translated the same way (``--override-neuron-config`` style); None
    when nothing changes. Raises CannotRead when it is not a JSON object the tool can read."""
    try:
        data = json.loads(text)
    except ValueError:
        raise CannotRead("the override is not valid JSON") from None
    if not isinstance(data, dict):
        raise CannotRead("the override is not a JSON object")
    node = cst.parse_expression(repr(data))
    assert isinstance(node, cst.Dict)
    translated = translate_dict(node, report, model_name)
    if translated is None:
        return None
    try:
        value = ast.literal_eval(code_of(translated[0]))
    except (ValueError, SyntaxError):
        raise CannotRead("the translated override is not plain JSON") from None
    compact = not re.search(r"[:,][ \t]", text)
    separators = (",", ":") if compact else (", ", ": ")
    return json.dumps(value, separators=separators), translated[1]


def model_name(checkpoint: object) -> str:
    """The name derived paths get for a model given by this checkpoint (``"model"`` when the
    checkpoint is not a literal path or hub id)."""
    if isinstance(checkpoint, str) and checkpoint.strip("/"):
        return checkpoint.rstrip("/").split("/")[-1]
    return "model"


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


def speculation_note(max_num_seqs: str) -> str:
    return m.VLLM_SPECULATION_NOTE.replace(m.VLLM_MAX_NUM_SEQS, max_num_seqs)


def speculation_needs_one_sequence(speculates: bool, max_num_seqs: object) -> bool:
    """True when speculation is on and more than one sequence may run (or it cannot be told)."""
    if not speculates:
        return False
    if max_num_seqs is None:
        return m.VLLM_MAX_NUM_SEQS_DEFAULT != 1
    value = literal_value(max_num_seqs) if isinstance(max_num_seqs, cst.BaseExpression) else (
        max_num_seqs)
    return value != 1


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
