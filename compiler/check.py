"""Validate rules and fixture files without compiling anything."""

from __future__ import annotations

from pathlib import Path

from sigma.validation import SigmaValidator
from sigma.validators.core import validators as core_validators

from compiler.errors import DetcError, RuleLoadError
from compiler.fixtures import load_fixtures
from compiler.paths import orphan_errors, orphan_tests_files
from compiler.regression import load_regression
from compiler.rules import load_rules
from compiler.target import Registry

OFFLINE_EXCLUDED = {"attacktag", "d3_fendtag"}
"""pySigma's ATT&CK and D3FEND tag validators download their taxonomies at run time."""


def validate(root: Path, registry: Registry, warnings: list[str] | None = None) -> list[DetcError]:
    """Every problem with the rules and tests below root, in path order (``warnings`` receives one
    line per entry named like a rule file that is not one)."""
    ruleset = load_rules(root)
    if warnings is not None:
        warnings.extend(ruleset.warnings)
    problems: list[DetcError] = list(ruleset.errors)
    validator = SigmaValidator(
        [cls for name, cls in sorted(core_validators.items()) if name not in OFFLINE_EXCLUDED]
    )
    by_rule_id = {r.id: r for r in ruleset.rules}
    issues = validator.validate_rules(iter([r.sigma for r in ruleset.rules]))
    for issue in issues:
        for sigma_rule in issue.rules:
            rule = by_rule_id.get(str(sigma_rule.id))
            problems.append(
                RuleLoadError(
                    f"{issue.description} ({type(issue).__name__})",
                    path=rule.path if rule else None,
                    rule_id=str(sigma_rule.id),
                )
            )
    for rule in ruleset.rules:
        try:
            regression = load_regression(rule)  # as SigmaHQ's runner: the info.yml exists and names the rule
        except RuleLoadError as err:
            problems.append(err)
            regression = None
        try:
            fixtures = load_fixtures(rule, root)
        except RuleLoadError as err:
            problems.append(err)
            continue
        if fixtures is None:
            if regression is None and not rule.data.get("regression_tests_path"):
                problems.append(RuleLoadError("has no tests file beside it", path=rule.path, rule_id=rule.id))
            continue
        for case in fixtures.cases:
            for name in case.waive:
                if name not in registry.targets:
                    problems.append(
                        RuleLoadError(
                            f"case {case.name!r} waives unknown target {name!r}",
                            path=fixtures.path, rule_id=rule.id,
                        )
                    )
    problems.extend(orphan_errors(orphan_tests_files(root)))
    return sorted(problems, key=lambda e: (e.path or "", e.rule_id or "", e.message))
