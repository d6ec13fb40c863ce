"""The ``tnx2nxdi`` command: a thin click layer over :func:`tnx2nxdi.runner.run`.

Exit codes (docs/usage.md): 0 nothing to change and no findings; 1 files changed or would change, or
findings that need a person remain; 2 usage error, unreadable or unparsable input, internal error.
No LibCST import here: ``tnx2nxdi --help`` stays instant.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TypeVar

import click
from click.core import ParameterSource

from tnx2nxdi import __version__, discovery, report, rules, settings
from tnx2nxdi.findings import RunResult
from tnx2nxdi.mappings import TARGET_VERSIONS
from tnx2nxdi.options import Options, OutputFormat

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
@click.option("--diff", "diff", is_flag=True, help="Write nothing; print a unified diff.")
@click.option("--check", "check", is_flag=True,
              help="Write nothing; list files that would change and the findings.")
@click.option("--output-format", type=click.Choice(report.OUTPUT_FORMATS), default="text",
              show_default=True,
              help="How findings are printed: text, a JSON array, GitHub workflow annotations, "
                   "or a markdown summary for a pull-request comment.")
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
    no_cache: bool, list_rules: bool, explain: str | None,
) -> None:
    """Migrate Transformers NeuronX (TNx) code in PATHS to NeuronX Distributed Inference.

    PATHS are files and directories (walked for .py, .ipynb and .sh files, skipping .gitignored
    ones); '-' reads standard input and writes the result to standard output. Files are rewritten
    in place unless --diff or --check. Settings can live in [tool.tnx2nxdi] in pyproject.toml;
    flags win. Docs: docs/usage.md.
    """
    if list_rules:
        _list_rules()
        return
    if explain is not None:
        _explain(explain)
        return
    if diff and check:
        raise click.UsageError("--diff and --check cannot be used together")
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
    use_color = _color(color)
    try:
        if paths == ("-",):
            located = stdin_filename or os.path.join(os.getcwd(), "<stdin>.py")
            options = configuration.options_for(os.path.abspath(located))
            sys.exit(_stdin(options, stdin_filename or "<stdin>.py", output_format, show_fixes,
                            exit_zero_even_if_changed, use_color))
        from tnx2nxdi.runner import run

        result = run(paths, flags, progress=sys.stderr, configuration=configuration,
                     cache_directory=None if no_cache else _cache_directory())
    except settings.SettingsError as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(EXIT_ERROR)
    except KeyboardInterrupt:
        # Writes are atomic, so every file is as it was or fully migrated (sources.write_atomic).
        click.echo("Interrupted: every file is either unchanged or fully migrated.", err=True)
        sys.exit(EXIT_INTERRUPTED)
    _print_run(result, flags, output_format, show_fixes, use_color)
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


def _echo_diff(diff: str, use_color: bool | None) -> None:
    click.echo(report.colorize_diff(diff) if use_color is not False else diff, nl=False,
               color=use_color)


def _print_run(
    result: RunResult, options: Options, output_format: OutputFormat, show_fixes: bool,
    use_color: bool | None,
) -> None:
    if output_format == "markdown":
        # One document for a pull-request comment: the diffs are folded into it.
        click.echo(report.render_findings(result, output_format, show_fixes=show_fixes,
                                          mode=options.mode), nl=False)
        return
    if options.mode == "diff":
        for file in result.changed:
            _echo_diff(report.unified_diff(file), use_color)
    findings = report.render_findings(result, output_format, show_fixes=show_fixes,
                                      mode=options.mode)
    to_stderr = options.mode == "diff"
    if options.mode == "check" and output_format == "text":
        for file in result.changed:
            click.echo(f"Would migrate {file.path}")
    click.echo(findings, nl=False, err=to_stderr)
    if output_format == "text":
        click.echo(report.summary(result, options.mode), err=to_stderr)


def _stdin(options: Options, name: str, output_format: OutputFormat, show_fixes: bool,
           exit_zero: bool, use_color: bool | None) -> int:
    from tnx2nxdi.runner import process_bytes

    data = sys.stdin.buffer.read()
    if options.force_exclude and discovery.Excluder(options.exclude).excludes_path(Path(name)):
        # An editor or hook piping an excluded file gets it back untouched.
        if options.mode == "write":
            sys.stdout.buffer.write(data)
            sys.stdout.flush()
        return EXIT_CLEAN
    result, new_data = process_bytes(data, options, name)
    run = RunResult([result])
    if output_format == "markdown" and options.mode != "write":
        # Standard output is free: the report (with the diff folded in) goes there.
        click.echo(report.render_findings(run, output_format, show_fixes=show_fixes,
                                          mode=options.mode), nl=False)
        return _exit_code(run, exit_zero)
    if options.mode == "diff":
        _echo_diff(report.unified_diff(result), use_color)
    elif options.mode == "write":
        sys.stdout.buffer.write(new_data)
        sys.stdout.flush()
    click.echo(report.render_findings(run, output_format, show_fixes=show_fixes,
                                      mode=options.mode), nl=False, err=True)
    if output_format == "text":
        click.echo(report.summary(run, options.mode), err=True)
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
    click.echo(f"\nMore: tnx2nxdi --explain CODE, or {rules.DOCS_URL}")


def _explain(code: str) -> None:
    rule = rules.RULE_BY_CODE.get(code.strip().upper())
    if rule is None:
        raise click.BadParameter(
            f"unknown rule code: {code!r} (tnx2nxdi --list-rules lists them)",
            param_hint="--explain",
        )
    click.echo(f"{rule.code} ({rule.name}): {rule.summary}\n")
    click.echo(f"What happens: {rules.FIX_KINDS[rule.fix]}.\n")
    import textwrap

    click.echo(textwrap.fill(rule.description, width=88) + "\n")
    what = rules.EXAMPLE_KINDS[rule.kind]
    if rule.before:
        click.echo(f"Before ({what}):\n" + _indent(rule.before) + "\n")
    if rule.after:
        click.echo("After:\n" + _indent(rule.after) + "\n")
    click.echo(f"Docs: {rule.anchor}")


def _indent(text: str) -> str:
    return "\n".join("    " + line if line else line for line in text.splitlines())
