"""The marker comments tnx2nxdi leaves where a person must act, for every file kind.

One spelling (``# TODO(tnx2nxdi): TNXnnn <what to do>``), one pattern to find them again, and
one way to re-report markers an earlier run left: they keep asking for a person until someone
deletes them. No LibCST here; Python, notebooks and shell scripts all use it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

PREFIX = "# TODO(tnx2nxdi):"
#: What a marker left by any earlier run looks like on its own line (indentation allowed).
MARKER_LINE = re.compile(r"^([ \t]*)" + re.escape(PREFIX) + r" (TNX\d{3}) (.*?)[ \t\r]*$",
                         re.MULTILINE)
#: Findings of re-reported markers start with this.
REPORTED = "(marker) "


def marker_text(code: str, message: str) -> str:
    return f"{PREFIX} {code} {message}"


@dataclass(frozen=True)
class ExistingMarker:
    code: str
    message: str
    #: 1-based line and column of the marker comment.
    line: int
    column: int


def existing_markers(text: str, produced: Iterable[str]) -> list[ExistingMarker]:
    """Markers in ``text`` that this run did not write itself (``produced`` holds the texts it
    wrote)."""
    if PREFIX not in text:
        return []
    written = set(produced)
    found = []
    for match in MARKER_LINE.finditer(text):
        code, message = match.group(2), match.group(3)
        if marker_text(code, message) in written:
            continue
        line = text.count("\n", 0, match.start()) + 1
        found.append(ExistingMarker(code, REPORTED + message, line, len(match.group(1)) + 1))
    return found
