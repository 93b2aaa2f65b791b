"""The ``detc`` command line: a thin shell over the library; errors become one line and an exit code."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn, Optional

import typer
from rich.console import Console
from rich.table import Table

from compiler import __version__
from compiler.build import build as run_build
from compiler.build import compile_one
from compiler.check import validate
from compiler.errors import DetcError, UnsupportedFeature
from compiler.fixtures import load_fixtures
from compiler.outputs import compare, write_tree
from compiler.profile import DEFAULT_PROFILE
from compiler.rules import display_path, load_rule, load_rules
from compiler.target import Registry, load_registry
from compiler.testing import CaseResult, run_rule, summary, to_json, to_junit

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="detc: compile Sigma rules to KQL, Lucene, SPL and EventBridge, and test them on fixtures.",
)
PRESERVED = ("clients",)
"""Top-level output entries the default build never touches (client builds live there)."""

RulesOpt = typer.Option(Path("sigma"), "--rules", help="Directory of Sigma rules (or one rule file).")
TargetOpt = typer.Option(None, "--target", "-t", help="Target name; repeat for several (default: all).")


def _fail(err: DetcError | str, code: int = 2) -> NoReturn:
    typer.echo(str(err), err=True)
    raise typer.Exit(code)


def _registry() -> Registry:
    return load_registry()


def _stdout() -> Console:
    return Console(highlight=False, soft_wrap=True)


@app.command()
def version() -> None:
    """Print detc's version."""
    typer.echo(__version__)


@app.command()
def targets() -> None:
    """List the registered targets, one per line with a description."""
    for target in _registry().targets.values():
        typer.echo(f"{target.name}\t{target.description}")


@app.command()
def check(rules: Path = RulesOpt) -> None:
    """Validate every rule and tests file; one line per problem, exit 1 if any."""
    try:
        problems = validate(rules, _registry())
    except DetcError as err:
        _fail(err)
    for problem in problems:
        typer.echo(str(problem))
    if problems:
        typer.echo(f"{len(problems)} problem(s)", err=True)
        raise typer.Exit(1)
    typer.echo("ok", err=True)


@app.command()
def convert(
    rule: Path = typer.Argument(..., help="A Sigma rule file."),
    target: str = typer.Option(..., "--target", "-t", help="Target name (see: detc targets)."),
) -> None:
    """Print one rule compiled for one target."""
    try:
        chosen = _registry().get(target)
        loaded = load_rule(rule, display_path(rule))
        compiled = compile_one(chosen, loaded, DEFAULT_PROFILE)
    except UnsupportedFeature as err:
        _fail(f"unsupported: {err}", 1)
    except DetcError as err:
        _fail(err)
    sys.stdout.write(compiled.query if compiled.query.endswith("\n") else compiled.query + "\n")
    for caveat in compiled.caveats:
        typer.echo(f"caveat: {caveat}", err=True)


def _load(rules: Path):  # type: ignore[no-untyped-def]
    ruleset = load_rules(rules)
    if ruleset.errors:
        for err in ruleset.errors:
            typer.echo(str(err), err=True)
        raise typer.Exit(2)
    return ruleset.rules


@app.command()
def build(
    rules: Path = RulesOpt,
    output: Path = typer.Option(Path("output"), "--output", "-o", help="Output directory."),
    target: Optional[list[str]] = TargetOpt,
    check: bool = typer.Option(False, "--check", help="Write nothing; exit 1 if the output directory is stale."),
) -> None:
    """Compile every rule for every target and write artifacts plus manifest.json (atomically)."""
    try:
        registry = _registry()
        chosen = registry.select(target)
        loaded = _load(rules)
        result = run_build(loaded, registry, chosen, DEFAULT_PROFILE)
    except DetcError as err:
        _fail(err)
    if result.errors:
        for err in result.errors:
            typer.echo(str(err), err=True)
        raise typer.Exit(2)
    if check:
        drift = compare(output, result.files, PRESERVED)
        if not drift.clean:
            for line in drift.lines():
                typer.echo(line)
            typer.echo(f"{output} is stale: run detc build", err=True)
            raise typer.Exit(1)
        typer.echo(f"{output} is up to date ({len(result.files)} files)", err=True)
        return
    try:
        write_tree(output, result.files, PRESERVED)
    except DetcError as err:
        _fail(err)
    unsupported = sum(len(r.unsupported) for r in result.results)
    typer.echo(
        f"built {len(result.results)} rule(s) for {len(chosen)} target(s): "
        f"{len(result.files)} files in {output}" + (f", {unsupported} unsupported" if unsupported else ""),
        err=True,
    )


@app.command("test")
def test_cmd(
    rules: Path = RulesOpt,
    target: Optional[list[str]] = TargetOpt,
    json_path: Optional[Path] = typer.Option(None, "--json", help="Write results as JSON here."),
    junit_path: Optional[Path] = typer.Option(None, "--junit", help="Write results as JUnit XML here."),
) -> None:
    """Run every fixture case against every target; exit 1 on any failure."""
    try:
        registry = _registry()
        chosen = registry.select(target)
        loaded = _load(rules)
        results: list[CaseResult] = []
        for rule in loaded:
            fixtures = load_fixtures(rule)
            if fixtures is None:
                typer.echo(f"{rule.path}: {rule.id}: no tests file; not tested", err=True)
                continue
            results.extend(run_rule(rule, fixtures, chosen, DEFAULT_PROFILE))
    except DetcError as err:
        _fail(err)
    _print_matrix(results, [t.name for t in chosen])
    if json_path:
        json_path.write_bytes(to_json(results))
    if junit_path:
        junit_path.write_bytes(to_junit(results))
    if any(r.status == "fail" for r in results):
        raise typer.Exit(1)


def _print_matrix(results: Sequence[CaseResult], target_names: Sequence[str]) -> None:
    console = _stdout()
    table = Table(title="detc test", show_lines=False)
    table.add_column("rule")
    for name in target_names:
        table.add_column(name, justify="center")
    rows: dict[str, dict[str, list[CaseResult]]] = {}
    for r in results:
        rows.setdefault(r.rule_path, {}).setdefault(r.target, []).append(r)
    for path, per_target in rows.items():
        cells = []
        for name in target_names:
            mine = per_target.get(name, [])
            cells.append(_cell(mine))
        table.add_row(path, *cells)
    console.print(table)
    for r in results:
        if r.status == "fail":
            console.print(
                f"[red]FAIL[/red] {r.rule_path} [{r.target}] case {r.case!r}: "
                f"expected {r.expected}, got {r.actual}"
                + (f" ({r.message})" if r.message else ""),
                markup=True,
            )
            if r.query:
                console.print(f"  query: {r.query.strip()}", markup=False)
    for r in results:
        if r.status == "waived":
            console.print(f"waived {r.rule_path} [{r.target}] case {r.case!r}: {r.message}", markup=False)
    totals = summary(results)
    console.print(
        f"{totals['pass']} passed, {totals['fail']} failed, {totals['waived']} waived, "
        f"{totals['unsupported']} unsupported",
        markup=False,
    )


def _cell(results: Sequence[CaseResult]) -> str:
    if not results:
        return "-"
    if all(r.status == "unsupported" for r in results):
        return "[yellow]unsupported[/yellow]"
    fails = sum(r.status == "fail" for r in results)
    waived = sum(r.status == "waived" for r in results)
    passed = sum(r.status == "pass" for r in results)
    text = f"{passed}/{len(results)}"
    if waived:
        text += f" ({waived} waived)"
    return f"[red]{text} FAIL[/red]" if fails else f"[green]{text}[/green]"
