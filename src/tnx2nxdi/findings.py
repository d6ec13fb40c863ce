"""Findings are data: steps record them, the file kinds locate them, the CLI renders them."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Finding:
    """One thing the user should know about a file, at a 1-based line and column."""

    code: str
    message: str
    line: int
    column: int
    #: True when tnx2nxdi migrated it; False when a person has to act.
    fixed: bool
    #: For notebooks: the 1-based index of the code cell (line and column are within the cell).
    cell: int | None = None
    #: Hidden by ``--select``/``--ignore``: what it reports still happened, but it leaves no
    #: marker and does not count as needing attention (``--show-fixes`` and JSON list it).
    ignored: bool = False
    #: Where the code it is about ends (1-based, the column just past it), when known.
    end_line: int | None = None
    end_column: int | None = None
    #: For notebooks: where the cell's line is in the file itself (the JSON text), for tools that
    #: only know file lines (GitHub annotations, SARIF).
    file_line: int | None = None
    file_column: int | None = None


@dataclass(frozen=True)
class Outcome:
    """What a file kind's handler made of one input: texts for diffs and reports, bytes to
    write."""

    original: str
    migrated: str
    data: bytes
    findings: tuple[Finding, ...] = ()
    error: str | None = None
    #: The per-cell diff units of a notebook: (label, old source, new source).
    diff_units: tuple[tuple[str, str, str], ...] | None = None
    #: The error as a finding with a position (TNX998: the file is not valid Python).
    error_finding: Finding | None = None


@dataclass(frozen=True)
class FileResult:
    """What happened to one input."""

    path: str
    original: str | None = None
    migrated: str | None = None
    findings: tuple[Finding, ...] = ()
    #: A one-line reason when the file could not be read, parsed or migrated (exit code 2).
    error: str | None = None
    #: The per-cell diff units of a notebook: (label, old source, new source).
    diff_units: tuple[tuple[str, str, str], ...] | None = None
    #: Not migrated: no marker of TNx in its bytes, or ``skip_reason``.
    skipped: bool = False
    #: Why a file that mentions TNx was skipped (its ``# tnx2nxdi: skip-file`` comment), for
    #: verbose output; None for files the byte screen ruled out.
    skip_reason: str | None = None
    #: The error as a finding with a position (TNX998: the file is not valid Python).
    error_finding: Finding | None = None
    #: Seconds spent on the file (read, migrate, write), for ``--verbose``.
    seconds: float | None = field(default=None, compare=False)

    @property
    def changed(self) -> bool:
        return self.migrated is not None and self.original is not None and (
            self.migrated != self.original
        )

    @property
    def needs_attention(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if not f.fixed and not f.ignored)

    @property
    def ignored(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.ignored)


@dataclass
class RunResult:
    """The results of one run, in input order."""

    files: list[FileResult] = field(default_factory=list)

    @property
    def changed(self) -> list[FileResult]:
        # ``migrated`` first: most files of a large tree were never migrated.
        return [result for result in self.files if result.migrated is not None and result.changed]

    @property
    def errors(self) -> list[FileResult]:
        return [result for result in self.files if result.error is not None]

    @property
    def attention(self) -> int:
        # Most files of a large tree have no findings: only the others are looked at.
        return sum(len(result.needs_attention) for result in self.files if result.findings)

    @property
    def ignored(self) -> int:
        return sum(len(result.ignored) for result in self.files if result.findings)
