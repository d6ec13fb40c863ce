"""Literal values as they can be read off source code (no LibCST here: the mapping data and the
engine both use these types)."""

from __future__ import annotations

from enum import Enum

#: A literal Python value as it can be read off source code (lists and tuples of ints become
#: tuples).
LiteralValue = bool | int | float | str | None | tuple[int, ...]


class NotLiteral(Enum):
    """The value of an expression the tool cannot know without running the program."""

    TOKEN = 0


NOT_LITERAL = NotLiteral.TOKEN
