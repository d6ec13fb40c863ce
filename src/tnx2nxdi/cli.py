"""The ``tnx2nxdi`` command: a thin click layer over :func:`tnx2nxdi.runner.run`.

Exit codes (design §4): 0 nothing to change and no findings; 1 files changed or would change, or
findings that need a person remain; 2 usage error, unreadable or unparsable input, internal error.
No LibCST import here: ``tnx2nxdi --help`` stays instant.
"""

from __future__ import annotations

import sys

import click

from tnx2nxdi import __version__, report, rules
from tnx2nxdi.findings import RunResult
from tnx2nxdi.mappings import TARGET_VERSIONS
from tnx2nxdi.options import Options

EXIT_CLEAN, EXIT_CHANGED, EXIT_ERROR = 0, 1, 2


def _codes(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> frozenset[str]:
    try:
        return rules.expand(part for item in value for part in item.split(","))
    except ValueError as error:
        raise click.BadParameter(str(error)) from None


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("paths", nargs=-1, type=click.Path(allow_dash=True))
@click.option("--diff", "diff", is_flag=True, help="Write nothing; print a unified diff.")
@click.option("--check", "check", is_flag=True,
              help="Write nothing; list files that would change and the findings.")
@click.option("--output-format", type=click.Choice(report.OUTPUT_FORMATS), default="text",
              show_default=True, help="How findings are printed.")
@click.option("--show-fixes", is_flag=True,
              help="Also list what was migrated (text format lists only what needs a person).")
@click.option("--select", multiple=True, callback=_codes, metavar="CODES",
              help="Report only these rule codes or prefixes (e.g. TNX3,TNX901).")
@click.option("--ignore", multiple=True, callback=_codes, metavar="CODES",
              help="Do not report these rule codes or prefixes.")
@click.option("--target-version", type=click.Choice(TARGET_VERSIONS), default=TARGET_VERSIONS[-1],
              show_default=True, help="NxDI release whose names and defaults apply.")
@click.option("--compiled-model-path", metavar="PATH",
              help="Compile directory for programs that never saved one "
                   "[default: a directory named after the model].")
@click.option("--exit-zero-even-if-changed", is_flag=True,
              help="Exit 0 when files changed but no finding needs a person.")
@click.option("--stdin-filename", metavar="NAME",
              help="The name of the file read from '-' (decides its kind and messages).")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=1, show_default=True,
              help="Files processed in parallel.")
@click.option("--list-rules", is_flag=True, help="List every rule code and exit.")
@click.option("--explain", metavar="CODE", help="Explain one rule, with an example, and exit.")
@click.version_option(__version__, prog_name="tnx2nxdi")
def main(
    paths: tuple[str, ...], diff: bool, check: bool, output_format: str, show_fixes: bool,
    select: frozenset[str], ignore: frozenset[str], target_version: str,
    compiled_model_path: str | None, exit_zero_even_if_changed: bool,
    stdin_filename: str | None, jobs: int, list_rules: bool, explain: str | None,
) -> None:
    """Migrate Transformers NeuronX (TNx) code in PATHS to NeuronX Distributed Inference.

    PATHS are files and directories (walked for .py files); '-' reads standard input and writes
    the result to standard output. Files are rewritten in place unless --diff or --check.
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
    options = Options(
        target_version=target_version,
        compiled_model_path=compiled_model_path,
        select=select or None,
        ignore=ignore,
        mode="diff" if diff else "check" if check else "write",
        jobs=jobs,
    )
    if paths == ("-",):
        sys.exit(_stdin(options, stdin_filename or "<stdin>.py", output_format, show_fixes,
                        exit_zero_even_if_changed))
    from tnx2nxdi.runner import run

    result = run(paths, options)
    _print_run(result, options, output_format, show_fixes)
    sys.exit(_exit_code(result, exit_zero_even_if_changed))


def _print_run(result: RunResult, options: Options, output_format: str, show_fixes: bool) -> None:
    if options.mode == "diff":
        for file in result.changed:
            click.echo(report.unified_diff(file), nl=False)
    findings = report.render_findings(result, output_format, show_fixes=show_fixes)
    to_stderr = options.mode == "diff"
    if options.mode == "check" and output_format == "text":
        for file in result.changed:
            click.echo(f"Would migrate {file.path}")
    click.echo(findings, nl=False, err=to_stderr)
    if output_format == "text":
        click.echo(report.summary(result, options.mode), err=to_stderr)


def _stdin(options: Options, name: str, output_format: str, show_fixes: bool,
           exit_zero: bool) -> int:
    from tnx2nxdi.runner import process_bytes

    data = sys.stdin.buffer.read()
    result, new_data = process_bytes(data, options, name)
    run = RunResult([result])
    if options.mode == "diff":
        click.echo(report.unified_diff(result), nl=False)
    elif options.mode == "write":
        sys.stdout.buffer.write(new_data)
        sys.stdout.flush()
    click.echo(report.render_findings(run, output_format, show_fixes=show_fixes), nl=False,
               err=True)
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
    for rule in rules.RULES:
        click.echo(f"{rule.code}  {rule.fix:<9}  {rule.name:<24} {rule.summary}")


def _explain(code: str) -> None:
    rule = rules.RULE_BY_CODE.get(code.strip().upper())
    if rule is None:
        raise click.BadParameter(f"unknown rule code: {code!r}", param_hint="--explain")
    click.echo(f"{rule.code} ({rule.name}): {rule.summary}\n")
    click.echo(f"Fix: {rule.fix}\n")
    click.echo(rule.description + "\n")
    if rule.before:
        click.echo("Before:\n" + _indent(rule.before) + "\nAfter:\n" + _indent(rule.after))


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())
