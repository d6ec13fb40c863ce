"""A read-only traversal of a LibCST tree that does not rebuild it, and the parent links it leaves.

``node.visit(visitor)`` rebuilds every node it passes, even for a read-only ``CSTVisitor``
(each child is re-created through its dataclass constructor and validated), so a read-only pass
costs as much as a transformer, about a parse (docs/performance.md). ``walk`` calls the same
``on_visit``/``on_leave`` hooks, on the same original nodes and in the same order as ``visit``,
without re-creating anything. The child order of each node type is learnt once from LibCST
itself. Attribute hooks (``visit_Call_func``) are not supported; ``walk`` refuses visitors that
have them.

For a visitor that keeps LibCST's ``on_visit``/``on_leave``, the walk is pruned: it looks up the
visitor's own ``visit_X``/``leave_X`` once per node type (not with a formatted name per node),
and passes by whitespace, comment and punctuation nodes (commas, dots, brackets, operators) it
has no hook for, without visiting them or recording their parents: they hold only whitespace,
and nothing is ever planned on one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable

import libcst as cst

#: Node types that only hold layout: whitespace, newlines, comments and the lines holding them.
_LAYOUT: tuple[type[cst.CSTNode], ...] = (
    cst.SimpleWhitespace, cst.ParenthesizedWhitespace, cst.TrailingWhitespace, cst.EmptyLine,
    cst.Newline, cst.Comment,
)
_LAYOUT_NAMES = frozenset(kind.__name__ for kind in _LAYOUT)

#: Node types that hold only whitespace (``_PUNCTUATION_BASES`` and their subclasses, and these).
_PUNCTUATION_BASES: tuple[type[cst.CSTNode], ...] = (
    cst.BaseBinaryOp, cst.BaseBooleanOp, cst.BaseCompOp, cst.BaseUnaryOp, cst.BaseAugOp,
)
_PUNCTUATION: frozenset[type[cst.CSTNode]] = frozenset({
    # By the classes' own bases: issubclass on LibCST's abstract classes goes through the ABC
    # machinery and took 0.1 s here, at import.
    *(kind for kind in vars(cst).values()
      if isinstance(kind, type) and any(base in kind.__mro__ for base in _PUNCTUATION_BASES)),
    cst.Comma, cst.Dot, cst.Colon, cst.Semicolon, cst.AssignEqual, cst.LeftParen,
    cst.RightParen, cst.LeftSquareBracket, cst.RightSquareBracket, cst.LeftCurlyBrace,
    cst.RightCurlyBrace, cst.ImportStar, cst.Asynchronous,
})

#: Node type -> (the fields LibCST visits, in its order; the other fields). A few types visit a
#: field only when it is set (``FormattedStringExpression.format_spec``): a node whose "other"
#: field holds nodes teaches the type again.
_CHILD_FIELDS: dict[type[cst.CSTNode], tuple[tuple[str, ...], tuple[str, ...]]] = {}
#: Visitor class -> whether it may skip layout nodes (checked once per class).
_SKIPS_LAYOUT: dict[type[cst.CSTVisitor], bool] = {}
Hook = Callable[[cst.CSTVisitor, cst.CSTNode], object]
#: Visitor class -> node type -> its own (visit_X, leave_X), None where it has none.
_HOOKS: dict[type[cst.CSTVisitor], dict[type[cst.CSTNode], tuple[Hook | None, Hook | None]]] = {}
#: Visitor class -> the node types a pruned walk passes by.
_PASSED_BY: dict[type[cst.CSTVisitor], frozenset[type[cst.CSTNode]]] = {}


class _FieldRecorder(cst.CSTVisitor):
    """Notes the fields LibCST visits on one node, without descending into them."""

    def __init__(self, node: cst.CSTNode) -> None:
        super().__init__()
        self.node = node
        self.fields: list[str] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        return False

    def on_visit_attribute(self, node: cst.CSTNode, attribute: str) -> None:
        if node is self.node:
            self.fields.append(attribute)


def _child_fields(node: cst.CSTNode) -> tuple[str, ...]:
    entry = _CHILD_FIELDS.get(type(node))
    if entry is not None:
        for name in entry[1]:
            if _holds_nodes(getattr(node, name)):
                break
        else:
            return entry[0]
    return _learn(node)


def _learn(node: cst.CSTNode) -> tuple[str, ...]:
    recorder = _FieldRecorder(node)
    node._visit_and_replace_children(recorder)  # a shallow rebuild, once per node type
    visited = tuple(dict.fromkeys(recorder.fields))
    others = tuple(  # fields holding text or numbers never hold nodes: not worth a look
        f.name for f in dataclasses.fields(node)
        if f.name not in visited and not isinstance(getattr(node, f.name), (str, int, float))
    )
    _CHILD_FIELDS[type(node)] = (visited, others)
    return visited


def _holds_nodes(value: object) -> bool:
    if isinstance(value, (tuple, list)):
        return any(isinstance(item, cst.CSTNode) for item in value)
    return isinstance(value, cst.CSTNode)


def _skips_layout(visitor: cst.CSTVisitor) -> bool:
    kind = type(visitor)
    skips = _SKIPS_LAYOUT.get(kind)
    if skips is None:
        names = [  # the visitor's own hooks (CSTVisitor defines a no-op for every hook)
            name for name in dir(kind) if name.startswith(("visit_", "leave_"))
            and getattr(kind, name) is not getattr(cst.CSTVisitor, name, None)
        ]
        hooks = {name.split("_", 2)[1] for name in names}
        if any(name.count("_") > 1 for name in names):
            raise TypeError(f"{kind.__name__}: walk() does not call attribute hooks")
        overridden = kind.on_visit is not cst.CSTVisitor.on_visit or (
            kind.on_leave is not cst.CSTVisitor.on_leave
        )
        skips = _SKIPS_LAYOUT[kind] = not overridden and not hooks & _LAYOUT_NAMES
    return skips


def walk(
    node: cst.CSTNode, visitor: cst.CSTVisitor, parents: dict[int, cst.CSTNode] | None = None
) -> None:
    """Visit ``node`` and its descendants like ``node.visit(visitor)``, without rebuilding.
    ``parents`` (when given) receives ``id(child) -> parent`` for every node walked (layout and
    punctuation nodes a pruned walk passes by are not walked)."""
    if _skips_layout(visitor):
        kind = type(visitor)
        hooks = _HOOKS.setdefault(kind, {})
        passed_by = _PASSED_BY.get(kind)
        if passed_by is None:
            passed_by = _PASSED_BY[kind] = frozenset(
                {*_LAYOUT, *(punctuation for punctuation in _PUNCTUATION
                             if _own_hooks(kind, punctuation) == (None, None))}
            )
        _pruned(node, visitor, parents, passed_by, hooks)
    else:
        _walk(node, visitor, parents)


def _own_hooks(
    kind: type[cst.CSTVisitor], node: type[cst.CSTNode]
) -> tuple[Hook | None, Hook | None]:
    """The visitor's own ``visit_X`` and ``leave_X`` (CSTVisitor's no-op defaults are None)."""
    found: list[Hook | None] = []
    for prefix in ("visit_", "leave_"):
        name = prefix + node.__name__
        hook = getattr(kind, name, None)
        found.append(None if hook is None or hook is getattr(cst.CSTVisitor, name, None)
                     else hook)
    return found[0], found[1]


def _pruned(
    node: cst.CSTNode,
    visitor: cst.CSTVisitor,
    parents: dict[int, cst.CSTNode] | None,
    passed_by: frozenset[type[cst.CSTNode]],
    hooks: dict[type[cst.CSTNode], tuple[Hook | None, Hook | None]],
) -> None:
    kind = type(node)
    own = hooks.get(kind)
    if own is None:
        own = hooks[kind] = _own_hooks(type(visitor), kind)
    visit, leave = own
    if visit is None or visit(visitor, node) is not False:
        for name in _child_fields(node):
            value = getattr(node, name)
            children: Iterable[object] = (
                value if isinstance(value, (tuple, list)) else (value,)
            )
            for child in children:
                if type(child) in passed_by or not isinstance(child, cst.CSTNode):
                    continue
                if parents is not None:
                    parents[id(child)] = node
                _pruned(child, visitor, parents, passed_by, hooks)
    if leave is not None:
        leave(visitor, node)


def _walk(
    node: cst.CSTNode, visitor: cst.CSTVisitor, parents: dict[int, cst.CSTNode] | None
) -> None:
    if visitor.on_visit(node):
        for name in _child_fields(node):
            value = getattr(node, name)
            children: Iterable[object] = (
                value if isinstance(value, (tuple, list)) else (value,)
            )
            for child in children:
                if not isinstance(child, cst.CSTNode):
                    continue
                if parents is not None:
                    parents[id(child)] = node
                _walk(child, visitor, parents)
    visitor.on_leave(node)


def with_ancestors(ids: Iterable[int], parents: dict[int, cst.CSTNode]) -> set[int]:
    """``ids`` and the ids of every node above them (per ``parents``)."""
    found: set[int] = set()
    for start in ids:
        current: int | None = start
        while current is not None and current not in found:
            found.add(current)
            parent = parents.get(current)
            current = None if parent is None else id(parent)
    return found
