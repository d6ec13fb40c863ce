"""The ``tnx2nxdi`` command: a thin click layer over :func:`tnx2nxdi.runner.run`.

Exit codes (docs/usage.md): 0 nothing to change and no findings; 1 files changed or would change, or
findings that need a person remain; 2 usage error, unreadable or unparsable input, internal error.
No LibCST import here: ``tnx2nxdi --help`` stays instant.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar

import click
from click.core import ParameterSource

from tnx2nxdi import __version__, discovery, report, rules, settings
from tnx2nxdi.findings import RunResult
from tnx2nxdi.mappings import TARGET_VERSIONS
from tnx2nxdi.options import Mode, Options, OutputFormat

EXIT_CLEAN, EXIT_CHANGED, EXIT_ERROR = 0, 1, 2
#: Ctrl-C, as shells report a process ended by SIGINT.
EXIT_INTERRUPTED = 130
T = TypeVar("T")


def _codes(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> frozenset[str]:
    try:
        return rules.expand(part for item in value for part in item.split(","))
    except ValueError as error:
        raise click.BadParameter(str(error)) from None


def _globs(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(part.strip() for item in value for part in item.split(",") if part.strip())


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("paths", nargs=-1, type=click.Path(allow_dash=True))
@click.option("--diff", "diff", is_flag=True,
              help="Write nothing; print a unified diff (with --check too).")
@click.option("--check", "check", is_flag=True,
              help="Write nothing; list files that would change and the findings.")
@click.option("--output-format", type=click.Choice(report.OUTPUT_FORMATS), default="text",
              show_default=True,
              help="How findings are printed: text, a JSON document, GitHub workflow "
                   "annotations, a markdown report for a pull-request comment, or SARIF 2.1.0 "
                   "for code scanning.")
@click.option("--show-fixes", is_flag=True,
              help="Also list what was migrated (text format lists only what needs a person).")
@click.option("--select", multiple=True, callback=_codes, metavar="CODES",
              help="Report only these rule codes or prefixes (e.g. TNX3,TNX901).")
@click.option("--ignore", multiple=True, callback=_codes, metavar="CODES",
              help="Do not report these rule codes or prefixes.")
@click.option("--target-version", type=click.Choice(TARGET_VERSIONS), default=TARGET_VERSIONS[-1],
              show_default=True, help="NxDI release whose defaults apply.")
@click.option("--compiled-model-path", metavar="PATH",
              help="Compile directory for programs that never saved one "
                   "[default: a directory named after the model].")
@click.option("--exclude", multiple=True, callback=_globs, metavar="GLOBS",
              help="Skip files and directories matching these globs when walking directories "
                   "(comma-separated or repeated; replaces the configured exclude).")
@click.option("--force-exclude", is_flag=True,
              help="Apply --exclude and .gitignore to files named explicitly too "
                   "(for pre-commit).")
@click.option("--exit-zero-even-if-changed", is_flag=True,
              help="Exit 0 when files changed but no finding needs a person.")
@click.option("--color", type=click.Choice(("auto", "always", "never")), default="auto",
              show_default=True, help="Color the diff (auto: only on a terminal).")
@click.option("--stdin-filename", metavar="NAME",
              help="The name of the file read from '-' (decides its kind and messages).")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=None,
              help="Files processed in parallel [default: the CPU count; 1 for one file].")
@click.option("--no-cache", is_flag=True,
              help="Neither read nor write the cache of earlier results (see docs/usage.md).")
@click.option("-q", "--quiet", is_flag=True,
              help="Print only errors (and what --diff or --output-format asks for).")
@click.option("-v", "--verbose", is_flag=True,
              help="Also print the settings file and each file's time (on stderr).")
@click.option("--docs-url", metavar="URL",
              help="Where the rules page (docs/rules.md) is published; rule links in reports "
                   "point there [default: no links].")
@click.option("--list-rules", is_flag=True, help="List every rule code and exit.")
@click.option("--explain", metavar="CODE", help="Explain one rule, with an example, and exit.")
@click.version_option(__version__, prog_name="tnx2nxdi")
@click.pass_context
def main(
    ctx: click.Context, paths: tuple[str, ...], diff: bool, check: bool,
    output_format: OutputFormat,
    show_fixes: bool, select: frozenset[str], ignore: frozenset[str], target_version: str,
    compiled_model_path: str | None, exclude: tuple[str, ...], force_exclude: bool,
    exit_zero_even_if_changed: bool, color: str, stdin_filename: str | None, jobs: int | None,
    no_cache: bool, quiet: bool, verbose: bool, docs_url: str | None, list_rules: bool,
    explain: str | None,
) -> None:
    """Migrate Transformers NeuronX (TNx) code in PATHS to NeuronX Distributed Inference.

    PATHS are files and directories (walked for .py, .ipynb and .sh files, skipping .gitignored
    ones); '-' reads standard input and writes the result to standard output. Files are rewritten
    in place unless --diff or --check. Settings can live in [tool.tnx2nxdi] in pyproject.toml;
    flags win. 'tnx2nxdi --explain CODE' prints a rule's help; the docs/ folder of the
    sources has the rest.
    """
    if list_rules:
        _list_rules()
        return
    if explain is not None:
        _explain(explain, docs_url)
        return
    if not paths:
        raise click.UsageError("no paths given: pass files or directories (for example '.')")
    if "-" in paths and len(paths) > 1:
        raise click.UsageError("'-' (standard input) cannot be combined with other paths")
    flags = Options(
        target_version=target_version,
        compiled_model_path=compiled_model_path,
        select=select or None,
        ignore=ignore,
        mode="diff" if diff else "check" if check else "write",
        jobs=jobs or 0,  # 0: one worker per CPU (runner.run)
        exclude=tuple(discovery.anchor(glob, Path.cwd()) for glob in exclude),
        force_exclude=force_exclude,
    )
    # A flag given on the command line wins over each file's pyproject.toml; the rest comes
    # from the file's own configuration (settings.Configuration), else the flags' defaults.
    given = {
        name for name in settings.FIELDS
        if ctx.get_parameter_source(name) in (ParameterSource.COMMANDLINE,
                                              ParameterSource.ENVIRONMENT)
    }
    configuration = settings.Configuration(flags, given)
    try:
        # Run-wide settings (rule links, the file -v names): the pyproject.toml of the deepest
        # directory holding every path; each file's own options come from ``configuration``.
        configured = settings.load(paths, stdin_filename)
    except settings.SettingsError as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(EXIT_ERROR)
    try:
        links = settings.docs_url(docs_url, "--docs-url") if docs_url else configured.docs_url
    except settings.SettingsError as error:
        raise click.BadParameter(str(error).split(": ", 1)[1], param_hint="--docs-url") from None
    out = _Output(output_format, show_fixes, _color(color), quiet, verbose, links)
    if verbose:
        click.echo(f"Settings: {configured.source or 'none ([tool.tnx2nxdi] not found)'}",
                   err=True)
    try:
        if paths == ("-",):
            located = stdin_filename or os.path.join(os.getcwd(), "<stdin>.py")
            options = configuration.options_for(os.path.abspath(located))
            sys.exit(_stdin(options, stdin_filename or "<stdin>.py", out,
                            exit_zero_even_if_changed))
        from tnx2nxdi.runner import run

        result = run(paths, flags, progress=None if quiet else sys.stderr,
                     configuration=configuration,
                     cache_directory=None if no_cache else _cache_directory())
    except settings.SettingsError as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(EXIT_ERROR)
    except KeyboardInterrupt:
        # Writes are atomic, so every file is as it was or fully migrated (sources.write_atomic).
        click.echo("Interrupted: every file is either unchanged or fully migrated.", err=True)
        sys.exit(EXIT_INTERRUPTED)
    _print_run(result, flags.mode, out)
    sys.exit(_exit_code(result, exit_zero_even_if_changed))


def _cache_directory() -> Path:
    from tnx2nxdi.cache import default_directory  # only its location: the cache opens lazily

    return default_directory()


def _color(choice: str) -> bool | None:
    """click's ``color`` argument: None lets click decide (a terminal gets colors)."""
    if choice == "always":
        return True
    if choice == "never" or os.environ.get("NO_COLOR"):
        return False
    return None


@dataclass(frozen=True)
class _Output:
    """How results are printed."""

    format: OutputFormat
    show_fixes: bool
    color: bool | None
    quiet: bool
    verbose: bool
    docs_url: str | None

    def document(self, run: RunResult, mode: Mode) -> str:
        return report.render_findings(run, self.format, show_fixes=self.show_fixes, mode=mode,
                                      docs_url=self.docs_url)


def _echo_diff(diff: str, use_color: bool | None, err: bool = False) -> None:
    click.echo(report.colorize_diff(diff) if use_color is not False else diff, nl=False,
               color=use_color, err=err)


def _print_run(result: RunResult, mode: Mode, out: _Output) -> None:
    """Standard output carries what was asked for: the text report, or the document of the
    output format; with --diff the diff, the text report going to stderr. JSON and markdown
    fold the diffs into their document; SARIF leaves them on stderr."""
    if out.verbose:
        _timings(result)
    if out.format == "text":
        _print_text(result, mode, out)
        return
    if mode == "diff" and out.format in ("github", "sarif"):
        for file in result.changed:
            _echo_diff(report.unified_diff(file), out.color, err=out.format == "sarif")
    click.echo(out.document(result, mode), nl=False, err=mode == "diff" and (
        out.format == "github"))


def _print_text(result: RunResult, mode: Mode, out: _Output, stdin: bool = False) -> None:
    """The text format. Findings go to stdout, except where stdout carries the diff or (for
    standard input in write mode) the migrated code; ``--quiet`` keeps only the errors."""
    if mode == "diff":
        for file in result.changed:
            _echo_diff(report.unified_diff(file), out.color)
    to_stderr = mode == "diff" or (stdin and mode == "write")
    if out.quiet:
        quiet = RunResult([replace(file, findings=()) for file in result.errors])
        click.echo(report.render_findings(quiet, "text", show_fixes=False), nl=False, err=True)
        return
    if not (stdin and mode == "write"):
        verb = "Migrated" if mode == "write" else "Would migrate"
        for file in result.changed if mode != "diff" else []:
            click.echo(f"{verb} {file.path}")
    click.echo(out.document(result, mode), nl=False, err=to_stderr)
    click.echo(report.summary(result, mode), err=to_stderr)


def _timings(result: RunResult) -> None:
    for file in result.files:
        if file.seconds is not None:
            click.echo(f"{file.path}: {file.seconds:.3f} s", err=True)
        elif file.skipped:
            click.echo(f"{file.path}: skipped (no TNx marker, not parsed)", err=True)
    total = sum(file.seconds or 0.0 for file in result.files)
    click.echo(f"{len(result.files)} files, {total:.3f} s in migration", err=True)


def _stdin(options: Options, name: str, out: _Output, exit_zero: bool) -> int:
    from tnx2nxdi.runner import process_bytes

    data = sys.stdin.buffer.read()
    if options.force_exclude and discovery.Excluder(options.exclude).excludes_path(Path(name)):
        # An editor or hook piping an excluded file gets it back untouched.
        if options.mode == "write":
            sys.stdout.buffer.write(data)
            sys.stdout.flush()
        return EXIT_CLEAN
    started = time.perf_counter()
    result, new_data = process_bytes(data, options, name)
    run = RunResult([replace(result, seconds=time.perf_counter() - started)])
    if out.verbose:
        _timings(run)
    if options.mode == "write":
        sys.stdout.buffer.write(new_data)
        sys.stdout.flush()
    if out.format == "text":
        _print_text(run, options.mode, out, stdin=True)
    elif options.mode == "write":  # stdout holds the code: the document goes to stderr
        click.echo(out.document(run, options.mode), nl=False, err=True)
    else:
        _print_run(run, options.mode, out)
    return _exit_code(run, exit_zero)


def _exit_code(result: RunResult, exit_zero_even_if_changed: bool) -> int:
    if result.errors:
        return EXIT_ERROR
    if result.attention or (result.changed and not exit_zero_even_if_changed):
        return EXIT_CHANGED
    return EXIT_CLEAN


def _list_rules() -> None:
    click.echo(f"{'code':<7} {'fix':<9}  {'name':<24} summary")
    for rule in rules.RULES:
        click.echo(f"{rule.code:<7} {rule.fix:<9}  {rule.name:<24} {rule.summary}")
    click.echo("\nMore: tnx2nxdi --explain CODE")


def _explain(code: str, docs_url: str | None) -> None:
    rule = rules.RULE_BY_CODE.get(code.strip().upper())
    if rule is None:
        raise click.BadParameter(
            f"unknown rule code: {code!r} (tnx2nxdi --list-rules lists them)",
            param_hint="--explain",
        )
    try:
        link = settings.docs_url(docs_url, "--docs-url") if docs_url else (
            settings.load(()).docs_url)
    except settings.SettingsError as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(EXIT_ERROR)
    happens = rules.ERROR_TEXT if rule.code in rules.ERROR_CODES else rules.FIX_KINDS[rule.fix]
    click.echo(f"{rule.code} ({rule.name}): {rule.summary}.\n")
    click.echo(f"What happens: {happens}.\n")
    import textwrap

    click.echo(textwrap.fill(rule.description, width=88) + "\n")
    what = rules.EXAMPLE_KINDS[rule.kind]
    if rule.before:
        click.echo(f"Before ({what}):\n" + _indent(rule.before) + "\n")
    if rule.after:
        click.echo("After:\n" + _indent(rule.after) + "\n")
    if rule.url(link):
        click.echo(f"Docs: {rule.url(link)}")


def _indent(text: str) -> str:
    return "\n".join("    " + line if line else line for line in text.splitlines())
