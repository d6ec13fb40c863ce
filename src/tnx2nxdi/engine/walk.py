"""A read-only traversal of a LibCST tree that does not rebuild it, and the parent links it leaves.

``node.visit(visitor)`` rebuilds every node it passes, even for a read-only ``CSTVisitor``
(each child is re-created through its dataclass constructor and validated), so a read-only pass
costs as much as a transformer, about a parse (docs/performance.md). ``walk`` calls the
same ``on_visit``/``on_leave`` hooks, on the same original nodes and in the same order as
``visit``, without re-creating anything, and skips whitespace and comment nodes for visitors that
have no hook for them. The child order of each node type is learnt once from LibCST itself.
Attribute hooks (``visit_Call_func``) are not supported; ``walk`` refuses visitors that have them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

import libcst as cst

#: Node types that only hold layout: whitespace, newlines, comments and the lines holding them.
_LAYOUT: tuple[type[cst.CSTNode], ...] = (
    cst.SimpleWhitespace, cst.ParenthesizedWhitespace, cst.TrailingWhitespace, cst.EmptyLine,
    cst.Newline, cst.Comment,
)
_LAYOUT_NAMES = frozenset(kind.__name__ for kind in _LAYOUT)

#: Node type -> (the fields LibCST visits, in its order; the other fields). A few types visit a
#: field only when it is set (``FormattedStringExpression.format_spec``): a node whose "other"
#: field holds nodes teaches the type again.
_CHILD_FIELDS: dict[type[cst.CSTNode], tuple[tuple[str, ...], tuple[str, ...]]] = {}
#: Visitor class -> whether it may skip layout nodes (checked once per class).
_SKIPS_LAYOUT: dict[type[cst.CSTVisitor], bool] = {}


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
    ``parents`` (when given) receives ``id(child) -> parent`` for every node walked."""
    _walk(node, visitor, parents, _LAYOUT if _skips_layout(visitor) else ())


def _walk(
    node: cst.CSTNode,
    visitor: cst.CSTVisitor,
    parents: dict[int, cst.CSTNode] | None,
    skip: tuple[type[cst.CSTNode], ...],
) -> None:
    if visitor.on_visit(node):
        for name in _child_fields(node):
            value = getattr(node, name)
            children: Iterable[object] = (
                value if isinstance(value, (tuple, list)) else (value,)
            )
            for child in children:
                if not isinstance(child, cst.CSTNode) or isinstance(child, skip):
                    continue
                if parents is not None:
                    parents[id(child)] = node
                _walk(child, visitor, parents, skip)
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
