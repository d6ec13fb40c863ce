"""TNX2xx: ``XForSampling.from_pretrained(path, ...)`` to NxDI NeuronConfig + InferenceConfig +
application class, for every TNx model object the analysis can follow."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import libcst as cst

from tnx2nxdi import mappings as m
from tnx2nxdi.analysis import Analysis, Assignment, Reference, ScopeNode
from tnx2nxdi.transforms import generation, lifecycle, manual
from tnx2nxdi.transforms._base import (
    Context,
    NotLiteral,
    Plan,
    assign,
    call,
    code_of,
    dotted_name,
    expr,
    kwarg,
    literal_value,
)
from tnx2nxdi.transforms.config import (
    Dynamic,
    OptionTranslator,
    SubConfigResolver,
    ValueReader,
    check_subconfigs,
    keyword_args,
    subconfig_fields,
)


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


def plan_models(analysis: Analysis, ctx: Context, plan: Plan) -> None:
    """Decide the edits for every TNx model construction in the module."""
    specs = []
    for binding in _constructions(analysis):
        ctx.constructions.add(id(binding[0].statement))
        spec = _spec(binding, analysis, ctx)
        if spec is not None:
            specs.append(spec)
    removable = _removable_defs(specs, analysis)
    for spec in specs:
        _emit(spec, analysis, ctx, plan, removable)
        ctx.loader_candidates.append((spec.binding, spec.import_statement))
    for definition in removable.values():
        plan.replace(definition.statement, [])


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
            if qualified is not None and qualified.startswith(m.TNX_PACKAGE + "."):
                found.append((binding, qualified))
    return sorted(found, key=lambda item: item[0].order)


def _spec(
    item: tuple[Assignment, str], analysis: Analysis, ctx: Context
) -> ModelSpec | None:
    binding, qualified = item
    value = binding.value
    assert isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute)
    class_name = dotted_name(value.func.value) or qualified
    local = class_name.split(".")[0]
    if qualified in m.UNSUPPORTED_CLASSES:
        _unsupported(binding, m.UNSUPPORTED_CLASSES[qualified], local, ctx)
        return None
    family = _family(qualified, value, ctx.options.source_path)
    if family is None:
        if qualified in m.AUTO_MODEL_CLASSES:
            ctx.report(
                "TNX204",
                "NeuronAutoModelForCausalLM: the model family cannot be told from the checkpoint "
                "argument; use the NxDI classes of its family (Llama/Mistral: "
                "NeuronLlamaForCausalLM, Mixtral: NeuronMixtralForCausalLM)",
                binding.statement,
                fixed=False,
            )
            ctx.accounted.add(local)
        return None
    try:
        spec = _read(binding, value, family, class_name, analysis)
    except Dynamic as why:
        ctx.report("TNX901", f"left as it is: {why}", binding.statement, fixed=False)
        ctx.accounted.update(_tnx_names_in(binding, analysis))
        return None
    if family.note:
        ctx.report("TNX202", family.note, binding.statement, fixed=True)
    return spec


def _family(qualified: str, value: cst.Call, source_path: str | None) -> m.Family | None:
    family = m.FAMILY_BY_CLASS.get(qualified)
    if family is not None or qualified not in m.AUTO_MODEL_CLASSES or not value.args:
        return family
    checkpoint = literal_value(value.args[0].value)
    if not isinstance(checkpoint, str):
        return None
    model_type = _checkpoint_model_type(checkpoint, source_path)
    for text in (model_type, checkpoint.lower()):
        for hint, key in m.AUTO_FAMILY_HINTS:
            if text and hint in text:
                return next(f for f in m.FAMILIES if f.key == key)
    return None


def _checkpoint_model_type(checkpoint: str, source_path: str | None) -> str | None:
    """``model_type`` from the checkpoint's config.json, when it sits where the script says.
    Only read (never executed); a missing or unreadable file tells nothing."""
    base = Path(source_path).parent if source_path else Path.cwd()
    config = (base / checkpoint / "config.json") if not Path(checkpoint).is_absolute() else (
        Path(checkpoint) / "config.json")
    try:
        model_type = json.loads(config.read_text(encoding="utf-8")).get("model_type")
    except (OSError, ValueError, AttributeError):
        return None
    return str(model_type).lower() if model_type else None


def _unsupported(binding: Assignment, name: str, local: str, ctx: Context) -> None:
    ctx.report(
        "TNX203",
        f"{name} has no NxDI model; left as it is. Port it with NxDI's model-onboarding guide "
        f"({m.ONBOARDING_GUIDE}) or move to a supported family",
        binding.statement,
        fixed=False,
    )
    ctx.accounted.add(local)


def _read(
    binding: Assignment, value: cst.Call, family: m.Family, class_name: str, analysis: Analysis
) -> ModelSpec:
    statement = binding.statement
    if not (
        isinstance(statement, cst.SimpleStatementLine)
        and len(statement.body) == 1
        and isinstance(binding.small, cst.Assign)
        and len(binding.small.targets) == 1
    ):
        raise Dynamic("the model is not built in a plain one-target assignment")
    positional = [arg for arg in value.args if arg.keyword is None and not arg.star]
    if not positional or value.args[0] is not positional[0] or len(positional) > 1:
        raise Dynamic("from_pretrained takes the checkpoint as its only positional argument")
    _not_handed_to_tnx(binding, analysis)
    keywords = keyword_args(value.args[1:])
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


def _not_handed_to_tnx(binding: Assignment, analysis: Analysis) -> None:
    """A model passed to TNx code that stays (speculation decoders, ...) must stay TNx too:
    migrating it alone would leave a half-migrated program."""
    for use in binding.references:
        receiver = analysis.call_of_arg.get(id(use.node))
        if receiver is None:
            continue
        qualified = analysis.qualified_name(receiver.func, use.chain) or ""
        if qualified.startswith(m.TNX_PACKAGE + ".") and qualified not in (
            m.TNX_GENERATION_ADAPTERS
        ):
            raise Dynamic(f"the model is passed to {code_of(receiver.func)}, which stays on TNx "
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
            raise Dynamic(f"neuron_config={code_of(node)} is not a NeuronConfig the tool can see")
        node = definition.value
        if not _single_assign(definition):
            raise Dynamic("the NeuronConfig is not built in a plain assignment")
    chain = definition.chain if definition else binding.chain
    if not (
        isinstance(node, cst.Call)
        and analysis.qualified_name(node.func, chain) in m.TNX_NEURON_CONFIG_CLASSES
    ):
        raise Dynamic(f"neuron_config={code_of(node)} is not a TNx NeuronConfig(...)")
    return keyword_args(node.args), definition


def _single_assign(definition: Assignment) -> bool:
    statement = definition.statement
    return (
        isinstance(statement, cst.SimpleStatementLine)
        and len(statement.body) == 1
        and isinstance(definition.small, cst.Assign)
        and len(definition.small.targets) == 1
    )


def _tnx_names_in(binding: Assignment, analysis: Analysis) -> set[str]:
    """TNx names read by the construction or by the variables it reads (they all stay)."""
    tnx = {b.local for b in analysis.tnx_imports()}
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
    classes = m.TNX_NEURON_CONFIG_CLASSES | set(m.SUBCONFIG_CLASSES)
    found = []
    for definition in analysis.all_assignments():
        value = definition.value
        if (
            isinstance(value, cst.Call)
            and _single_assign(definition)
            and analysis.qualified_name(value.func, definition.chain) in classes
        ):
            found.append(definition)
    return found


def _inside(reference: Reference, replaced: set[int]) -> bool:
    return reference.statement is not None and id(reference.statement) in replaced


# -- emission -------------------------------------------------------------------------------


def _emit(
    spec: ModelSpec, analysis: Analysis, ctx: Context, plan: Plan,
    removable: dict[int, Assignment],
) -> None:
    binding = spec.binding
    names = _Names(spec, analysis, removable)
    reopened = code_of(spec.checkpoint) in ctx.compiled_dirs and (
        lifecycle.load_directory(binding) == code_of(spec.checkpoint)
    )
    facts = lifecycle.plan_lifecycle(spec.binding, names.model_name, analysis, ctx, plan)
    generation.plan_generation(binding, analysis, ctx, plan, spec.import_statement,
                               _on_device_sampling(spec, analysis))
    if reopened:
        _emit_reopened(spec, ctx, plan)
        return

    translator = OptionTranslator(ctx, binding.statement,
                                  _subconfig_resolver(binding, analysis), names.model_name,
                                  _value_reader(analysis, binding.chain))
    # Sub-configs were checked by _read, so no Dynamic can come from here.
    translator.from_pretrained(spec.keywords, strict=False)
    translator.neuron_config(spec.config_keywords)
    translator.forced(spec.config_keywords)
    result = translator.result
    for name, value in facts.config_kwargs.items():
        result.set(name, value)

    target = _target(binding)
    family = spec.family
    checkpoint = code_of(spec.checkpoint)
    nc_line = assign(names.neuron_config, call(
        family.neuron_config.name, result.args(), prefix=len(names.neuron_config) + 3))
    config_line = assign(names.config, call(family.inference_config.name, [
        cst.Arg(expr(names.neuron_config)),
        kwarg(m.NXDI_LOAD_CONFIG_KEYWORD, call(m.NXDI_LOAD_PRETRAINED_CONFIG.name,
                                  [cst.Arg(spec.checkpoint)])),
    ]))
    model_line = assign(target, call(family.application.name, [
        cst.Arg(spec.checkpoint), cst.Arg(expr(names.config))
    ]))
    plan.replace(binding.statement, [nc_line, config_line, model_line])
    ctx.report(
        "TNX201",
        f"{spec.class_name}.from_pretrained({checkpoint}, ...) migrated to "
        f"{family.application.name}",
        binding.statement,
        fixed=True,
    )
    anchor = id(spec.import_statement)
    needed = ctx.needed.setdefault(anchor, set())
    for symbol in (family.neuron_config, family.inference_config, family.application,
                   m.NXDI_LOAD_PRETRAINED_CONFIG, *result.symbols):
        needed.add((symbol.module, symbol.name))
    if result.needs_torch:
        ctx.needs_torch.add(anchor)


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


def _emit_reopened(spec: ModelSpec, ctx: Context, plan: Plan) -> None:
    """The program rebuilds the model from a directory it compiled above: NxDI reopens it from
    its neuron_config.json (the configuration it was compiled with), then loads it."""
    application = spec.family.application
    directory = code_of(spec.checkpoint)
    line = assign(_target(spec.binding), call(application.name, [cst.Arg(spec.checkpoint)]))
    plan.replace(spec.binding.statement, [line])
    ctx.report(
        "TNX404",
        f"{spec.class_name}.from_pretrained({directory}, ...) reopens the directory compiled "
        f"above: {application.name}({directory}) reads its neuron_config.json",
        spec.binding.statement,
        fixed=True,
    )
    ctx.needed.setdefault(id(spec.import_statement), set()).add(
        (application.module, application.name)
    )


def plan_follow_ups(analysis: Analysis, ctx: Context, plan: Plan) -> None:
    """What surrounds the model objects: loader functions, unassigned constructions, the
    generation adapter, checkpoint splitting, compile-cache settings, untracked TNx calls."""
    plan_loaders(analysis, ctx, plan)
    report_unassigned(analysis, ctx)
    generation.plan_adapters(analysis, ctx, plan)
    lifecycle.plan_split_checkpoints(analysis, ctx, plan)
    lifecycle.plan_cache_settings(analysis, ctx)
    manual.report_untracked(analysis, ctx, plan)


def plan_loaders(analysis: Analysis, ctx: Context, plan: Plan) -> None:
    """Follow a loader function of this module that builds and returns a TNx model
    (``model = build_model(path)``): its callers' generation and life-cycle calls migrate too."""
    for spec_binding, import_statement in ctx.loader_candidates:
        function = spec_binding.function
        if not isinstance(function, cst.FunctionDef) or not _returned(spec_binding):
            continue
        name = function.name.value
        if len(analysis.function_defs.get(name, [])) != 1:
            continue
        for derived in analysis.all_assignments():
            value = derived.value
            if not (isinstance(value, cst.Call) and isinstance(value.func, cst.Name)
                    and value.func.value == name):
                continue
            if not any(use.method in _FOLLOWED for use in derived.references):
                continue
            if not isinstance(derived.chain[-1], cst.Module) or not _module_level(
                    import_statement, analysis):
                ctx.report("TNX903", f"{derived.key} comes from {name}(), whose imports are "
                           "local to it: migrate its generation calls by hand",
                           derived.statement, fixed=False)
                continue
            lifecycle.plan_lifecycle(derived, derived.key.split(".")[-1], analysis, ctx,
                                     plan)
            generation.plan_generation(derived, analysis, ctx, plan, import_statement)


#: Methods on a loader function's result that the migration rewrites.
_FOLLOWED = frozenset({m.SAMPLE, m.TO_NEURON, m.CPU_COMPILE, m.SAVE, m.LOAD})


def _returned(binding: Assignment) -> bool:
    for use in binding.references:
        statement = use.statement
        if (
            isinstance(statement, cst.SimpleStatementLine)
            and isinstance(statement.body[0], cst.Return)
            and statement.body[0].value is use.node
        ):
            return True
    return False


def _module_level(import_statement: cst.CSTNode, analysis: Analysis) -> bool:
    return any(
        b.statement is import_statement and isinstance(b.scope, cst.Module)
        for b in analysis.imports
    )


def report_unassigned(analysis: Analysis, ctx: Context) -> None:
    """``return LlamaForSampling.from_pretrained(...)`` and other constructions that are not
    assigned to a name cannot be followed: say so instead of leaving a bare TNX990."""
    tnx = {b.local for b in analysis.tnx_imports()}
    for reference in analysis.references:
        if (
            reference.method == m.FROM_PRETRAINED
            and reference.key in tnx
            and reference.statement is not None
            and id(reference.statement) not in ctx.constructions
        ):
            ctx.report("TNX901", "left as it is: the model is not assigned to a variable "
                       "(assign it, e.g. model = ..., and run tnx2nxdi again)",
                       reference.statement, fixed=False)
            ctx.accounted.add(reference.key)


def _subconfig_resolver(binding: Assignment, analysis: Analysis) -> SubConfigResolver:
    def resolve(node: cst.BaseExpression) -> tuple[str, cst.Call] | None:
        chain = binding.chain
        if isinstance(node, cst.Name):
            reference = analysis.reference_by_node.get(id(node))
            definition = reference.target if reference else None
            if definition is None or not _single_assign(definition):
                return None
            node = definition.value  # type: ignore[assignment]
            chain = definition.chain
        if not isinstance(node, cst.Call):
            return None
        qualified = analysis.qualified_name(node.func, chain)
        return (qualified, node) if qualified else None

    return resolve


def _value_reader(analysis: Analysis, chain: tuple[ScopeNode, ...]) -> ValueReader:
    """Literals, and TNx constants (``GQA.REPLICATED_HEADS``, ``LAYOUT_BSH``) by their value."""

    def read(node: cst.BaseExpression) -> m.LiteralValue | NotLiteral:
        qualified = analysis.qualified_name(node, chain)
        if qualified is not None and qualified in m.TNX_CONSTANTS:
            return m.TNX_CONSTANTS[qualified]
        return literal_value(node)

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
        checkpoint = literal_value(spec.checkpoint)
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
