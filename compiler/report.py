"""The support matrix: which rules each target can express, and why not where it cannot."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from compiler.errors import DetcError
from compiler.target import RuleResult, Target

_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")


def reason_group(reason: str) -> str:
    """A reason with its rule-specific quoted parts blanked, so like reasons count together."""
    return _QUOTED.sub("'…'", reason)


def support_report(
    results: Sequence[RuleResult],
    targets: Sequence[Target],
    load_errors: Sequence[DetcError],
    compile_errors: Sequence[DetcError],
) -> dict[str, Any]:
    per_target: dict[str, Any] = {}
    for target in targets:
        reasons = Counter(
            reason_group(r.unsupported[target.name]) for r in results if target.name in r.unsupported
        )
        errors = [e for e in compile_errors if e.target == target.name]
        per_target[target.name] = {
            "ok": sum(target.name in r.compiled for r in results),
            "unsupported": sum(reasons.values()),
            "error": len(errors),
            "reasons": dict(sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))),
            "unsupported_rules": sorted(
                (
                    {"path": r.rule.path, "id": r.rule.id, "reason": r.unsupported[target.name]}
                    for r in results if target.name in r.unsupported
                ),
                key=lambda item: (item["path"], item["id"]),
            ),
        }
    load = Counter(reason_group(e.message) for e in load_errors)
    return {
        "rules": len(results) + len(load_errors),
        "loaded": len(results),
        "load_errors": dict(sorted(load.items(), key=lambda kv: (-kv[1], kv[0]))),
        "targets": per_target,
    }


def support_matrix(
    rules: Path, targets: Sequence[Target]
) -> tuple[dict[str, Any], list[DetcError], list[str]]:
    """``detc build --report``: every rule under ``rules`` compiled for ``targets`` in the default
    build, counted (``support_report``), with the compile errors met and the rules folder's warnings
    (entries named like rules that are not); writes nothing."""
    from compiler.build import compile_rules
    from compiler.profile import DEFAULT_PROFILE
    from compiler.rules import load_rules

    ruleset = load_rules(rules)
    results, errors = compile_rules(ruleset.rules, targets, DEFAULT_PROFILE)
    return support_report(results, targets, ruleset.errors, errors), list(errors), list(ruleset.warnings)
