"""Synthetic source trees for the benchmark: ordinary Python modules plus TNx programs.

Non-TNx modules are built from units of everyday library code (dataclasses, functions with loops
and branches, classes with methods, constants, small tests) under an import header that mentions
``transformers`` and ``torch`` (so the byte prefilter sees near misses). TNx programs are the
fixtures' inputs (``fixtures/*/*.in.py``, taken round-robin, so the benchmark follows the fixtures
as they grow) followed by helper code, which makes them the size of a real inference script.
Everything is deterministic for a given seed.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"

_HEADERS = (
    "import json\nimport os\nfrom dataclasses import dataclass, field\n"
    "from typing import Any\n",
    "import logging\nimport math\n\nimport torch\nfrom torch import nn\n",
    "from __future__ import annotations\n\nimport argparse\nimport time\n\n"
    "from transformers import AutoTokenizer, GenerationConfig\n",
    "import collections\nimport itertools\nfrom pathlib import Path\n",
)
_WORDS = (
    "batch", "token", "prompt", "shard", "weight", "layer", "cache", "request", "metric", "window",
    "score", "record", "bucket", "device", "queue", "result", "config", "sample", "output", "step",
)


@dataclass(frozen=True)
class Tree:
    root: Path
    files: int
    tnx_files: tuple[Path, ...]
    lines: int
    bytes: int


def _name(rng: random.Random, serial: int) -> str:
    return f"{rng.choice(_WORDS)}_{rng.choice(_WORDS)}_{serial}"


def _dataclass(rng: random.Random, serial: int) -> str:
    name = "".join(part.title() for part in _name(rng, serial).split("_"))
    fields = "".join(
        f"    {rng.choice(_WORDS)}_{i}: {rng.choice(('int', 'str', 'float', 'bool'))} = "
        f"{rng.choice(('0', repr('x'), '1.5', 'False'))}\n"
        for i in range(rng.randint(2, 7))
    )
    return (
        f"@dataclass(frozen=True)\nclass {name}:\n"
        f'    """A {rng.choice(_WORDS)} as the service stores it."""\n\n{fields}'
    )


def _function(rng: random.Random, serial: int) -> str:
    name, item = _name(rng, serial), rng.choice(_WORDS)
    limit = rng.randint(2, 64)
    return (
        f"def {name}(items: list[dict], limit: int = {limit}) -> dict[str, int]:\n"
        f'    """Count {item}s by kind, keeping at most ``limit`` of each."""\n'
        f"    counts: dict[str, int] = {{}}\n"
        f"    for index, entry in enumerate(items):\n"
        f"        kind = str(entry.get('kind', 'unknown')).lower()\n"
        f"        if counts.get(kind, 0) >= limit:\n"
        f"            continue  # enough of this kind\n"
        f"        elif index % {rng.randint(2, 9)} == 0 and entry.get('{item}'):\n"
        f"            counts[kind] = counts.get(kind, 0) + 2\n"
        f"        else:\n"
        f"            counts[kind] = counts.get(kind, 0) + 1\n"
        f"    return {{key: value for key, value in sorted(counts.items()) if value}}\n"
    )


def _class(rng: random.Random, serial: int) -> str:
    name = "".join(part.title() for part in _name(rng, serial).split("_"))
    word = rng.choice(_WORDS)
    return (
        f"class {name}:\n"
        f'    """Keeps recent {word}s and reports on them."""\n\n'
        f"    def __init__(self, capacity: int = {rng.randint(8, 4096)}) -> None:\n"
        f"        self.capacity = capacity\n"
        f"        self._items: list[tuple[float, str]] = []\n\n"
        f"    def add(self, when: float, value: str) -> None:\n"
        f"        self._items.append((when, value))\n"
        f"        if len(self._items) > self.capacity:\n"
        f"            del self._items[: len(self._items) - self.capacity]\n\n"
        f"    def since(self, start: float) -> list[str]:\n"
        f"        return [value for when, value in self._items if when >= start]\n\n"
        f"    def __repr__(self) -> str:\n"
        f'        return f"{name}(capacity={{self.capacity}}, held={{len(self._items)}})"\n'
    )


def _constants(rng: random.Random, serial: int) -> str:
    entries = "".join(
        f'    "{rng.choice(_WORDS)}_{i}": {rng.randint(0, 10_000)},\n'
        for i in range(rng.randint(3, 12))
    )
    service = rng.choice(_WORDS)
    return f"# Defaults for the {service} service.\nDEFAULTS_{serial} = {{\n{entries}}}\n"


def _test(rng: random.Random, serial: int) -> str:
    a, b = rng.randint(1, 99), rng.randint(1, 99)
    return (
        f"def test_{_name(rng, serial)}() -> None:\n"
        f"    values = [x * {a} for x in range({b}) if x % 3]\n"
        f"    assert sum(values) >= 0, values\n"
        f"    with open(__file__, encoding='utf-8') as handle:\n"
        f"        assert handle.readline()\n"
    )


_UNITS: tuple[Callable[[random.Random, int], str], ...] = (
    _dataclass, _function, _class, _constants, _test,
)


def _units(rng: random.Random, count: int) -> str:
    return "\n\n".join(rng.choice(_UNITS)(rng, serial) for serial in range(count))


def plain_module(rng: random.Random) -> str:
    """An ordinary module: 2 to 30 units, about 150 lines on average."""
    return f'"""Module {rng.randint(0, 99_999)}."""\n\n{rng.choice(_HEADERS)}\n\n' + (
        _units(rng, rng.randint(2, 30)) + "\n"
    )


def fixture_inputs() -> list[str]:
    return [path.read_text() for path in sorted(FIXTURES.glob("*/*.in.py"))]


def tnx_program(rng: random.Random, fixture: str, *, helpers: bool = True) -> str:
    """A fixture's TNx program followed by the helper code a real script carries (``helpers``
    False: the program alone, a dense short file where nearly every line is TNx)."""
    if not helpers:
        return fixture
    return fixture.rstrip("\n") + "\n\n\n" + _units(rng, rng.randint(4, 12)) + "\n"


def build(root: Path, files: int, tnx_fraction: float, seed: int = 8, *,
          helpers: bool = True) -> Tree:
    """``files`` modules under ``root`` (100 per directory), ``tnx_fraction`` of them TNx programs
    spread evenly through the tree (``helpers``: see ``tnx_program``)."""
    rng = random.Random(seed)
    fixtures = fixture_inputs()
    tnx_count = round(files * tnx_fraction)
    every = files / tnx_count if tnx_count else 0.0
    tnx_slots = {int(i * every) for i in range(tnx_count)}
    tnx_paths: list[Path] = []
    lines = size = 0
    for index in range(files):
        package = root / f"pkg{index // 100:03d}"
        if index % 100 == 0:
            package.mkdir(parents=True, exist_ok=True)
        if index in tnx_slots:
            text = tnx_program(rng, fixtures[len(tnx_paths) % len(fixtures)], helpers=helpers)
            path = package / f"serve_{index:05d}.py"
            tnx_paths.append(path)
        else:
            text = plain_module(rng)
            path = package / f"mod_{index:05d}.py"
        path.write_text(text)
        lines += text.count("\n")
        size += len(text.encode())
    return Tree(root, files, tuple(tnx_paths), lines, size)
