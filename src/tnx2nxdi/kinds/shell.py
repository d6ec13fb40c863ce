"""Shell launch scripts that start vLLM for Neuron (``python -m vllm.entrypoints...``,
``vllm serve``): the JSON after ``--override-neuron-config`` is migrated like a Python
``override_neuron_config``, ``export VLLM_NEURON_FRAMEWORK=neuronx-distributed-inference`` is
added before the server starts (or a ``transformers-neuronx`` value rewritten), and what NxDI
through vLLM does not support gets findings at its line and a marker comment above it.

The script is handled line by line (comments, ``\\`` continuations and here-documents are
recognised); nothing is touched unless a line launches vLLM for Neuron. The result must pass
``bash -n`` whenever the original did, or the file is left unchanged with an error.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field

from tnx2nxdi import mappings as m
from tnx2nxdi.engine.nodes import CannotRead
from tnx2nxdi.findings import Finding, Outcome
from tnx2nxdi.markers import existing_markers, marker_text
from tnx2nxdi.options import Options
from tnx2nxdi.steps import overrides

#: What the script kind writes itself; the shared vLLM translation (``steps.overrides``) and the
#: option translator it uses declare theirs.
CODES = frozenset({"TNX601", "TNX602", "TNX603", "TNX604", "TNX999"})
_LAUNCH = [re.compile(pattern) for pattern in m.SHELL_LAUNCH_PATTERNS]
_DEVICE = re.compile(re.escape(m.SHELL_DEVICE_FLAG) + r"(?:=|[ \t]+)[\"']?"
                     + re.escape(m.VLLM_NEURON_DEVICE) + r"\b")
_OVERRIDE = re.compile(re.escape(m.SHELL_OVERRIDE_FLAG) + r"(?:=|(?:[ \t]|\\\r?\n)+)")
_FRAMEWORK = re.compile(r"(?<![\w$])" + m.VLLM_FRAMEWORK_ENV + r"=(\"[^\"]*\"|'[^']*'|[^\s;&|]*)")
_ENV = re.compile(r"(?:^|(?<=[\s;&|(]))(?:export[ \t]+)?([A-Z_][A-Z0-9_]*)="
                  r"(\"[^\"]*\"|'[^']*'|[^\s;&|)]*)")
_MAX_SEQS = re.compile(re.escape(m.SHELL_MAX_NUM_SEQS_FLAG) + r"(?:=|[ \t]+|\\\r?\n[ \t]*)"
                       r"[\"']?(\d+)")
_HEREDOC = re.compile(r"<<(-?)[ \t]*([\"']?)([A-Za-z_][A-Za-z0-9_]*)\2")
_MODEL = re.compile(r"(?:--model(?:=|[ \t]+)|vllm[ \t]+serve[ \t]+)[\"']?([^\s\"';&|]+)")
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
    commands = list(_commands(lines))
    if _is_neuron_launch_script(commands):
        _migrate(commands, result, options)
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


def _is_neuron_launch_script(commands: list[_Command]) -> bool:
    values = [_unquote(match.group(1)) for _, match in _framework_values(commands)]
    if m.VLLM_FRAMEWORK_NXDI in values:
        return False  # already selects NxDI
    if m.VLLM_FRAMEWORK_TNX in values:
        return True
    launches = [command for command in commands if _launches(command)]
    return any(_DEVICE.search(c.text) or _OVERRIDE.search(c.text) for c in launches)


# -- migrating -----------------------------------------------------------------------------------


def _migrate(commands: list[_Command], result: _Result, options: Options) -> None:
    _select_nxdi(commands, result, options)
    for command in commands:
        if command.comment:
            continue
        if _OVERRIDE.search(command.text):
            _override(command, result, options)
        if _launches(command):
            _speculation(command, result, options)
        _environment(command, result, options)


def _select_nxdi(commands: list[_Command], result: _Result, options: Options) -> None:
    framework = _framework_values(commands)
    for command, match in framework:
        value = _unquote(match.group(1))
        if value == m.VLLM_FRAMEWORK_TNX:
            line = _line_of(command, match.start(1))
            column = match.start(1) - (command.text.rfind("\n", 0, match.start(1)) + 1)
            old = result.lines[line]
            result.lines[line] = old[:column] + old[column:].replace(
                m.VLLM_FRAMEWORK_TNX, m.VLLM_FRAMEWORK_NXDI, 1)
            result.report("TNX601", overrides.framework_switched(), line, fixed=True,
                          options=options)
        else:
            result.report("TNX603", overrides.framework_other(match.group(1)), command.first,
                          fixed=False, options=options)
    launches = [command for command in commands if _launches(command)]
    if framework or not launches:
        return
    block = _enclosing_top_level(commands, launches[0])
    at = block.first if _can_insert_before(commands, block) else _top(result.lines)
    indent = _indent(result.lines[block.first]) if at == block.first else ""
    first = launches[0]
    result.inserts.setdefault(at, []).append(
        f"{indent}export {m.VLLM_FRAMEWORK_ENV}={m.VLLM_FRAMEWORK_NXDI}")
    result.report("TNX601", overrides.framework_added(
        f"export {m.VLLM_FRAMEWORK_ENV}={m.VLLM_FRAMEWORK_NXDI} added", "before the server starts"),
        first.first, fixed=True, options=options)


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


def _line_of(command: _Command, offset: int) -> int:
    return command.first + command.text.count("\n", 0, offset)


def _override(command: _Command, result: _Result, options: Options) -> None:

    text = command.text
    model = _MODEL.search(_code_part(text))
    name = overrides.model_name(model.group(1) if model else None)
    pieces: list[str] = []
    position = 0
    changes: list[str] = []

    def report(code: str, message: str, *, fixed: bool, at: object = None) -> None:
        # ``at`` (a node of the JSON read as Python) has no place in the script: the command's
        # first line is where its findings go.
        result.report(code, message, command.first, fixed=fixed, options=options)

    for match in _OVERRIDE.finditer(text):
        word = _read_word(text, match.end())
        if word is None or word.dynamic:
            end = word.end if word is not None else match.end() + 40
            shown = text[match.end():end].split("\n")[0].strip()
            report("TNX603", overrides.override_dynamic(
                f"{m.SHELL_OVERRIDE_FLAG} {shown}", "it uses shell expansions"), fixed=False)
            continue
        try:
            translated = overrides.translate_json(word.value, report, name)
        except CannotRead as why:
            report("TNX603", overrides.override_dynamic(m.SHELL_OVERRIDE_FLAG, str(why)),
                   fixed=False)
            continue
        if translated is None:
            continue
        pieces += [text[position:match.end()], _requote(translated[0], word.style)]
        position = word.end
        changes += translated[1]
    if not changes:
        return
    new_text = "".join([*pieces, text[position:]])
    new_lines = new_text.splitlines(keepends=True)
    result.lines[command.first:command.last + 1] = _same_count(new_lines, command)
    report("TNX602", f"{m.SHELL_OVERRIDE_FLAG} translated for NxDI: " + "; ".join(changes),
           fixed=True)


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
    return _Word("".join(value), index, style, dynamic)


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


def _speculation(command: _Command, result: _Result, options: Options) -> None:
    code = _code_part(command.text)
    if not any(re.search(re.escape(flag) + r"\b", code) for flag in m.SHELL_SPECULATION_FLAGS):
        return
    seqs = _MAX_SEQS.search(code)
    if seqs is not None and int(seqs.group(1)) == 1:
        return
    result.report("TNX604", overrides.speculation_note(m.SHELL_MAX_NUM_SEQS_FLAG),
                  command.first, fixed=False, options=options)


def _environment(command: _Command, result: _Result, options: Options) -> None:
    code = _code_part(command.text)
    for match in _ENV.finditer(code):
        message = overrides.env_message(match.group(1), _unquote(match.group(2)),
                                        m.SHELL_OVERRIDE_FLAG)
        if message is None:
            continue
        line = _line_of(command, match.start(1))
        start = code.rfind("\n", 0, match.start(1)) + 1
        result.report(message[0], message[1], line, fixed=False, options=options,
                      marker_at=command.first, column=match.start(1) - start + 1)


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
