"""TNX3xx: TNx options (from_pretrained keywords, NeuronConfig fields, sub-configs) to NxDI
``NeuronConfig`` keywords, driven entirely by :mod:`tnx2nxdi.mappings`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
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
    with_comment,
)
from tnx2nxdi.engine.state import Reporter
from tnx2nxdi.literals import LiteralValue

CODES = frozenset({"TNX301", "TNX303", "TNX304", "TNX305", "TNX306", "TNX307"})

#: Resolves a sub-config value to ``(TNx class qualified name, call)``; None when it cannot.
SubConfigResolver = Callable[[cst.BaseExpression], tuple[str, cst.Call] | None]
#: Reads an option value: literals, and TNx constants such as ``GQA.REPLICATED_HEADS``.
ValueReader = Callable[[cst.BaseExpression], "LiteralValue | NotLiteral"]


@dataclass
class TranslatedOptions:
    """NxDI NeuronConfig keywords (insertion-ordered) and what they need imported."""

    kwargs: dict[str, cst.BaseExpression] = field(default_factory=dict)
    symbols: set[m.Symbol] = field(default_factory=set)
    #: Modules the values use (``torch`` for dtypes, ``os`` for the environment).
    modules: set[str] = field(default_factory=set)
    carried: list[str] = field(default_factory=list)
    #: NxDI keyword -> the end-of-line comment of the TNx argument it came from.
    comments: dict[str, str] = field(default_factory=dict)

    def set(self, name: str, value: cst.BaseExpression) -> None:
        self.kwargs[name] = value
        self.uses(value)

    def uses(self, value: cst.BaseExpression) -> None:
        text = code_of(value)
        self.modules.update(module for module in ("torch", "os") if f"{module}." in text)

    @property
    def needs_torch(self) -> bool:
        return "torch" in self.modules

    def args(self) -> list[cst.Arg]:
        return [with_comment(kwarg(name, value), self.comments.get(name))
                for name, value in self.kwargs.items()]


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
    #: The NxDI release the migration targets.
    target_version: str = m.DEFAULT_TARGET_VERSION
    #: The checkpoint's config.json, when it is a local directory the tool can read.
    checkpoint: Mapping[str, object] | None = None
    #: The checkpoint directory as the migrated program names it (values read at run time).
    checkpoint_expr: str | None = None
    #: The program creates the quantized checkpoint when it is missing (so no one must).
    creates_quantized_checkpoint: bool = False
    #: The options are a TNx model's whole configuration (not a vLLM override's keys): options
    #: TNx switches on or off depending on other options and on the checkpoint are judged.
    whole_model: bool = False
    #: The TNx NeuronConfig fields as given (options depending on others read them).
    given: dict[str, cst.BaseExpression] = field(default_factory=dict)
    #: id(TNx argument value) -> its end-of-line comment (``nodes.argument_comments``): the
    #: comment goes with the NxDI keyword the option becomes.
    comments: Mapping[int, str] = field(default_factory=dict)

    # -- entry points -----------------------------------------------------------------------

    def from_pretrained(self, keywords: dict[str, cst.BaseExpression], *, strict: bool) -> None:
        """Model keywords, in the mapping table's order; TNx defaults carried when omitted."""
        given = dict(keywords)
        for rule in m.FROM_PRETRAINED_OPTIONS:
            if rule.tnx in given:
                self._apply(rule, given.pop(rule.tnx), self.result.kwargs)
            elif rule.carry_default:
                self._carry(rule, self.result.kwargs)
        for name, value in given.items():
            self._ignored_keyword(name, value, strict=strict)

    def finish(self, *, multinode: bool) -> None:
        """What every TNx model did that NxDI does only when told (after all options):
        bucketing, left padding for batches, and a multi-node launch (``multinode``: the
        program reads TNx's rank environment, or its tp_degree needs several nodes)."""
        kwargs = self.result.kwargs
        for name, source in m.TNX_BEHAVIOUR:
            if name not in kwargs:
                self._carry_value(name, source)
        if m.PADDING_SIDE_KEY not in kwargs and self._batches():
            self._carry_value(m.PADDING_SIDE_KEY, m.TNX_PADDING_SIDE)
        if multinode and m.MULTINODE_START_KEY not in kwargs:
            tp = code_of(kwargs.get("tp_degree", expr("1")))
            local = m.MULTINODE_LOCAL_TP.format(tp=tp)
            self._put(kwargs, m.MULTINODE_START_KEY, expr(m.MULTINODE_RANK.format(local=local)))
            self._put(kwargs, m.MULTINODE_LOCAL_KEY, expr(local))
            self.report("TNX307", m.MULTINODE_NOTE, fixed=True)
        if self.result.carried:
            self.report(
                "TNX301",
                "TNx defaults written out explicitly: " + ", ".join(self.result.carried),
                fixed=True,
            )

    def _carry_value(self, name: str, source: str) -> None:
        self._put(self.result.kwargs, name, expr(source))
        self.result.carried.append(f"{name}={source}")

    def _batches(self) -> bool:
        """Whether the model may run more than one sequence at a time (padding matters)."""
        value = self.result.kwargs.get("batch_size")
        literal = self.read(value) if value is not None else 1
        return not (isinstance(literal, int) and not isinstance(literal, bool) and literal <= 1)

    def forced(self, keywords: dict[str, cst.BaseExpression]) -> None:
        """What TNx forced for a model whatever else was set (after every option, so nothing
        overrides it). vLLM overrides skip this: vLLM's NxDI defaults already match."""
        for name, value in keywords.items():
            rule = m.OPTION_BY_NAME.get(name)
            if rule is not None and literal_value(value) is not None:
                for forced, source in rule.forces:
                    self._put(self.result.kwargs, forced, expr(source))

    def neuron_config(self, keywords: dict[str, cst.BaseExpression]) -> None:
        self.given = dict(keywords)
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
        if self.whole_model and self.read(value) is True and not (
            self._tnx_keeps(rule, value)
            and (rule.tnx != m.FLASH_DECODING_OPTION or self._flash_decoding(value))
        ):
            return
        handler = _HANDLERS[rule.translation]
        handler(self, rule, value, into)
        comment = self.comments.get(id(value))
        written = [name for name in rule.nxdi if name in into]
        if comment is not None and written and into is self.result.kwargs:
            self.result.comments.setdefault(written[0], comment)
        for name, source in rule.also:
            self._put(into, name, expr(source))

    def _tnx_keeps(self, rule: m.OptionRule, value: cst.BaseExpression) -> bool:
        """False when TNx itself switches this option off because another option does not have
        the value it needs (then it is dropped, as TNx did)."""
        unknown = []
        for name, wanted in rule.requires:
            given = self.given.get(name)
            actual = self.read(given) if given is not None else m.OPTION_BY_NAME[name].tnx_default
            if isinstance(actual, NotLiteral):
                unknown.append(name)
            elif actual != wanted:
                self.report(
                    "TNX303",
                    f"{rule.tnx}={code_of(value)} dropped: TNx runs it only with "
                    f"{_requirements(rule)}, and here {name} is {_py(actual)}, so TNx switched "
                    "it off and NxDI leaves it off too",
                    fixed=True, at=value,
                )
                return False
        if unknown:
            self.report("TNX306", f"{rule.tnx}={code_of(value)}: TNx runs it only with "
                        f"{_requirements(rule)}; {', '.join(unknown)} cannot be read statically, "
                        f"so check that TNx really ran it before keeping {rule.nxdi[0]}",
                        fixed=False, at=value)
        return True

    def _flash_decoding(self, value: cst.BaseExpression) -> bool:
        """Whether NxDI can run flash decoding for this checkpoint and tp_degree (it asserts
        divisibility of the heads); False when the option is dropped."""
        heads, kv = _heads(self.checkpoint)
        tp = self.read(self.result.kwargs.get("tp_degree", expr("1")))
        shown = f"{m.FLASH_DECODING_OPTION}={code_of(value)}"
        if heads is None or kv is None or not isinstance(tp, int):
            self.report("TNX306", f"{shown}: {m.FLASH_DECODING_NOTE}; the head counts or "
                        "tp_degree cannot be read here, so check them", fixed=False, at=value)
            return True
        if heads == kv and self.given.get("group_query_attention") is None:
            self.report("TNX303", f"{shown} dropped: TNx switches it off for a model with as "
                        f"many KV heads as attention heads ({heads})", fixed=True, at=value)
            return False
        problem = m.flash_decoding_problem(heads, kv, tp, self.target_version)
        if problem is None:
            return True
        self.report("TNX303", f"{shown} dropped: NxDI {self.target_version} {problem} "
                    f"(tp_degree={tp}, {heads} attention heads, {kv} KV heads); flash decoding "
                    "only changes speed and memory, not results", fixed=True, at=value)
        return False

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
        literal = self.read(value)
        buckets = m.LIST_BUCKETS_KEY.get(rule.tnx)
        if isinstance(literal, tuple) and literal:
            for name in rule.nxdi:
                self._put(into, name, expr(str(max(literal))))
            if buckets is None:
                self.report("TNX306", f"{rule.tnx}={code_of(value)}: {rule.note}", fixed=False,
                            at=value)
                return
            self._put(into, buckets, _sorted_list(value, literal))
            self._put(into, m.BUCKETING_FLAG[0], expr(m.BUCKETING_FLAG[1]))
            return
        if not isinstance(literal, NotLiteral) or buckets is None:
            for name in rule.nxdi:
                self._put(into, name, value)
            return
        # An int or a list of buckets (TNx takes both): code that is right for either.
        shown = code_of(value)
        for name in rule.nxdi:
            self._put(into, name, expr(f"{shown} if isinstance({shown}, int) else max({shown})"))
        self._put(into, buckets, expr(f"None if isinstance({shown}, int) else sorted({shown})"))
        self.report(
            "TNX306",
            f"{rule.tnx}={shown} cannot be read statically: TNx takes an int or a list of "
            f"buckets, so {rule.nxdi[0]} and {buckets} are computed from it at run time",
            fixed=True, at=value,
        )

    def _buckets(
        self, rule: m.OptionRule, value: cst.BaseExpression, into: dict[str, cst.BaseExpression]
    ) -> None:
        literal = self.read(value)
        if literal is None:
            return
        if isinstance(literal, int) and not isinstance(literal, bool) and literal > 0:
            self._put(into, rule.nxdi[0], _int_list((literal,)))
        elif isinstance(literal, tuple) and literal:
            self._put(into, rule.nxdi[0], _sorted_list(value, literal))
        elif isinstance(literal, NotLiteral):
            shown = code_of(value)
            self._put(into, rule.nxdi[0], expr(
                f"sorted({shown}) if isinstance({shown}, (list, tuple)) else [{shown}]"))
            self.report(
                "TNX306",
                f"{rule.tnx}={shown} cannot be read statically: TNx takes an int or a list, so "
                f"{rule.nxdi[0]} is made a list at run time",
                fixed=True, at=value,
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
        if rule.same_results or any(_same(literal, builtin) for builtin in rule.nxdi_builtin):
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
        quantization = _Quantization.read(fields) if name == m.QUANTIZED_OPTION else None
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
        if quantization is not None:
            self._quantized_path()
            self._dequantized(quantization.dequant_dtype)
            self._unquantized_modules(quantization)

    def _quantized_path(self) -> None:
        path = f"{self.model_name}-{m.QUANTIZED_CHECKPOINTS_DIRNAME}"
        self._put(self.result.kwargs, m.QUANTIZED_PATH_KEY, expr(string(path)))
        if self.creates_quantized_checkpoint:
            self.report("TNX305", f"NxDI reads quantized weights from a quantized checkpoint: "
                        f"{m.QUANTIZED_PATH_KEY}={path!r}, which the program now creates with "
                        "save_quantized_state_dict when it is missing", fixed=True)
            return
        self.report(
            "TNX305",
            f"NxDI needs a quantized checkpoint: {m.QUANTIZED_PATH_KEY}={path!r} was derived; "
            "create it once with save_quantized_state_dict(model_path, config)",
            fixed=False,
        )

    def _dequantized(self, given: cst.BaseExpression | None) -> None:
        """NxDI dequantizes to torch_dtype; TNx to dequant_dtype ('f16' unless given)."""
        dequant = self.read(given) if given is not None else m.TNX_DEQUANT_DEFAULT
        wanted = m.AMP_TO_TORCH.get(dequant) if isinstance(dequant, str) else None
        dtype = self.result.kwargs.get("torch_dtype")
        if dtype is not None and wanted is not None and code_of(dtype) == wanted:
            return
        shown = f"{m.DEQUANT_OPTION}={code_of(given) if given is not None else repr(dequant)}"
        if given is None:
            shown += " (TNx's default)"
        self.report("TNX303", f"{shown} dropped: NxDI dequantizes to torch_dtype="
                    f"{code_of(dtype) if dtype is not None else 'the model dtype'}, so "
                    "dequantized values are rounded differently than on TNx", fixed=True,
                    at=given)

    def _unquantized_modules(self, quantization: _Quantization) -> None:
        """Keep in full precision what TNx kept there: lm_head always, attention when
        quantize_attn=False (NxDI quantizes every linear layer unless told)."""
        attention = quantization.quantize_attn is not None and (
            self.read(quantization.quantize_attn) is False)
        if m.version_key(self.target_version) < m.version_key(m.MODULES_TO_NOT_CONVERT_SINCE):
            kept = "lm_head and attention are" if attention else "lm_head is"
            self.report("TNX303", f"{kept} quantized too: NxDI {self.target_version} has no "
                        "modules_to_not_convert, and TNx kept them in full precision", fixed=False)
            return
        method = self.result.kwargs.get("quantization_type")
        if method is not None and code_of(method) != m.PER_CHANNEL_QUANTIZATION:
            # Only per-channel quantization keeps lm_head out of the quantized checkpoint.
            self._put(self.result.kwargs, "quantization_type", expr(m.PER_CHANNEL_QUANTIZATION))
            self.report("TNX303", f"{m.QUANTIZE_METHOD_OPTION}={code_of(method)} dropped: "
                        "NxDI's per-tensor quantization would quantize lm_head too (it ignores "
                        "modules_to_not_convert when it writes the quantized checkpoint), which "
                        f"TNx kept in full precision, so quantization_type="
                        f"{m.PER_CHANNEL_QUANTIZATION}: finer scales, slightly different "
                        "results", fixed=True)
        modules = ", ".join(string(name) for name in m.TNX_UNQUANTIZED_MODULES)
        if attention:
            modules += ", " + self._attention_modules()
        self._put(self.result.kwargs, m.MODULES_TO_NOT_CONVERT_KEY, expr(f"[{modules}]"))

    def _attention_modules(self) -> str:
        """Every layer's attention, as NxDI names it in modules_to_not_convert: the plain
        substring, unless fused QKV weights need each layer named (NxDI checks the exact
        "layers.N.self_attn" when it fuses the scales)."""
        if self.read(self.given.get("fuse_qkv", expr("False"))) is not True:
            return string(m.NXDI_ATTENTION_MODULE)
        layers = (self.checkpoint or {}).get("num_hidden_layers")
        if isinstance(layers, int):
            count = str(layers)
        else:
            count = f"AutoConfig.from_pretrained({self.checkpoint_expr}).num_hidden_layers"
            self.result.symbols.add(m.HF_AUTO_CONFIG)
        return f'*(f"layers.{{i}}.{m.NXDI_ATTENTION_MODULE}" for i in range({count}))'

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
            self.result.uses(value)

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


@dataclass(frozen=True)
class _Quantization:
    """The fields of a TNx QuantizationConfig that decide more than one NxDI keyword."""

    dequant_dtype: cst.BaseExpression | None
    quantize_attn: cst.BaseExpression | None

    @classmethod
    def read(cls, fields: dict[str, cst.BaseExpression]) -> _Quantization:
        """Takes the fields out of ``fields`` (the rest are translated one by one)."""
        return cls(fields.pop(m.DEQUANT_OPTION.partition(".")[2], None),
                   fields.pop(m.QUANTIZE_ATTN_OPTION.partition(".")[2], None))


def _requirements(rule: m.OptionRule) -> str:
    return ", ".join(f"{name}={_py(value)}" for name, value in rule.requires)


def _heads(checkpoint: Mapping[str, object] | None) -> tuple[int | None, int | None]:
    if checkpoint is None:
        return None, None
    heads = checkpoint.get("num_attention_heads")
    kv = checkpoint.get("num_key_value_heads", heads)
    return (heads if isinstance(heads, int) else None), (kv if isinstance(kv, int) else None)


def _int_list(values: tuple[int, ...]) -> cst.BaseExpression:
    return expr("[" + ", ".join(str(v) for v in sorted(values)) + "]")


def _sorted_list(value: cst.BaseExpression, literal: tuple[int, ...]) -> cst.BaseExpression:
    """The program's own list when it names one that is already sorted, else the sorted list."""
    if isinstance(value, cst.Name) and list(literal) == sorted(literal):
        return value
    return _int_list(literal)


def _source(value: object) -> str:
    return string(value) if isinstance(value, str) else _py(value)


def _py(value: object) -> str:
    if isinstance(value, tuple):
        return "[" + ", ".join(repr(v) for v in value) + "]"
    return repr(value)


__all__ = ["CODES", "OptionTranslator", "TranslatedOptions", "check_subconfigs",
           "subconfig_fields"]
