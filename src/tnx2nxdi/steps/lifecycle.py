"""TNX4xx: the compile / save / load life cycle of a migrated model.

TNx ``to_neuron()`` compiles and loads; NxDI splits that into ``compile(path)`` and ``load(path)``,
and ``load`` is only written when the program runs the model afterwards. ``save(dir)`` folds into
``compile(dir)``; ``load(dir)`` before ``to_neuron()`` stays an NxDI ``load(dir)``, with a finding
because NxDI cannot read TNx-compiled artifacts.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field

import libcst as cst

from tnx2nxdi import mappings as m
from tnx2nxdi.engine import FileMigration
from tnx2nxdi.engine.analysis import Analysis, Assignment, Reference
from tnx2nxdi.engine.nodes import code_of, expr, expression_statement, literal_value, string

CODES = frozenset({"TNX401", "TNX402", "TNX403", "TNX404", "TNX405", "TNX406", "TNX902"})


@dataclass
class LifecycleFacts:
    """What the life cycle adds to the NeuronConfig (e.g. save_sharded_checkpoint), and the
    directories the model is compiled into."""

    config_kwargs: dict[str, cst.BaseExpression] = field(default_factory=dict)
    compiled_into: list[cst.BaseExpression] = field(default_factory=list)


@dataclass
class CompiledDirs:
    """The directories the migrated program compiles into, in source order, by meaning:
    ``'./x'``, ``'x/'``, ``"x"`` and a name bound once to ``'x'`` are one directory."""

    analysis: Analysis
    #: Directory key -> the NeuronConfig keywords (as code) of the model compiled into it.
    seen: dict[str, dict[str, str]] = field(default_factory=dict)
    #: Every directory a model of the program saves into, wherever the save sits (a program
    #: that loads a directory when it exists and compiles into it otherwise loads its own).
    planned: set[str] = field(default_factory=set)

    def plan(self, binding: Assignment) -> None:
        for use in binding.references:
            if use.method == m.SAVE and use.call is not None and _first_arg(use.call) is not None:
                self.planned.add(self.key(_first_arg(use.call)))

    def compiles_somewhere(self, directory: cst.BaseExpression) -> bool:
        return self.key(directory) in self.planned

    def key(self, directory: cst.BaseExpression) -> str:
        value = self.analysis.literal(directory)
        if isinstance(value, str) and value:
            return "path:" + posixpath.normpath(value)
        return "code:" + code_of(directory)

    def add(self, directory: cst.BaseExpression) -> None:
        self.seen.setdefault(self.key(directory), {})

    def record(self, directory: cst.BaseExpression, options: dict[str, str]) -> None:
        self.seen[self.key(directory)] = options

    def options(self, directory: cst.BaseExpression) -> dict[str, str]:
        return self.seen.get(self.key(directory), {})

    def __contains__(self, directory: cst.BaseExpression) -> bool:
        return self.key(directory) in self.seen


_COMPILERS = (m.TO_NEURON, m.CPU_COMPILE)
#: Model methods other steps take care of (generation: sample() and forward calls).
_NOT_LIFECYCLE = m.SAME_METHODS | m.FORWARD_METHODS | {m.SAMPLE}


def plan_lifecycle(
    f: FileMigration, binding: Assignment, model_name: str, compiled: CompiledDirs
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
                _load_instead(f, use, pending_load, compiled)
                pending_load = None
            else:
                _compile(f, use, later, model_name, facts, compiled)
        elif use.method in (m.TO_NEURON, m.CPU_COMPILE, m.SAVE, m.LOAD):
            if not f.plan.replaces(use.statement):
                _manual(f, use, f"{use.method}() is used in a way tnx2nxdi cannot migrate")
        elif use.method is not None and use.method not in _NOT_LIFECYCLE:
            _manual(f, use, f"{use.method}() has no NxDI equivalent tnx2nxdi knows")
    return facts


def _compile(
    f: FileMigration, use: Reference, later: list[Reference], model_name: str,
    facts: LifecycleFacts, compiled: CompiledDirs,
) -> None:
    assert use.statement is not None and use.call is not None
    receiver = code_of(use.node)
    save = _following_save(later)
    if save is not None:
        assert save.statement is not None and save.call is not None
        directory = _first_arg(save.call)
        f.plan.remove(save.statement, into=use.statement)
        _sharded(f, save.call, facts)
        f.state.report("TNX402", f"{receiver}.save({code_of(directory)}) folded into "
                   f"{receiver}.compile({code_of(directory)})", save.call, fixed=True)
    else:
        directory = _default_directory(f, model_name)
    runs_later = any(r.method not in (m.SAVE,) for r in later)
    where_to = code_of(directory)
    compiled.add(directory)
    facts.compiled_into.append(directory)
    new: list[cst.BaseStatement] = [
        expression_statement(expr(f"{receiver}.{m.NXDI_COMPILE}({where_to})"))
    ]
    if runs_later and use.method == m.TO_NEURON:
        new.append(expression_statement(expr(f"{receiver}.{m.NXDI_LOAD}({where_to})")))
    f.plan.replace(use.statement, new)
    became = f"{m.NXDI_COMPILE}({where_to})"
    if len(new) == 2:
        became += f" and {m.NXDI_LOAD}({where_to})"
    if save is None:
        became += " (the program never saved; choose the directory with --compiled-model-path)"
    f.state.report("TNX401", f"{receiver}.{use.method}() became {became}", use.call,
                   fixed=True)


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


def _sharded(f: FileMigration, save: cst.Call, facts: LifecycleFacts) -> None:
    """TNx writes presharded weights only when asked; NxDI's default changed in 2.23."""
    value: cst.BaseExpression = expr("False")
    for arg in save.args:
        if arg.keyword is not None and arg.keyword.value == m.SAVE_SHARDED_KEYWORD:
            value = arg.value
    default = m.nxdi_default(m.SAVE_SHARDED_KEY, f.state.options.target_version)
    if literal_value(value) != default:
        facts.config_kwargs[m.SAVE_SHARDED_KEY] = value


def _default_directory(f: FileMigration, model_name: str) -> cst.BaseExpression:
    chosen = f.state.options.compiled_model_path or m.DEFAULT_COMPILED_DIR.format(name=model_name)
    return expr(string(chosen))


def _load_instead(
    f: FileMigration, use: Reference, load: Reference, compiled: CompiledDirs
) -> None:
    assert use.statement is not None and load.statement is not None
    f.plan.remove(use.statement, into=load.statement)
    node = _first_arg(load.call) if load.call is not None else None
    directory = code_of(node) if node is not None else "?"
    if node is not None and node in compiled:
        f.state.report("TNX404", f"{code_of(load.node)}.{m.NXDI_LOAD}({directory}) loads what the "
                   "program compiled into that directory above; to_neuron() dropped",
                   load.call or load.statement, fixed=True)
        return
    if node is not None and compiled.compiles_somewhere(node):
        f.state.report("TNX404", f"{code_of(load.node)}.{m.NXDI_LOAD}({directory}) loads what the "
                       "program itself compiles into that directory when it is missing; "
                       "to_neuron() dropped (TNx artifacts left there by earlier runs must be "
                       "deleted once)", load.statement, fixed=True)
        return
    message = (
        f"NxDI cannot load TNx-compiled artifacts: compile once into {directory} with "
        f"{code_of(load.node)}.{m.NXDI_COMPILE}({directory}) before this load"
    )
    f.state.report("TNX403", message, load.call or load.statement, fixed=False)


def load_directory(binding: Assignment) -> cst.BaseExpression | None:
    """The directory a model loads before ``to_neuron()``."""
    for use in sorted(binding.references, key=lambda r: r.order):
        if use.method in _COMPILERS:
            return None
        if use.method == m.LOAD and use.call is not None and _first_arg(use.call) is not None:
            return _first_arg(use.call)
    return None


def plan_split_checkpoints(f: FileMigration) -> set[str]:
    """``save_pretrained_split(model, dir)`` -> ``model.save_pretrained(dir)``: NxDI reads a
    standard checkpoint, so the directory the program loads from keeps existing. Returns the
    TNx names whose calls are left for a person."""
    accounted: set[str] = set()
    for binding in f.analysis.imports_from(m.TNX_PACKAGE):
        if binding.qualified not in m.SAVE_PRETRAINED_SPLIT:
            continue
        for _reference, node in f.analysis.calls_of(binding):
            args = [arg for arg in node.args if arg.keyword is None and not arg.star]
            if len(args) != 2 or len(node.args) != 2:
                accounted.add(binding.local)
                continue
            model, directory = (code_of(arg.value) for arg in args)
            f.plan.replace_call(node, expr(f"{model}.{m.HF_SAVE_PRETRAINED}({directory})"))
            f.state.report("TNX405", f"save_pretrained_split({model}, {directory}) became "
                       f"{model}.{m.HF_SAVE_PRETRAINED}({directory}): NxDI reads standard "
                       "checkpoints", node, fixed=True)
    return accounted


def report_cache_settings(f: FileMigration) -> None:
    """TNx's persistent compile cache has no NxDI counterpart: say so where it is set."""
    for text, statement in f.analysis.strings:
        if any(name in text for name in m.CACHE_ENV_VARS) or m.CACHE_DIR_FLAG in text:
            f.state.report(
                "TNX406",
                "NxDI has no Neuron persistent cache, so this setting has no effect: compile "
                "once with model.compile(dir) and reuse that directory (vLLM: "
                f"{m.NXDI_ARTIFACTS_ENV})",
                statement,
                fixed=False,
            )


def _manual(f: FileMigration, use: Reference, message: str) -> None:
    f.state.report("TNX902", message, use.call or use.statement, fixed=False)
