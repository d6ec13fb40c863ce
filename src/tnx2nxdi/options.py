"""Run options, shared by the CLI, the runner and the steps (no LibCST here)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from tnx2nxdi.mappings import DEFAULT_TARGET_VERSION

#: "write" (in place), "diff" or "check": only "write" touches files.
Mode = Literal["write", "diff", "check"]
#: How findings are printed (``--output-format``; ``report.OUTPUT_FORMATS`` lists the same).
OutputFormat = Literal["text", "json", "github", "markdown", "sarif"]


@dataclass(frozen=True)
class Options:
    #: NxDI release whose defaults apply.
    target_version: str = DEFAULT_TARGET_VERSION
    #: Compile directory for programs that never saved one (None: named after the model).
    compiled_model_path: str | None = None
    #: Finding codes to report (None: all) and to leave out.
    select: frozenset[str] | None = None
    ignore: frozenset[str] = frozenset()
    mode: Mode = "write"
    #: Worker processes for the files that need parsing (below 1: one per CPU; see runner.run).
    jobs: int = 1
    #: Exclude globs as made by ``discovery.anchor``; ``force_exclude`` applies them (and
    #: ``.gitignore``) to explicitly named files too.
    exclude: tuple[str, ...] = ()
    force_exclude: bool = False

    def reports(self, code: str) -> bool:
        if code in self.ignore:
            return False
        return self.select is None or code in self.select
