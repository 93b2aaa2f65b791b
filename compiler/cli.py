"""The ``detc`` command line: a thin shell over the library; errors become one line and an exit code."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from compiler import __version__
from compiler.build import build as run_build
from compiler.build import compile_one, dumps, sha256
from compiler.clients import CLIENTS_DIR, apply_profile, client_path, load_profile, select_rules
from compiler.clients import all_clients as all_clients_in
from compiler.check import validate
from compiler.errors import DetcError, UnsupportedFeature, UsageError
from compiler.fixtures import load_fixtures
from compiler.outputs import compare, write_files, write_tree
from compiler.package import diff as diff_manifests
from compiler.package import package as make_package
from compiler.package import read_manifest
from compiler.profile import DEFAULT_PROFILE, Profile
from compiler.rules import DetcRule, display_path, load_rule, load_rules
from compiler.target import Registry, load_registry
from compiler.testing import CaseResult, run_rule, summary, to_json, to_junit, with_client_cases

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


def _load(rules: Path) -> tuple[DetcRule, ...]:
    ruleset = load_rules(rules)
    if ruleset.errors:
        for err in ruleset.errors:
            typer.echo(str(err), err=True)
        raise typer.Exit(2)
    return ruleset.rules


ClientOpt = typer.Option(None, "--client", "-c", help="Client profile name (clients/NAME.yml); repeatable.")
AllClientsOpt = typer.Option(False, "--all-clients", help="Every profile in clients/.")
ClientsDirOpt = typer.Option(CLIENTS_DIR, "--clients-dir", help="Directory of client profiles.")


def _profiles(registry: Registry, clients: Sequence[str] | None, all_clients: bool, clients_dir: Path) -> list[Profile]:
    names = all_clients_in(clients_dir) if all_clients else list(dict.fromkeys(clients or []))
    if all_clients and not names:
        raise UsageError(f"no client profiles in {clients_dir}")
    if not names:
        return [DEFAULT_PROFILE]
    return [load_profile(client_path(n, clients_dir), list(registry.targets)) for n in names]


def _client_rules(rules: Sequence[DetcRule], profile: Profile) -> list[DetcRule]:
    return [apply_profile(r, profile) for r in select_rules(rules, profile)]


def _output_for(output: Path, profile: Profile) -> tuple[Path, tuple[str, ...]]:
    if profile is DEFAULT_PROFILE:
        return output, PRESERVED
    return output / "clients" / profile.name, ()


@app.command()
def build(
    rules: Path = RulesOpt,
    output: Path = typer.Option(Path("output"), "--output", "-o", help="Output directory."),
    target: Optional[list[str]] = TargetOpt,
    check: bool = typer.Option(False, "--check", help="Write nothing; exit 1 if the output directory is stale."),
    client: Optional[list[str]] = ClientOpt,
    all_clients: bool = AllClientsOpt,
    clients_dir: Path = ClientsDirOpt,
) -> None:
    """Compile every rule for every target and write artifacts plus manifest.json (atomically)."""
    try:
        registry = _registry()
        chosen = registry.select(target)
        loaded = _load(rules)
        profiles = _profiles(registry, client, all_clients, clients_dir)
        builds = [
            (p, run_build(_client_rules(loaded, p), registry, chosen, p)) for p in profiles
        ]
    except DetcError as err:
        _fail(err)
    errors = [e for _, b in builds for e in b.errors]
    if errors:
        for err in errors:
            typer.echo(str(err), err=True)
        raise typer.Exit(2)
    stale = False
    for profile, result in builds:
        root, preserve = _output_for(output, profile)
        if check:
            drift = compare(root, result.files, preserve)
            for line in drift.lines():
                typer.echo(f"{line}" if profile is DEFAULT_PROFILE else f"{line} (client {profile.name})")
            if not drift.clean:
                typer.echo(f"{root} is stale: run detc build", err=True)
                stale = True
            else:
                typer.echo(f"{root} is up to date ({len(result.files)} files)", err=True)
            continue
        try:
            write_tree(root, result.files, preserve)
        except DetcError as err:
            _fail(err)
        unsupported = sum(len(r.unsupported) for r in result.results)
        typer.echo(
            f"built {len(result.results)} rule(s) for {len(chosen)} target(s): "
            f"{len(result.files)} files in {root}" + (f", {unsupported} unsupported" if unsupported else ""),
            err=True,
        )
    if stale:
        raise typer.Exit(1)


@app.command("test")
def test_cmd(
    rules: Path = RulesOpt,
    target: Optional[list[str]] = TargetOpt,
    json_path: Optional[Path] = typer.Option(None, "--json", help="Write results as JSON here."),
    junit_path: Optional[Path] = typer.Option(None, "--junit", help="Write results as JUnit XML here."),
    client: Optional[list[str]] = ClientOpt,
    all_clients: bool = AllClientsOpt,
    clients_dir: Path = ClientsDirOpt,
) -> None:
    """Run every fixture case against every target; exit 1 on any failure."""
    try:
        registry = _registry()
        chosen = registry.select(target)
        loaded = _load(rules)
        results: list[CaseResult] = []
        for profile in _profiles(registry, client, all_clients, clients_dir):
            for rule in _client_rules(loaded, profile):
                fixtures = load_fixtures(rule)
                if fixtures is None:
                    typer.echo(f"{rule.path}: {rule.id}: no tests file; not tested", err=True)
                    continue
                fixtures = with_client_cases(fixtures, rule, profile)
                results.extend(run_rule(rule, fixtures, chosen, profile))
    except DetcError as err:
        _fail(err)
    _print_matrix(results, [t.name for t in chosen])
    if json_path:
        json_path.write_bytes(to_json(results))
    if junit_path:
        junit_path.write_bytes(to_junit(results))
    if any(r.status == "fail" for r in results):
        raise typer.Exit(1)


@app.command("package")
def package_cmd(
    client: str = typer.Option(..., "--client", "-c", help="Client profile name."),
    rules: Path = RulesOpt,
    output: Path = typer.Option(Path("dist"), "--output", "-o", help="Directory for the package."),
    clients_dir: Path = ClientsDirOpt,
) -> None:
    """Write a reproducible NAME.tar.gz of a client's artifacts and its NAME.package.json manifest."""
    try:
        registry = _registry()
        loaded = _load(rules)
        (profile,) = _profiles(registry, [client], False, clients_dir)
        result = run_build(_client_rules(loaded, profile), registry, registry.select(None), profile)
    except DetcError as err:
        _fail(err)
    if result.errors:
        for err in result.errors:
            typer.echo(str(err), err=True)
        raise typer.Exit(2)
    archive, manifest = make_package(result, profile)
    try:
        write_files(output, {f"{profile.name}.tar.gz": archive, f"{profile.name}.package.json": manifest})
    except DetcError as err:
        _fail(err)
    typer.echo(f"{output / (profile.name + '.tar.gz')}  sha256 {sha256(archive)}")


@app.command("diff")
def diff_cmd(
    old: Path = typer.Argument(..., help="Older package manifest (.package.json or .tar.gz)."),
    new: Path = typer.Argument(..., help="Newer package manifest."),
    as_json: bool = typer.Option(False, "--json", help="Print the difference as JSON."),
) -> None:
    """Which rules were added, removed or changed between two client packages."""
    try:
        changes = diff_manifests(read_manifest(old), read_manifest(new))
    except DetcError as err:
        _fail(err)
    if as_json:
        sys.stdout.write(dumps(changes).decode())
        return
    for key, title in (("added", "Added"), ("removed", "Removed"), ("changed", "Changed")):
        typer.echo(f"{title} ({len(changes[key])}):")
        for item in changes[key]:
            extra = f" — {'; '.join(item['changes'])}" if "changes" in item else ""
            typer.echo(f"  {item['id']}  {item['title']}{extra}")


def _print_matrix(results: Sequence[CaseResult], target_names: Sequence[str]) -> None:
    console = _stdout()
    table = Table(title="detc test", show_lines=False)
    table.add_column("rule")
    for name in target_names:
        table.add_column(name, justify="center")
    rows: dict[str, dict[str, list[CaseResult]]] = {}
    for r in results:
        rows.setdefault(r.label, {}).setdefault(r.target, []).append(r)
    for path, per_target in rows.items():
        cells = []
        for name in target_names:
            mine = per_target.get(name, [])
            cells.append(_cell(mine))
        table.add_row(escape(path), *cells)
    console.print(table)
    for r in results:
        if r.status == "fail":
            console.print(
                "[red]FAIL[/red] "
                + escape(
                    f"{r.label} [{r.target}] case {r.case!r}: expected {r.expected}, got {r.actual}"
                    + (f" ({r.message})" if r.message else "")
                ),
                markup=True,
            )
            if r.query:
                console.print(f"  query: {r.query.strip()}", markup=False)
    for r in results:
        if r.status == "waived":
            console.print(f"waived {r.label} [{r.target}] case {r.case!r}: {r.message}", markup=False)
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
