"""Shell launch scripts that start vLLM for Neuron (``python -m vllm.entrypoints...``,
``vllm serve``): the JSON after ``--override-neuron-config`` (or in the V1 plugin's
``--additional-config``) is migrated like a Python ``override_neuron_config``, what only vLLM's TNx
loader read (``--quantization neuron_quant`` with ``NEURON_QUANT_DTYPE``, the bucket variables)
is moved into it, ``export VLLM_NEURON_FRAMEWORK=neuronx-distributed-inference`` is added before
the server starts (or a ``transformers-neuronx`` value rewritten), and what NxDI through vLLM does
not support gets findings at its line and a marker comment above it. What to write is decided by
:mod:`tnx2nxdi.steps.overrides`, as for Python programs; this module reads and edits the text.

The script is handled line by line (comments, ``\\`` continuations and here-documents are
recognised); nothing is touched unless a line launches vLLM for Neuron. A variable used in a
launch command (``--model "$MODEL"``, ``--override-neuron-config "$OVERRIDES"``) is read where
it is assigned once to a literal. The result must pass ``bash -n`` whenever the original did,
or the file is left unchanged with an error.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field

from tnx2nxdi import mappings as m
from tnx2nxdi.engine.nodes import CannotRead
from tnx2nxdi.engine.state import Reporter
from tnx2nxdi.findings import Finding, Outcome
from tnx2nxdi.literals import NOT_LITERAL
from tnx2nxdi.markers import existing_markers, marker_text
from tnx2nxdi.options import Options
from tnx2nxdi.steps import installs, overrides

#: What the script kind writes itself; the shared vLLM translation (``steps.overrides``) and the
#: option translator it uses declare theirs.
CODES = frozenset({"TNX102", "TNX103", "TNX601", "TNX602", "TNX603", "TNX604", "TNX999"})
_LAUNCH = [re.compile(pattern) for pattern in m.SHELL_LAUNCH_PATTERNS]
_DEVICE = re.compile(re.escape(m.SHELL_DEVICE_FLAG) + r"(?:=|[ \t]+)[\"']?"
                     + re.escape(m.VLLM_NEURON_DEVICE) + r"\b")
_FRAMEWORK = re.compile(r"(?<![\w$])" + m.VLLM_FRAMEWORK_ENV + r"=(\"[^\"]*\"|'[^']*'|[^\s;&|]*)")
#: ``NAME=value`` (any variable), with the keyword that may precede it.
_ASSIGN = re.compile(r"(?:^|(?<=[\s;&|(]))((?:export|local|readonly|declare)[ \t]+)?"
                     r"([A-Za-z_][A-Za-z0-9_]*)=")
_VARIABLE = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))")
_HEREDOC = re.compile(r"<<(-?)[ \t]*([\"']?)([A-Za-z_][A-Za-z0-9_]*)\2")
_SERVE = re.compile(r"(?:^|(?<=[\s;&|(`]))vllm[ \t]+serve(?=[ \t]|\\\r?\n)")
_ENTRYPOINT = re.compile(r"vllm\.entrypoints(?:\.[A-Za-z_]+)+")
_WORD_END = set(" \t\r\n;&|<>()")
#: Compound-command keywords in command position, and ``{`` / ``}`` words (nesting depth).
_COMMAND_START = r"(?:^|(?<=[;&|({])|(?<=\bthen)|(?<=\bdo)|(?<=\belse))[ \t]*"
_OPENS = re.compile(_COMMAND_START + r"(?:if|case|for|while|until|select)(?![\w-])"
                    r"|(?<![\w$]){(?=\s|$)", re.MULTILINE)
_CLOSES = re.compile(_COMMAND_START + r"(?:fi|esac|done)(?![\w-])|(?<![\w$])}(?=[\s;&|)]|$)",
                     re.MULTILINE)
_QUOTED = re.compile(r"'[^']*'|\"(?:[^\"\\]|\\.)*\"")
_SAFE_UNQUOTED = re.compile(r"^[A-Za-z0-9_{}\":.+/-]*$")
_SHELL_ESCAPED_IN_DOUBLE = set('\\"$`')


@dataclass
class _Command:
    """A logical command: physical lines ``first..last`` (0-based, inclusive)."""

    first: int
    last: int
    text: str
    comment: bool = False


@dataclass
class _Result:
    lines: list[str]
    newline: str
    findings: list[Finding] = field(default_factory=list)
    #: Physical line index -> marker texts to put above it.
    markers: dict[int, list[str]] = field(default_factory=dict)
    inserts: dict[int, list[str]] = field(default_factory=dict)

    def report(self, code: str, message: str, line: int, *, fixed: bool, options: Options,
               marker_at: int | None = None, column: int | None = None) -> None:
        """A finding at physical line ``line``; its marker goes above ``marker_at`` (the first
        line of the command, so that no comment lands inside a ``\\`` continuation)."""
        shown = len(_indent(self.lines[line])) + 1 if column is None else column
        self.findings.append(Finding(code, message, line + 1, shown, fixed))
        if not fixed and options.reports(code):
            at = line if marker_at is None else marker_at
            self.markers.setdefault(at, []).append(marker_text(code, message))


def migrate_shell(data: bytes, options: Options, path: str | None = None) -> Outcome:
    """The handler for ``.sh`` files (see ``tnx2nxdi.kinds``)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return Outcome("", "", data, error="not UTF-8")
    code, findings, error = migrate_script(text, options)
    if error is not None:
        return Outcome(text, text, data, findings, error)
    return Outcome(text, code, data if code == text else code.encode("utf-8"), findings)


def migrate_script(text: str, options: Options) -> tuple[str, tuple[Finding, ...], str | None]:
    """``(migrated text, findings, error)``; on error the text comes back unchanged."""
    lines = text.splitlines(keepends=True)
    newline = "\r\n" if lines and lines[0].endswith("\r\n") else "\n"
    result = _Result(list(lines), newline)
    script = _Script(list(_commands(lines)), result, options)
    if script.is_neuron_launch_script():
        _migrate(script)
    _fork_branches(script)
    _installs(script)
    script.apply_edits()
    code = _render(result)
    produced = {text for texts in result.markers.values() for text in texts}
    earlier = [Finding(marker.code, marker.message, marker.line, marker.column, fixed=False)
               for marker in existing_markers(text, produced)]
    findings = sorted([*result.findings, *earlier], key=lambda f: (f.line, f.column, f.code))
    if code != text and not _still_parses(text, code):
        return text, (), "TNX999 internal error: the migrated script fails `bash -n`; unchanged"
    return code, tuple(findings), None


# -- reading the script --------------------------------------------------------------------------


def _commands(lines: list[str]) -> Iterator[_Command]:
    """Logical commands, skipping here-document bodies."""
    index = 0
    while index < len(lines):
        first = index
        stripped = lines[index].strip()
        if stripped.startswith("#"):
            yield _Command(index, index, lines[index], comment=True)
            index += 1
            continue
        while _continues(lines[index]) and index + 1 < len(lines):
            index += 1
        text = "".join(lines[first:index + 1])
        yield _Command(first, index, text)
        index += 1
        for match in _HEREDOC.finditer(_code_part(text)):
            index = _skip_heredoc(lines, index, match.group(3), strip_tabs=bool(match.group(1)))


def _continues(line: str) -> bool:
    body = line.rstrip("\r\n")
    return (len(body) - len(body.rstrip("\\"))) % 2 == 1


def _skip_heredoc(lines: list[str], index: int, delimiter: str, *, strip_tabs: bool) -> int:
    while index < len(lines):
        line = lines[index].rstrip("\r\n")
        index += 1
        if (line.lstrip("\t") if strip_tabs else line) == delimiter:
            break
    return index


def _code_part(text: str) -> str:
    """The command without a trailing comment (a ``#`` that starts a word)."""
    return re.sub(r"(^|[ \t])#[^\n]*", r"\1", text)


def _launches(command: _Command) -> bool:
    code = _code_part(command.text)
    return not command.comment and any(pattern.search(code) for pattern in _LAUNCH)


def _framework_values(commands: list[_Command]) -> list[tuple[_Command, re.Match[str]]]:
    return [(command, match) for command in commands if not command.comment
            for match in _FRAMEWORK.finditer(_code_part(command.text))]


def _unquote(value: str) -> str:
    return value[1:-1] if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'" else (
        value)


def _line_of(command: _Command, offset: int) -> int:
    return command.first + command.text.count("\n", 0, offset)


def _column_of(command: _Command, offset: int) -> int:
    return offset - (command.text.rfind("\n", 0, offset) + 1) + 1


def _quoted_spans(code: str) -> list[tuple[int, int]]:
    return [match.span() for match in _QUOTED.finditer(code)]


def _inside(offset: int, spans: list[tuple[int, int]]) -> bool:
    return any(start < offset < end for start, end in spans)


# -- vLLM launches: reading ------------------------------------------------------------------------


@dataclass
class _Assignment:
    """``NAME=value`` in a command (after ``export`` / ``local``, or prefixing a command)."""

    command: _Command
    name: str
    #: Offset of ``NAME`` in the command's text, and the value's word (None: ``NAME=``).
    start: int
    word: _Word | None
    exported: bool
    #: It prefixes the command that follows it (``NAME=v vllm serve ...``).
    prefix: bool

    @property
    def value(self) -> str | None:
        """The literal it assigns (None when it uses expansions)."""
        if self.word is None:
            return ""
        return None if self.word.dynamic else self.word.value


@dataclass
class _Flag:
    """``--flag value`` (or ``--flag=value``) in a command."""

    start: int
    word: _Word | None
    #: Its literal value, read through a variable assigned once; None when unknown.
    value: str | None
    #: The assignment the value was read from (None: written in the command itself).
    source: _Assignment | None = None


def _assignments(commands: list[_Command]) -> list[_Assignment]:
    codes = [(command, _code_part(command.text)) for command in commands if not command.comment]
    every = "\n".join(code for _, code in codes)
    auto_export = re.search(r"(?:^|[\s;&|])set[ \t]+-[A-Za-z]*a", every, re.MULTILINE)
    exported_names = {name for match in re.finditer(
        r"(?<![\w-])export((?:[ \t]+[A-Za-z_][A-Za-z0-9_]*(?=[\s;&|]|$))+)", every,
        re.MULTILINE) for name in match.group(1).split()}
    found = []
    for command, code in codes:
        quoted = _quoted_spans(code)
        for match in _ASSIGN.finditer(code):
            if _inside(match.start(), quoted):
                continue
            word = _read_word(code, match.end())
            end = word.end if word is not None else match.end()
            keyword = (match.group(1) or "").strip()
            prefix = not keyword and re.match(
                r"[ \t]+(?![A-Za-z_][A-Za-z0-9_]*=)[^\s;&|#]", code[end:]) is not None
            exported = (keyword in ("export", "declare") or match.group(2) in exported_names
                        or auto_export is not None)
            found.append(_Assignment(command, match.group(2), match.start(2), word, exported,
                                     prefix))
    return found


@dataclass
class _Script:
    commands: list[_Command]
    result: _Result
    options: Options
    assignments: list[_Assignment] = field(default_factory=list)
    #: First line of a command -> (start, end, new text) edits of its text.
    edits: dict[int, list[tuple[int, int, str]]] = field(default_factory=dict)
    _reporters: dict[int, Reporter] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.assignments = _assignments(self.commands)

    # -- findings -------------------------------------------------------------------------

    def report(self, code: str, message: str, line: int, *, fixed: bool,
               marker_at: int | None = None, column: int | None = None) -> None:
        self.result.report(code, message, line, fixed=fixed, options=self.options,
                           marker_at=marker_at, column=column)

    def at_command(self, command: _Command) -> Reporter:
        def report(code: str, message: str, *, fixed: bool, at: object = None) -> None:
            # ``at`` (a node of the JSON read as Python) has no place in the script.
            self.report(code, message, command.first, fixed=fixed)

        return report

    def at_assignment(self, assignment: _Assignment) -> Reporter:
        """Findings at the variable's line, each once (several launches read one variable)."""
        key = id(assignment)
        if key not in self._reporters:
            command, said = assignment.command, set()

            def report(code: str, message: str, *, fixed: bool, at: object = None) -> None:
                if (code, message) in said:
                    return
                said.add((code, message))
                self.report(code, message, _line_of(command, assignment.start), fixed=fixed,
                            marker_at=command.first, column=_column_of(command, assignment.start))

            self._reporters[key] = report
        return self._reporters[key]

    # -- values -----------------------------------------------------------------------------

    def assigned_once(self, name: str) -> _Assignment | None:
        found = [a for a in self.assignments if a.name == name]
        if len(found) != 1 or found[0].value is None or found[0].prefix:
            return None
        return found[0]

    def variable_of(self, word: _Word | None) -> _Assignment | None:
        """The assignment a word that is only ``$NAME`` / ``"${NAME}"`` reads, if literal."""
        if word is None or not word.dynamic:
            return None
        match = _VARIABLE.fullmatch(word.value)
        return None if match is None else self.assigned_once(match.group(1) or match.group(2))

    def flags(self, command: _Command, names: tuple[str, ...]) -> list[_Flag]:
        code = _code_part(command.text)
        pattern = re.compile(r"(?<![\w-])(?:" + "|".join(re.escape(n) for n in names)
                             + r")(?:=|(?:[ \t]|\\\r?\n)+)")
        quoted = _quoted_spans(code)
        found = []
        for match in pattern.finditer(code):
            if _inside(match.start(), quoted):
                continue
            word = _read_word(code, match.end())
            source = self.variable_of(word)
            value = source.value if source is not None else (
                word.value if word is not None and not word.dynamic else None)
            found.append(_Flag(match.start(), word, value, source))
        return found

    def value(self, command: _Command, name: str) -> str | None:
        flags = self.flags(command, (name,))
        return flags[0].value if flags else None

    # -- which launches are for Neuron --------------------------------------------------------

    def tnx_environment(self) -> bool:
        """The script sets a variable only vLLM's TNx loader reads (it runs on Neuron)."""
        return any(a.name in m.VLLM_BUCKET_ENV or a.name == m.VLLM_QUANT_DTYPE_ENV
                   for a in self.assignments if a.exported)

    def plugin(self, command: _Command) -> bool:
        """Launched for the V1 Neuron plugin (its overrides in ``--additional-config``)."""
        if self.flags(command, (m.SHELL_OVERRIDE_FLAG,)):
            return False
        for flag in self.flags(command, (m.SHELL_ADDITIONAL_CONFIG_FLAG,)):
            shown = flag.value if flag.value is not None else (
                flag.word.value if flag.word is not None else "")
            if any(key in shown for key in (m.VLLM_OVERRIDE_KEYWORD,
                                            *m.VLLM_PLUGIN_OVERRIDE_ALIASES)):
                return True
        return False

    def for_neuron(self, command: _Command) -> bool:
        code = _code_part(command.text)
        quantization = [f.value for f in self.flags(command, m.SHELL_QUANTIZATION_FLAGS)]
        return (_DEVICE.search(code) is not None
                or bool(self.flags(command, (m.SHELL_OVERRIDE_FLAG,)))
                or self.plugin(command)
                or m.VLLM_TNX_QUANTIZATION in quantization
                or self.tnx_environment())

    def is_neuron_launch_script(self) -> bool:
        values = [_unquote(match.group(1)) for _, match in _framework_values(self.commands)]
        if m.VLLM_FRAMEWORK_NXDI in values:
            return False  # already selects NxDI
        if m.VLLM_FRAMEWORK_TNX in values:
            return True
        return any(self.for_neuron(command) for command in self.commands if _launches(command))

    # -- editing ------------------------------------------------------------------------------

    def edit(self, command: _Command, start: int, end: int, text: str) -> None:
        self.edits.setdefault(command.first, []).append((start, end, text))

    def remove_flag(self, command: _Command, flag: _Flag) -> None:
        """The flag and its value, with the blanks before them on their line."""
        start = flag.start
        while start > 0 and command.text[start - 1] in " \t":
            start -= 1
        end = flag.word.end if flag.word is not None else flag.start
        self.edit(command, start, end, "")

    def apply_edits(self) -> None:
        for command in self.commands:
            edits = self.edits.get(command.first)
            if not edits:
                continue
            text = command.text
            for start, end, new in sorted(edits, key=lambda e: (e[0], e[1]), reverse=True):
                text = text[:start] + new + text[end:]
            old_lines = command.text.splitlines(keepends=True)
            lines = _without_emptied_lines(text.splitlines(keepends=True), old_lines)
            self.result.lines[command.first:command.last + 1] = _same_count(lines, command)


def _without_emptied_lines(lines: list[str], old: list[str]) -> list[str]:
    """Continuation lines an edit left blank are dropped (and a ``\\`` left dangling before a
    dropped last line), so no whitespace-only line stays behind."""
    kept = [line for line in lines
            if line in old or line.rstrip("\r\n").rstrip("\\").strip()]
    if kept and len(kept) < len(lines) and lines[-1] not in kept and _continues(kept[-1]):
        body = kept[-1].rstrip("\r\n")
        newline = kept[-1][len(body):]
        kept[-1] = body[:-1].rstrip(" \t") + newline
    return kept


# -- vLLM launches: migrating ----------------------------------------------------------------------


def _migrate(script: _Script) -> None:
    commands = script.commands
    launches = [command for command in commands if _launches(command)]
    neuron = [command for command in launches if script.for_neuron(command)]
    _select_nxdi(script, insert=any(not script.plugin(c) for c in neuron) or not neuron)
    for command in neuron:
        _launch(script, command)
    for assignment in script.assignments:
        if assignment.name in m.VLLM_BUCKET_ENV and neuron:
            continue  # said with the launches that read them
        message = overrides.env_message(assignment.name, assignment.value or NOT_LITERAL,
                                        m.SHELL_OVERRIDE_FLAG)
        if message is not None:
            script.at_assignment(assignment)(message[0], message[1], fixed=False)


def _select_nxdi(script: _Script, *, insert: bool) -> None:
    commands, result = script.commands, script.result
    framework = _framework_values(commands)
    for command, match in framework:
        value = _unquote(match.group(1))
        if value == m.VLLM_FRAMEWORK_TNX:
            start = match.start(1) + match.group(1).index(m.VLLM_FRAMEWORK_TNX)
            script.edit(command, start, start + len(m.VLLM_FRAMEWORK_TNX), m.VLLM_FRAMEWORK_NXDI)
            script.report("TNX601", overrides.framework_switched(), _line_of(command, start),
                          fixed=True)
        else:
            script.report("TNX603", overrides.framework_other(match.group(1)), command.first,
                          fixed=False)
    launches = [command for command in commands if _launches(command)]
    if framework or not launches or not insert:
        return
    block = _enclosing_top_level(commands, launches[0])
    at = block.first if _can_insert_before(commands, block) else _top(result.lines)
    indent = _indent(result.lines[block.first]) if at == block.first else ""
    first = launches[0]
    result.inserts.setdefault(at, []).append(
        f"{indent}export {m.VLLM_FRAMEWORK_ENV}={m.VLLM_FRAMEWORK_NXDI}")
    script.report("TNX601", overrides.framework_added(
        f"export {m.VLLM_FRAMEWORK_ENV}={m.VLLM_FRAMEWORK_NXDI} added", "before the server starts"),
        first.first, fixed=True)


def _launch(script: _Script, command: _Command) -> None:
    plugin = script.plugin(command)
    where = m.SHELL_ADDITIONAL_CONFIG_FLAG if plugin else m.SHELL_OVERRIDE_FLAG
    name = overrides.model_name(_model(script, command))
    ctx = overrides.Context(script.at_command(command), name, script.options.target_version,
                            plugin, where)
    plan = overrides.plan_launch(_facts(script, command, ctx), _environment(script, command))
    applied = _override(script, command, ctx, plan)
    if applied and plan.drop_quantization:
        for flag in script.flags(command, m.SHELL_QUANTIZATION_FLAGS):
            script.remove_flag(command, flag)


def _model(script: _Script, command: _Command) -> str | None:
    model = script.value(command, m.SHELL_MODEL_FLAG)
    if model is not None:
        return model
    code = _code_part(command.text)
    serve = _SERVE.search(code)
    if serve is None:
        return None
    word = _read_word(code, _skip_blanks(code, serve.end()))
    if word is None or word.value.startswith("-"):
        return None
    source = script.variable_of(word)
    return source.value if source is not None else (None if word.dynamic else word.value)


def _skip_blanks(code: str, index: int) -> int:
    while True:
        blank = re.match(r"[ \t]+|\\\r?\n", code[index:])
        if blank is None:
            return index
        index += blank.end()


def _facts(script: _Script, command: _Command, ctx: overrides.Context) -> overrides.Launch:
    code = _code_part(command.text)
    quantization = script.flags(command, m.SHELL_QUANTIZATION_FLAGS)
    speculative = script.value(command, m.SHELL_SPECULATIVE_CONFIG_FLAG)
    config = _json_object(speculative)
    draft = config.get("model", script.value(command, m.SHELL_SPECULATIVE_MODEL_FLAG))
    shown = None
    if quantization:
        word = quantization[0].word
        shown = code[quantization[0].start:word.end if word is not None else None].split("\n")[0]
    return overrides.Launch(
        ctx,
        quantization=shown,
        quantization_value=(quantization[0].value or NOT_LITERAL) if quantization else None,
        speculates=any(re.search(re.escape(flag) + r"(?![\w-])", code)
                       for flag in m.SHELL_SPECULATION_FLAGS),
        eagle=config.get(m.VLLM_SPECULATIVE_METHOD[0]) == m.VLLM_SPECULATIVE_METHOD[1],
        eagle_hint=overrides.looks_like_eagle(draft),
        max_num_seqs=_integer(script, command, m.SHELL_MAX_NUM_SEQS_FLAG, None),
        max_model_len=_integer(script, command, m.SHELL_MAX_MODEL_LEN_FLAG, NOT_LITERAL),
    )


def _json_object(text: str | None) -> dict[str, object]:
    import json

    if text is None:
        return {}
    try:
        data = json.loads(text)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _integer(script: _Script, command: _Command, flag: str, absent: object) -> object:
    flags = script.flags(command, (flag,))
    if not flags:
        return absent
    value = flags[0].value
    return int(value) if value is not None and value.isdigit() else NOT_LITERAL


def _environment(script: _Script, command: _Command) -> list[overrides.EnvSetting]:
    """The TNx-loader variables this launch sees: exported anywhere in the script, or set as a
    prefix of this very command (a plain assignment never reaches vLLM unless exported)."""
    names = {*m.VLLM_BUCKET_ENV, m.VLLM_QUANT_DTYPE_ENV}
    settings = []
    for assignment in script.assignments:
        if assignment.name not in names:
            continue
        if assignment.prefix and assignment.command is not command:
            continue
        settings.append(overrides.EnvSetting(
            assignment.name, assignment.value if assignment.value is not None else NOT_LITERAL,
            script.at_assignment(assignment), reaches=assignment.exported or assignment.prefix))
    return settings


def _override(script: _Script, command: _Command, ctx: overrides.Context,
              plan: overrides.LaunchPlan) -> bool:
    """Translate the launch's override JSON and add what the plan needs; whether the additions
    went in."""
    flags = script.flags(command, (ctx.where,))
    additions: list[overrides.Addition] = []
    if not flags:
        additions = overrides.keep_missing(plan.additions, set())
        if overrides.items_of(additions):
            _insert_override(script, command, ctx, additions)
        overrides.report_additions(additions, applied=True)
        return True
    for index, flag in enumerate(flags):
        try:
            text = _json_text(flag)
            keys = (overrides.plugin_json_keys if ctx.plugin else overrides.json_keys)(text, ctx)
            if index == 0:
                additions = overrides.keep_missing(plan.additions, keys)
            report = (script.at_assignment(flag.source) if flag.source is not None
                      else ctx.report)
            here = overrides.Context(report, ctx.model_name, ctx.target, ctx.plugin, ctx.where)
            extra = overrides.items_of(additions) if (
                index == 0) else []
            translate = overrides.translate_plugin_json if ctx.plugin else overrides.translate_json
            translated = translate(text, here, extra)
        except CannotRead as why:
            shown = (command.text[flag.start:flag.word.end] if flag.word is not None
                     else ctx.where).split("\n")[0]
            ctx.report("TNX603", overrides.override_dynamic(shown, str(why)), fixed=False)
            overrides.report_additions(plan.additions if index == 0 else [], applied=False)
            return False
        if translated is not None:
            _write_json(script, command, flag, translated[0])
            if translated[1]:
                here.report("TNX602", overrides.translated(ctx.where, translated[1]), fixed=True)
    overrides.report_additions(additions, applied=True)
    return True


def _json_text(flag: _Flag) -> str:
    if flag.word is None:
        raise CannotRead("it has no value")
    if flag.value is None:
        raise CannotRead("it uses shell expansions")
    return flag.value


def _write_json(script: _Script, command: _Command, flag: _Flag, text: str) -> None:
    assert flag.word is not None
    if flag.source is not None:  # the variable's assignment holds the JSON
        word = flag.source.word
        assert word is not None
        start = word.end - len(_raw(flag.source.command, word))
        script.edit(flag.source.command, start, word.end, _requote(text, word.style))
    elif text.strip() == "{}":
        script.remove_flag(command, flag)
    else:
        start = flag.word.end - len(_raw(command, flag.word))
        script.edit(command, start, flag.word.end, _requote(text, flag.word.style))


def _raw(command: _Command, word: _Word) -> str:
    """The word's text as written (it ends at ``word.end``; ``_read_word`` started it)."""
    return command.text[word.start:word.end]


def _insert_override(script: _Script, command: _Command, ctx: overrides.Context,
                     additions: list[overrides.Addition]) -> None:
    """``--override-neuron-config '{...}'`` right after the launcher (``vllm serve MODEL`` or
    the entry-point module), where it cannot fall behind a redirection or ``&``."""
    items = dict(overrides.items_of(additions))
    text = overrides.dump_json(overrides.as_json_value(items), '{"a": 1}')
    if ctx.plugin:
        text = overrides.dump_json({m.VLLM_OVERRIDE_KEYWORD: overrides.as_json_value(items)},
                                   '{"a": 1}')
    code = _code_part(command.text)
    serve, entry = _SERVE.search(code), _ENTRYPOINT.search(code)
    if serve is not None:
        at = serve.end()
        word = _read_word(code, _skip_blanks(code, at))
        if word is not None and not word.value.startswith("-"):
            at = word.end
    else:
        assert entry is not None
        at = entry.end()
    flag = f"{ctx.where} {_requote(text, 'single')}"
    continued = re.match(r"[ \t]*\\(\r?\n)([ \t]*)", code[at:])
    if continued is not None:  # one option per line: the new one gets its own line
        at += continued.end()
        script.edit(command, at - len(continued.group(2)), at - len(continued.group(2)),
                    f"{continued.group(2)}{flag} \\{continued.group(1)}")
    else:
        script.edit(command, at, at, f" {flag}")


def _fork_branches(script: _Script) -> None:
    for command in script.commands:
        if command.comment:
            continue
        message = overrides.fork_branch_message(_code_part(command.text),
                                                script.options.target_version)
        if message is not None:
            script.report(message[0], message[1], command.first, fixed=False)


def _can_insert_before(commands: list[_Command], launch: _Command) -> bool:
    """Not in the middle of a pipeline or list (``a |`` / ``a &&`` on the line before)."""
    previous = [c for c in commands if c.last < launch.first and not c.comment
                and c.text.strip()]
    if not previous:
        return True
    tail = _code_part(previous[-1].text).rstrip()
    return not tail.endswith(("|", "&&", "||", "\\", "(", "{"))


def _top(lines: list[str]) -> int:
    """After the shebang and the comment block that follows it."""
    index = 0
    while index < len(lines) and (
        lines[index].startswith("#") or (index > 0 and not lines[index].strip())
    ):
        if not lines[index].strip():
            break
        index += 1
    return index


def _enclosing_top_level(commands: list[_Command], launch: _Command) -> _Command:
    """The top-level command that holds ``launch`` (the ``if``, loop, ``case`` or function
    definition around it), so that the export covers every branch that starts a server."""
    depth, start = 0, launch
    for command in commands:
        if command.comment:
            continue
        if depth == 0:
            start = command
        if command is launch:
            return start
        code = _QUOTED.sub("", _code_part(command.text))
        depth = max(0, depth + len(_OPENS.findall(code)) - len(_CLOSES.findall(code)))
    return launch


def _same_count(new_lines: list[str], command: _Command) -> list[str]:
    """Keep one entry per original physical line so later line numbers stay valid."""
    count = command.last - command.first + 1
    if len(new_lines) == count:
        return new_lines
    return [*new_lines[:count - 1], "".join(new_lines[count - 1:])] if len(new_lines) > count else [
        *new_lines, *([""] * (count - len(new_lines)))]


@dataclass
class _Word:
    value: str
    end: int
    style: str
    dynamic: bool
    start: int = 0


def _read_word(text: str, start: int) -> _Word | None:
    """One shell word (POSIX quoting); ``dynamic`` when it uses expansions."""
    value: list[str] = []
    index, dynamic, styles = start, False, []
    while index < len(text) and text[index] not in _WORD_END:
        char = text[index]
        if char == "'":
            end = text.find("'", index + 1)
            if end < 0:
                return None
            value.append(text[index + 1:end])
            styles.append("single")
            index = end + 1
        elif char == '"':
            index, part, expands = _double_quoted(text, index + 1)
            if index < 0:
                return None
            value.append(part)
            dynamic = dynamic or expands
            styles.append("double")
        elif char == "\\" and index + 1 < len(text):
            value.append(text[index + 1])
            styles.append("plain")
            index += 2
        else:
            dynamic = dynamic or char in "$`*?["
            value.append(char)
            styles.append("plain")
            index += 1
    if index == start:
        return None
    kinds = set(styles)
    style = kinds.pop() if len(kinds) == 1 else "mixed"
    return _Word("".join(value), index, style, dynamic, start)


def _double_quoted(text: str, index: int) -> tuple[int, str, bool]:
    part: list[str] = []
    expands = False
    while index < len(text):
        char = text[index]
        if char == '"':
            return index + 1, "".join(part), expands
        if char == "\\" and index + 1 < len(text) and text[index + 1] in _SHELL_ESCAPED_IN_DOUBLE:
            part.append(text[index + 1])
            index += 2
            continue
        expands = expands or char in "$`"
        part.append(char)
        index += 1
    return -1, "", expands


def _requote(value: str, style: str) -> str:
    if style == "double":
        return '"' + "".join("\\" + c if c in _SHELL_ESCAPED_IN_DOUBLE else c for c in value) + '"'
    if style == "plain" and _SAFE_UNQUOTED.match(value):
        return value.replace('"', '\\"')
    if "'" not in value:
        return f"'{value}'"
    return _requote(value, "double")


def _installs(script: _Script) -> None:
    """``pip install transformers-neuronx`` gets the NxDI install line, and, in a script that
    installs TNx or NxDI, a ``transformers`` pin NxDI cannot run with is marked. A setup script
    serves programs the tool does not see, so its lines are never rewritten."""
    code = [command for command in script.commands if not command.comment]
    neuron = any(installs.installs_neuron(command.text) for command in code)
    for command in code:
        if any(installs.tnx_requirement(found) for found in installs.commands(command.text)):
            script.report("TNX102", installs.tnx_install_message(
                "shell install lines are left as they are: change it once the programs it "
                "sets up run on NxDI"), command.first, fixed=False)
        if neuron:
            for message in installs.pin_findings(command.text, script.options.target_version):
                script.report("TNX103", message, command.first, fixed=False)


# -- writing -------------------------------------------------------------------------------------


def _render(result: _Result) -> str:
    out: list[str] = []
    original = result.lines
    for index, line in enumerate(original):
        for text in result.inserts.get(index, []):
            out.append(text + result.newline)
        markers = result.markers.get(index, [])
        if markers:
            indent = _indent(line)
            above = _comments_above(out)
            out += [f"{indent}{text}{result.newline}" for text in dict.fromkeys(markers)
                    if text not in above]
        out.append(line)
    for text in result.inserts.get(len(original), []):
        out.append(text + result.newline)
    return "".join(out)


def _comments_above(out: list[str]) -> set[str]:
    found = set()
    for line in reversed(out):
        stripped = line.strip()
        if not stripped.startswith("#"):
            break
        found.add(stripped)
    return found


def _indent(line: str) -> str:
    return line[:len(line) - len(line.lstrip(" \t"))]


def _still_parses(before: str, after: str) -> bool:
    """``bash -n`` on the result, when bash exists and accepted the original."""
    bash = shutil.which("bash")
    if bash is None:
        return True
    return _bash_ok(bash, after) or not _bash_ok(bash, before)


def _bash_ok(bash: str, text: str) -> bool:
    try:
        done = subprocess.run([bash, "-n"], input=text.encode("utf-8"), capture_output=True,
                              timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return True
    return done.returncode == 0
