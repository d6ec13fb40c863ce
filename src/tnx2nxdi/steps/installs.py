"""``pip install`` lines, in notebooks (``!pip``, ``%pip``) and shell scripts.

The line that installs TNx is rewritten to install NxDI when the program it serves no longer
uses TNx (notebooks only), else flagged with the Neuron SDK's NxDI install line; a
``transformers`` requirement that excludes the release NxDI pins for the target is flagged.
Shared by the notebook and shell kinds, which write the findings (TNX102, TNX103): it reads
command text, never Python.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from tnx2nxdi import mappings as m

#: ``pip install``, ``pip3 install``, ``python -m pip install``, ``%pip install``.
_PIP = re.compile(r"(?:^|(?<=[\s;&|(!%]))(?:python[\d.]*[ \t]+-m[ \t]+)?pip[\d.]*[ \t]+install\b")
#: The end of one command: a separator, or a line end that is no ``\`` continuation.
_END = re.compile(r"[;&|\n](?<!\\\n)")
_WORD = re.compile(r"[^\s\\]+|\\[^\n]")
#: pip options followed by a value as the next word (``-r requirements.txt``).
_VALUED = frozenset({
    "-r", "--requirement", "-c", "--constraint", "-e", "--editable", "-i", "--index-url",
    "--extra-index-url", "-f", "--find-links", "-t", "--target", "--prefix", "--root", "--src",
    "--upgrade-strategy", "--platform", "--python-version", "--implementation", "--abi",
    "--progress-bar", "--log", "--cache-dir", "--trusted-host", "--proxy", "--timeout",
    "--retries", "--exists-action", "--report", "-C", "--config-settings", "--global-option",
    "--no-binary", "--only-binary",
})
_REQUIREMENT = re.compile(r"(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(?P<extras>\[[^\]]*\])?"
                          r"(?P<specs>.*)")
_SPEC = re.compile(r"\s*(===|~=|==|!=|<=|>=|<|>)\s*([\w.*+!-]+)\s*")


@dataclass(frozen=True)
class Requirement:
    """One requirement of a ``pip install`` command, where it sits in the command text."""

    name: str  #: normalised (lower case, ``-`` for ``_`` and ``.``)
    text: str  #: as written, quotes included
    specs: tuple[tuple[str, str], ...]
    start: int
    end: int


def commands(text: str) -> Iterator[list[Requirement]]:
    """The requirements of each ``pip install`` command in ``text`` (a notebook line, with its
    ``\\`` continuations, or a shell command)."""
    code = text[:_comment_start(text)]
    for match in _PIP.finditer(code):
        end = _END.search(code, match.end())
        yield list(_requirements(code, match.end(), end.start() if end else len(code)))


def _comment_start(text: str) -> int:
    """Where a shell comment starts (``#`` at the start of a word, outside quotes)."""
    quote = None
    for index, char in enumerate(text):
        if quote is not None:
            quote = None if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char == "#" and (index == 0 or text[index - 1].isspace()):
            return index
        elif char == "\n":
            quote = None
    return len(text)


def _requirements(text: str, start: int, end: int) -> Iterator[Requirement]:
    words = list(_WORD.finditer(text, start, end))
    skip = False
    for word in words:
        value = word.group()
        if skip or value.startswith("\\"):
            skip = False
            continue
        if value.startswith("-"):
            skip = value in _VALUED
            continue
        bare = value.strip("\"'")
        parsed = _REQUIREMENT.fullmatch(bare)
        if parsed is None or "/" in bare or ":" in bare:
            continue  # a path, a URL or a wheel file
        specs = _specs(parsed.group("specs"))
        if specs is None:
            continue
        name = re.sub(r"[-_.]+", "-", parsed.group("name")).lower()
        yield Requirement(name, value, specs, word.start(), word.end())


def _specs(text: str) -> tuple[tuple[str, str], ...] | None:
    if not text.strip():
        return ()
    found = []
    for part in text.split(","):
        spec = _SPEC.fullmatch(part)
        if spec is None:
            return None  # an environment marker or something pip reads otherwise
        found.append((spec.group(1), spec.group(2)))
    return tuple(found)


def tnx_requirement(requirements: list[Requirement]) -> Requirement | None:
    return next((r for r in requirements if r.name == m.TNX_DISTRIBUTION), None)


def installs_neuron(text: str) -> bool:
    """Whether some ``pip install`` in ``text`` installs TNx or NxDI (a Neuron setup)."""
    return any(r.name in (m.TNX_DISTRIBUTION, m.NXDI_DISTRIBUTION)
               for requirements in commands(text) for r in requirements)


def rewritten(text: str) -> str | None:
    """``text`` with the TNx requirement of each ``pip install`` replaced by NxDI's (its
    version pin dropped: NxDI versions are not TNx versions), or None when there is none."""
    spans = [r for requirements in commands(text)
             if (r := tnx_requirement(requirements)) is not None]
    if not spans:
        return None
    out, done = [], 0
    for requirement in spans:
        quote = requirement.text[0] if requirement.text[0] in "\"'" else ""
        out += [text[done:requirement.start], f"{quote}{m.NXDI_DISTRIBUTION}{quote}"]
        done = requirement.end
    return "".join([*out, text[done:]])


def tnx_install_message(why_kept: str) -> str:
    return (f"installs {m.TNX_DISTRIBUTION}, which a program moved to NxDI does not use: install "
            f"NxDI as the Neuron SDK does ({m.NXDI_INSTALL}, with the Neuron package repository "
            f"as --extra-index-url); {why_kept}")


def tnx_rewritten_message() -> str:
    return (f"installs {m.NXDI_DISTRIBUTION} instead of {m.TNX_DISTRIBUTION}: the migrated "
            "notebook no longer imports TNx")


def pin_findings(text: str, target: str) -> Iterator[str]:
    """A message for each ``transformers`` requirement that NxDI's pin for ``target`` excludes."""
    pin = m.NXDI_TRANSFORMERS_PINS[target]
    for requirements in commands(text):
        for requirement in requirements:
            if requirement.name != m.TRANSFORMERS_DISTRIBUTION or _allows(requirement.specs, pin):
                continue
            others = [r.text for r in requirements if r.specs and r is not requirement
                      and r.name not in (m.TNX_DISTRIBUTION, m.NXDI_DISTRIBUTION)]
            message = (f"pins {requirement.text.strip(chr(34) + chr(39))}, but NxDI for Neuron "
                       f"{target} requires transformers=={pin}.*: drop the pin or change it to "
                       f"transformers=={pin}.*")
            if others:
                message += f" (the other pins of this line may have to follow: {', '.join(others)})"
            yield message


def _allows(specs: tuple[tuple[str, str], ...], pin: str) -> bool:
    """Whether some ``pin``.x release satisfies every specifier."""
    major_minor = _version(pin)
    candidates = [(*major_minor, patch) for patch in range(100)]
    candidates += [v for _, text in specs if (v := _version(text))[:2] == major_minor]
    return any(all(_satisfies(candidate, op, text) for op, text in specs)
               for candidate in candidates)


def _version(text: str) -> tuple[int, ...]:
    parts = []
    for part in text.split("."):
        digits = re.match(r"\d+", part)
        if digits is None:
            break
        parts.append(int(digits.group()))
    return tuple(parts)


def _satisfies(version: tuple[int, ...], op: str, text: str) -> bool:
    if text.endswith(".*"):
        prefix = _version(text[:-2])
        same = version[:len(prefix)] == prefix
        return same if op == "==" else (not same if op == "!=" else True)
    wanted = _version(text)
    width = max(len(version), len(wanted))
    left, right = _padded(version, width), _padded(wanted, width)
    if op in ("==", "==="):
        return left == right
    if op == "!=":
        return left != right
    if op == "~=":
        return left >= right and version[:len(wanted) - 1] == wanted[:-1]
    return {"<": left < right, "<=": left <= right, ">": left > right, ">=": left >= right}[op]


def _padded(version: tuple[int, ...], width: int) -> tuple[int, ...]:
    return version + (0,) * (width - len(version))


__all__ = ["Requirement", "commands", "installs_neuron", "pin_findings", "rewritten",
           "tnx_install_message", "tnx_requirement", "tnx_rewritten_message"]
