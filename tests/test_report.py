"""The support matrix of ``detc build --report``: counts per target, like reasons counted together."""

from __future__ import annotations

from compiler.errors import CompileError, RuleLoadError
from compiler.report import reason_group, support_report
from compiler.target import Compiled, RuleResult, load_registry

REGISTRY = load_registry()


def _ok(target: str) -> Compiled:
    return Compiled(target=target, query="q")


def test_reason_group_blanks_quoted_parts() -> None:
    assert reason_group("field 'src_ip' has no mapping") == "field '…' has no mapping"
    assert reason_group('value "a" and \'b\'') == "value '…' and '…'"
    assert reason_group("no quotes here") == "no quotes here"


def test_support_report_counts_per_target(rule_from) -> None:
    first, second, third = (rule_from({"sel": {"eventName": n}, "condition": "sel"}) for n in "ABC")
    kql, spl = REGISTRY.get("kql"), REGISTRY.get("spl")
    results = [
        RuleResult(rule=first, compiled={"kql": _ok("kql"), "spl": _ok("spl")}, unsupported={}),
        RuleResult(rule=second, compiled={"kql": _ok("kql")}, unsupported={"spl": "field 'a' is not kept"}),
        RuleResult(rule=third, compiled={}, unsupported={"kql": "regular expression", "spl": "field 'b' is not kept"}),
    ]
    load_errors = [
        RuleLoadError("missing required attribute 'title'", path="x.yml"),
        RuleLoadError("missing required attribute 'id'", path="y.yml"),
    ]
    compile_errors = [CompileError("internal error: boom", target="kql")]
    report = support_report(results, [kql, spl], load_errors, compile_errors)
    assert report == {
        "rules": 5,
        "loaded": 3,
        "load_errors": {"missing required attribute '…'": 2},
        "targets": {
            "kql": {"ok": 2, "unsupported": 1, "error": 1, "reasons": {"regular expression": 1},
                    "unsupported_rules": [{"path": third.path, "id": third.id, "reason": "regular expression"}]},
            "spl": {"ok": 1, "unsupported": 2, "error": 0, "reasons": {"field '…' is not kept": 2},
                    "unsupported_rules": sorted(
                        [{"path": second.path, "id": second.id, "reason": "field 'a' is not kept"},
                         {"path": third.path, "id": third.id, "reason": "field 'b' is not kept"}],
                        key=lambda item: (item["path"], item["id"]))},
        },
    }


def test_support_report_orders_reasons_by_count_then_text(rule_from) -> None:
    rules = [rule_from({"sel": {"eventName": str(i)}, "condition": "sel"}) for i in range(3)]
    reasons = ["b", "a", "b"]
    results = [RuleResult(rule=r, compiled={}, unsupported={"kql": why}) for r, why in zip(rules, reasons, strict=True)]
    report = support_report(results, [REGISTRY.get("kql")], [], [])
    assert list(report["targets"]["kql"]["reasons"].items()) == [("b", 2), ("a", 1)]
