"""Escaping proven, and every target measured against the Sigma reference, by Hypothesis.

Two families of properties over every registered target:

* literals: any string, written as a Sigma literal (``\\``, ``*`` and ``?`` escaped) under each
  string modifier and in lists, compiles to a query that finds an event holding exactly that
  value, and gives the Sigma reference's verdict on the value with one character changed, added
  or removed. A target may refuse (``unsupported:``); it may not mean something else.
* conditions: random detections from a small grammar (AND/OR/NOT, lists, wildcards, exists,
  null) over random events; every target agrees with the reference.

The only disagreements allowed are the documented limits a target states on its artifact. A
search the caveats call wider (Splunk cannot escape a literal ``*``) may match more, never less.
Case: where the compiled rule carries a caveat about case (Kibana KQL; EventBridge wildcards),
or the two values differ in case outside ASCII, where platforms fold case by their own tables,
an event that differs from the rule's value in letter case alone may get a different verdict.
Each test reports which limit it allowed by its name in the assertion message.

Example counts follow the Hypothesis profile (tests/conftest.py): ``ci`` by default, seeded;
``HYPOTHESIS_PROFILE=nightly`` for a long run.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from hypothesis import assume, example, given, note
from hypothesis import strategies as st

from compiler.build import compile_one
from compiler.errors import UnsupportedFeature
from compiler.profile import DEFAULT_PROFILE
from compiler.rules import DetcRule, load_rule
from compiler.target import Compiled, load_registry
from tests.support import rule_dict

REGISTRY = load_registry()
REFERENCE = REGISTRY.get("sigma")
PLATFORMS = [t for name, t in REGISTRY.targets.items() if name != "sigma"]
_FOLDER = Path("generated-rules")
"""Where the generated rules say they are: nothing is written, the loader is given their bytes."""
_COUNTER = itertools.count()

BASE_RECORD: dict[str, Any] = {
    "eventVersion": "1.08",
    "eventTime": "2026-01-01T00:00:00Z",
    "eventType": "AwsApiCall",
    "eventSource": "kms.amazonaws.com",
    "eventName": "DescribeKey",
    "awsRegion": "us-east-1",
    "sourceIPAddress": "203.0.113.9",
    "recipientAccountId": "111122223333",
    "eventID": "4c0a2c1e-0000-4000-8000-000000000001",
    "userIdentity": {"type": "IAMUser", "userName": "alice", "arn": "arn:aws:iam::111122223333:user/alice"},
}


def make_rule(detection: Mapping[str, Any]) -> DetcRule:
    """A rule's YAML loaded exactly as a build loads the bytes it read from a rule file."""
    text = yaml.safe_dump(rule_dict(dict(detection)), sort_keys=False, allow_unicode=False)
    return load_rule(_FOLDER / f"rule_{next(_COUNTER)}.yml", raw=text.encode("utf-8"))


def sigma_literal(value: str) -> str:
    """A Sigma string that means exactly ``value``: backslash, * and ? escaped."""
    return value.replace("\\", "\\\\").replace("*", "\\*").replace("?", "\\?")


class Judged:
    """One rule compiled for the reference and every platform target, ready to judge records."""

    def __init__(self, rule: DetcRule) -> None:
        self.reference = REFERENCE.evaluator(compile_one(REFERENCE, rule, DEFAULT_PROFILE).query)
        self.compiled: dict[str, Compiled] = {}
        self.refused: dict[str, str] = {}
        self.matchers = {}
        for target in PLATFORMS:
            try:
                compiled = compile_one(target, rule, DEFAULT_PROFILE)
            except UnsupportedFeature as err:
                assert err.message and "\n" not in err.message, err.message
                self.refused[target.name] = err.message
                continue
            self.compiled[target.name] = compiled
            self.matchers[target.name] = target.evaluator(compiled.query)

    def verdicts(self, record: Mapping[str, Any]) -> tuple[bool, dict[str, bool]]:
        expected = bool(self.reference(REFERENCE.shape(record, DEFAULT_PROFILE)))
        got = {}
        for name, matcher in self.matchers.items():
            target = REGISTRY.get(name)
            got[name] = bool(matcher(target.shape(record, DEFAULT_PROFILE)))
        return expected, got

    def case_caveat(self, name: str) -> bool:
        return any("case" in c.lower() for c in self.compiled[name].caveats)

    def wider(self, name: str) -> bool:
        """The artifact states that its search is wider than the rule (it may match more)."""
        return any("wider" in c for c in self.compiled[name].caveats)


def differs_in_case_only(a: str, b: str) -> bool:
    return a != b and (a.lower() == b.lower() or a.upper() == b.upper() or a.casefold() == b.casefold())


def non_ascii_case(a: str, b: str) -> bool:
    """Case mappings outside ASCII (ß→SS, İ, final sigma) differ between platforms' tables."""
    return not (a.isascii() and b.isascii()) and (
        len(a) != len(b) or a.casefold() == b.casefold() or a.lower() == b.lower() or a.upper() == b.upper()
    )


def allowed(judged: Judged, name: str, rule_values: list[str], event_value: str, verdict: bool) -> str | None:
    """The documented limit that explains a disagreement, or None if it is a bug."""
    if verdict and judged.wider(name):
        return "a wider search (stated in the artifact's caveats)"
    near = any(
        differs_in_case_only(v, event_value)
        or v.lower() in event_value.lower() and v not in event_value
        or event_value.lower() in v.lower() and event_value not in v
        for v in rule_values
    )
    if near and judged.case_caveat(name):
        return "case (stated in the artifact's caveats)"
    if any(non_ascii_case(v, event_value) for v in rule_values) and not all(
        v.isascii() for v in rule_values + [event_value]
    ):
        return "case folding outside ASCII"
    return None


def check(judged: Judged, records: list[dict[str, Any]], rule_values: list[str], event_values: list[str]) -> None:
    for record, event_value in zip(records, event_values, strict=True):
        expected, got = judged.verdicts(record)
        for name, verdict in got.items():
            if verdict == expected:
                continue
            limit = allowed(judged, name, rule_values, event_value, verdict)
            assert limit is not None, (
                f"{name}: {verdict} where Sigma says {expected} for userAgent={event_value!r}; "
                f"query: {judged.compiled[name].query!r}"
            )
            note(f"{name}: allowed by {limit}")


# --- literals ---------------------------------------------------------------------------------

SPECIALS = "\"'\\*?:()[]{}<>=!|&^~/+-,;#$%@` \t\n\r.$\x01"  # U+0001: the escape of the LIKE pattern Elasticsearch makes of an EQL wildcard value
TEXT = st.text(
    alphabet=st.one_of(
        st.sampled_from(SPECIALS),
        st.characters(codec="utf-8", exclude_categories=("Cs",)),
        st.sampled_from("aAbBzZ019"),
    ),
    min_size=1,
    max_size=24,
)


@st.composite
def mutations(draw: st.DrawFn, value: str) -> str:
    """The value with one character changed, added or removed."""
    kind = draw(st.sampled_from(["change", "add", "remove"] if len(value) > 1 else ["change", "add"]))
    at = draw(st.integers(0, len(value) - (0 if kind == "add" else 1)))
    char = draw(st.one_of(st.sampled_from(SPECIALS + "aAzZ"), st.characters(codec="utf-8", exclude_categories=("Cs",))))
    if kind == "change":
        assume(char != value[at])
        return value[:at] + char + value[at + 1 :]
    if kind == "add":
        return value[:at] + char + value[at:]
    return value[:at] + value[at + 1 :]


MODIFIERS = ["", "|contains", "|startswith", "|endswith"]


@given(value=TEXT, modifier=st.sampled_from(MODIFIERS), data=st.data())
@example(value='a"b', modifier="", data=None)
@example(value="x\\", modifier="|endswith", data=None)
@example(value="*", modifier="|contains", data=None)
@example(value='" or event.action: *', modifier="", data=None)
@example(value='") OR (a', modifier="|startswith", data=None)
@example(value='"} , {"exists": true', modifier="", data=None)
@example(value="\x85", modifier="", data=None)  # NEL: PyYAML writes it raw in quotes and reads it back as a space
def test_any_literal_matches_itself_and_its_mutations_as_sigma_says(value: str, modifier: str, data) -> None:
    judged = Judged(make_rule({"sel": {f"userAgent{modifier}": sigma_literal(value)}, "condition": "sel"}))
    note(f"refused: {judged.refused}")
    expected, got = judged.verdicts({**BASE_RECORD, "userAgent": value})
    assert expected, "the reference must match the value itself"
    for name, verdict in got.items():
        assert verdict, f"{name} misses the exact value {value!r}: {judged.compiled[name].query!r}"
    others = [data.draw(mutations(value)) for _ in range(4)] if data else [value + "x", "x" + value, value[1:]]
    others = [o for o in others if o]
    check(judged, [{**BASE_RECORD, "userAgent": o} for o in others], [value], others)


@given(values=st.lists(TEXT, min_size=2, max_size=4, unique=True), modifier=st.sampled_from(MODIFIERS), data=st.data())
@example(values=['"', "\x1f"], modifier="|startswith", data=None)  # kuery's whitespace is not Python's \s
@example(values=["a\u2028", "b"], modifier="|startswith", data=None)  # JavaScript's trim is wider than kuery's Space
def test_any_list_of_literals_is_an_or(values: list[str], modifier: str, data) -> None:
    judged = Judged(make_rule({"sel": {f"userAgent{modifier}": [sigma_literal(v) for v in values]}, "condition": "sel"}))
    for value in values:
        expected, got = judged.verdicts({**BASE_RECORD, "userAgent": value})
        assert expected
        for name, verdict in got.items():
            assert verdict, f"{name} misses list member {value!r}: {judged.compiled[name].query!r}"
    others = [data.draw(mutations(data.draw(st.sampled_from(values)))) for _ in range(3)] if data else [v + "x" for v in values]
    others = [o for o in others if o]
    check(judged, [{**BASE_RECORD, "userAgent": o} for o in others], values, others)


@given(values=st.lists(TEXT, min_size=2, max_size=3, unique=True), data=st.data())
def test_all_modifier_is_an_and(values: list[str], data) -> None:
    judged = Judged(
        make_rule({"sel": {"userAgent|contains|all": [sigma_literal(v) for v in values]}, "condition": "sel"})
    )
    together = "".join(values)
    candidates = [together, values[0], data.draw(mutations(together))]
    check(judged, [{**BASE_RECORD, "userAgent": c} for c in candidates], values + [together], candidates)
    expected, got = judged.verdicts({**BASE_RECORD, "userAgent": together})
    assert expected and all(got.values()), (got, judged.compiled)


def test_plain_values_compile_on_every_target() -> None:
    """Refusal is for constructs a platform lacks, never for ordinary text."""
    for modifier in MODIFIERS:
        judged = Judged(make_rule({"sel": {f"userAgent{modifier}": "aws-cli/2.15 Python/3.11"}, "condition": "sel"}))
        assert judged.refused == {}, judged.refused


# --- whole conditions ---------------------------------------------------------------------------

POOL: dict[str, list[str]] = {
    "eventName": ["DeleteKey", "DisableKey", "CreateGrant", "Delete*", "Dis?bleKey"],
    "eventSource": ["kms.amazonaws.com", "s3.amazonaws.com", "*.amazonaws.com"],
    "userIdentity.type": ["AWSService", "IAMUser", "AssumedRole"],
    "errorCode": ["AccessDenied", "NoSuchKey"],
    "awsRegion": ["us-east-1", "eu-west-1", "eu-*"],
}
EVENT_POOL: dict[str, list[str]] = {
    "eventName": ["DeleteKey", "DisableKey", "CreateGrant", "DeleteAlias"],
    "eventSource": ["kms.amazonaws.com", "s3.amazonaws.com", "sts.amazonaws.com"],
    "userIdentity.type": ["AWSService", "IAMUser", "AssumedRole", "Root"],
    "errorCode": ["AccessDenied", "NoSuchKey", "ThrottlingException"],
    "awsRegion": ["us-east-1", "eu-west-1", "eu-central-1"],
}


@st.composite
def items(draw: st.DrawFn) -> tuple[str, Any]:
    field = draw(st.sampled_from(sorted(POOL)))
    shape = draw(st.sampled_from(["one", "list", "modifier", "exists", "null", "re", "cased"]))
    if shape == "re":
        literal = draw(st.sampled_from([v for v in POOL[field] if "*" not in v and "?" not in v]))
        return f"{field}|re", draw(st.sampled_from(["^" + literal[:3], literal[-3:] + "$", "(?i)" + literal[1:4], "a.c"]))
    if shape == "cased":
        return f"{field}|cased", draw(st.sampled_from(POOL[field]))
    if shape == "exists":
        return f"{field}|exists", draw(st.booleans())
    if shape == "null":
        return field, None
    literals = [v for v in POOL[field] if "*" not in v and "?" not in v]
    if shape == "modifier":
        modifier = draw(st.sampled_from(["contains", "startswith", "endswith"]))
        value = draw(st.sampled_from(literals))
        cut = draw(st.integers(1, len(value)))
        part = value[:cut] if modifier == "startswith" else value[-cut:] if modifier == "endswith" else value[1:cut] or value
        return f"{field}|{modifier}", part
    if shape == "list":
        return field, draw(st.lists(st.sampled_from(POOL[field]), min_size=2, max_size=3, unique=True))
    return field, draw(st.sampled_from(POOL[field]))


@st.composite
def conditions(draw: st.DrawFn, names: list[str], depth: int = 0) -> str:
    if depth >= 2 or draw(st.integers(0, 2)) == 0:
        name = draw(st.sampled_from(names))
        return f"not {name}" if draw(st.booleans()) else name
    op = draw(st.sampled_from(["and", "or"]))
    left = draw(conditions(names, depth + 1))
    right = draw(conditions(names, depth + 1))
    text = f"({left} {op} {right})"
    return f"not {text}" if draw(st.integers(0, 3)) == 0 else text


@st.composite
def detections(draw: st.DrawFn) -> dict[str, Any]:
    count = draw(st.integers(1, 3))
    detection: dict[str, Any] = {}
    for index in range(count):
        entries = draw(st.lists(items(), min_size=1, max_size=2, unique_by=lambda kv: kv[0].split("|")[0]))
        detection[f"sel{index}"] = dict(entries)
    detection["condition"] = draw(conditions([f"sel{i}" for i in range(count)]))
    return detection


def _set(record: dict[str, Any], dotted: str, value: str) -> None:
    head, _, tail = dotted.partition(".")
    if tail:
        record[head] = dict(record.get(head) or {})
        _set(record[head], tail, value)
    else:
        record[head] = value


@st.composite
def events(draw: st.DrawFn, recase: bool) -> dict[str, Any]:
    record = {k: (dict(v) if isinstance(v, dict) else v) for k, v in BASE_RECORD.items() if k not in POOL}
    record["userIdentity"] = {"userName": "alice", "arn": "arn:aws:iam::111122223333:user/alice"}
    for field, values in EVENT_POOL.items():
        if field != "eventSource" and draw(st.integers(0, 3)) == 0:
            continue  # absent
        value = draw(st.sampled_from(values))
        if recase:
            value = "".join(c.swapcase() if draw(st.booleans()) else c for c in value)
        _set(record, field, value)
    return record


def _get(record: dict[str, Any], dotted: str) -> Any:
    node: Any = record
    for part in dotted.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node


def fragment_case_differs(detection: dict[str, Any], record: dict[str, Any]) -> bool:
    """Whether a |contains/|startswith/|endswith fragment of the rule is found in the record's
    value only when case is ignored (e.g. "s" in "AWSService"): the documented case limit."""
    tests = {"contains": lambda v, e: v in e, "startswith": str.startswith, "endswith": str.endswith}
    for name, selection in detection.items():
        if name == "condition":
            continue
        for key, value in selection.items():
            field, _, modifier = key.partition("|")
            event_value = _get(record, field)
            if modifier in tests and isinstance(value, str) and isinstance(event_value, str):
                test = tests[modifier]
                if test(value, event_value) != test(value.lower(), event_value.lower()):  # type: ignore[operator]
                    return True
    return False


@given(detection=detections(), records=st.lists(events(recase=False), min_size=4, max_size=8))
@example(
    detection={"sel1": {"userIdentity.type|contains": "s"}, "condition": "sel1"},
    records=[{**BASE_RECORD, "userIdentity": {"type": "AWSService"}}],
)
@example(detection={"sel0": {"errorCode|re": "(?i)cce"}, "condition": "sel0"}, records=[dict(BASE_RECORD)])
@example(detection={"sel0": {"errorCode|re": "cce"}, "condition": "not sel0"}, records=[dict(BASE_RECORD)])
def test_every_target_agrees_with_the_reference_on_random_conditions(detection, records) -> None:
    judged = Judged(make_rule(detection))
    note(f"refused: {judged.refused}")
    for record in records:
        expected, got = judged.verdicts(record)
        case_limit = fragment_case_differs(detection, record)
        wrong = {
            name: v
            for name, v in got.items()
            if v != expected and not (v and judged.wider(name)) and not (case_limit and judged.case_caveat(name))
        }
        assert not wrong, (
            f"Sigma says {expected}, {sorted(wrong)} disagree on {record}; "
            + "; ".join(f"{n}: {judged.compiled[n].query!r}" for n in wrong)
        )


@given(detection=detections(), records=st.lists(events(recase=True), min_size=4, max_size=8))
def test_targets_without_a_case_caveat_agree_in_any_letter_case(detection, records) -> None:
    judged = Judged(make_rule(detection))
    strict = [n for n in judged.compiled if not judged.case_caveat(n)]
    note(f"case caveated, allowed to differ in case: {sorted(set(judged.compiled) - set(strict))}")
    for record in records:
        expected, got = judged.verdicts(record)
        wrong = {name: got[name] for name in strict if got[name] != expected and not (got[name] and judged.wider(name))}
        assert not wrong, (
            f"Sigma says {expected}, {sorted(wrong)} disagree on {record}; "
            + "; ".join(f"{n}: {judged.compiled[n].query!r}" for n in wrong)
        )
