"""TNX920: code built on TNx itself stays on TNx as a whole.

A file that subclasses TNx classes, imports TNx internals (anything beyond the public API in
:data:`tnx2nxdi.mappings.TNX_PUBLIC_NAMES`), names TNx classes or modules in strings, loads TNx
modules by name (``importlib``), keeps TNx model classes in a table to choose from at run time,
drives TNx models it gets from elsewhere, or is part of the TNx package, is a TNx backend: a
partial migration would only break it (an NxDI object handed to TNx code, a re-export deleted, a
checkpoint format TNx cannot read). It gets one finding at its top and no edit at all.

A program that keeps every model it builds on TNx (an unsupported family, a construction left for
a person) stays on TNx too: the rewrites that only help a program running on NxDI are not applied
to it, and the TNx names it still uses need no finding each (:func:`stays_on_tnx`).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import PurePath

import libcst as cst

from tnx2nxdi import mappings as m
from tnx2nxdi.engine import FileMigration
from tnx2nxdi.engine.analysis import Analysis, ImportBinding
from tnx2nxdi.engine.nodes import Statement, code_of, dotted_name, literal_value
from tnx2nxdi.rules import RULES
from tnx2nxdi.steps.models import Models

CODES = frozenset({"TNX920"})
CODE = "TNX920"


def _codes(*names: str) -> frozenset[str]:
    """Rule codes by rule name (the codes other steps write are theirs to declare)."""
    return frozenset(rule.code for rule in RULES if rule.name in names)


#: Findings that mean NxDI cannot run the program at all (no NxDI model for its family, or a TNx
#: backend): it stays on TNx, so "install NxDI instead" would only break it.
_MUST_STAY = _codes("unsupported-family", "tnx-backend")
#: Findings that mean a model moved to NxDI, or is left for a person to move (NxDI can run it).
_MOVES = _codes("model-class", "reopen-compiled", "auto-model", "dynamic-construction")
#: The generic "still uses TNx" finding (names with advice of their own keep theirs).
_STILL_USED = next(iter(_codes("tnx-still-used")))

_DOTTED_TNX = re.compile(rf"{m.TNX_PACKAGE}\.([A-Za-z_]\w*)(\.[A-Za-z_]\w*)*")
_SHOWN = 3


@dataclass(frozen=True)
class Evidence:
    """What shows a file is built on TNx: its kind (a key of ``LIBRARY_ADVICE``) and a short
    description for the finding."""

    kind: str
    what: str


def wants_library(analysis: Analysis, source: str) -> bool:
    """A file that never imports TNx can still be built on it (strings, ``importlib``)."""
    return next(_evidence(analysis, source, None), None) is not None


def plan_library(f: FileMigration) -> bool:
    """One file-level finding, and True, when the file is built on TNx (the caller then plans
    nothing else for it)."""
    found = list(dict.fromkeys(_evidence(f.analysis, f.source, f.state.path)))
    if not found:
        return False
    kinds = {item.kind for item in found}
    kind = next(k for k in ("package", "model", "backend") if k in kinds)
    shown = "; ".join(item.what for item in found[:_SHOWN])
    if len(found) > _SHOWN:
        shown += f"; and {len(found) - _SHOWN} more"
    if kind == "package":
        message = f"TNx's own code ({shown}): tnx2nxdi leaves it as it is; "
    else:
        label = "TNx model code" if kind == "model" else "TNx backend"
        message = (f"{label} ({shown}): tnx2nxdi leaves this file as it is, because a partial "
                   "migration would break it; ")
    message += m.LIBRARY_ADVICE[kind]
    f.state.report(CODE, message, _top_statement(f.module), fixed=False)
    return True


def stays_on_tnx(found: Models) -> bool:
    """The program builds TNx models (assigned to a name, so the tool could follow them) and
    none of them moves to NxDI."""
    return bool(found.constructions) and not found.specs


def quiet_names(f: FileMigration) -> set[str]:
    """In a program that stays on TNx, the TNx names whose "still used" finding would only
    repeat it (the finding of each model left on TNx says so). Names with advice of their own
    (speculation: how NxDI does it) keep their finding."""
    return {
        binding.local for binding in f.analysis.imports_from(m.TNX_PACKAGE)
        if _leftover_code(binding.qualified) == _STILL_USED
    }


def optional_import(analysis: Analysis, binding: ImportBinding) -> bool:
    """A TNx import the file does without when TNx is missing, so that no person needs to act
    on it: an availability probe (``try: import transformers_neuronx`` used only to test the
    name), an import with a non-TNx alternative in the other branch (``if tnx: from
    transformers_neuronx... else: from transformers...``), or a function-local import in a file
    that checks whether TNx is installed (``find_spec("transformers_neuronx")``)."""
    if _probe(analysis, binding) or _alternative(analysis, binding):
        return True
    return isinstance(binding.scope, cst.FunctionDef) and _checks_availability(analysis)


def _probe(analysis: Analysis, binding: ImportBinding) -> bool:
    if not binding.module_import or binding.qualified != m.TNX_PACKAGE:
        return False
    branch = _branch(analysis, binding.statement)
    if branch is None or not isinstance(branch[0], cst.Try) or branch[1] is not (
        branch[0].body
    ) or not any(_catches_import_error(handler) for handler in branch[0].handlers):
        return False
    for reference in analysis.references:
        if reference.key != binding.local or reference.function is not binding.scope:
            continue
        parent = analysis.parents.get(id(reference.node))
        if reference.method is not None or isinstance(parent, cst.Attribute):
            return False  # the module itself is used, not only tested
    return True


def _catches_import_error(handler: cst.ExceptHandler) -> bool:
    if handler.type is None:
        return True
    types = ([element.value for element in handler.type.elements]
             if isinstance(handler.type, cst.Tuple) else [handler.type])
    names = {dotted_name(t) for t in types}
    return bool(names & {"ImportError", "ModuleNotFoundError", "Exception"})


def _alternative(analysis: Analysis, binding: ImportBinding) -> bool:
    branch = _branch(analysis, binding.statement)
    if branch is None:
        return False
    compound, taken = branch
    for other in analysis.imports:
        if other.local != binding.local or other.scope is not binding.scope or m.is_tnx(
            other.qualified
        ):
            continue
        other_branch = _branch(analysis, other.statement, compound)
        if other_branch is not None and other_branch[1] is not taken:
            return True
    return False


def _branch(
    analysis: Analysis, statement: cst.CSTNode, compound: cst.CSTNode | None = None
) -> tuple[cst.CSTNode, cst.CSTNode] | None:
    """The nearest ``if``/``try`` around ``statement`` (or ``compound`` itself, when given) and
    the part of it that holds the statement (its body, a handler, an else or elif branch)."""
    current = statement
    while True:
        parent = analysis.parents.get(id(current))
        if parent is None or isinstance(parent, (cst.FunctionDef, cst.ClassDef, cst.Module)):
            return None
        if isinstance(parent, (cst.If, cst.Try)) and (compound is None or parent is compound):
            return parent, current
        current = parent


def _checks_availability(analysis: Analysis) -> bool:
    """``importlib.util.find_spec("transformers_neuronx")`` somewhere in the file."""
    for site in analysis.calls:
        name = dotted_name(site.call.func) or ""
        if name.split(".")[-1] == "find_spec" and site.call.args and literal_value(
            site.call.args[0].value
        ) == m.TNX_PACKAGE:
            return True
    return False


def must_stay(codes: Iterable[str]) -> bool:
    """From a program's finding codes: NxDI cannot run it, and nothing in it moves to NxDI."""
    found = set(codes)
    return CODE in found or (bool(found & _MUST_STAY) and not found & _MOVES)


# -- evidence -------------------------------------------------------------------------------


def _evidence(analysis: Analysis, source: str, path: str | None) -> Iterator[Evidence]:
    if path is not None and m.TNX_PACKAGE_DIRECTORY in PurePath(path).parts[:-1]:
        yield Evidence("package", f"part of the {m.TNX_PACKAGE} package")
    yield from _subclasses(analysis)
    yield from _internal_names(analysis)
    yield from _named_in_strings(analysis)
    yield from _loaded_by_name(analysis)
    yield from _class_tables(analysis)
    yield from _driven(analysis, source)


def _subclasses(analysis: Analysis) -> Iterator[Evidence]:
    for statement in analysis.statements:
        if not isinstance(statement, cst.ClassDef):
            continue
        for base in statement.bases:
            qualified = analysis.qualified_name(base.value, analysis.chain_of(base.value))
            if m.is_tnx(qualified):
                assert qualified is not None
                kind = "model" if _model_code(qualified) else "backend"
                yield Evidence(kind, f"{statement.name.value} subclasses {qualified}")


def _model_code(qualified: str) -> bool:
    """A model class or a TNx internal (decoder, HLO, module base classes), not a config class
    or the generation adapter."""
    return qualified in m.FAMILY_BY_CLASS or qualified in m.UNSUPPORTED_CLASSES or not (
        m.is_tnx_public(qualified))


def _internal_names(analysis: Analysis) -> Iterator[Evidence]:
    """TNx names beyond the public API, at their import or where a module import reaches
    them (``transformers_neuronx.base.NeuronModelBase``)."""
    for binding in analysis.imports_from(m.TNX_PACKAGE):
        if binding.module_import:
            for alias in _import_names(binding.statement):
                if m.is_tnx(alias) and not m.is_tnx_public(alias):
                    yield Evidence("backend", f"imports {alias}")
        elif not m.is_tnx_public(binding.qualified.removesuffix(".*")):
            yield Evidence("backend", f"imports {binding.qualified}")
    for reference in analysis.references:
        used_binding = analysis.import_for(reference.node, reference.chain) if isinstance(
            reference.node, cst.Name) else None
        if used_binding is None or not m.is_tnx(used_binding.qualified) or not m.is_tnx_public(
            used_binding.qualified
        ):
            continue  # not TNx, or an internal already shown at its import
        used = _dotted_use(analysis, reference.node)
        rest = used.partition(".")[2]
        qualified = f"{used_binding.qualified}.{rest}" if rest else used_binding.qualified
        if not m.is_tnx_public(qualified):
            yield Evidence("backend", f"uses {qualified}")


def _import_names(statement: Statement) -> Iterator[str]:
    if not isinstance(statement, cst.SimpleStatementLine):
        return
    for small in statement.body:
        if isinstance(small, cst.Import):
            for alias in small.names:
                name = dotted_name(alias.name)
                if name is not None:
                    yield name


def _dotted_use(analysis: Analysis, node: cst.BaseExpression) -> str:
    """``a.b.c`` for the Name ``a`` at the head of an attribute chain."""
    current: cst.CSTNode = node
    while True:
        parent = analysis.parents.get(id(current))
        if not isinstance(parent, cst.Attribute) or parent.value is not current:
            break
        current = parent
    assert isinstance(current, cst.BaseExpression)
    return dotted_name(current) or code_of(node)


def _named_in_strings(analysis: Analysis) -> Iterator[Evidence]:
    """``"transformers_neuronx.llama.model"``, ``"llama.model.LlamaForSampling"``: a TNx module
    or class chosen by name. The bare package name (an availability probe) is not one."""
    for raw, _statement in analysis.strings:
        if m.TNX_PACKAGE not in raw and "ForSampling" not in raw:
            continue  # cheap: most strings name nothing of TNx
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the user's "\d" escapes are not ours to report
            value = literal_value(cst.SimpleString(raw))
        if not isinstance(value, str):
            continue
        text = value.strip()
        dotted = _DOTTED_TNX.fullmatch(text)
        if (dotted and dotted.group(1) in m.TNX_SUBMODULES) or (
            f"{m.TNX_PACKAGE}.{text}" in m.TNX_PUBLIC_NAMES and "." in text
        ):
            yield Evidence("backend", f"names {text!r}")


def _loaded_by_name(analysis: Analysis) -> Iterator[Evidence]:
    """``importlib.import_module(f"transformers_neuronx.{name}")``."""
    for site in analysis.calls:
        func = site.call.func
        qualified = analysis.qualified_name(func, site.chain) or dotted_name(func)
        if qualified not in m.IMPORT_BY_NAME or not site.call.args:
            continue
        prefix = _static_prefix(site.call.args[0].value)
        if prefix is not None and prefix.startswith(f"{m.TNX_PACKAGE}."):
            yield Evidence("backend", f"loads {code_of(site.call.args[0].value)} by name")


def _static_prefix(node: cst.BaseExpression) -> str | None:
    if isinstance(node, cst.SimpleString):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    if isinstance(node, cst.FormattedString) and node.parts and isinstance(
        node.parts[0], cst.FormattedStringText
    ):
        return node.parts[0].value
    if isinstance(node, cst.ConcatenatedString):
        return _static_prefix(node.left)
    return None


def _class_tables(analysis: Analysis) -> Iterator[Evidence]:
    """TNx model classes held in a dict, list, tuple or set: chosen at run time."""
    model_classes = {*m.FAMILY_BY_CLASS, *m.UNSUPPORTED_CLASSES, *m.AUTO_MODEL_CLASSES}
    for reference in analysis.references:
        if reference.method is not None:
            continue
        parent = analysis.parents.get(id(reference.node))
        if not isinstance(parent, (cst.DictElement, cst.Element)) or parent.value is not (
            reference.node
        ):
            continue
        qualified = analysis.qualified_name(reference.node, reference.chain)
        if qualified in model_classes:
            yield Evidence("backend", f"keeps {code_of(reference.node)} in a table of classes")


def _driven(analysis: Analysis, source: str) -> Iterator[Evidence]:
    """A file that names TNx without importing it and calls ``to_neuron()`` drives TNx models
    it gets from elsewhere (an exporter's ``neuronx_class``)."""
    if any(analysis.imports_from(m.TNX_PACKAGE)) or m.TNX_PACKAGE not in source:
        return
    for reference in analysis.references:
        if reference.method in m.TNX_DRIVER_METHODS:
            yield Evidence("backend", f"calls {reference.key}.{reference.method}() on a model "
                           "it gets from TNx")
            return


def _leftover_code(qualified: str) -> str:
    for prefix, (code, _advice) in m.MANUAL_SYMBOLS.items():
        if qualified == prefix or qualified.startswith(prefix + "."):
            return code
    return _STILL_USED


def _top_statement(module: cst.Module) -> cst.CSTNode:
    """Where a file-level marker goes: above the first statement after the module docstring
    (so it sits under the license header and the docstring)."""
    body = module.body
    if not body:
        return module
    if len(body) > 1 and isinstance(body[0], cst.SimpleStatementLine) and isinstance(
        body[0].body[0], cst.Expr
    ) and isinstance(body[0].body[0].value, (cst.SimpleString, cst.ConcatenatedString)):
        return body[1]
    return body[0]


__all__ = ["CODES", "Evidence", "must_stay", "plan_library", "quiet_names", "stays_on_tnx",
           "wants_library"]
