"""Jupyter notebooks: the code cells migrate as one program, each cell keeps its own text.

A notebook runs its code cells in one namespace, so a config built in one cell and used in a
later one, or an import that sits in any cell, must be seen together. The code cells are joined
into one module with a sentinel comment line at each cell boundary, migrated with
:func:`tnx2nxdi.kinds.python.migrate_source`, and split back on the sentinels (the core carries the
comments of removed statements to the next statement, so sentinels survive every rewrite).

IPython syntax is never handed to LibCST: magics (``%pip``, ``%env``, ``%time``), shell escapes
(``!neuron-ls``, ``files = !ls``), help (``obj?``) and a first-line cell magic (``%%time``) are
masked line by line with placeholder statements and restored afterwards. Cells whose cell magic
runs something other than Python (``%%bash``, ``%%writefile``) are left out of the program.

The file is written by splicing only the ``source`` values of the changed cells into the
original text, in the original style (list of lines or one string, indentation, escaping), so
ids, outputs, execution counts, attachments, metadata and the JSON layout stay byte for byte and
a pull-request diff shows only changed source lines. ``nbformat`` is imported here only, so a run
without notebooks never imports it.
"""

from __future__ import annotations

import ast
import bisect
import codecs
import itertools
import json
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from tnx2nxdi.findings import Finding, Outcome
from tnx2nxdi.mappings import NXDI_PACKAGE, TNX_PACKAGE
from tnx2nxdi.markers import marker_text
from tnx2nxdi.options import Options

if TYPE_CHECKING:
    from tnx2nxdi.engine import Migration

#: The comment line that opens each code cell in the joined program.
SENTINEL = "# tnx2nxdi-cell: "
_SENTINEL_LINE = re.compile(r"^# tnx2nxdi-cell: (\d+)\r?\n", re.MULTILINE)
#: Placeholder statements standing for masked IPython lines (one per physical line).
_PLACEHOLDER = "__tnx2nxdi_ipython_{}__"
_PLACEHOLDER_LINE = re.compile(r"^([ \t]*)__tnx2nxdi_ipython_(\d+)__(?:\r?\n)?", re.MULTILINE)
#: Cell magics whose body is Python run in the notebook's namespace: only the first line is masked.
PYTHON_CELL_MAGICS = frozenset({"time", "timeit", "capture", "prun"})
#: ``?obj``, ``??obj``, ``obj?``, ``obj??`` (IPython help), and ``name = !cmd`` / ``= %magic``.
_HELP = re.compile(r"^\s*(\?\??[\w.]+|[\w.\[\]()'\"]+\?\??)\s*$")
_ASSIGNED_ESCAPE = re.compile(r"^\s*[\w.]+(\s*,\s*[\w.]+)*\s*=\s*[!%]")
_PHYSICAL_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")
_KEY_SOURCE = re.compile(r'"source"\s*:\s*')
#: Between the strings of a JSON list (it always matches, possibly empty).
_ITEM_GAP = re.compile(r"\s*,?\s*")
#: The rule of IPython lines that still name TNx, and of pins NxDI cannot run with.
IPYTHON_RULE = "TNX102"
PIN_RULE = "TNX103"
#: The rule of cells that are not valid Python.
PARSE_ERROR = "TNX998"
#: IPython lines, pins, cells that do not parse, and the internal errors of a notebook whose
#: cells could not be put back.
CODES = frozenset({IPYTHON_RULE, PIN_RULE, PARSE_ERROR, "TNX999"})
_TNX_DISTRIBUTION = re.compile(r"transformers[-_]neuronx", re.IGNORECASE)
_ESCAPED_NON_ASCII = re.compile(r"\\u(?:00[89a-fA-F]|0[1-9a-fA-F]|[1-9a-fA-F])[0-9a-fA-F]{2}")


class NotebookError(Exception):
    """The notebook cannot be migrated; the message is one line for the user. A cell that is not
    valid Python comes with its TNX998 finding, and the cell."""

    def __init__(self, message: str, finding: Finding | None = None,
                 cell: _Cell | None = None) -> None:
        super().__init__(message)
        self.finding = finding
        self.cell = cell


@dataclass
class _Cell:
    """One code cell taking part in the program."""

    number: int  # 1-based among the notebook's code cells
    index: int  # position in ``cells``
    text: str  # the cell's source as one string
    masked: str = ""
    #: The newline of the cells' code ("\r\n" when most of it uses CRLF): what the program
    #: is joined with, so that lines the migration writes use it too.
    newline: str = "\n"
    tree: ast.Module | None = None  # of ``masked``
    #: Placeholder number -> the original physical line (with its newline, if any).
    restores: dict[int, str] = field(default_factory=dict)
    #: Line magics and shell escapes: (first placeholder number, 1-based line, all their text).
    ipython: list[tuple[int, int, str]] = field(default_factory=list)
    #: Placeholder number -> marker comment to write above that line.
    markers: dict[int, str] = field(default_factory=dict)
    #: Placeholder numbers whose line the migration rewrote (in ``restores``).
    rewritten: set[int] = field(default_factory=set)


def migrate_notebook(data: bytes, options: Options, path: str | None = None) -> Outcome:
    """The handler for ``.ipynb`` files (see ``tnx2nxdi.kinds``)."""
    try:
        return _migrate(data, options, path)
    except NotebookError as error:
        text = data.decode("utf-8", errors="replace")
        return Outcome(text, text, data, error=str(error), error_finding=error.finding)


def _migrate(data: bytes, options: Options, path: str | None) -> Outcome:
    bom = data.startswith(codecs.BOM_UTF8)
    try:
        text = data[len(codecs.BOM_UTF8):].decode("utf-8") if bom else data.decode("utf-8")
    except UnicodeDecodeError:
        raise NotebookError("invalid notebook: not UTF-8") from None
    notebook = _read(text)
    if not _is_python(notebook):
        return Outcome(text, text, data)
    try:
        cells = _code_cells(notebook)
    except NotebookError as error:
        if error.finding is None or error.cell is None:
            raise
        [finding] = _in_file([error.finding], text, notebook, [error.cell])
        raise NotebookError(str(error), finding) from None
    if not cells:
        return Outcome(text, text, data)
    program, starts = _join(cells)

    from tnx2nxdi.kinds.python import migrate_source  # LibCST is imported here, not at start-up

    migration = migrate_source(program, options, path)
    if migration.error is not None:
        if migration.error_finding is None:
            raise NotebookError(migration.error)
        [finding] = _in_file([_locate(migration.error_finding, starts)], text, notebook, cells)
        raise NotebookError(f"cannot parse: cell {finding.cell}, line {finding.line}: "
                            f"{finding.message}", finding)
    located = [_locate(finding, starts) for finding in migration.findings]
    located += _ipython_findings(cells, options, migration, program)
    findings = tuple(sorted(_in_file(located, text, notebook, cells), key=_order))
    if migration.code == program and not any(cell.markers or cell.rewritten for cell in cells):
        return Outcome(text, text, data, findings)
    new_sources = _split(migration.code, cells)
    changed = [(cell, new) for cell, new in zip(cells, new_sources, strict=True)
               if new != cell.text]
    new_text = _splice(text, notebook, changed)
    units = tuple((f"cell {cell.number}", cell.text, new) for cell, new in changed)
    new_data = (codecs.BOM_UTF8 if bom else b"") + new_text.encode("utf-8")
    return Outcome(text, new_text, new_data, findings, diff_units=units)


# -- reading ------------------------------------------------------------------------------------


def _read(text: str) -> dict[str, Any]:
    """The notebook as parsed JSON (key order kept), after nbformat has validated it."""
    import nbformat  # only notebooks pay for it

    try:
        notebook = json.loads(text)
    except json.JSONDecodeError as error:
        raise NotebookError(f"invalid notebook: not JSON ({error})") from None
    if not isinstance(notebook, dict) or not isinstance(notebook.get("cells"), list):
        version = notebook.get("nbformat") if isinstance(notebook, dict) else None
        if isinstance(version, int) and version < 4:
            raise NotebookError(f"nbformat {version} notebooks are not supported; save it as "
                                "nbformat 4 (jupyter nbconvert --to notebook) and run again")
        raise NotebookError("invalid notebook: no list of cells")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # nbformat warns about ids it would add; we add none
        try:
            # A copy: validation may repair the dict it is given, and we write from ours.
            nbformat.validate(json.loads(text))
        except nbformat.ValidationError as error:
            first = str(error.message).splitlines()[0] if error.message else "schema error"
            raise NotebookError(f"invalid notebook: {first}") from None
        except Exception as error:  # nbformat raises several kinds for unknown versions
            raise NotebookError(f"invalid notebook: {error}") from None
    return notebook


def _is_python(notebook: dict[str, Any]) -> bool:
    """A notebook for another kernel (R, Julia) has no Python cells to migrate."""
    metadata = notebook.get("metadata") or {}
    language = (metadata.get("language_info") or {}).get("name") or (
        metadata.get("kernelspec") or {}).get("language")
    return language is None or str(language).lower() in ("python", "python3", "ipython")


def _source_text(source: Any) -> str:
    return "".join(source) if isinstance(source, list) else str(source)


def _code_cells(notebook: dict[str, Any]) -> list[_Cell]:
    cells = []
    counter = itertools.count(1)  # placeholder numbers, unique in the whole program
    code = [(index, _source_text(cell.get("source", "")))
            for index, cell in enumerate(notebook["cells"]) if cell.get("cell_type") == "code"]
    crlf = sum(text.count("\r\n") for _, text in code)
    newline = "\r\n" if crlf > sum(text.count("\n") for _, text in code) - crlf else "\n"
    for number, (index, text) in enumerate(code, start=1):
        item = _Cell(number, index, text, newline=newline)
        if _mask(item, counter) and _parses(item):
            cells.append(item)
    return cells


def _parses(cell: _Cell) -> bool:
    """A cell that is not valid Python stops the notebook's migration, naming the cell: leaving
    it out could leave TNx calls on a migrated model behind without a word (a model variable
    does not say it came from TNx)."""
    try:
        tree = cell.tree = _quiet_parse(cell.masked)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as error:
        raise _cell_error("cannot parse", cell, error) from None
    try:
        # Errors the parser lets through ('await' outside function: IPython's autoawait)
        # would otherwise surface as the core's "did not compile" safety net. The user's own
        # SyntaxWarnings (`1(2)`, `"\d"`) are not the tool's to print.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(tree, f"<cell {cell.number}>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as error:
        raise _cell_error("cannot migrate", cell, error) from None
    return True


def _cell_error(what: str, cell: _Cell, error: Exception) -> NotebookError:
    line = getattr(error, "lineno", None) or 1
    reason = getattr(error, "msg", None) or error.__class__.__name__
    message = f"{what}: cell {cell.number}, line {line}: {reason}"
    if not isinstance(error, SyntaxError):
        return NotebookError(message)
    finding = Finding(PARSE_ERROR, str(reason), line, max(1, error.offset or 1), False,
                      cell.number)
    return NotebookError(message, finding, cell)


# -- masking IPython syntax ---------------------------------------------------------------------


def _mask(cell: _Cell, counter: Iterator[int]) -> bool:
    """Fill ``cell.masked``; False when the cell is not Python (a non-Python cell magic)."""
    lines = _physical_lines(cell.text)
    masked: list[str] = []
    state = _Scanner()
    continued = False  # the previous line was an IPython line ending in a backslash
    indent = ""  # of the IPython line being masked: its continuation lines share it
    for position, line in enumerate(lines):
        if position == 0 and line.startswith("%%"):
            name = line[2:].split(maxsplit=1)
            if not name or name[0] not in PYTHON_CELL_MAGICS:
                return False
            masked.append(_placeholder(cell, line, "", counter))
            continue
        if continued or (state.at_statement_start() and _is_ipython(line)):
            if not continued:
                indent = line[: len(line) - len(line.lstrip(" \t"))]
            masked.append(_placeholder(cell, line, indent, counter))
            if continued:
                number, at, text = cell.ipython[-1]
                cell.ipython[-1] = (number, at, text + line)
            else:
                cell.ipython.append((max(cell.restores), position + 1, line))
            continued = line.rstrip("\r\n").endswith("\\")
            continue
        state.feed(line)
        masked.append(line)
    cell.masked = "".join(masked)
    return True


def _physical_lines(text: str) -> list[str]:
    """Lines as Python counts them (``str.splitlines`` also splits at form feeds and
    ``\\u2028``, which Python does not), with their endings."""
    return _PHYSICAL_LINE.findall(text)


def _is_ipython(line: str) -> bool:
    stripped = line.lstrip()
    return (
        stripped[:1] in ("%", "!")
        or bool(_HELP.match(line))
        or bool(_ASSIGNED_ESCAPE.match(line))
    )


def _placeholder(cell: _Cell, line: str, indent: str, counter: Iterator[int]) -> str:
    number = next(counter)
    cell.restores[number] = line
    return indent + _PLACEHOLDER.format(number) + cell.newline


class _Scanner:
    """Just enough of Python's tokenizer to know whether a line starts a new statement:
    bracket depth, open (triple-quoted) strings and backslash continuations."""

    def __init__(self) -> None:
        self.depth = 0
        self.quote: str | None = None
        self.continuation = False

    def at_statement_start(self) -> bool:
        return self.depth == 0 and self.quote is None and not self.continuation

    def feed(self, line: str) -> None:
        body = line.rstrip("\r\n")
        position = 0
        comment = False
        while position < len(body):
            if self.quote is None and body[position] == "#":
                comment = True
                break
            position = self._step(body, position)
        if self.quote is not None and len(self.quote) == 1 and not body.endswith("\\"):
            self.quote = None  # an unterminated one-quote string ends with its line
        self.continuation = not comment and self.quote is None and body.endswith("\\")

    def _step(self, body: str, position: int) -> int:
        char = body[position]
        if self.quote is not None:
            if char == "\\":
                return position + 2
            if body.startswith(self.quote, position):
                end = position + len(self.quote)
                self.quote = None
                return end
            return position + 1
        if char in "\"'":
            triple = body[position:position + 3]
            self.quote = triple if triple in ('"""', "'''") else char
            return position + len(self.quote)
        if char in "([{":
            self.depth += 1
        elif char in ")]}":
            self.depth = max(0, self.depth - 1)
        return position + 1


# -- one program and back -----------------------------------------------------------------------


def _join(cells: list[_Cell]) -> tuple[str, list[tuple[int, int]]]:
    """The program, and for each cell (its 1-based sentinel line, its code-cell number)."""
    parts: list[str] = []
    starts: list[tuple[int, int]] = []
    line = 1
    for cell in cells:
        for reserved in (SENTINEL, _PLACEHOLDER.split("{")[0]):
            if reserved in cell.text:
                raise NotebookError(f"cell {cell.number} contains {reserved.strip()!r}, "
                                    "which tnx2nxdi uses while it migrates a notebook")
        body = cell.masked if not cell.masked or cell.masked.endswith(("\n", "\r")) else (
            cell.masked + cell.newline)
        parts.append(f"{SENTINEL}{cell.number}{cell.newline}{body}")
        starts.append((line, cell.number))
        line += 1 + body.count("\n")
    return "".join(parts), starts


def _split(code: str, cells: list[_Cell]) -> list[str]:
    """Each cell's migrated text, magics restored, cut at the sentinels."""
    matches = list(_SENTINEL_LINE.finditer(code))
    numbers = [int(match.group(1)) for match in matches]
    if numbers != [cell.number for cell in cells] or (matches and matches[0].start() != 0):
        raise NotebookError("TNX999 internal error: cell boundaries were lost in the migration; "
                            "unchanged")
    ends = [match.start() for match in matches[1:]] + [len(code)]
    texts = []
    for cell, match, end in zip(cells, matches, ends, strict=True):
        segment = _unmask(code[match.end():end], cell)
        if cell.text and not cell.text.endswith(("\n", "\r")) and segment.endswith("\n"):
            segment = segment[:-2] if segment.endswith("\r\n") else segment[:-1]
        texts.append(segment)
    return texts


def _unmask(segment: str, cell: _Cell) -> str:
    found: list[int] = []

    def restore(match: re.Match[str]) -> str:
        number = int(match.group(2))
        found.append(number)
        original = cell.restores.get(number)
        if original is None:
            raise NotebookError("TNX999 internal error: an IPython line moved between cells; "
                                "unchanged")
        if number in cell.markers:
            indent = original[: len(original) - len(original.lstrip(" \t"))]
            original = f"{indent}{cell.markers[number]}{cell.newline}{original}"
        return original if original.endswith(("\n", "\r")) else original + cell.newline

    restored = _PLACEHOLDER_LINE.sub(restore, segment)
    if sorted(found) != sorted(cell.restores):
        raise NotebookError(f"TNX999 internal error: IPython lines of cell {cell.number} were "
                            "lost in the migration; unchanged")
    return restored


def _ipython_findings(
    cells: list[_Cell], options: Options, migration: Migration, program: str
) -> list[Finding]:
    """IPython lines that still name TNx (``%pip install transformers-neuronx``,
    ``LlamaForSampling?``) get a finding and a marker above them; the TNx install line is
    rewritten to install NxDI when the migrated notebook no longer imports TNx. Pins NxDI cannot
    run with are marked in notebooks that move to NxDI. A notebook NxDI cannot run at all keeps
    its IPython lines without a word (installing NxDI instead would break it)."""
    from tnx2nxdi.steps import library  # with LibCST, already imported by the migration

    if library.must_stay(finding.code for finding in migration.findings):
        return []
    names = _tnx_names(cells)
    after = _imported_packages(migration.code)
    ported = TNX_PACKAGE not in after and migration.code != program
    pins = bool(names) or NXDI_PACKAGE in after or TNX_PACKAGE in after
    findings = []
    for cell in cells:
        lines = _physical_lines(cell.text)
        for number, at, text in cell.ipython:
            above = {line.strip() for line in lines[max(0, at - 3):at - 1]}
            column = len(text) - len(text.lstrip(" \t")) + 1
            markers = []
            for code, message, fixed in _ipython_notes(cell, number, text, names, ported, pins,
                                                       options.target_version):
                marker = marker_text(code, message)
                if not fixed and marker in above:
                    continue  # marked by an earlier run, which the core reports as a marker
                if not fixed and options.reports(code):
                    markers.append(marker)
                findings.append(Finding(code, message, at, column, fixed, cell.number))
            if markers:
                indent = text[: len(text) - len(text.lstrip(" \t"))]
                cell.markers[number] = f"{cell.newline}{indent}".join(markers)
    return findings


def _ipython_notes(
    cell: _Cell, number: int, text: str, names: set[str], ported: bool, pins: bool,
    target: str,
) -> Iterator[tuple[str, str, bool]]:
    """(code, message, fixed) for one IPython line; a rewrite goes into ``cell.restores``."""
    from tnx2nxdi.steps import installs

    if ported and (new := installs.rewritten(text)) is not None:
        # One placeholder per physical line; the rewrite changes a word, never the lines.
        for offset, line in enumerate(_physical_lines(new)):
            cell.restores[number + offset] = line
        cell.rewritten.add(number)
        yield IPYTHON_RULE, installs.tnx_rewritten_message(), True
    else:
        found = _ipython_finding(text, names, target)
        if found is not None:
            yield found[0], found[1], False
    if pins:
        for message in installs.pin_findings(text, target):
            yield PIN_RULE, message, False


def _imported_packages(code: str) -> set[str]:
    """The top-level packages a (migrated) program imports."""
    try:
        tree = _quiet_parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return set()
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module.split(".")[0])
    return found


def _quiet_parse(code: str) -> ast.Module:
    """``ast.parse`` without printing the user's SyntaxWarnings (``"\\d"`` on 3.12+)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ast.parse(code)


def _tnx_names(cells: list[_Cell]) -> set[str]:
    """Names the notebook imports from TNx (any cell)."""
    names: set[str] = set()
    for cell in cells:
        tree = cell.tree if cell.tree is not None else _quiet_parse(cell.masked)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and not node.level and (
                node.module.split(".")[0] == TNX_PACKAGE
            ):
                names.update(alias.asname or alias.name for alias in node.names)
    names.discard("*")
    return names


def _ipython_finding(text: str, names: set[str], target: str) -> tuple[str, str] | None:
    """TNX102 for a line naming TNx; else what the vLLM migration says about it (the vLLM
    fork's branch a ``!git clone`` installs)."""
    message = _ipython_message(text, names)
    if message is not None:
        return IPYTHON_RULE, message
    from tnx2nxdi.steps.overrides import fork_branch_message  # needs LibCST, loaded by now

    return fork_branch_message(" ".join(text.split()), target)


def _ipython_message(text: str, names: set[str]) -> str | None:
    from tnx2nxdi.steps import installs

    line = " ".join(part.strip().rstrip("\\").strip() for part in text.splitlines())
    if any(installs.tnx_requirement(reqs) for reqs in installs.commands(text)) or (
        _TNX_DISTRIBUTION.search(line) and re.search(r"\binstall\b", line)
    ):
        return installs.tnx_install_message(
            "this notebook still uses TNx, so the line is left as it is")
    used = sorted(names & set(re.findall(r"[A-Za-z_]\w*", line)))
    if _TNX_DISTRIBUTION.search(line) or used:
        shown = ", ".join(used) or "transformers_neuronx"
        return f"this IPython line still refers to TNx ({shown}); update it by hand"
    return None


def _order(finding: Finding) -> tuple[int, int, int, str]:
    return finding.cell or 0, finding.line, finding.column, finding.code


def _cell_of(line: int, starts: list[tuple[int, int]]) -> tuple[int, int]:
    """Program line -> (code-cell number, 1-based line in that cell)."""
    chosen = starts[0]
    for start in starts:
        if start[0] > line:
            break
        chosen = start
    return chosen[1], max(1, line - chosen[0])


def _locate(finding: Finding, starts: list[tuple[int, int]]) -> Finding:
    cell, line = _cell_of(finding.line, starts)
    end_line = None
    if finding.end_line is not None:
        end_cell, end_line = _cell_of(finding.end_line, starts)
        if end_cell != cell:  # cannot happen for code, which never spans a cell boundary
            end_line = None
    return replace(finding, line=line, cell=cell, end_line=end_line,
                   end_column=finding.end_column if end_line is not None else None)


def _in_file(findings: list[Finding], text: str, notebook: dict[str, Any],
             cells: list[_Cell]) -> list[Finding]:
    """Each finding with the line and column its cell's line has in the notebook's own text.

    Saved by Jupyter, a cell's source is a JSON list with one line per item, so the file line is
    that line's; a source saved as one string puts every line of the cell on the file line where
    the string starts (the column then points into it)."""
    if not findings:
        return findings
    by_number = {cell.number: cell for cell in cells}
    spans = _source_spans(text, notebook)
    line_starts = [0] + [match.end() for match in re.finditer(r"\n", text)]
    out = []
    for finding in findings:
        cell = by_number.get(finding.cell or 0)
        if cell is None or cell.index not in spans:
            out.append(finding)
            continue
        offset = _file_offset(text, spans[cell.index][0], _cell_offset(cell.text, finding))
        line = bisect.bisect_right(line_starts, offset) - 1
        out.append(replace(finding, file_line=line + 1, file_column=offset - line_starts[line] + 1))
    return out


def _cell_offset(text: str, finding: Finding) -> int:
    """The offset in a cell's source of a finding's line and column."""
    lines = _physical_lines(text)
    before = sum(len(line) for line in lines[: finding.line - 1])
    current = lines[finding.line - 1] if finding.line <= len(lines) else ""
    return before + min(finding.column - 1, len(current.rstrip("\r\n")))


def _file_offset(text: str, value_start: int, target: int) -> int:
    """The offset in the file of character ``target`` of a ``source`` value that starts at
    ``value_start`` (a JSON string or list of strings), decoding escapes as JSON does."""
    decoder = json.JSONDecoder()
    position, seen = value_start, 0
    strings: list[int] = []  # start offsets of the value's strings, in order
    if text.startswith("[", position):
        position += 1
        while True:
            position = _ITEM_GAP.match(text, position).end()  # type: ignore[union-attr]
            if not text.startswith('"', position):
                break
            strings.append(position)
            _, position = decoder.raw_decode(text, position)
    else:
        strings.append(position)
    for start in strings:
        item, end = decoder.raw_decode(text, start)
        if seen + len(item) > target or start == strings[-1]:
            return _skip_decoded(text, start + 1, min(target - seen, len(item)))
        seen += len(item)
    return value_start


def _skip_decoded(text: str, position: int, count: int) -> int:
    """The offset after ``count`` decoded characters of a JSON string's raw text."""
    for _ in range(count):
        if text[position] != "\\":
            position += 1
        elif text[position + 1] != "u":
            position += 2
        elif 0xD800 <= int(text[position + 2:position + 6], 16) < 0xDC00 and text.startswith(
            "\\u", position + 6
        ):
            position += 12  # a surrogate pair is one character
        else:
            position += 6
    return position


# -- writing ------------------------------------------------------------------------------------


def _splice(text: str, notebook: dict[str, Any], changed: list[tuple[_Cell, str]]) -> str:
    """The original text with only the ``source`` values of changed cells replaced."""
    ensure_ascii = _ensure_ascii(text)
    unit = _indent_unit(text)
    pieces: list[str] = []
    done = 0
    spans = _source_spans(text, notebook)
    for cell, new in changed:
        start, end = spans[cell.index]
        old = notebook["cells"][cell.index]["source"]
        pieces += [text[done:start], _render(old, new, text, start, end, unit, ensure_ascii)]
        done = end
    pieces.append(text[done:])
    result = "".join(pieces)
    expected = json.loads(text)
    for cell, new in changed:
        old = expected["cells"][cell.index]["source"]
        expected["cells"][cell.index]["source"] = _lines(new) if isinstance(old, list) else new
    if json.loads(result) != expected:
        raise NotebookError("TNX999 internal error: the notebook could not be rewritten in "
                            "its own layout; unchanged")
    return result


def _source_spans(text: str, notebook: dict[str, Any]) -> dict[int, tuple[int, int]]:
    """Cell index -> (start, end) of its ``source`` value in the text, in cell order.

    ``"source"`` cannot occur unescaped inside a JSON string, and each candidate's decoded value
    must equal the cell's source, so a key of the same name in outputs or metadata is skipped.
    """
    decoder = json.JSONDecoder()
    spans: dict[int, tuple[int, int]] = {}
    position = max(0, text.find('"cells"'))
    for index, cell in enumerate(notebook["cells"]):
        while True:
            match = _KEY_SOURCE.search(text, position)
            if match is None:
                raise NotebookError("TNX999 internal error: the source of a cell was not found "
                                    "in the notebook text; unchanged")
            try:
                value, end = decoder.raw_decode(text, match.end())
            except json.JSONDecodeError:
                position = match.end()
                continue
            position = end
            if value == cell.get("source"):
                spans[index] = (match.end(), end)
                break
    return spans


def _render(old: Any, new: str, text: str, start: int, end: int, unit: str | None,
            ensure_ascii: bool) -> str:
    """The new ``source`` value written the way the old one was (or the file's way)."""
    if not isinstance(old, list):
        return json.dumps(new, ensure_ascii=ensure_ascii)
    items = [json.dumps(line, ensure_ascii=ensure_ascii) for line in _lines(new)]
    original = text[start:end]
    item_indent = _first_item_indent(original)
    if item_indent is None and "\n" not in original and unit is None or not items:
        separator = ", " if re.search(r'",\s', original) or ": " in text else ","
        return "[" + separator.join(items) + "]"
    if item_indent is None:
        item_indent = _line_indent(text, start) + (unit or " ")
    closing = original[original.rfind("\n") + 1:-1] if "\n" in original else (
        _line_indent(text, start))
    newline = "\r\n" if "\r\n" in text else "\n"
    joined = ("," + newline + item_indent).join(items)
    return "[" + newline + item_indent + joined + newline + closing + "]"


def _lines(text: str) -> list[str]:
    """nbformat's own split: lines with their endings."""
    return text.splitlines(keepends=True)


def _line_indent(text: str, position: int) -> str:
    line_start = text.rfind("\n", 0, position) + 1
    line = text[line_start:position]
    return line[: len(line) - len(line.lstrip(" \t"))]


def _first_item_indent(original: str) -> str | None:
    match = re.match(r"\[\r?\n([ \t]*)\"", original)
    return match.group(1) if match else None


def _indent_unit(text: str) -> str | None:
    match = re.match(r"\{\r?\n([ \t]+)\"", text)
    return match.group(1) if match else None


def _ensure_ascii(text: str) -> bool:
    """Escape non-ASCII like the file does: Jupyter writes it raw, other tools escape it."""
    if any(ord(char) > 127 for char in text):
        return False
    return bool(_ESCAPED_NON_ASCII.search(text))


def code_cell_sources(data: bytes) -> Iterator[tuple[int, str]]:
    """(code-cell number, source) of each code cell: for tests and tools reading results."""
    notebook = json.loads(data.decode("utf-8-sig"))
    number = 0
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") == "code":
            number += 1
            yield number, _source_text(cell.get("source", ""))
