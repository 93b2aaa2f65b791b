"""Run every fixture case against every target and report verdicts."""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from compiler.build import compile_one
from compiler.errors import DetcError, UnsupportedFeature
from compiler.fixtures import Case, FixtureFile
from compiler.jsonio import dumps
from compiler.logsources import find
from compiler.profile import Profile
from compiler.regression import RegressionInfo
from compiler.rules import DetcRule
from compiler.target import LiveCapableTarget, LiveTarget, Target

Status = Literal["pass", "fail", "waived", "unsupported"]
Actual = Literal["match", "no_match", "unsupported", "error"]


@dataclass(frozen=True, kw_only=True)
class CaseResult:
    rule_id: str
    rule_path: str
    title: str
    case: str
    target: str
    expected: str
    actual: Actual
    status: Status
    query: str = ""
    message: str = ""
    client: str = ""
    origin: str = ""
    """``generated`` for a generated case; empty for a fixture case."""
    difference: str = ""
    """For a generated case the target gets wrong: ``stated`` (a limit its artifact states) or ``silent``."""

    @property
    def label(self) -> str:
        return f"{self.rule_path} [{self.client}]" if self.client else self.rule_path

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "rule": self.rule_id,
            "case": self.case,
            "target": self.target,
            "expected": self.expected,
            "actual": self.actual,
            "status": self.status,
        }
        if self.message:
            out["message"] = self.message
        if self.client:
            out["client"] = self.client
        if self.origin:
            out["origin"] = self.origin
        if self.difference:
            out["difference"] = self.difference
        return out


@dataclass(frozen=True)
class Sample:
    """A regression test with its events read (once, for every target): at least ``min_matches``
    of them must match."""

    name: str
    events: tuple[Any, ...]
    min_matches: int = 1
    error: str = ""
    """Why the sample could not be read (the test then fails on every target)."""


def read_samples(regression: RegressionInfo | None) -> list[Sample]:
    """The events of each test of a rule's info.yml."""
    out = []
    for test in regression.tests if regression else ():
        try:
            out.append(Sample(test.name, tuple(test.events()), test.min_matches))
        except DetcError as err:
            out.append(Sample(test.name, (), test.min_matches, error=str(err)))
    return out


UNTESTED_CASE = "(no match case tested)"
"""The case name of the failure ``run_rule`` adds for a target whose every ``match`` case is waived."""


def run_rule(
    rule: DetcRule,
    fixtures: FixtureFile | None,
    targets: Sequence[Target],
    profile: Profile,
    samples: Sequence[Sample] = (),
    generated: Sequence[Case] = (),
    *,
    allow_untested: bool = False,
) -> list[CaseResult]:
    """Every fixture case, every regression sample and every generated case of a rule on every target.

    A fixture case expects one event to match or not; a regression test (SigmaHQ's info.yml) expects
    at least ``match_count`` of its sample's events to match. Both are reported as cases. A generated
    case's expected verdict is the reference's: a target that disagrees fails unless its artifact
    states the limit that explains it (``compiler.allowances``). A target that compiles the rule but
    whose every ``match`` case is waived fails once more, as case ``UNTESTED_CASE`` (its query would
    ship with nothing showing it ever matches), unless ``allow_untested``."""
    out = _run_cases(rule, fixtures, targets, profile, samples, generated)
    if allow_untested:
        return out
    by_target: dict[str, list[CaseResult]] = {}
    for result in out:
        by_target.setdefault(result.target, []).append(result)
    final: list[CaseResult] = []
    for results in by_target.values():
        final.extend(results)
        matches = [r for r in results if r.expected == "match"]
        if matches and all(r.status == "waived" for r in matches):
            final.append(dataclasses.replace(
                results[0], case=UNTESTED_CASE, expected="match", actual="error", status="fail", query="",
                message="every match case is waived on this target, so its query is untested "
                "(detc test --allow-untested to accept)", origin="", difference="",
            ))
    return final


def _run_cases(
    rule: DetcRule,
    fixtures: FixtureFile | None,
    targets: Sequence[Target],
    profile: Profile,
    samples: Sequence[Sample] = (),
    generated: Sequence[Case] = (),
) -> list[CaseResult]:
    """Every fixture case, regression sample and generated case of a rule on every target, as they come."""
    cases = [(c, "") for c in (fixtures.cases if fixtures else ())] + [(c, "generated") for c in generated]
    names = [(c.name, c.expect, origin) for c, origin in cases] + [(s.name, "match", "") for s in samples]
    out: list[CaseResult] = []
    conditions = None
    logsource = find(rule.sigma.logsource)
    for target in targets:
        base = {
            "rule_id": rule.id, "rule_path": rule.path, "title": rule.title, "target": target.name,
            "client": "" if profile.name == "default" else profile.name,
        }
        try:
            compiled = compile_one(target, rule, profile)
        except UnsupportedFeature as err:
            out.extend(
                CaseResult(**base, case=name, expected=expect, actual="unsupported",
                           status="unsupported", message=err.message, origin=origin)
                for name, expect, origin in names
            )
            continue
        except DetcError as err:
            out.extend(
                CaseResult(**base, case=name, expected=expect, actual="error", status="fail",
                           message=str(err), origin=origin)
                for name, expect, origin in names
            )
            continue
        try:
            matcher = target.evaluator(compiled.query)
            compile_error = ""
        except Exception as err:  # an unparsable query fails every case, never passes one
            matcher = None
            compile_error = f"evaluator rejected the query: {err}"
        for case, origin in cases:
            actual: Actual
            message = compile_error
            difference = ""
            if matcher is None:
                actual = "error"
            else:
                try:
                    doc = profile.rename_fields(target.name, target.shape(case.event, profile, logsource))
                    actual = "match" if matcher(doc) else "no_match"
                except Exception as err:
                    actual, message = "error", f"{type(err).__name__}: {err}"
            status: Status
            waiver = case.waive.get(target.name) or case.waive.get(target.name.split(":")[0])
            if waiver:
                status = "waived"
                message = waiver + (
                    " (waiver not needed: the target gives the expected verdict)"
                    if actual == case.expect
                    else ""
                )
            else:
                status = "pass" if actual == case.expect else "fail"
            if origin and status == "fail" and actual in ("match", "no_match"):
                if conditions is None:
                    from compiler.conditions import Conditions

                    conditions = Conditions.of(rule)
                from compiler.allowances import stated_difference

                stated = stated_difference(compiled.caveats, conditions, case.event, actual == "match")
                if stated:
                    status, difference, message = "waived", "stated", f"stated difference: {stated}"
                else:
                    difference = "silent"
            out.append(
                CaseResult(**base, case=case.name, expected=case.expect, actual=actual, status=status,
                           query=compiled.query, message=message, origin=origin, difference=difference)
            )
        for sample in samples:
            out.append(_run_sample(sample, matcher, compile_error, target, profile, logsource, base, compiled.query))
    return out


def _run_sample(
    sample: Sample, matcher: Any, compile_error: str, target: Target, profile: Profile, logsource: Any,
    base: dict[str, Any], query: str,
) -> CaseResult:
    """A regression test's verdict: match when at least its minimum of the sample's events match."""
    message = sample.error or compile_error
    if matcher is None or sample.error:
        return CaseResult(**base, case=sample.name, expected="match", actual="error", status="fail",
                          query=query, message=message)
    try:
        hits = sum(
            1 for event in sample.events
            if matcher(profile.rename_fields(target.name, target.shape(event, profile, logsource)))
        )
    except Exception as err:
        return CaseResult(**base, case=sample.name, expected="match", actual="error", status="fail",
                          query=query, message=f"{type(err).__name__}: {err}")
    actual: Actual = "match" if hits >= sample.min_matches else "no_match"
    return CaseResult(
        **base, case=sample.name, expected="match", actual=actual, status="pass" if actual == "match" else "fail",
        query=query,
        message=f"{hits} of {len(sample.events)} events match (at least {sample.min_matches} expected)",
    )


class LiveTwin:
    """A target judged by its platform itself (``detc test --live``) instead of detc's evaluator."""

    def __init__(self, target: LiveCapableTarget) -> None:
        self.inner = target
        self.name = f"{target.name}:live"
        self.description = f"{target.description} (verdicts from the live platform)"
        self.settings = target.settings
        self.client = target.live_client()

    def compile(self, rule: DetcRule, profile: Profile) -> Any:
        return self.inner.compile(rule, profile)

    def shape(self, record: Any, profile: Profile, logsource: Any = None) -> Any:
        return self.inner.shape(record, profile, logsource)

    def evaluator(self, query: str) -> Any:
        return self.inner.live_evaluator(query, self.client)


def live_targets(targets: Sequence[Target]) -> list[Target]:
    """Live twins of the targets that can ask their platform for a verdict."""
    return [LiveTwin(t) for t in targets if isinstance(t, LiveTarget)]


def summary(results: Sequence[CaseResult]) -> dict[str, Any]:
    by_status = Counter(r.status for r in results)
    per_target: dict[str, Counter[Status]] = {}
    for r in results:
        per_target.setdefault(r.target, Counter())[r.status] += 1
    statuses: tuple[Status, ...] = ("pass", "fail", "waived", "unsupported")
    out: dict[str, Any] = {
        "total": len(results),
        **{s: by_status.get(s, 0) for s in statuses},
        "targets": {t: dict(sorted(c.items())) for t, c in sorted(per_target.items())},
    }
    generated = [r for r in results if r.origin == "generated"]
    if generated:
        differences: dict[str, dict[str, int]] = {}
        for r in generated:
            if r.difference:
                differences.setdefault(r.target, {"stated": 0, "silent": 0})[r.difference] += 1
        out["generated"] = {
            "total": len(generated),
            "stated_differences": sum(r.difference == "stated" for r in generated),
            "silent_differences": sum(r.difference == "silent" for r in generated),
            "targets": dict(sorted(differences.items())),
        }
    return out


def to_json(results: Sequence[CaseResult], coverage: Sequence[Mapping[str, Any]] | None = None) -> bytes:
    data: dict[str, Any] = {"results": [r.as_json() for r in results], "summary": summary(results)}
    if coverage is not None:
        data["coverage"] = coverage_summary(coverage)
    return dumps(data)


def rule_coverage(rule: DetcRule, events: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Fixture coverage of one rule: the condition leaves that some case takes from match to no
    match (the rule does not match the case's event, and would if that leaf alone went the other
    way), over all its leaves."""
    from compiler.conditions import Conditions

    conditions = Conditions.of(rule)
    covered: set[int] = set()
    for event in events:
        covered.update(conditions.flips_to_no_match(event))
        if len(covered) == len(conditions.leaves):
            break
    return {
        "rule": rule.id,
        "path": rule.path,
        "leaves": len(conditions.leaves),
        "covered": len(covered),
        "uncovered": [leaf.describe() for leaf in conditions.leaves if leaf.index not in covered],
    }


def coverage_summary(per_rule: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    leaves = sum(r["leaves"] for r in per_rule)
    covered = sum(r["covered"] for r in per_rule)
    return {
        "leaves": leaves,
        "covered": covered,
        "share": round(covered / leaves, 4) if leaves else 1.0,
        "rules": list(per_rule),
    }


def generated_cases(rule: DetcRule, budget: int) -> tuple[Case, ...] | None:
    """The generated cases of a rule (None when detc cannot build records of its logsource)."""
    from compiler.generate import generate
    from compiler.rawforms import raw_form

    form = raw_form(rule)
    if form is None:
        return None
    return tuple(Case(name=g.name, expect=g.expect, event=g.event) for g in generate(rule, form, budget))  # type: ignore[arg-type]


def to_junit(results: Sequence[CaseResult]) -> bytes:
    """JUnit XML: one suite per target, one test case per rule and fixture case."""
    suites = ET.Element("testsuites", name="detc", tests=str(len(results)),
                        failures=str(sum(r.status == "fail" for r in results)))
    for target in sorted({r.target for r in results}):
        mine = [r for r in results if r.target == target]
        suite = ET.SubElement(
            suites, "testsuite", name=target, tests=str(len(mine)),
            failures=str(sum(r.status == "fail" for r in mine)), errors="0",
            skipped=str(sum(r.status in ("waived", "unsupported") for r in mine)),
        )
        for r in mine:
            case = ET.SubElement(suite, "testcase", classname=f"{r.label}.{r.rule_id}", name=r.case)
            if r.status == "fail":
                failure = ET.SubElement(case, "failure", message=f"expected {r.expected}, got {r.actual}")
                failure.text = "\n".join(x for x in (r.message, r.query) if x)
            elif r.status == "waived":
                ET.SubElement(case, "skipped", message=f"waived: {r.message}")
            elif r.status == "unsupported":
                ET.SubElement(case, "skipped", message=f"unsupported: {r.message}")
    ET.indent(suites)
    body: bytes = ET.tostring(suites, encoding="utf-8")  # an encoding other than "unicode": bytes
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + body + b"\n"


def exclusion_cases(rule: DetcRule, fixtures: FixtureFile, profile: Profile) -> tuple[Case, ...]:
    """For each client exclusion value: the first matching fixture with that value set must not match."""
    base = next((c for c in fixtures.cases if c.expect == "match"), None)
    source = find(rule.sigma.logsource)
    if base is None or source is None:
        return ()
    made = []
    for i, exclusion in enumerate(e for e in profile.exclusions if e.applies_to(rule.id, rule.sigma.logsource)):
        for value in exclusion.values:
            made.append(
                Case(
                    name=f"client {profile.name} exclusion {i}: {exclusion.field}={value!r} on {base.name!r}",
                    expect="no_match",
                    event=source.set_field(base.event, exclusion.field, value),
                    waive=base.waive,
                )
            )
    return tuple(made)


def with_client_cases(fixtures: FixtureFile, rule: DetcRule, profile: Profile) -> FixtureFile:
    extra = exclusion_cases(rule, fixtures, profile)
    return dataclasses.replace(fixtures, cases=fixtures.cases + extra) if extra else fixtures
