"""The package's layers, from its imports: no cycle; the engine (LibCST, no TNx) imports no step,
kind, mapping or rule; the steps (TNx, no parsing) import no kind, runner or CLI; and the
modules on the start-up path never reach LibCST.

Every import counts: top level, inside functions, under ``if TYPE_CHECKING:``, and the string
references that import later (``"tnx2nxdi.kinds.shell:migrate_shell"``,
``importlib.import_module("tnx2nxdi.steps")``). ``from package import name`` is an edge to the
submodule when ``name`` is one, else to the package. Importing ``a.b.c`` also runs ``a.b``'s
``__init__``, so it is an edge to ``a.b`` too, except from inside ``a.b``: Python runs a
module's own packages before the module, so that edge never waits on anything (a package
``__init__`` that imports its submodules is not a cycle; a submodule that reads a name from its
package's ``__init__`` is an explicit edge and counts).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.helpers import ROOT

PACKAGE = "tnx2nxdi"


@dataclass
class Graph:
    """The modules of one package and what each imports (of the package, and LibCST)."""

    modules: dict[str, Path]
    packages: set[str]
    #: A string naming a module of the package, alone or as ``module:attribute``.
    reference: re.Pattern[str]
    edges: dict[str, set[str]] = field(default_factory=dict)
    libcst: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, source_root: Path, package: str) -> Graph:
        modules, packages = {}, set()
        for path in sorted((source_root / package).rglob("*.py")):
            parts = path.relative_to(source_root).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
                packages.add(".".join(parts))
            modules[".".join(parts)] = path
        graph = cls(modules, packages, re.compile(rf"^({package}(?:\.\w+)*)(?::\w+)?$"))
        for name, path in modules.items():
            tree = ast.parse(path.read_text("utf-8"))
            graph.edges[name] = set(graph._imports(name, tree)) - {name}
        return graph

    def _imports(self, name: str, tree: ast.Module) -> Iterator[str]:
        for target in self._targets(name, tree):
            if target.split(".")[0] == "libcst":
                self.libcst.add(name)
            module = self._module(target)
            if module is None:
                continue
            yield module
            yield from self._ancestors(module, excluding=name)

    def _targets(self, name: str, tree: ast.Module) -> Iterator[str]:
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                yield from (alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = self._absolute(name, node.module, node.level)
                names = [f"{base}.{alias.name}" for alias in node.names]
                yield from (full for full in names if full in self.modules)
                if any(full not in self.modules for full in names):
                    yield base  # a name read from the module (or package ``__init__``) itself
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                match = self.reference.match(node.value)
                if match:
                    yield match.group(1)

    def _absolute(self, name: str, module: str | None, level: int) -> str:
        if not level:
            return module or ""
        package = name if name in self.packages else name.rpartition(".")[0]
        base = package.split(".")[: len(package.split(".")) - level + 1]
        return ".".join(base + ([module] if module else []))

    def _module(self, target: str) -> str | None:
        """The package's module ``target`` names (its longest known prefix), if any."""
        parts = target.split(".")
        for end in range(len(parts), 0, -1):
            candidate = ".".join(parts[:end])
            if candidate in self.modules:
                return candidate
        return None

    def _ancestors(self, module: str, excluding: str) -> Iterator[str]:
        parts = module.split(".")
        for end in range(1, len(parts)):
            ancestor = ".".join(parts[:end])
            if not (excluding == ancestor or excluding.startswith(ancestor + ".")):
                yield ancestor

    def cycles(self) -> list[list[str]]:
        """One cycle per strongly connected component with more than one module (or a module
        importing itself)."""
        found, on_path, done = [], [], set()

        def visit(module: str) -> None:
            on_path.append(module)
            for target in sorted(self.edges[module]):
                if target in on_path:
                    found.append(on_path[on_path.index(target):] + [target])
                elif target not in done:
                    visit(target)
            on_path.pop()
            done.add(module)

        for module in sorted(self.modules):
            if module not in done:
                visit(module)
        return found

    def reaches(self, start: str) -> set[str]:
        seen, todo = set(), [start]
        while todo:
            for target in self.edges[todo.pop()] - seen:
                seen.add(target)
                todo.append(target)
        return seen

    def in_layer(self, layer: str) -> list[str]:
        return [name for name in self.modules if name == layer or name.startswith(layer + ".")]


GRAPH = Graph.of(ROOT / "src", PACKAGE)

#: Layer -> the layers it must not import directly.
FORBIDDEN = {
    "tnx2nxdi.engine": ("tnx2nxdi.steps", "tnx2nxdi.kinds", "tnx2nxdi.mappings", "tnx2nxdi.rules"),
    "tnx2nxdi.steps": ("tnx2nxdi.kinds", "tnx2nxdi.runner", "tnx2nxdi.cli"),
}
#: Modules that must never reach LibCST, even through other modules: they are on the start-up
#: path of every run (the CLI, the byte screen, reports) or are plain data.
NO_LIBCST = ("mappings", "literals", "markers", "rules", "findings", "options")


def _in(module: str, layer: str) -> bool:
    return module == layer or module.startswith(layer + ".")


def test_the_graph_sees_the_package() -> None:
    assert {"tnx2nxdi.engine", "tnx2nxdi.steps", "tnx2nxdi.kinds"} <= GRAPH.packages
    assert "tnx2nxdi.steps.overrides" in GRAPH.edges["tnx2nxdi.kinds.shell"]
    assert "tnx2nxdi.steps" in GRAPH.edges["tnx2nxdi.kinds.shell"]  # its __init__ runs first
    assert "tnx2nxdi.kinds.python" in GRAPH.edges["tnx2nxdi.kinds"]  # a function-level import
    assert "tnx2nxdi.engine.analysis" in GRAPH.libcst


def test_no_import_cycle() -> None:
    assert GRAPH.cycles() == []


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_a_layer_does_not_import_the_layers_above_it(layer: str) -> None:
    wrong = sorted(
        f"{module} imports {target}"
        for module in GRAPH.in_layer(layer)
        for target in GRAPH.edges[module]
        if any(_in(target, above) for above in FORBIDDEN[layer])
    )
    assert not wrong, wrong


@pytest.mark.parametrize("name", NO_LIBCST)
def test_start_up_modules_never_reach_libcst(name: str) -> None:
    module = f"{PACKAGE}.{name}"
    reached = sorted(({module} | GRAPH.reaches(module)) & GRAPH.libcst)
    assert not reached, f"{module} reaches LibCST through {reached}"


#: LibCST's entry points that turn text into nodes: the engine parses, steps only plan.
PARSERS = frozenset({"parse_module", "parse_expression", "parse_statement"})


@pytest.mark.parametrize("module", sorted(GRAPH.in_layer(f"{PACKAGE}.steps")))
def test_steps_never_parse(module: str) -> None:
    """Steps build nodes through the engine's helpers (``expr``, ``statement_from``, ...)."""
    tree = ast.parse(GRAPH.modules[module].read_text("utf-8"))
    used = sorted({
        node.attr if isinstance(node, ast.Attribute) else node.id
        for node in ast.walk(tree)
        if (isinstance(node, ast.Attribute) and node.attr in PARSERS)
        or (isinstance(node, ast.Name) and node.id in PARSERS)
    })
    assert not used, f"{module} calls {used}"


# -- the walker itself, on a package made for it ------------------------------------------------


def _package(root: Path, files: dict[str, str]) -> Graph:
    for relative, text in files.items():
        path = root / "pkg" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return Graph.of(root, "pkg")


@pytest.mark.parametrize(
    "importer",
    [
        "from pkg import b\n",
        "def f():\n    from pkg.b import g\n",
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import pkg.b\n",
        'HANDLER = "pkg.b:g"\n',
        'import importlib\nimportlib.import_module("pkg.b")\n',
        "from . import b\n",
    ],
    ids=["top-level", "function", "type-checking", "string", "importlib", "relative"],
)
def test_every_kind_of_import_closes_a_cycle(tmp_path: Path, importer: str) -> None:
    graph = _package(tmp_path, {
        "__init__.py": "", "a.py": importer, "b.py": "from pkg.a import x\ndef g(): ...\n",
    })
    assert ["pkg.a", "pkg.b", "pkg.a"] in graph.cycles()


def test_a_package_init_importing_its_submodules_is_no_cycle(tmp_path: Path) -> None:
    graph = _package(tmp_path, {
        "__init__.py": "", "sub/__init__.py": "from pkg.sub import one, two\n",
        "sub/one.py": "from pkg.sub import two\n", "sub/two.py": "X = 1\n",
        "outside.py": "from pkg.sub.two import X\n",
    })
    assert graph.cycles() == []
    assert graph.edges["pkg.outside"] == {"pkg.sub.two", "pkg.sub"}


def test_reading_a_name_from_the_own_package_init_is_a_cycle(tmp_path: Path) -> None:
    graph = _package(tmp_path, {
        "__init__.py": "", "sub/__init__.py": "from pkg.sub.one import f\nTABLE = 1\n",
        "sub/one.py": "from pkg.sub import TABLE\ndef f(): ...\n",
    })
    assert graph.cycles() == [["pkg.sub", "pkg.sub.one", "pkg.sub"]]


def test_libcst_is_seen_through_other_modules(tmp_path: Path) -> None:
    graph = _package(tmp_path, {
        "__init__.py": "", "data.py": "def f():\n    from pkg import parse\n",
        "parse.py": "import libcst as cst\n",
    })
    assert graph.libcst == {"pkg.parse"}
    assert "pkg.parse" in graph.reaches("pkg.data")
