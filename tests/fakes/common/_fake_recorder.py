"""Event recorder shared by the fake TNx, NxDI, torch, transformers and vLLM packages.

Every fake call that matters for a migration appends one event (a dict with a "kind") to
EVENTS. The execution harness resets the list before running a program and reads it afterwards.
"""

from __future__ import annotations

from typing import Any

EVENTS: list[dict[str, Any]] = []


def record(kind: str, **data: Any) -> dict[str, Any]:
    """Append an event of `kind` with `data` and return it."""
    event = {"kind": kind, **data}
    EVENTS.append(event)
    return event


def reset() -> None:
    """Forget all recorded events."""
    EVENTS.clear()
