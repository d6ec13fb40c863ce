"""TNX2xx: ``XForSampling.from_pretrained(path, ...)`` to NxDI NeuronConfig + InferenceConfig +
application class, for every TNx model object the analysis can follow. Each model's options
(TNX3xx), life cycle (TNX4xx) and ``sample()`` calls (TNX5xx) are planned with it."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import libcst as cst

from tnx2nxdi import mappings as m
from tnx2nxdi.engine import FileMigration
from tnx2nxdi.engine.analysis import Analysis, Assignment, Reference, ScopeNode
from tnx2nxdi.engine.nodes import (
    CannotRead,
    NotLiteral,
    argument_comments,
    assign,
    call,
    code_of,
    dotted_name,
    expr,
    is_plain_assign,
    kwarg,
    literal_value,
    positional_args,
    read_args,
    statement_from,
    with_trailing_comment,
)
from tnx2nxdi.engine.state import Reporter
from tnx2nxdi.engine.suppression import MARKER
from tnx2nxdi.engine.walk import walk
from tnx2nxdi.literals import LiteralValue
from tnx2nxdi.steps import generation, lifecycle
from tnx2nxdi.steps.lifecycle import CompiledDirs
from tnx2nxdi.steps.options import (
    OptionTranslator,
    SubConfigResolver,
    TranslatedOptions,
    ValueReader,
    check_subconfigs,
    subconfig_fields,
)

CODES = frozenset({"TNX201", "TNX202", "TNX203", "TNX204", "TNX206", "TNX404", "TNX901"})


@dataclass
class ModelSpec:
    """A TNx model object that will be migrated."""

    binding: Assignment
    family: m.Family
    call: cst.Call
    checkpoint: cst.BaseExpression
    keywords: dict[str, cst.BaseExpression]
    config_keywords: dict[str, cst.BaseExpression]
    #: The TNx NeuronConfig variable passed as neuron_config=, if any.
    config_def: Assignment | None
    import_statement: cst.CSTNode
    class_name: str
    referenced_defs: list[Assignment] = field(default_factory=list)


@dataclass
class Models:
    """What the model step found, for the steps after it."""

    #: The directories the migrated program compiles into.
    compiled: CompiledDirs
    #: The migrated models, in source order.
    specs: list[ModelSpec] = field(default_factory=list)
    #: Statements that build a TNx model, migrated or not.
    constructions: set[int] = field(default_factory=set)
    #: TNx names whose remaining uses already carry a finding that needs a person.
    accounted: set[str] = field(default_factory=set)


def plan_models(f: FileMigration) -> Models:
    """Decide the edits for every TNx model construction in the module."""
    models = Models(CompiledDirs(f.analysis))
    for item in _constructions(f.analysis):
        models.constructions.add(id(item[0].statement))
        spec = _spec(f, item, models)
        if spec is not None:
            models.specs.append(spec)
    removable = _removable_defs(models.specs, f.analysis)
    for spec in models.specs:
        models.compiled.plan(spec.binding)
    for spec in models.specs:
        _emit(f, spec, removable, models.compiled)
    for definition in removable.values():
        f.plan.replace(definition.statement, [])
    return models


def _constructions(analysis: Analysis) -> list[tuple[Assignment, str]]:
    found = []
    for binding in analysis.all_assignments():
        value = binding.value
        if (
            isinstance(value, cst.Call)
            and isinstance(value.func, cst.Attribute)
            and value.func.attr.value == m.FROM_PRETRAINED
        ):
            qualified = analysis.qualified_name(value.func.value, binding.chain)
            if qualified is not None and m.is_tnx(qualified):
                found.append((binding, qualified))
    return sorted(found, key=lambda item: item[0].order)


def _spec(f: FileMigration, item: tuple[Assignment, str], models: Models) -> ModelSpec | None:
    binding, qualified = item
    value = binding.value
    assert isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute)
    class_name = dotted_name(value.func.value) or qualified
    local = class_name.split(".")[0]
    if qualified in m.UNSUPPORTED_CLASSES:
        _unsupported(f, binding, m.UNSUPPORTED_CLASSES[qualified])
        models.accounted.add(local)
        return None
    family = _family(qualified, value, f)
    if family is None:
        if qualified in m.AUTO_MODEL_CLASSES:
            f.state.report(
                "TNX204",
                "NeuronAutoModelForCausalLM: the model family cannot be told from the checkpoint "
                f"argument; use the NxDI classes of its family ({_family_classes()})",
                value,
                fixed=False,
            )
            models.accounted.add(local)
        return None
    try:
        _not_kept_on_ignored_lines(binding, f)
        spec = _read(binding, value, family, class_name, f.analysis)
    except CannotRead as why:
        f.state.report("TNX901", f"left as it is: {why}", value, fixed=False)
        models.accounted.update(_tnx_names_in(binding, f.analysis))
        return None
    if family.note:
        f.state.report("TNX202", family.note, value, fixed=True)
    return spec


def _family_classes() -> str:
    """``Llama/Mistral: NeuronLlamaForCausalLM, Mixtral: NeuronMixtralForCausalLM``."""
    by_class: dict[str, list[str]] = {}
    for family in m.FAMILIES:
        by_class.setdefault(family.application.name, []).append(family.key.capitalize())
    return ", ".join(f"{'/'.join(keys)}: {name}" for name, keys in by_class.items())


def _family(qualified: str, value: cst.Call, f: FileMigration) -> m.Family | None:
    family = m.FAMILY_BY_CLASS.get(qualified)
    if family is not None or qualified not in m.AUTO_MODEL_CLASSES or not value.args:
        return family
    checkpoint = f.analysis.literal(value.args[0].value)
    if not isinstance(checkpoint, str):
        return None
    config = _checkpoint_config(checkpoint, f.state.path) or {}
    model_type = str(config.get("model_type") or "").lower() or None
    for text in (model_type, checkpoint.lower()):
        for hint, key in m.AUTO_FAMILY_HINTS:
            if text and hint in text:
                return next(f for f in m.FAMILIES if f.key == key)
    return None


def _checkpoint_dir(checkpoint: str, source_path: str | None) -> Path:
    """Where a relative checkpoint path points: next to the program (else the current
    directory, for standard input)."""
    base = Path(source_path).parent if source_path else Path.cwd()
    return Path(checkpoint) if Path(checkpoint).is_absolute() else base / checkpoint


def _checkpoint_config(checkpoint: str, source_path: str | None) -> dict[str, object] | None:
    """The checkpoint's config.json, when it sits where the program says. Only read (never
    executed); a missing or unreadable file tells nothing."""
    try:
        config = json.loads((_checkpoint_dir(checkpoint, source_path) / "config.json")
                            .read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return config if isinstance(config, dict) else None


def _hub_id(f: FileMigration, checkpoint: cst.BaseExpression) -> str | None:
    """The Hugging Face Hub id a checkpoint names, when it names one: an ``org/name`` literal
    that is no local directory and that the program does not write itself."""
    value = f.analysis.literal(checkpoint)
    if not isinstance(value, str) or not re.match(m.HUB_ID_PATTERN, value):
        return None
    if _checkpoint_dir(value, f.state.path).is_dir():
        return None
    written = {
        f.analysis.literal(arg) for site in f.analysis.calls
        if isinstance(site.call.func, (cst.Attribute, cst.Name))
        and (dotted_name(site.call.func) or "").rsplit(".", 1)[-1] in m.CHECKPOINT_WRITERS
        for arg in positional_args(site.call)
    }
    return None if value in written else value


def _unsupported(f: FileMigration, binding: Assignment, name: str) -> None:
    f.state.report(
        "TNX203",
        f"{name} has no NxDI model; left as it is. Port it with NxDI's model-onboarding guide "
        f"({m.ONBOARDING_GUIDE}) or move to a supported family",
        binding.value or binding.statement,
        fixed=False,
    )


def _read(
    binding: Assignment, value: cst.Call, family: m.Family, class_name: str, analysis: Analysis
) -> ModelSpec:
    if not is_plain_assign(binding.statement, binding.small):
        raise CannotRead("the model is not built in a plain one-target assignment")
    positional = [arg for arg in value.args if arg.keyword is None and not arg.star]
    if not positional or value.args[0] is not positional[0] or len(positional) > 1:
        raise CannotRead("from_pretrained takes the checkpoint as its only positional argument")
    _not_handed_to_tnx(binding, analysis)
    keywords = read_args(value, skip=1)
    config_value = keywords.pop(m.NEURON_CONFIG_KEYWORD, None)
    config_keywords, config_def = _neuron_config(config_value, binding, analysis)
    func = value.func
    assert isinstance(func, cst.Attribute)
    import_binding = analysis.import_for(func.value, binding.chain)
    assert import_binding is not None
    check_subconfigs(config_keywords, _subconfig_resolver(binding, analysis))
    spec = ModelSpec(
        binding, family, value, positional[0].value, keywords, config_keywords, config_def,
        import_binding.statement, class_name,
    )
    if config_def is not None:
        spec.referenced_defs.append(config_def)
    return spec


def _not_kept_on_ignored_lines(binding: Assignment, f: FileMigration) -> None:
    """A model read on a statement ``# tnx2nxdi: ignore`` keeps as it is (its ``sample()``,
    ``save()``, ...) must stay TNx too: migrated, it would meet TNx calls NxDI models lack. The
    analysis does not see the names frozen statements read, so they are looked for here, by
    name (a same-named variable elsewhere keeps the model on TNx too: a marker, never a
    break)."""
    if not f.frozen:
        return
    for statement in f.analysis.statements:
        if id(statement) in f.frozen and _reads(statement, binding.key):
            raise CannotRead(f"the model is used on a statement marked '# {MARKER}', which "
                             "stays TNx code (migrate both by hand, or remove the comment)")


def _reads(node: cst.CSTNode, key: str) -> bool:
    """Whether ``node`` holds the name ``key`` (or ``self.attr`` for a ``self.attr`` key)."""
    finder = _NameFinder(key)
    walk(node, finder)
    return finder.found


class _NameFinder(cst.CSTVisitor):
    def __init__(self, key: str) -> None:
        super().__init__()
        self.owner, _, self.attr = key.rpartition(".")
        self.key = key
        self.found = False

    def visit_Name(self, node: cst.Name) -> None:
        self.found = self.found or (not self.owner and node.value == self.key)

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self.found = self.found or (bool(self.owner) and node.attr.value == self.attr
                                    and dotted_name(node.value) == self.owner)


def _not_handed_to_tnx(binding: Assignment, analysis: Analysis) -> None:
    """A model passed to TNx code that stays (speculation decoders, ...) must stay TNx too:
    migrating it alone would leave a half-migrated program."""
    for use in binding.references:
        receiver = analysis.call_of_arg.get(id(use.node))
        if receiver is None:
            continue
        qualified = analysis.qualified_name(receiver.func, use.chain) or ""
        if m.is_tnx(qualified) and qualified not in m.TNX_GENERATION_ADAPTERS:
            raise CannotRead(f"the model is passed to {code_of(receiver.func)}, which stays on TNx "
                          "(migrate both together by hand)")


def _neuron_config(
    node: cst.BaseExpression | None, binding: Assignment, analysis: Analysis
) -> tuple[dict[str, cst.BaseExpression], Assignment | None]:
    if node is None or literal_value(node) is None:
        return {}, None
    definition = None
    if isinstance(node, cst.Name):
        reference = analysis.reference_by_node.get(id(node))
        definition = reference.target if reference else None
        if definition is None or not isinstance(definition.value, cst.Call):
            raise CannotRead(
                f"neuron_config={code_of(node)} is not a NeuronConfig the tool can see")
        node = definition.value
        if not is_plain_assign(definition.statement, definition.small):
            raise CannotRead("the NeuronConfig is not built in a plain assignment")
    chain = definition.chain if definition else binding.chain
    if not (
        isinstance(node, cst.Call)
        and analysis.qualified_name(node.func, chain) in m.TNX_NEURON_CONFIG_CLASSES
    ):
        raise CannotRead(f"neuron_config={code_of(node)} is not a TNx NeuronConfig(...)")
    return read_args(node), definition


def _tnx_names_in(binding: Assignment, analysis: Analysis) -> set[str]:
    """TNx names read by the construction or by the variables it reads (they all stay)."""
    tnx = {b.local for b in analysis.imports_from(m.TNX_PACKAGE)}
    statements = {id(binding.statement)}
    for reference in analysis.references:
        if reference.statement is binding.statement and reference.target is not None:
            statements.add(id(reference.target.statement))
    return {
        r.key for r in analysis.references
        if r.statement is not None and id(r.statement) in statements and r.key in tnx
    }


# -- removal of TNx config variables --------------------------------------------------------


def _removable_defs(specs: list[ModelSpec], analysis: Analysis) -> dict[int, Assignment]:
    """TNx config variables whose every read sits in a statement the migration replaces."""
    replaced = {id(spec.binding.statement) for spec in specs}
    candidates = _config_defs(analysis)
    removable: dict[int, Assignment] = {}
    changed = True
    while changed:
        changed = False
        for definition in candidates:
            if id(definition) in removable or not definition.references:
                continue
            if all(_inside(ref, replaced) for ref in definition.references):
                removable[id(definition)] = definition
                replaced.add(id(definition.statement))
                changed = True
    return removable


def _config_defs(analysis: Analysis) -> list[Assignment]:
    return list(analysis.assignments_calling(
        m.TNX_NEURON_CONFIG_CLASSES | set(m.SUBCONFIG_CLASSES)))


def _inside(reference: Reference, replaced: set[int]) -> bool:
    return reference.statement is not None and id(reference.statement) in replaced


# -- emission -------------------------------------------------------------------------------


def _emit(
    f: FileMigration, spec: ModelSpec, removable: dict[int, Assignment],
    compiled: CompiledDirs,
) -> None:
    binding, analysis = spec.binding, f.analysis
    names = _Names(spec, analysis, removable)
    reopened = lifecycle.load_directory(binding)
    if reopened is not None and reopened not in compiled:
        reopened = None
    facts = lifecycle.plan_lifecycle(f, spec.binding, names.model_name, compiled)
    sampling = _on_device_sampling(spec, analysis)
    if reopened is not None:
        longest = _int(compiled.options(reopened).get("seq_len"))
        generation.plan_generation(f, binding, spec.import_statement, sampling, longest)
        _emit_reopened(f, spec, names, reopened, compiled)
        return
    download, checkpoint = _local_checkpoint(f, spec, names)
    result = _translate(f, spec, names, f.state.at(binding.value or binding.statement),
                        checkpoint)
    longest = _int(code_of(result.kwargs["seq_len"])) if "seq_len" in result.kwargs else None
    generation.plan_generation(f, binding, spec.import_statement, sampling, longest)
    for directory in facts.compiled_into:
        compiled.record(directory, _as_code(result))
    for name, value in facts.config_kwargs.items():
        result.set(name, value)
    lines = _construction(f, spec, names, result, download, checkpoint)
    f.plan.replace(binding.statement, lines)
    f.state.report(
        "TNX201",
        f"{spec.class_name}.from_pretrained({code_of(spec.checkpoint)}, ...) migrated to "
        f"{spec.family.application.name}",
        binding.value or binding.statement,
        fixed=True,
    )
    anchor, family = spec.import_statement, spec.family
    for symbol in (family.neuron_config, family.inference_config, family.application,
                   m.NXDI_LOAD_PRETRAINED_CONFIG, *result.symbols):
        f.plan.require(anchor, symbol.module, symbol.name)
    for module in sorted(result.modules):
        f.plan.require_module(anchor, module)


def _int(code: str | None) -> int | None:
    """An int written as code (the NeuronConfig keywords are kept as code)."""
    return int(code) if code is not None and code.isdigit() else None


def _translate(
    f: FileMigration, spec: ModelSpec, names: _Names, report: Reporter,
    local: cst.BaseExpression | None = None,
) -> TranslatedOptions:
    """The model's TNx options as NxDI NeuronConfig keywords (``local``: the checkpoint
    directory expression the migrated program uses)."""
    checkpoint = f.analysis.literal(spec.checkpoint)
    translator = OptionTranslator(
        report, _subconfig_resolver(spec.binding, f.analysis), names.model_name,
        _value_reader(f.analysis, spec.binding.chain),
        target_version=f.state.options.target_version,
        checkpoint=(_checkpoint_config(checkpoint, f.state.path)
                    or m.published_architecture(checkpoint))
        if isinstance(checkpoint, str) else None,
        creates_quantized_checkpoint=True,
        whole_model=True,
        checkpoint_expr=code_of(local if local is not None else spec.checkpoint),
        comments=argument_comments(
            spec.call, spec.config_def.value if spec.config_def else None),
    )
    # Sub-configs were checked by _read, so no CannotRead can come from here.
    translator.from_pretrained(spec.keywords, strict=False)
    translator.neuron_config(spec.config_keywords)
    translator.forced(spec.config_keywords)
    translator.finish(multinode=_multinode(f, translator.result))
    return translator.result


def _multinode(f: FileMigration, result: TranslatedOptions) -> bool:
    """TNx ran on several nodes: the program reads TNx's rank variables, or its tp_degree is
    larger than one TNx node has NeuronCores."""
    tp = f.analysis.literal(result.kwargs.get("tp_degree", expr("1")))
    if isinstance(tp, int) and not isinstance(tp, bool) and tp > m.TNX_MAX_TP_ONE_NODE:
        return True
    return any(name in f.source for name in m.MULTINODE_ENV)


def _as_code(result: TranslatedOptions) -> dict[str, str]:
    return {name: code_of(value) for name, value in result.kwargs.items()}


def _local_checkpoint(
    f: FileMigration, spec: ModelSpec, names: _Names
) -> tuple[list[cst.BaseStatement], cst.BaseExpression]:
    """The statements that give NxDI a local checkpoint directory, and that directory: a Hub id
    is downloaded first; a value the tool cannot read (TNx took a Hub id or a directory) is
    downloaded only when it is not a directory; a local path is used as it is."""
    checkpoint = spec.checkpoint
    value = f.analysis.literal(checkpoint)
    hub_id = _hub_id(f, checkpoint)
    if isinstance(value, str) and hub_id is None:
        return [], checkpoint
    local = _fresh(("model_path", f"{names.base}_path", "local_model_path"), f.analysis)
    shown = code_of(checkpoint)
    download = call(m.HUB_DOWNLOAD.name, [cst.Arg(checkpoint)])
    f.plan.require(spec.import_statement, m.HUB_DOWNLOAD.module, m.HUB_DOWNLOAD.name)
    if hub_id is not None:
        f.state.report("TNX206", f"{shown} is a Hugging Face Hub id ({hub_id}): NxDI reads "
                       "checkpoints from a local directory, so the program downloads it first "
                       f"with {m.HUB_DOWNLOAD.name}", checkpoint, fixed=True)
        return [assign(local, download)], expr(local)
    f.plan.require_module(spec.import_statement, "os")
    f.state.report("TNX206", f"{shown} may be a Hugging Face Hub id or a local directory (TNx "
                   f"took both): NxDI reads checkpoints from a local directory, so the program "
                   f"calls {m.HUB_DOWNLOAD.name} when it is not one", checkpoint,
                   fixed=True)
    value_if = expr(f"{shown} if os.path.isdir({shown}) else {code_of(download)}")
    return [assign(local, value_if)], expr(local)


def _construction(
    f: FileMigration, spec: ModelSpec, names: _Names, result: TranslatedOptions,
    download: list[cst.BaseStatement], checkpoint: cst.BaseExpression,
) -> list[cst.BaseStatement]:
    """NeuronConfig, InferenceConfig and the application model (with the Hub download and the
    quantized checkpoint before them when the program needs them)."""
    family = spec.family
    lines = list(download)
    lines.append(assign(names.neuron_config, call(
        family.neuron_config.name, result.args(), prefix=len(names.neuron_config) + 3)))
    lines.append(assign(names.config, call(family.inference_config.name, [
        cst.Arg(expr(names.neuron_config)),
        kwarg(m.NXDI_LOAD_CONFIG_KEYWORD, call(m.NXDI_LOAD_PRETRAINED_CONFIG.name,
                                               [cst.Arg(checkpoint)])),
    ])))
    quantized = result.kwargs.get(m.QUANTIZED_PATH_KEY)
    if quantized is not None:
        lines.append(_quantize_once(family, checkpoint, quantized, names.config))
        result.modules.add("os")
    model_line = assign(_target(spec.binding), call(family.application.name, [
        cst.Arg(checkpoint), cst.Arg(expr(names.config))
    ]))
    # The checkpoint argument's own comment goes with the line that now takes the checkpoint.
    comment = argument_comments(spec.call).get(id(spec.checkpoint))
    lines.append(with_trailing_comment(model_line, comment))
    return lines


def _quantize_once(family: m.Family, checkpoint: cst.BaseExpression,
                   path: cst.BaseExpression, config: str) -> cst.BaseStatement:
    """Write the quantized checkpoint from the original one, unless an earlier run did."""
    return statement_from(
        f"if not os.path.exists({code_of(path)}):\n"
        f"    {family.application.name}.{m.SAVE_QUANTIZED}({code_of(checkpoint)}, {config})\n"
    )


def _on_device_sampling(spec: ModelSpec, analysis: Analysis) -> generation.Sampling | None:
    """The sampling settings of the model's on-device GenerationConfig, TNx defaults filled in."""
    value = spec.config_keywords.get(m.ON_DEVICE_GENERATION_OPTION)
    if value is None or literal_value(value) is None:
        return None
    resolved = _subconfig_resolver(spec.binding, analysis)(value)
    assert resolved is not None  # checked by _read
    fields = subconfig_fields(m.ON_DEVICE_GENERATION_OPTION, resolved[1])
    sampling: generation.Sampling = {}
    for name in m.ON_DEVICE_SAMPLING_FIELDS:
        rule = m.OPTION_BY_NAME[f"{m.ON_DEVICE_GENERATION_OPTION}.{name}"]
        sampling[name] = fields.get(name) or expr(repr(rule.tnx_default))
    return sampling


def _target(binding: Assignment) -> str:
    if isinstance(binding.small, cst.Assign):
        return code_of(binding.small.targets[0].target)
    return binding.key


def _emit_reopened(
    f: FileMigration, spec: ModelSpec, names: _Names, directory: cst.BaseExpression,
    compiled: CompiledDirs,
) -> None:
    """The program rebuilds the model and loads a directory it compiled above: NxDI reopens
    that directory from its neuron_config.json (the configuration it was compiled with)."""
    application = spec.family.application
    shown = code_of(directory)
    line = assign(_target(spec.binding), call(application.name, [cst.Arg(directory)]))
    f.plan.replace(spec.binding.statement, [line])
    f.plan.require(spec.import_statement, application.module, application.name)
    asked = _as_code(_translate(f, spec, names, _ignore))
    built = compiled.options(directory)
    differs = sorted(name for name in {*asked, *built}
                     if asked.get(name, _UNSET) != built.get(name, _UNSET))
    message = (f"{spec.class_name}.from_pretrained(...) followed by load({shown}) reopens the "
               f"directory compiled above: {application.name}({shown}) reads its "
               "neuron_config.json")
    if differs and compiled.options(directory):
        f.state.report("TNX404", f"{message}, but this reload asked for other settings "
                       f"({', '.join(f'{name}={asked.get(name, _UNSET)}' for name in differs)}): "
                       "compile "
                       "them into a directory of their own if the program needs them",
                       spec.binding.value or spec.binding.statement, fixed=False)
        return
    f.state.report("TNX404", message, spec.binding.value or spec.binding.statement, fixed=True)


#: How a NeuronConfig keyword the reload leaves out is shown.
_UNSET = "(not set)"


def _ignore(code: str, message: str, *, fixed: bool, at: cst.CSTNode | None = None) -> None:
    """A reporter for translations made only to compare settings."""


def _subconfig_resolver(binding: Assignment, analysis: Analysis) -> SubConfigResolver:
    def resolve(node: cst.BaseExpression) -> tuple[str, cst.Call] | None:
        chain = binding.chain
        if isinstance(node, cst.Name):
            reference = analysis.reference_by_node.get(id(node))
            definition = reference.target if reference else None
            if definition is None or not is_plain_assign(definition.statement,
                                                          definition.small):
                return None
            node = definition.value  # type: ignore[assignment]
            chain = definition.chain
        if not isinstance(node, cst.Call):
            return None
        qualified = analysis.qualified_name(node.func, chain)
        return (qualified, node) if qualified else None

    return resolve


def _value_reader(analysis: Analysis, chain: tuple[ScopeNode, ...]) -> ValueReader:
    """Literals (through names bound once to one), and TNx constants (``GQA.REPLICATED_HEADS``,
    ``LAYOUT_BSH``) by their value."""

    def read(node: cst.BaseExpression) -> LiteralValue | NotLiteral:
        qualified = analysis.qualified_name(node, chain)
        if qualified is not None and qualified in m.TNX_CONSTANTS:
            return m.TNX_CONSTANTS[qualified]
        return analysis.literal(node)

    return read


class _Names:
    """Variable names of the generated code: the user's where they can be reused safely."""

    def __init__(
        self, spec: ModelSpec, analysis: Analysis, removable: dict[int, Assignment]
    ) -> None:
        base = spec.binding.key.split(".")[-1]
        config_def = spec.config_def
        if (
            config_def is not None
            and id(config_def) in removable
            and config_def.function is spec.binding.function
        ):
            self.neuron_config = config_def.key
        else:
            self.neuron_config = _fresh(("neuron_config", f"{base}_neuron_config"), analysis)
        self.config = _fresh(("config", "inference_config", f"{base}_inference_config"),
                             analysis)
        self.base = base
        checkpoint = analysis.literal(spec.checkpoint)
        if isinstance(checkpoint, str) and checkpoint.strip("/"):
            self.model_name = checkpoint.rstrip("/").split("/")[-1]
        else:
            self.model_name = base


def _fresh(preferred: tuple[str, ...], analysis: Analysis) -> str:
    for name in preferred:
        if name not in analysis.names_seen:
            return name
    index = 2
    while f"{preferred[-1]}_{index}" in analysis.names_seen:
        index += 1
    return f"{preferred[-1]}_{index}"
