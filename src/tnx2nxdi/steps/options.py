"""TNX3xx: TNx options (from_pretrained keywords, NeuronConfig fields, sub-configs) to NxDI
``NeuronConfig`` keywords, driven entirely by :mod:`tnx2nxdi.mappings`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import libcst as cst

from tnx2nxdi import mappings as m
from tnx2nxdi.engine.nodes import (
    CannotRead,
    NotLiteral,
    call,
    code_of,
    expr,
    kwarg,
    literal_value,
    read_args,
    string,
)
from tnx2nxdi.engine.state import Reporter
from tnx2nxdi.literals import LiteralValue

CODES = frozenset({"TNX301", "TNX303", "TNX304", "TNX305", "TNX306"})

#: Resolves a sub-config value to ``(TNx class qualified name, call)``; None when it cannot.
SubConfigResolver = Callable[[cst.BaseExpression], tuple[str, cst.Call] | None]
#: Reads an option value: literals, and TNx constants such as ``GQA.REPLICATED_HEADS``.
ValueReader = Callable[[cst.BaseExpression], "LiteralValue | NotLiteral"]


@dataclass
class TranslatedOptions:
    """NxDI NeuronConfig keywords (insertion-ordered) and what they need imported."""

    kwargs: dict[str, cst.BaseExpression] = field(default_factory=dict)
    symbols: set[m.Symbol] = field(default_factory=set)
    needs_torch: bool = False
    carried: list[str] = field(default_factory=list)

    def set(self, name: str, value: cst.BaseExpression) -> None:
        self.kwargs[name] = value
        if "torch." in code_of(value):
            self.needs_torch = True

    def args(self) -> list[cst.Arg]:
        return [kwarg(name, value) for name, value in self.kwargs.items()]


@dataclass
class OptionTranslator:
    """Translate one model's TNx options (or one vLLM override's keys)."""

    #: Where this model's findings go (anchored at its construction).
    report: Reporter
    resolve: SubConfigResolver
    #: Used to name derived paths (the quantized checkpoint directory).
    model_name: str
    read: ValueReader = literal_value
    result: TranslatedOptions = field(default_factory=TranslatedOptions)

    # -- entry points -----------------------------------------------------------------------

    def from_pretrained(self, keywords: dict[str, cst.BaseExpression], *, strict: bool) -> None:
        """Model keywords, in the mapping table's order; TNx defaults carried when omitted."""
        given = dict(keywords)
        for rule in m.FROM_PRETRAINED_OPTIONS:
            if rule.tnx in given:
                self._apply(rule, given.pop(rule.tnx), self.result.kwargs)
            elif rule.carry_default:
                self._carry(rule, self.result.kwargs)
        if self.result.carried:
            self.report(
                "TNX301",
                "TNx defaults written out explicitly: " + ", ".join(self.result.carried),
                fixed=True,
            )
        for name, value in given.items():
            self._ignored_keyword(name, value, strict=strict)

    def forced(self, keywords: dict[str, cst.BaseExpression]) -> None:
        """What TNx forced for a model whatever else was set (after every option, so nothing
        overrides it). vLLM overrides skip this: vLLM's NxDI defaults already match."""
        for name, value in keywords.items():
            rule = m.OPTION_BY_NAME.get(name)
            if rule is not None and literal_value(value) is not None:
                for forced, source in rule.forces:
                    self._put(self.result.kwargs, forced, expr(source))

    def neuron_config(self, keywords: dict[str, cst.BaseExpression]) -> None:
        for name, value in keywords.items():
            rule = m.OPTION_BY_NAME.get(name)
            if rule is None or "." in name or rule in m.FROM_PRETRAINED_OPTIONS:
                self._drop(name, value, "is not a TNx NeuronConfig option (TNx rejects it)")
            elif _is_subconfig(name):
                self._subconfig(name, value)
            else:
                self._apply(rule, value, self.result.kwargs)

    # -- rules ------------------------------------------------------------------------------

    def _apply(
        self, rule: m.OptionRule, value: cst.BaseExpression, into: dict[str, cst.BaseExpression]
    ) -> None:
        handler = _HANDLERS[rule.translation]
        handler(self, rule, value, into)
        for name, source in rule.also:
            self._put(into, name, expr(source))

    def _copy(
        self, rule: m.OptionRule, value: cst.BaseExpression, into: dict[str, cst.BaseExpression]
    ) -> None:
        for name in rule.nxdi:
            self._put(into, name, value)

    def _values(
        self, rule: m.OptionRule, value: cst.BaseExpression, into: dict[str, cst.BaseExpression]
    ) -> None:
        literal = self.read(value)
        if isinstance(literal, NotLiteral):
            table = ", ".join(f"{_source(key)}: {nxdi}" for key, nxdi in rule.values.items())
            converted = expr(f"{{{table}}}[{code_of(value)}]")
            self.report(
                "TNX306",
                f"{rule.tnx} is not a literal; translated at run time with a lookup table",
                fixed=True, at=value,
            )
        elif literal in rule.values:
            converted = expr(rule.values[literal])
        elif _same(literal, rule.tnx_default):
            return  # the TNx default, which these values only ever switch away from
        else:
            self._drop(rule.tnx, value, f"has a value NxDI cannot take ({rule.note})")
            return
        for name in rule.nxdi:
            self._put(into, name, converted)

    def _max_of_list(
        self, rule: m.OptionRule, value: cst.BaseExpression, into: dict[str, cst.BaseExpression]
    ) -> None:
        literal = literal_value(value)
        if isinstance(literal, tuple) and literal:
            for name in rule.nxdi:
                self._put(into, name, expr(str(max(literal))))
            buckets = m.LIST_BUCKETS_KEY.get(rule.tnx)
            if buckets is None:
                self.report("TNX306", f"{rule.tnx}={code_of(value)}: {rule.note}", fixed=False,
                            at=value)
                return
            self._put(into, buckets, _int_list(literal))
            self._put(into, m.BUCKETING_FLAG[0], expr(m.BUCKETING_FLAG[1]))
            return
        for name in rule.nxdi:
            self._put(into, name, value)
        if isinstance(literal, NotLiteral) and rule.tnx in m.LIST_BUCKETS_KEY:
            self.report(
                "TNX306",
                f"{rule.tnx}={code_of(value)} is not a literal: if it is a list, set "
                f"{rule.nxdi[0]} to its maximum and {m.LIST_BUCKETS_KEY[rule.tnx]} to the list",
                fixed=False, at=value,
            )

    def _buckets(
        self, rule: m.OptionRule, value: cst.BaseExpression, into: dict[str, cst.BaseExpression]
    ) -> None:
        literal = literal_value(value)
        if literal is None:
            return
        if isinstance(literal, int) and not isinstance(literal, bool) and literal > 0:
            literal = (literal,)
        if isinstance(literal, tuple) and literal:
            self._put(into, rule.nxdi[0], _int_list(literal))
        elif isinstance(literal, NotLiteral):
            self._put(into, rule.nxdi[0], value)
            self.report(
                "TNX306",
                f"{rule.tnx}={code_of(value)} is not a literal: {rule.nxdi[0]} needs a list of "
                "ints",
                fixed=False, at=value,
            )
        else:
            self._drop(rule.tnx, value, "has no NxDI equivalent (NxDI always encodes prompts "
                       "in parallel)")

    def _none(
        self, rule: m.OptionRule, value: cst.BaseExpression, into: dict[str, cst.BaseExpression]
    ) -> None:
        literal = self.read(value)
        if not rule.carry_default and _same(literal, rule.tnx_default):
            return
        if any(_same(literal, builtin) for builtin in rule.nxdi_builtin):
            self.report("TNX303", f"{rule.tnx}={code_of(value)} dropped: {rule.note}", fixed=True,
                        at=value)
            return
        self._drop(rule.tnx, value, f"has no NxDI equivalent: {rule.note}")

    # -- sub-configs ------------------------------------------------------------------------

    def _subconfig(self, name: str, value: cst.BaseExpression) -> None:
        if literal_value(value) is None:
            return
        resolved = self.resolve(value)
        if resolved is None or m.SUBCONFIG_CLASSES.get(resolved[0]) != name:
            raise CannotRead(f"{name}={code_of(value)} is not a TNx sub-config the tool can read")
        fields = subconfig_fields(name, resolved[1])
        nested = m.SUBCONFIG_NESTED_CLASS.get(name)
        parent = m.OPTION_BY_NAME[name]
        target: dict[str, cst.BaseExpression] = {} if nested else self.result.kwargs
        if nested is None:  # the flag first, then the fields it enables
            self._put(self.result.kwargs, parent.nxdi[0], expr(m.SUBCONFIG_FLAG_VALUE))
        for rule in m.SUBCONFIG_OPTIONS:
            prefix, _, field_name = rule.tnx.partition(".")
            if prefix != name:
                continue
            if field_name in fields:
                self._apply(rule, fields.pop(field_name), target)
            elif rule.carry_default:
                self._carry(rule, target)
        for field_name, field_value in fields.items():
            self._drop(f"{name}.{field_name}", field_value, "is not a TNx option (TNx rejects it)")
        if nested is not None:
            self.result.symbols.add(nested)
            args = [kwarg(key, val) for key, val in target.items()]
            self._put(self.result.kwargs, parent.nxdi[0], call(nested.name, args, wrap=False))
        if name == m.QUANTIZED_OPTION:
            self._quantized_path()

    def _quantized_path(self) -> None:
        path = f"{self.model_name}-{m.QUANTIZED_CHECKPOINTS_DIRNAME}"
        self._put(self.result.kwargs, m.QUANTIZED_PATH_KEY, expr(string(path)))
        self.report(
            "TNX305",
            f"NxDI needs a quantized checkpoint: {m.QUANTIZED_PATH_KEY}={path!r} was derived; "
            "create it once with save_quantized_state_dict(model_path, config)",
            fixed=False,
        )

    # -- helpers ----------------------------------------------------------------------------

    def _carry(self, rule: m.OptionRule, into: dict[str, cst.BaseExpression]) -> None:
        default = rule.tnx_default
        if isinstance(default, m.NoDefault):
            return
        if rule.translation is m.Translation.NONE:
            self._drop(rule.tnx, None, f"(TNx default {_py(default)}) has no NxDI equivalent: "
                       f"{rule.note}")
            return
        source = rule.values[default] if rule.values else _py(default)
        for name in rule.nxdi:
            self._put(into, name, expr(source))
            if into is self.result.kwargs and "." not in rule.tnx:
                self.result.carried.append(f"{name}={source}")

    def _put(self, into: dict[str, cst.BaseExpression], name: str,
             value: cst.BaseExpression) -> None:
        if into is self.result.kwargs:
            self.result.set(name, value)
        else:
            into[name] = value
            if "torch." in code_of(value):
                self.result.needs_torch = True

    def _drop(self, name: str, value: cst.BaseExpression | None, why: str) -> None:
        shown = name if value is None else f"{name}={code_of(value)}"
        self.report("TNX303", f"{shown} {why}; removed", fixed=False, at=value)

    def _ignored_keyword(self, name: str, value: cst.BaseExpression, *, strict: bool) -> None:
        if strict:
            raise CannotRead(f"{name}= is not a keyword this TNx class accepts")
        rule = m.OPTION_BY_NAME.get(name)
        hint = ""
        if rule is not None and rule.nxdi and rule not in m.FROM_PRETRAINED_OPTIONS:
            hint = f"; to enable it in NxDI set NeuronConfig({rule.nxdi[0]}=...)"
        self.report(
            "TNX304",
            f"{name}={code_of(value)} had no effect: TNx ignores keywords its model class does "
            f"not define, so it was dropped{hint}",
            fixed=False, at=value,
        )


Handler = Callable[
    [OptionTranslator, m.OptionRule, cst.BaseExpression, dict[str, cst.BaseExpression]], None
]
_HANDLERS: dict[m.Translation, Handler] = {
    m.Translation.COPY: OptionTranslator._copy,
    m.Translation.VALUES: OptionTranslator._values,
    m.Translation.MAX_OF_LIST: OptionTranslator._max_of_list,
    m.Translation.BUCKETS: OptionTranslator._buckets,
    m.Translation.NONE: OptionTranslator._none,
}


def check_subconfigs(
    keywords: dict[str, cst.BaseExpression], resolve: SubConfigResolver
) -> None:
    """Raise CannotRead unless every sub-config value is a TNx sub-config call the tool can read."""
    for name, value in keywords.items():
        if not _is_subconfig(name) or literal_value(value) is None:
            continue
        resolved = resolve(value)
        if resolved is None or m.SUBCONFIG_CLASSES.get(resolved[0]) != name:
            raise CannotRead(f"{name}={code_of(value)} is not a TNx sub-config the tool can read")
        subconfig_fields(name, resolved[1])


def subconfig_fields(name: str, node: cst.Call) -> dict[str, cst.BaseExpression]:
    return read_args(node, m.SUBCONFIG_POSITIONAL.get(name, ()))


def _is_subconfig(name: str) -> bool:
    return name in set(m.SUBCONFIG_CLASSES.values())


def _same(literal: LiteralValue | NotLiteral, default: LiteralValue | m.NoDefault) -> bool:
    if isinstance(literal, NotLiteral) or isinstance(default, m.NoDefault):
        return False
    return type(literal) is type(default) and literal == default


def _int_list(values: tuple[int, ...]) -> cst.BaseExpression:
    return expr("[" + ", ".join(str(v) for v in sorted(values)) + "]")


def _source(value: object) -> str:
    return string(value) if isinstance(value, str) else _py(value)


def _py(value: object) -> str:
    if isinstance(value, tuple):
        return "[" + ", ".join(repr(v) for v in value) + "]"
    return repr(value)


__all__ = ["CODES", "OptionTranslator", "TranslatedOptions", "check_subconfigs",
           "subconfig_fields"]
