"""One read-only pass over a module: what was imported from where, and what each name holds.

LibCST's qualified-name and scope metadata cost several times a bare parse
(docs/performance.md), and a migration only needs a little of it: which local names come from
which imports (in which scope), which variables are assigned what, and where they are read or
have methods called on them. :meth:`Analysis.build` records exactly that in one walk, in source
order, and resolves references; its queries answer what a name is bound to and what literal an
expression holds. Nothing here knows about TNx.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import libcst as cst

from tnx2nxdi.engine.nodes import (
    NOT_LITERAL,
    LiteralValue,
    NotLiteral,
    Statement,
    dotted_name,
    is_plain_assign,
    literal_value,
)
from tnx2nxdi.engine.walk import walk

ScopeNode = cst.Module | cst.FunctionDef | cst.ClassDef


@dataclass(frozen=True)
class ImportBinding:
    """A local name bound by an import statement."""

    local: str
    qualified: str
    #: The import line; a compound statement when the import sits in a one-line block.
    statement: Statement
    scope: ScopeNode
    #: ``import a.b`` binds ``a`` to the module ``a``; ``from a import b`` binds ``b``.
    module_import: bool


@dataclass
class Assignment:
    """``key = value`` (key is a name or ``self.attr``), in source order."""

    order: int
    key: str
    value: cst.BaseExpression | None
    statement: Statement
    small: cst.BaseSmallStatement | None
    scope: ScopeNode
    #: The function the assignment sits in (for ``self.attr`` keys, whose scope is the class).
    function: ScopeNode
    #: Scopes names in the assigned value resolve in, innermost first.
    chain: tuple[ScopeNode, ...]
    references: list[Reference] = field(default_factory=list)


@dataclass
class Reference:
    """A read of a name or ``self.attr``; ``method`` is set for ``key.method(...)`` calls."""

    order: int
    key: str
    node: cst.BaseExpression
    statement: Statement | None
    chain: tuple[ScopeNode, ...]
    function: ScopeNode
    method: str | None = None
    call: cst.Call | None = None
    target: Assignment | None = None

    @property
    def standalone(self) -> bool:
        """``key.method(...)`` alone on its line: the shape rewritten statement-wise."""
        statement = self.statement
        return (
            isinstance(statement, cst.SimpleStatementLine)
            and len(statement.body) == 1
            and isinstance(statement.body[0], cst.Expr)
            and statement.body[0].value is self.call
        )


@dataclass(frozen=True)
class CallSite:
    """A call, the statement holding it and the scopes its names resolve in."""

    call: cst.Call
    statement: Statement
    chain: tuple[ScopeNode, ...]


@dataclass(frozen=True)
class ItemAssignment:
    """``target[key] = value`` (``os.environ["X"] = "1"``)."""

    target: cst.Subscript
    value: cst.BaseExpression
    statement: Statement
    chain: tuple[ScopeNode, ...]


class Analysis(cst.CSTVisitor):
    """Imports, assignments, references, calls and statements of one module."""

    def __init__(self) -> None:
        self.imports: list[ImportBinding] = []
        self.assignments: dict[tuple[int, str], list[Assignment]] = {}
        self.references: list[Reference] = []
        self.reference_by_node: dict[int, Reference] = {}
        #: id(func expression) -> the Call it is the function of (for ``Class(...)`` calls).
        self.call_of_func: dict[int, cst.Call] = {}
        #: id(argument value) -> the Call it is passed to.
        self.call_of_arg: dict[int, cst.Call] = {}
        #: Every call in source order, with its statement.
        self.calls: list[CallSite] = []
        self.item_assignments: list[ItemAssignment] = []
        self.function_defs: dict[str, list[cst.FunctionDef]] = {}
        #: Every string literal with the statement holding it.
        self.strings: list[tuple[str, Statement]] = []
        #: Every statement (simple lines and compound statements), in source order.
        self.statements: list[Statement] = []
        #: id(node) -> its parent, for every node walked.
        self.parents: dict[int, cst.CSTNode] = {}
        self.local_names: dict[int, set[str]] = {}
        self.names_seen: set[str] = set()
        self._scopes: list[ScopeNode] = []
        self._statements: list[Statement] = []
        self._skip: set[int] = set()
        self._order = 0

    @classmethod
    def build(cls, module: cst.Module, frozen: Iterable[int] = ()) -> Analysis:
        """Walk ``module`` once and resolve every reference. Statements in ``frozen`` (ids) are
        seen as assigning nothing, and their reads resolve to nothing (they still count as
        reads of imported names)."""
        analysis = cls()
        walk(module, analysis, analysis.parents)  # module.visit() would rebuild the tree
        analysis._resolve_references(frozenset(frozen))
        return analysis

    # -- scopes and statements ------------------------------------------------------------

    def visit_Module(self, node: cst.Module) -> None:
        self._scopes.append(node)

    def _push(self, node: Statement) -> None:
        self._statements.append(node)
        self.statements.append(node)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.function_defs.setdefault(node.name.value, []).append(node)
        self._push(node)
        self._skip.add(id(node.name))
        self._scopes.append(node)
        params = node.params
        for param in (*params.posonly_params, *params.params, *params.kwonly_params):
            self._local(param.name.value)
        for star in (params.star_arg, params.star_kwarg):
            if isinstance(star, cst.Param):
                self._local(star.name.value)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._scopes.pop()
        self._statements.pop()

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._push(node)
        self._skip.add(id(node.name))
        self._scopes.append(node)

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self._scopes.pop()
        self._statements.pop()

    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
        self._push(node)

    def leave_SimpleStatementLine(self, original_node: cst.SimpleStatementLine) -> None:
        self._statements.pop()

    def visit_Del(self, node: cst.Del) -> None:
        # ``del model`` ends the object's life; it is not a use of it.
        targets = node.target.elements if isinstance(node.target, cst.Tuple) else [node.target]
        for target in targets:
            value = target.value if isinstance(target, cst.Element) else target
            self._skip.add(id(value))
            if isinstance(value, cst.Attribute):
                self._skip.add(id(value.value))

    def visit_SimpleString(self, node: cst.SimpleString) -> None:
        if self._statements:
            self.strings.append((node.value, self._statements[-1]))

    def visit_Param(self, node: cst.Param) -> None:
        self._skip.add(id(node.name))

    # -- imports --------------------------------------------------------------------------

    def visit_Import(self, node: cst.Import) -> bool:
        for alias in node.names:
            full = dotted_name(alias.name)
            if full is None:
                continue
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                self._import(alias.asname.name.value, full, module_import=True)
            else:
                head = full.split(".")[0]
                self._import(head, head, module_import=True)
        return False

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        if node.relative or node.module is None:
            return False
        module = dotted_name(node.module)
        if module is None:
            return False
        if isinstance(node.names, cst.ImportStar):
            # Recorded so a star import from TNx is never mistaken for a file without TNx.
            self._import("*", f"{module}.*", module_import=False)
            return False
        for alias in node.names:
            name = dotted_name(alias.name)
            if name is None:
                continue
            local = name
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                local = alias.asname.name.value
            self._import(local, f"{module}.{name}", module_import=False)
        return False

    def _import(self, local: str, qualified: str, *, module_import: bool) -> None:
        if local != "*":
            self._local(local)
        statement = self._statements[-1]
        self.imports.append(
            ImportBinding(local, qualified, statement, self._scopes[-1], module_import)
        )

    # -- assignments and references ---------------------------------------------------------

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            if isinstance(target.target, cst.Subscript) and self._statements:
                self.item_assignments.append(ItemAssignment(
                    target.target, node.value, self._statements[-1], self._chain_for("_")))
            self._assign_target(target.target, node.value, node)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._assign_target(node.target, node.value, node)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._assign_target(node.target, None, node)

    def visit_For(self, node: cst.For) -> None:
        self._push(node)
        self._assign_target(node.target, None, None)

    # Every other compound statement is "the statement" of what its header and one-line block
    # (``if x: import y``) hold; FunctionDef and ClassDef push themselves above.
    def _enter(self, node: cst.BaseCompoundStatement) -> None:
        self._push(node)

    def _exit(self, original_node: cst.BaseCompoundStatement) -> None:
        self._statements.pop()

    visit_If = visit_While = visit_With = visit_Try = visit_TryStar = visit_Match = _enter
    leave_If = leave_While = leave_With = leave_Try = leave_TryStar = leave_Match = _exit
    leave_For = _exit

    def visit_AsName(self, node: cst.AsName) -> None:
        self._assign_target(node.name, None, None)

    def _assign_target(
        self,
        target: cst.BaseExpression,
        value: cst.BaseExpression | None,
        small: cst.BaseSmallStatement | None,
    ) -> None:
        if isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self._assign_target(element.value, None, small)
            return
        key = self._key(target)
        if key is None:
            return
        self._skip.add(id(target))
        if isinstance(target, cst.Attribute):
            self._skip.add(id(target.value))
        if not self._statements:  # `for x in ...:` / `with ... as x:` at module level
            if "." not in key:
                self._local(key)
            return
        scope = self._scope_for(key)
        self._order += 1
        assignment = Assignment(
            self._order, key, value, self._statements[-1], small, scope, self._function(),
            self._chain_for("_"),
        )
        self.assignments.setdefault((id(scope), key), []).append(assignment)
        if "." not in key:
            self._local(key)

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        self.call_of_func[id(func)] = node
        if self._statements:
            self.calls.append(CallSite(node, self._statements[-1], self._chain_for("_")))
        for arg in node.args:
            self.call_of_arg[id(arg.value)] = node
        direct = self._key(func)
        if direct is not None:  # ``model(...)``: a direct forward call, or ``Class(...)``
            self._skip.add(id(func))
            if isinstance(func, cst.Attribute):
                self._skip.add(id(func.value))
            self._reference(direct, func, method="__call__", call=node)
        elif isinstance(func, cst.Attribute):
            key = self._key(func.value)
            if key is not None:
                self._skip.add(id(func.value))
                if isinstance(func.value, cst.Attribute):
                    self._skip.add(id(func.value.value))
                self._reference(key, func.value, method=func.attr.value, call=node)

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self._skip.add(id(node.attr))
        key = self._key(node)
        if key is not None and id(node) not in self._skip:
            self._skip.add(id(node.value))
            self._reference(key, node)

    def visit_Arg(self, node: cst.Arg) -> None:
        if node.keyword is not None:
            self._skip.add(id(node.keyword))

    def visit_Name(self, node: cst.Name) -> None:
        self.names_seen.add(node.value)
        if id(node) not in self._skip:
            self._reference(node.value, node)

    def _reference(
        self,
        key: str,
        node: cst.BaseExpression,
        *,
        method: str | None = None,
        call: cst.Call | None = None,
    ) -> None:
        self._order += 1
        statement = self._statements[-1] if self._statements else None
        chain = self._chain_for(key)
        reference = Reference(
            self._order, key, node, statement, chain, self._function(), method, call
        )
        self.references.append(reference)
        self.reference_by_node[id(node)] = reference

    # -- helpers --------------------------------------------------------------------------

    def _key(self, node: cst.BaseExpression) -> str | None:
        """``model`` or ``self.model``: the two shapes a model object is kept in."""
        if isinstance(node, cst.Name):
            return node.value
        if (
            isinstance(node, cst.Attribute)
            and isinstance(node.value, cst.Name)
            and node.value.value == "self"
            and self._enclosing_class() is not None
        ):
            return f"self.{node.attr.value}"
        return None

    def _local(self, name: str) -> None:
        self.local_names.setdefault(id(self._scopes[-1]), set()).add(name)

    def _function(self) -> ScopeNode:
        return self._scopes[-1]

    def _enclosing_class(self) -> cst.ClassDef | None:
        for scope in reversed(self._scopes[:-1]):
            if isinstance(scope, cst.ClassDef):
                return scope
            if isinstance(scope, cst.FunctionDef):
                continue
        return None

    def _scope_for(self, key: str) -> ScopeNode:
        if key.startswith("self."):
            owner = self._enclosing_class()
            assert owner is not None
            return owner
        return self._scopes[-1]

    def _chain_for(self, key: str) -> tuple[ScopeNode, ...]:
        """Scopes a read of ``key`` may resolve in, innermost first (class bodies skipped)."""
        if key.startswith("self."):
            owner = self._enclosing_class()
            return (owner,) if owner is not None else ()
        chain = [self._scopes[-1]]
        chain += [s for s in reversed(self._scopes[:-1]) if not isinstance(s, cst.ClassDef)]
        return tuple(chain)

    # -- results --------------------------------------------------------------------------

    def _resolve_references(self, frozen: frozenset[int]) -> None:
        """Attach every reference to the assignment it reads, when that can be proven."""
        if frozen:
            for key, assignments in self.assignments.items():
                self.assignments[key] = [a for a in assignments if id(a.statement) not in frozen]
        for reference in self.references:
            if reference.statement is not None and id(reference.statement) in frozen:
                continue
            reference.target = self._resolve(reference)
            if reference.target is not None:
                reference.target.references.append(reference)

    def _resolve(self, reference: Reference) -> Assignment | None:
        for scope in reference.chain:
            assigns = self.assignments.get((id(scope), reference.key))
            if assigns:
                return _pick(assigns, reference)
            if reference.key in self.local_names.get(id(scope), set()):
                return None
        return None

    # -- queries --------------------------------------------------------------------------

    def all_assignments(self) -> Iterator[Assignment]:
        """Every recorded assignment, whatever its scope and key."""
        for assignments in self.assignments.values():
            yield from assignments

    def imports_from(self, package: str) -> Iterator[ImportBinding]:
        """Import bindings of ``package`` and its submodules."""
        for binding in self.imports:
            if binding.qualified == package or binding.qualified.startswith(package + "."):
                yield binding

    def bound_once(self, node: cst.BaseExpression) -> Assignment | None:
        """The plain assignment a name reads when it is the only binding of that name in its
        scope (``buckets = [...]`` then ``f(buckets)``), else None."""
        reference = self.reference_by_node.get(id(node))
        target = reference.target if reference is not None else None
        if target is None or target.value is None or not is_plain_assign(
            target.statement, target.small
        ):
            return None
        if len(self.assignments.get((id(target.scope), target.key), [])) != 1:
            return None
        return target

    def literal(self, node: cst.BaseExpression) -> LiteralValue | NotLiteral:
        """The literal value of an expression, reading through names bound once to literals
        (no user code is evaluated); NOT_LITERAL when it cannot be known."""
        return literal_value(node, self._name_literal)

    def _name_literal(self, node: cst.Name, depth: int = 0) -> LiteralValue | NotLiteral:
        target = self.bound_once(node)
        if target is None or target.value is None or depth > 8:
            return NOT_LITERAL
        return literal_value(target.value, lambda name: self._name_literal(name, depth + 1))

    def value_of(self, node: cst.BaseExpression) -> cst.BaseExpression:
        """The expression a name bound once stands for (followed through names), else node."""
        seen = 0
        while isinstance(node, cst.Name) and seen < 8:
            target = self.bound_once(node)
            if target is None or target.value is None:
                break
            node, seen = target.value, seen + 1
        return node

    def calls_of(self, binding: ImportBinding) -> Iterator[tuple[Reference, cst.Call]]:
        """Calls whose function reads ``binding`` (``name(...)``), with their references."""
        for reference in self.references:
            if reference.key != binding.local:
                continue
            node = self.call_of_func.get(id(reference.node))
            if node is not None:
                yield reference, node

    def assignments_calling(self, qualified: Iterable[str]) -> Iterator[Assignment]:
        """Plain assignments whose value is a call of one of these imported names."""
        names = frozenset(qualified)
        for assignment in self.all_assignments():
            value = assignment.value
            if (
                isinstance(value, cst.Call)
                and is_plain_assign(assignment.statement, assignment.small)
                and self.qualified_name(value.func, assignment.chain) in names
            ):
                yield assignment

    def chain_of(self, node: cst.BaseExpression) -> tuple[ScopeNode, ...]:
        """The scopes the head name of a dotted expression resolves in."""
        head: cst.BaseExpression = node
        while isinstance(head, cst.Attribute):
            head = head.value
        reference = self.reference_by_node.get(id(head))
        return reference.chain if reference is not None else ()

    def qualified_name(
        self, node: cst.BaseExpression, chain: tuple[ScopeNode, ...]
    ) -> str | None:
        """The imported name an expression refers to, if an import in scope proves it."""
        binding = self.import_for(node, chain)
        if binding is None:
            return None
        rest = (dotted_name(node) or "").partition(".")[2]
        return f"{binding.qualified}.{rest}" if rest else binding.qualified

    def import_for(
        self, node: cst.BaseExpression, chain: tuple[ScopeNode, ...]
    ) -> ImportBinding | None:
        """The import binding the head of a dotted name reads, innermost scope first; a scope
        that binds the name otherwise (an assignment, a parameter) hides outer imports."""
        dotted = dotted_name(node)
        if dotted is None:
            return None
        head = dotted.split(".")[0]
        for scope in chain:
            for binding in self.imports:
                if binding.scope is scope and binding.local == head:
                    return binding
            if head in self.local_names.get(id(scope), set()):
                return None
        return None


def _pick(assigns: list[Assignment], reference: Reference) -> Assignment | None:
    """The assignment a read sees: the latest one before it in the same function, or the only
    one when the read is in another function (which may run at any time). A read in the
    statement that assigns (``x = f(x)``) sees the binding before it: the value is evaluated
    first."""
    same_function = [a for a in assigns if a.function is reference.function]
    if same_function:
        earlier = [a for a in same_function if a.order < reference.order
                   and a.statement is not reference.statement]
        if earlier and len(assigns) == len(same_function):
            return earlier[-1]
        return None
    return assigns[0] if len(assigns) == 1 else None
