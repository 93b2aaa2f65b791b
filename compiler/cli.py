"""The ``detc`` command line: a thin shell over the library; errors become one line and an exit code."""

from __future__ import annotations

import functools
import gc
import json
import os
import sys
from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, Optional

import typer

from compiler import __version__
from compiler.cache import DEFAULT_DIR as CACHE_DIR
from compiler.cache import Cache
from compiler.errors import DetcError, UnsupportedFeature, UsageError, shown
from compiler.outputs import compare, write_files, write_tree
from compiler.paths import CLIENTS_DIR, display_path, orphan_errors, orphan_tests_files, read_sources
from compiler.paths import all_clients as all_clients_in
from compiler.profile import DEFAULT_PROFILE, Profile
from compiler.progress import ProgressBar
from compiler.uptodate import OutputTree, build_keys, save_records, unchanged

DEFAULT_BUDGET = 200
"""Generated events per rule (``--budget``); the generator's own default (``compiler.generate``)."""

if TYPE_CHECKING:
    from rich.console import Console

    from compiler.rules import DetcRule
    from compiler.target import Registry
    from compiler.testing import CaseResult, MissingRegression

# Heavy modules (pySigma, the backends, rich) are imported inside the commands that need them,
# so that a no-change build served from the cache starts in a fraction of a second.

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="detc: compile Sigma rules to KQL, Lucene, SPL and EventBridge, and test them on fixtures.",
)
PRESERVED = ("clients",)
"""Top-level output entries the default build never touches (client builds live there)."""

RulesOpt = typer.Option(Path("sigma"), "--rules", help="Directory of Sigma rules (or one rule file).")
TargetOpt = typer.Option(None, "--target", "-t", help="Target name; repeat for several (default: all).")


def _without_gc(command: Callable[..., None]) -> Callable[..., None]:
    """Run a command with the cyclic garbage collector paused. A large rule set, or one rule with
    a huge value list, is millions of long-lived objects and few cycles: the collector would scan
    them again and again, a cost that grows with the square of their number (a 100,000-value list
    spent most of ``detc test`` there). The command's process ends soon after, and in-process
    callers get the collector back."""

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> None:
        collecting = gc.isenabled()
        gc.disable()
        try:
            command(*args, **kwargs)
        finally:
            if collecting:
                gc.enable()

    return run


def _fail(err: DetcError | str, code: int = 2) -> NoReturn:
    typer.echo(str(err), err=True)
    raise typer.Exit(code)


def _write_report(option: str, path: Path, data: bytes) -> None:
    """Write a report file atomically (its folder made if missing); one line and exit 2 if it cannot be."""
    try:
        write_files(path.parent, {path.name: data})
    except DetcError as err:
        _fail(f"{option} {display_path(path)}: {err}")


def _registry() -> Registry:
    from compiler.target import load_registry

    return load_registry()


def _stdout() -> Console:
    from rich.console import Console

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
    from compiler.check import validate

    warnings: list[str] = []
    try:
        problems = validate(rules, _registry(), warnings)
    except DetcError as err:
        _fail(err)
    for line in warnings:
        typer.echo(line, err=True)
    for problem in problems:
        typer.echo(str(problem), err=True)
    if problems:
        typer.echo(f"{len(problems)} problem(s)", err=True)
        raise typer.Exit(1)
    typer.echo("ok", err=True)


@app.command()
def convert(
    rule: Path = typer.Argument(..., help="A Sigma rule file."),
    target: list[str] = typer.Option(
        None, "--target", "-t", help="Target name (see: detc targets); repeatable. Default: every target."
    ),
    client: str = typer.Option(None, "--client", "-c", help="Compile with a client profile (clients/NAME.yml)."),
    clients_dir: Path = typer.Option(CLIENTS_DIR, "--clients-dir", help="Directory of client profiles."),
    skip_unsupported: bool = typer.Option(
        False, "--skip-unsupported", help="Exit 0 when a target cannot express the rule (still said on stderr)."
    ),
) -> None:
    """Print one rule compiled for one target, or for several under a `# target` header each; exit 1
    when any target asked for (every target by default) cannot express it, unless --skip-unsupported."""
    from compiler.build import compile_one
    from compiler.rules import load_rule

    try:
        registry = _registry()
        chosen = [registry.get(name) for name in target] if target else list(registry.targets.values())
        profile = _profiles(registry, [client] if client else None, False, clients_dir)[0]
        loaded = load_rule(rule, display_path(rule))
        if client:
            from compiler.clients import apply_profile

            loaded = apply_profile(loaded, profile)  # the client's exclusions and overrides
    except DetcError as err:
        _fail(err)
    several = len(chosen) > 1
    refused = []
    for index, one in enumerate(chosen):
        try:
            compiled = compile_one(one, loaded, profile)
        except UnsupportedFeature as err:
            refused.append(one.name)
            typer.echo(f"unsupported: {err}", err=True)
            continue
        except DetcError as err:
            _fail(err)
        if several:
            sys.stdout.write(("\n" if index else "") + f"# {one.name}\n")
        sys.stdout.write(compiled.query if compiled.query.endswith("\n") else compiled.query + "\n")
        for caveat in compiled.caveats:
            typer.echo(f"caveat [{one.name}]: {caveat}" if several else f"caveat: {caveat}", err=True)
    if refused and not skip_unsupported:
        raise typer.Exit(1)


def _load(rules: Path, missing: dict[str, DetcError] | None = None) -> tuple[DetcRule, ...]:
    """Load every rule and validate every tests file and regression test (info.yml): any problem is
    exit 2 before anything runs. With ``missing``, regression data a rule names that this copy
    lacks (``RegressionDataMissing``) is put there, by rule path, instead."""
    from compiler.fixtures import load_fixtures
    from compiler.regression import RegressionDataMissing, load_regression
    from compiler.rules import load_rules

    ruleset = load_rules(rules)
    for line in ruleset.warnings:
        typer.echo(line, err=True)
    problems: list[str] = [str(err) for err in ruleset.errors]
    for rule in ruleset.rules:
        try:
            load_fixtures(rule, rules)
            load_regression(rule)
        except RegressionDataMissing as err:
            if missing is None:
                problems.append(str(err))
            else:
                missing[rule.path] = err
        except DetcError as err:
            problems.append(str(err))
    problems.extend(str(err) for err in orphan_errors(orphan_tests_files(rules)))
    if problems:
        for line in problems:
            typer.echo(line, err=True)
        raise typer.Exit(2)
    return ruleset.rules


ClientOpt = typer.Option(None, "--client", "-c", help="Client profile name (clients/NAME.yml); repeatable.")
AllClientsOpt = typer.Option(False, "--all-clients", help="Every profile in clients/.")
ClientsDirOpt = typer.Option(CLIENTS_DIR, "--clients-dir", help="Directory of client profiles.")


def _profiles(registry: Registry, clients: Sequence[str] | None, all_clients: bool, clients_dir: Path) -> list[Profile]:
    from compiler.clients import client_path, load_profile

    names = all_clients_in(clients_dir) if all_clients else list(dict.fromkeys(clients or []))
    if all_clients and not names:
        raise UsageError(f"no client profiles in {clients_dir}")
    if not names:
        return [DEFAULT_PROFILE]
    return [load_profile(client_path(n, clients_dir), registry.settings(), registry) for n in names]


def _warn_unmatched(profile: Profile, rule_ids: Collection[str], clients_dir: Path) -> None:
    """One warning line per rule id the profile names that none of the client's rules has."""
    from compiler.clients import client_path, unmatched_ids

    for line in unmatched_ids(profile, rule_ids):
        typer.echo(f"{display_path(client_path(profile.name, clients_dir))}: warning: {line}", err=True)


def _client_rules(rules: Sequence[DetcRule], profile: Profile) -> list[DetcRule]:
    from compiler.clients import apply_profile, select_rules

    return [apply_profile(r, profile) for r in select_rules(rules, profile)]


def _guard_outputs(output: Path, names: Sequence[str], rules: Path, clients_dir: Path) -> None:
    """Refuse, before anything is compiled, an output folder that is not detc's to replace."""
    from compiler.guard import check_output

    protected = [("the rules folder", rules), ("the clients folder", clients_dir)]
    if any(name != DEFAULT_PROFILE.name for name in names):
        check_output(output, protected=protected, contents=False)
    for name in names:
        root, preserved = _output_for(output, name)
        check_output(root, protected=protected, preserved=preserved)


def _output_for(output: Path, profile_name: str) -> tuple[Path, tuple[str, ...]]:
    """Where a profile's build goes, and the top-level entries there it leaves alone."""
    if profile_name == DEFAULT_PROFILE.name:
        return output, PRESERVED
    return output / "clients" / profile_name, ()


JobsOpt = typer.Option(None, "--jobs", "-j", min=1, help="Worker processes (default: all cores).")
NoCacheOpt = typer.Option(False, "--no-cache", help="Ignore and do not write .detc-cache/.")




@app.command()
@_without_gc
def build(
    rules: Path = RulesOpt,
    output: Path = typer.Option(Path("output"), "--output", "-o", help="Output directory."),
    target: Optional[list[str]] = TargetOpt,
    check: bool = typer.Option(False, "--check", help="Write nothing; exit 1 if the output directory is stale."),
    client: Optional[list[str]] = ClientOpt,
    all_clients: bool = AllClientsOpt,
    clients_dir: Path = ClientsDirOpt,
    jobs: Optional[int] = JobsOpt,
    no_cache: bool = NoCacheOpt,
    report: bool = typer.Option(
        False, "--report", help="Write nothing; print the support matrix (rules x targets, reasons counted)."
    ),
    report_json: Optional[Path] = typer.Option(None, "--report-json", help="With --report: also write it as JSON."),
) -> None:
    """Compile every rule for every target and write artifacts plus manifest.json (atomically)."""
    if report:
        _report(rules, target, report_json)
        return
    from compiler.filestate import FileRecord

    cache = Cache(None if no_cache else CACHE_DIR)
    builds: list[tuple[Profile, Any]] = []
    trees: dict[str, OutputTree] = {}

    def tree(name: str) -> OutputTree:
        if name not in trees:
            trees[name] = OutputTree(cache, *_output_for(output, name))
        return trees[name]

    inputs = FileRecord(cache, rules if rules.is_dir() else rules.parent)
    try:
        if not check:
            wanted = all_clients_in(clients_dir) if all_clients else list(dict.fromkeys(client or []))
            _guard_outputs(output, wanted or [DEFAULT_PROFILE.name], rules, clients_dir)
            _SIGINT["pending"] = [str(_output_for(output, name)[0]) for name in wanted or [DEFAULT_PROFILE.name]]
        sources = read_sources(rules, inputs)  # read once, for the build's key and for the build
        for where, why in sources.skipped:
            typer.echo(f"{where}: warning: {why}", err=True)
        keys = build_keys(cache, sources, target, client, all_clients, clients_dir)
        counts = {name: unchanged(cache, key, tree(name)) for name, key in keys.items()}
        if keys and all(count is not None for count in counts.values()):
            # Every requested build is on disk as the cache recorded it: nothing to compile.
            for name, count in counts.items():
                typer.echo(f"{tree(name).root} is up to date ({count} files, from cache)", err=True)
            save_records(inputs, trees)
            return
        from compiler.pipeline import default_jobs, run_builds

        registry = _registry()
        chosen = registry.select(target)
        profiles = _profiles(registry, client, all_clients, clients_dir)
        for profile in profiles:
            tree(profile.name).start()  # read the output folders while the rules compile
        with ProgressBar() as bar:
            outcomes = run_builds(
                sources, registry, chosen, profiles, jobs=jobs or default_jobs(), cache=cache,
                progress=bar.start, wholes=keys,
            )
        builds = list(zip(profiles, outcomes, strict=True))
    except DetcError as err:
        _fail(err)
    problems = list(dict.fromkeys(str(e) for _, b in builds for e in b.problems))  # a rule's problem once
    if problems:
        for line in problems:
            typer.echo(line, err=True)
        raise typer.Exit(2)
    stale = False
    for profile, outcome in builds:
        root, preserve = _output_for(output, profile.name)
        if check:
            drift = compare(root, outcome.files, preserve, current=tree(profile.name).digests(), wanted=outcome.digests)
            for line in drift.lines():
                typer.echo(line if profile.name == DEFAULT_PROFILE.name else f"{line} (client {profile.name})")
            if not drift.clean:
                typer.echo(f"{root} is stale: run detc build", err=True)
                stale = True
            else:
                typer.echo(f"{root} is up to date ({len(outcome.files)} files)", err=True)
            continue
        current = tree(profile.name)
        try:
            # an identical tree is left alone
            _write_guarded(root, functools.partial(
                write_tree, root, outcome.files, preserve, current=current.digests(), record=current.record,
                wanted=outcome.digests,
            ))
        except DetcError as err:
            _fail(err)
        summary_line = f"built {outcome.rules} rule(s)" + (
            f", {outcome.unsupported} unsupported rule x target pair(s)" if outcome.unsupported else ""
        )
        if outcome.stats.get("hits"):
            summary_line += f" ({outcome.stats['hits']} from cache)"
        typer.echo(f"{summary_line}: {len(outcome.files)} files in {root}", err=True)
        for path, rule_id, name, reason in outcome.unsupported_pairs:
            typer.echo(f"{shown(path)}: {rule_id}: {name}: unsupported: {reason}", err=True)
        if profile.name != DEFAULT_PROFILE.name:
            built = json.loads(outcome.files["manifest.json"])["rules"]
            _warn_unmatched(profile, built, clients_dir)
    save_records(inputs, trees)
    if stale:
        raise typer.Exit(1)


def _report(rules: Path, target: Sequence[str] | None, report_json: Path | None) -> None:
    from rich.table import Table

    from compiler.guard import check_report_out
    from compiler.jsonio import dumps
    from compiler.report import support_matrix

    try:
        if report_json:
            check_report_out("--report-json", report_json)
        data, errors, warnings = support_matrix(rules, _registry().select(target))
        for line in warnings:
            typer.echo(line, err=True)
    except DetcError as err:
        _fail(err)
    console = _stdout()
    table = Table(title=f"support matrix: {data['rules']} rules ({data['loaded']} loaded)")
    for column in ("target", "ok", "unsupported", "error"):
        table.add_column(column, justify="left" if column == "target" else "right")
    for name, row in data["targets"].items():
        table.add_row(name, str(row["ok"]), str(row["unsupported"]), str(row["error"]))
    console.print(table)
    if data["load_errors"]:
        console.print("rules that do not load:", markup=False)
        for reason, count in data["load_errors"].items():
            console.print(f"  {count:4}  {reason}", markup=False)
    for name, row in data["targets"].items():
        if row["reasons"]:
            console.print(f"{name}: unsupported because", markup=False)
            for reason, count in row["reasons"].items():
                console.print(f"  {count:4}  {reason}", markup=False)
            console.print(f"{name}: unsupported rules", markup=False)
            for item in row["unsupported_rules"]:
                console.print(f"  {shown(item['path'])}: {item['id']}: {item['reason']}", markup=False)
    for error in errors:
        console.print(f"error: {error}", markup=False)
    if report_json:
        _write_report("--report-json", report_json, dumps(data))


@app.command("test")
@_without_gc
def test_cmd(
    rules: Path = RulesOpt,
    target: Optional[list[str]] = TargetOpt,
    json_path: Optional[Path] = typer.Option(None, "--json", help="Write results as JSON here."),
    junit_path: Optional[Path] = typer.Option(None, "--junit", help="Write results as JUnit XML here."),
    client: Optional[list[str]] = ClientOpt,
    all_clients: bool = AllClientsOpt,
    clients_dir: Path = ClientsDirOpt,
    live: bool = typer.Option(
        False, "--live", help="Also ask the live platform (EventBridge TestEventPattern; needs AWS credentials)."
    ),
    allow_empty: bool = typer.Option(False, "--allow-empty", help="Exit 0 even when no rule has fixture cases."),
    allow_untested: bool = typer.Option(
        False, "--allow-untested", help="Accept a target whose every match case of a rule is waived."
    ),
    generated: bool = typer.Option(
        False, "--generated", help="Also run generated witnesses and near misses (verdicts from the Sigma reference)."
    ),
    budget: int = typer.Option(DEFAULT_BUDGET, "--budget", min=1, help="Generated events per rule, at most."),
) -> None:
    """Run every fixture case, every regression test (SigmaHQ's regression_tests_path) and with
    --generated the generated events against every target; exit 1 on any failure, when no rule has
    any, or when a target's every match case of a rule is waived."""
    from compiler.fixtures import load_fixtures
    from compiler.guard import check_report_out
    from compiler.regression import load_regression
    from compiler.testing import (
        MissingRegression,
        generated_cases,
        live_targets,
        read_samples,
        rule_coverage,
        run_rule,
        to_json,
        to_junit,
        with_client_cases,
    )

    try:
        if json_path:
            check_report_out("--json", json_path)
        if junit_path:
            check_report_out("--junit", junit_path)
        registry = _registry()
        chosen = registry.select(target)
        if live:
            twins = live_targets(chosen)
            if not twins:
                raise UsageError("--live: none of the chosen targets has a live platform to ask")
            chosen = [*chosen, *twins]
        missing: dict[str, DetcError] = {}
        loaded = _load(rules, missing)
        for err in missing.values():  # the rule's other cases still run
            typer.echo(f"{shown(err.path or '')}: {err.rule_id}: regression tests not run: {err.message}", err=True)
        results: list[CaseResult] = []
        coverage: list[dict[str, Any]] = []
        not_generated: dict[str, int] = {}
        for profile in _profiles(registry, client, all_clients, clients_dir):
            chosen_rules = _client_rules(loaded, profile)
            if profile.name != DEFAULT_PROFILE.name:
                _warn_unmatched(profile, {r.id for r in chosen_rules}, clients_dir)
            for rule in chosen_rules:
                fixtures = load_fixtures(rule, rules)
                regression = None if rule.path in missing else load_regression(rule)
                try:
                    made = generated_cases(rule, budget) if generated else ()
                except UnsupportedFeature as err:  # e.g. an unresolved placeholder: nothing to instantiate
                    typer.echo(f"{rule.path}: {rule.id}: no generated events: {err.message}", err=True)
                    made = ()
                if made is None:
                    from compiler.logsources import describe

                    not_generated[describe(rule.sigma.logsource)] = not_generated.get(describe(rule.sigma.logsource), 0) + 1
                    made = ()
                if fixtures is None and regression is None and not made:
                    if not generated and rule.path not in missing:
                        typer.echo(f"{rule.path}: {rule.id}: no tests file; not tested", err=True)
                    continue
                if fixtures is not None:
                    fixtures = with_client_cases(fixtures, rule, profile)
                samples = read_samples(regression)
                results.extend(run_rule(
                    rule, fixtures, chosen, profile, samples, generated=made, allow_untested=allow_untested
                ))
                events = [c.event for c in (fixtures.cases if fixtures else ())]
                events += [e for sample in samples for e in sample.events] + [c.event for c in made]
                coverage.append({**rule_coverage(rule, events), "client": "" if profile.name == "default" else profile.name})
    except DetcError as err:
        _fail(err)
    for logsource, count in sorted(not_generated.items()):
        typer.echo(f"{logsource}: no generated events for this logsource yet ({count} rule(s))", err=True)
    not_run = [MissingRegression(rule_id=e.rule_id or "", path=e.path or "", message=e.message) for e in missing.values()]
    _print_matrix(results, [t.name for t in chosen], coverage, not_run)
    if json_path:
        _write_report("--json", json_path, to_json(results, coverage, not_run))
    if junit_path:
        _write_report("--junit", junit_path, to_junit(results, not_run))
    if not results and not allow_empty:
        typer.echo(f"{rules}: no rule has fixture cases: nothing was tested (--allow-empty to accept)", err=True)
        raise typer.Exit(1)
    if any(r.status == "fail" for r in results):
        raise typer.Exit(1)


@app.command("fixtures")
def fixtures_cmd(
    rule: Path = typer.Argument(..., help="A Sigma rule file."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Write the tests file here (default: stdout)."),
    budget: int = typer.Option(DEFAULT_BUDGET, "--budget", min=1, help="Generated events, at most."),
) -> None:
    """Write generated witnesses and near misses as an X.tests.yml to review and keep."""
    from compiler.fixtures import Case
    from compiler.generate import fixtures_text, generate_kinds
    from compiler.guard import check_fixtures_out
    from compiler.rawforms import raw_forms
    from compiler.rules import load_rule
    from compiler.testing import run_rule

    try:
        if out is not None:
            check_fixtures_out(out)
        loaded = load_rule(rule, display_path(rule))
        forms = raw_forms(loaded)
        if not forms:
            raise UsageError(f"{loaded.path}: {loaded.id}: no generated events for this logsource yet")
        made = generate_kinds(loaded, forms, budget)
        missing = [e for e in ("match", "no_match") if not any(g.expect == e for g in made)]
        if missing:
            _fail(f"{loaded.path}: {loaded.id}: no generated event gets the verdict {missing[0]}", 1)
        cases = [Case(name=g.name, expect=g.expect, event=g.event) for g in made]  # type: ignore[arg-type]
        waivers: dict[str, dict[str, str]] = {}
        for result in run_rule(loaded, None, _registry().select(None), DEFAULT_PROFILE, generated=cases, allow_untested=True):
            if result.difference == "stated":
                waivers.setdefault(result.case, {})[result.target] = result.message
    except DetcError as err:
        _fail(err)
    text = fixtures_text(loaded, made, waivers)
    if out is None:
        sys.stdout.write(text)
        return
    try:
        write_files(out.parent, {out.name: text.encode("utf-8")})
    except DetcError as err:
        _fail(err)
    typer.echo(f"{out}: {len(made)} cases", err=True)


@app.command("package")
def package_cmd(
    client: str = typer.Option(..., "--client", "-c", help="Client profile name."),
    rules: Path = RulesOpt,
    output: Path = typer.Option(Path("dist"), "--output", "-o", help="Directory for the package."),
    clients_dir: Path = ClientsDirOpt,
) -> None:
    """Write a reproducible NAME.tar.gz of a client's artifacts and its NAME.package.json manifest."""
    from compiler.build import build as run_build
    from compiler.build import sha256
    from compiler.guard import check_output
    from compiler.package import package as make_package

    try:
        check_output(
            output, protected=[("the rules folder", rules), ("the clients folder", clients_dir)], owned="package"
        )
        registry = _registry()
        loaded = _load(rules)
        (profile,) = _profiles(registry, [client], False, clients_dir)
        result = run_build(_client_rules(loaded, profile), registry, registry.select(None), profile)
    except DetcError as err:
        _fail(err)
    if result.errors:
        for error in result.errors:
            typer.echo(str(error), err=True)
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
    from compiler.jsonio import dumps
    from compiler.package import diff as diff_manifests
    from compiler.package import read_manifest

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


def _print_matrix(
    results: Sequence[CaseResult], target_names: Sequence[str], coverage: Sequence[dict[str, Any]] = (),
    not_run: Sequence[MissingRegression] = (),
) -> None:
    from rich.markup import escape
    from rich.table import Table

    from compiler.testing import summary

    console = _stdout()
    table = Table(title="detc test", show_lines=False)
    table.add_column("rule", overflow="fold")
    for name in target_names:
        table.add_column(name, justify="center")
    covered = {(f"{c['path']} [{c['client']}]" if c["client"] else c["path"]): c for c in coverage}
    if coverage:
        table.add_column("leaves covered", justify="right")
    rows: dict[str, dict[str, list[CaseResult]]] = {}
    for r in results:
        rows.setdefault(r.label, {}).setdefault(r.target, []).append(r)
    for path, per_target in rows.items():
        cells = []
        for name in target_names:
            mine = per_target.get(name, [])
            cells.append(_cell(mine))
        if coverage:
            c = covered.get(path)
            cells.append(f"{c['covered']}/{c['leaves']}" if c else "-")
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
    for c in coverage:
        for leaf in c["uncovered"]:
            console.print(f"uncovered {c['path']}: no case takes the rule from match to no match by {leaf}", markup=False)
    totals = summary(results)
    if "generated" in totals:
        made = totals["generated"]
        console.print(
            f"generated: {made['total']} results, {made['stated_differences']} stated differences, "
            f"{made['silent_differences']} silent differences",
            markup=False,
        )
    if not_run:
        console.print(
            f"regression tests not run: {len(not_run)} rule(s) name regression data this copy lacks (each on stderr)",
            markup=False,
        )
    if coverage:
        leaves = sum(c["leaves"] for c in coverage)
        hit = sum(c["covered"] for c in coverage)
        console.print(
            f"fixture coverage: {hit}/{leaves} condition leaves ({100 * hit / leaves if leaves else 100:.1f}%)",
            markup=False,
        )
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


class Interrupted(BaseException):
    """Ctrl-C (SIGINT), raised by detc's own handler: click turns a KeyboardInterrupt into
    "Aborted!" and exit 1, detc says what became of the output and exits 130."""


_SIGINT: dict[str, Any] = {"defer": False, "seen": False, "pending": [], "written": []}
"""While an output folder is swapped in, Ctrl-C is noted and acted on at the next safe point;
``pending``/``written``: the output folders of the running build, not yet / already replaced."""


def _on_sigint(signum: int, frame: Any) -> None:
    if _SIGINT["defer"]:
        _SIGINT["seen"] = True
        return
    raise Interrupted


def _stop_if_interrupted() -> None:
    if _SIGINT["seen"]:
        _SIGINT["seen"] = False
        raise Interrupted


def _write_guarded(root: Path, write: Callable[..., Any]) -> None:
    """Write one output folder (``write(abort=...)``): Ctrl-C during the write stops it before the
    swap (the folder unchanged) or, once swapped, after it (the folder written in full)."""
    _SIGINT["defer"] = True
    try:
        write(abort=_stop_if_interrupted)
    finally:
        _SIGINT["defer"] = False
    shown = str(root)
    if shown in _SIGINT["pending"]:
        _SIGINT["pending"].remove(shown)
    _SIGINT["written"].append(shown)
    _stop_if_interrupted()


def _interrupted_line() -> str:
    said = [f"{', '.join(_SIGINT['written'])} written in full"] if _SIGINT["written"] else []
    if _SIGINT["pending"]:
        said.append(f"{', '.join(_SIGINT['pending'])} unchanged")
    return "; ".join(["interrupted", *said])


def main() -> None:
    """The ``detc`` command: the app, then an exit that skips tearing down the heap.

    Everything is written and flushed by then; freeing a large build's objects one by one at
    interpreter exit only costs time (mypy exits the same way)."""
    import signal

    signal.signal(signal.SIGINT, _on_sigint)
    # typer (pinned below 0.29) carries its own click; its exceptions are not exported by name
    from typer._click.exceptions import ClickException, UsageError

    try:
        # not standalone: click hands back usage errors, which detc writes as its one line
        code: object = app(prog_name="detc", standalone_mode=False)
        if not isinstance(code, int):
            code = 0
    except ClickException as err:  # a bad option or argument: one line, exit 2
        command = err.ctx.info_name if isinstance(err, UsageError) and err.ctx else None
        where = f"detc {command}" if command not in (None, "detc") else "detc"
        sys.stderr.write(f"{where}: {' '.join(err.format_message().split())} (see --help)\n")
        code = err.exit_code
    except typer.Abort:
        code = 1
    except SystemExit as done:
        code = done.code
    except Interrupted:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        sys.stderr.write(_interrupted_line() + "\n")
        code = 130
    if isinstance(code, str):
        sys.stderr.write(code + "\n")
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code if isinstance(code, int) else 0)
