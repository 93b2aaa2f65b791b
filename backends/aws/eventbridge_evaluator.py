"""An EventBridge event-pattern matcher that agrees with AWS: parse the pattern text once, match many events.

Semantics follow the EventBridge User Guide (content filtering, arrays, null values, ``$or``) and the
open-source engine AWS runs behind it, aws/event-ruler (README: wildcard escapes, array consistency,
dot-joined keys). Its proof is ``tests/aws/test_eventbridge_conformance.py``: every pattern/event case AWS's
TestEventPattern API was recorded on. It never imports the backend: it reads the pattern text only.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple, Union

from compiler.errors import EvaluationError

TARGET = "eventbridge"
Value = Any
ValueTest = Callable[[Value], bool]
Membership = tuple[tuple[int, int], ...]
"""(array id, element index) pairs locating a leaf inside the event's arrays."""

MATCH_TYPES = frozenset(
    {"prefix", "suffix", "equals-ignore-case", "wildcard", "anything-but", "numeric", "cidr", "exists"}
)
"""Operator names; anything else in a matcher object is rejected, case-sensitively (AWS: "Unrecognized match type")."""


class PatternError(EvaluationError):
    """AWS would answer InvalidEventPatternException for this pattern."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"event pattern is not valid: {reason}", target=TARGET)


@dataclass(frozen=True)
class Field:
    """One key's value list: any test may hold on any leaf; absent_ok if the list has exists:false."""

    path: str
    tests: tuple[ValueTest, ...]
    absent_ok: bool


@dataclass(frozen=True)
class OrGroup:
    branches: tuple[tuple["Item", ...], ...]


Item = Union[Field, OrGroup]


class Leaf(NamedTuple):
    value: Value
    where: Membership


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _same_text_ci(a: str, b: str) -> bool:
    return a.lower() == b.lower() or a.upper() == b.upper()


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse(text: str) -> tuple[Item, ...]:
    """Parse and validate pattern text the way AWS does; raise PatternError where AWS rejects it."""
    try:
        # Duplicate keys: the last one wins, as the EventBridge User Guide states for patterns.
        data = json.loads(text, parse_constant=_reject_constant)
    except (ValueError, TypeError) as err:
        raise PatternError(f"not JSON: {err}") from err
    if not isinstance(data, dict):
        raise PatternError("Filter is not an object")
    return _compile_object(data, "")


def _join(prefix: str, key: str) -> str:
    # event-ruler joins nested keys with '.', so {"a": {"b": ..}} and {"a.b": ..} are one field.
    return f"{prefix}.{key}" if prefix else key


def _compile_object(obj: Mapping[str, Any], prefix: str) -> tuple[Item, ...]:
    if not obj:
        raise PatternError(f"empty object at {prefix or 'top level'}")
    items: list[Item] = []
    for key, value in obj.items():
        if key == "$or" and _is_or_group(value):
            if len(value) < 2:
                raise PatternError("There must have at least 2 Objects in $or relationship")
            items.append(OrGroup(tuple(_compile_object(branch, prefix) for branch in value)))
            continue
        path = _join(prefix, key)
        if isinstance(value, dict):
            items.extend(_compile_object(value, path))
        elif isinstance(value, list):
            items.append(_compile_field(path, value))
        else:
            raise PatternError(f'"{key}" must be an object or an array')
    return tuple(items)


def _is_or_group(value: Any) -> bool:
    # event-ruler reads "$or" as OR only for an array of objects naming no operator keys;
    # otherwise "$or" is an ordinary field name (README, "backward compatibility").
    return (
        isinstance(value, list)
        and len(value) > 0
        and all(isinstance(v, dict) for v in value)
        and not any(k in MATCH_TYPES for v in value for k in v)
    )


def _compile_field(path: str, values: list[Any]) -> Field:
    if not values:
        raise PatternError("Empty arrays are not allowed")
    tests: list[ValueTest] = []
    absent_ok = False
    for raw in values:
        if isinstance(raw, dict):
            test = _operator(raw)
            if test is None:
                absent_ok = True
            else:
                tests.append(test)
        elif isinstance(raw, list):
            raise PatternError(f"nested array in the value list of {path}")
        else:
            tests.append(_exact(raw))
    return Field(path=path, tests=tuple(tests), absent_ok=absent_ok)


def _exact(want: Any) -> ValueTest:
    if want is None:
        return lambda v: v is None
    if isinstance(want, bool):
        return lambda v: isinstance(v, bool) and v is want
    if _is_number(want):
        return lambda v: _is_number(v) and v == want
    if isinstance(want, str):
        return lambda v: isinstance(v, str) and v == want
    raise PatternError(f"unsupported value {want!r}")  # pragma: no cover - json yields no other type


def _operator(raw: dict[str, Any]) -> ValueTest | None:
    """A test for one operator object; None stands for {"exists": false} (satisfied by absence)."""
    if len(raw) != 1:
        raise PatternError(f"an operator object holds exactly one operator, not {sorted(raw)}")
    (name, arg), = raw.items()
    if name not in MATCH_TYPES:
        raise PatternError(f"Unrecognized match type {name}")
    if name == "exists":
        if not isinstance(arg, bool):
            raise PatternError("exists match pattern must be either true or false.")
        return (lambda v: True) if arg else None
    return _OPERATORS[name](arg)


def _string(arg: Any, what: str) -> str:
    if not isinstance(arg, str):
        raise PatternError(f"{what} match pattern must be a string")
    return arg


def _prefix(arg: Any) -> ValueTest:
    if isinstance(arg, dict) and set(arg) == {"equals-ignore-case"}:
        text = _string(arg["equals-ignore-case"], "prefix")
        return lambda v: isinstance(v, str) and _same_text_ci(v[: len(text)], text)
    text = _string(arg, "prefix")
    return lambda v: isinstance(v, str) and v.startswith(text)


def _suffix(arg: Any) -> ValueTest:
    if isinstance(arg, dict) and set(arg) == {"equals-ignore-case"}:
        text = _string(arg["equals-ignore-case"], "suffix")
        n = len(text)
        return lambda v: isinstance(v, str) and len(v) >= n and _same_text_ci(v[len(v) - n:], text)
    text = _string(arg, "suffix")
    return lambda v: isinstance(v, str) and v.endswith(text)


def _equals_ignore_case(arg: Any) -> ValueTest:
    text = _string(arg, "equals-ignore-case")
    lower, upper = text.lower(), text.upper()
    return lambda v: isinstance(v, str) and (v.lower() == lower or v.upper() == upper)


def wildcard_regex(pattern: str) -> re.Pattern[str]:
    """Compile an EventBridge wildcard: ``*`` is zero or more characters; ``\\*`` and ``\\\\`` are literal.

    AWS (and event-ruler's README) reject consecutive wildcards and a backslash before any
    other character. LocalStack's engine reads ``*`` as one-or-more and ignores both escapes;
    we follow AWS.
    """
    out: list[str] = []
    i = 0
    previous_star = False
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            nxt = pattern[i + 1] if i + 1 < len(pattern) else ""
            if nxt not in ("*", "\\"):
                raise PatternError(f"Invalid escape character at pos {i}")
            out.append(re.escape(nxt))
            i += 2
            previous_star = False
            continue
        if char == "*":
            if previous_star:
                raise PatternError(f"Consecutive wildcard characters at pos {i}")
            out.append(".*")
            previous_star = True
        else:
            out.append(re.escape(char))
            previous_star = False
        i += 1
    return re.compile("".join(out), re.DOTALL)


def _wildcard(arg: Any) -> ValueTest:
    regex = wildcard_regex(_string(arg, "wildcard"))
    return lambda v: isinstance(v, str) and regex.fullmatch(v) is not None


def _numeric(arg: Any) -> ValueTest:
    if not isinstance(arg, list):
        raise PatternError("Value of numeric must be an array.")
    if not arg or len(arg) % 2:
        raise PatternError("numeric takes operator/number pairs")
    pairs = [(arg[i], arg[i + 1]) for i in range(0, len(arg), 2)]
    for op, bound in pairs:
        if op not in ("=", "<", "<=", ">", ">="):
            raise PatternError(f"Unrecognized numeric range operator: {op}")
        if not _is_number(bound):
            raise PatternError(f"Value of {op} must be numeric")
    if len(pairs) > 2 or (len(pairs) == 2 and (pairs[0][0] not in (">", ">=") or pairs[1][0] not in ("<", "<="))):
        # A range is one lower bound followed by one upper bound; "=" stands alone.
        raise PatternError(f"Bad numeric range operator: {pairs[-1][0]}")
    checks = {
        "=": lambda a, b: a == b,
        "<": lambda a, b: a < b,
        "<=": lambda a, b: a <= b,
        ">": lambda a, b: a > b,
        ">=": lambda a, b: a >= b,
    }
    bound_checks = [(checks[op], bound) for op, bound in pairs]
    return lambda v: _is_number(v) and all(check(v, bound) for check, bound in bound_checks)


def _cidr(arg: Any) -> ValueTest:
    text = _string(arg, "prefix")  # AWS words the type error this way for cidr too
    if text.count("/") != 1:
        raise PatternError("Malformed CIDR, one '/' required")
    address, bits = text.split("/")
    if not bits.isdigit():
        raise PatternError("Malformed CIDR, mask bits must be an integer")
    try:
        network = ipaddress.ip_network(f"{address}/{int(bits)}", strict=False)
    except ValueError as err:
        raise PatternError(f"Nonstandard IP address: {address}") from err

    def test(v: Value) -> bool:
        if not isinstance(v, str):
            return False
        try:
            ip = ipaddress.ip_address(v)
        except ValueError:
            return False
        return ip.version == network.version and ip in network

    return test


_IGNORE_CASE_LIST = "Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported."


def _anything_but(arg: Any) -> ValueTest:
    """anything-but holds for any present value that is not excluded, including null and other types."""
    if isinstance(arg, dict):
        if len(arg) != 1:
            raise PatternError("Value of anything-but must be an array or single string/number value.")
        (name, inner), = arg.items()
        if name in ("prefix", "suffix"):
            texts = _texts(inner, "prefix/suffix")
            if any(t == "" for t in texts):
                raise PatternError("Null prefix/suffix not allowed")
            if name == "prefix":
                return lambda v: not (isinstance(v, str) and any(v.startswith(t) for t in texts))
            return lambda v: not (isinstance(v, str) and any(v.endswith(t) for t in texts))
        if name == "equals-ignore-case":
            texts = _texts(inner, "equals-ignore-case", bad=_IGNORE_CASE_LIST)
            return lambda v: not (isinstance(v, str) and any(_same_text_ci(v, t) for t in texts))
        if name == "wildcard":
            regexes = [wildcard_regex(t) for t in _texts(inner, "wildcard")]
            return lambda v: not (isinstance(v, str) and any(r.fullmatch(v) for r in regexes))
        raise PatternError("Value of anything-but must be an array or single string/number value.")
    if isinstance(arg, list):
        if not arg:
            raise PatternError("Empty arrays are not allowed")
        if all(isinstance(x, str) for x in arg):
            strings = frozenset(arg)
            return lambda v: not (isinstance(v, str) and v in strings)
        if all(_is_number(x) for x in arg):
            numbers = tuple(arg)
            return lambda v: not (_is_number(v) and any(v == n for n in numbers))
        raise PatternError("Inside anything but list, start|null|boolean is not supported.")
    if isinstance(arg, str):
        return lambda v: not (isinstance(v, str) and v == arg)
    if _is_number(arg):
        return lambda v: not (_is_number(v) and v == arg)
    raise PatternError("Value of anything-but must be an array or single string/number value.")


def _texts(arg: Any, what: str, bad: str | None = None) -> tuple[str, ...]:
    values = arg if isinstance(arg, list) else [arg]
    if not values or not all(isinstance(v, str) for v in values):
        raise PatternError(bad or f"{what} match pattern must be a string")
    return tuple(values)


_OPERATORS: dict[str, Callable[[Any], ValueTest]] = {
    "prefix": _prefix,
    "suffix": _suffix,
    "equals-ignore-case": _equals_ignore_case,
    "wildcard": _wildcard,
    "numeric": _numeric,
    "cidr": _cidr,
    "anything-but": _anything_but,
}


def _paths(items: tuple[Item, ...]) -> set[str]:
    """Every field path a compiled pattern tests."""
    out: set[str] = set()
    for item in items:
        if isinstance(item, OrGroup):
            for branch in item.branches:
                out |= _paths(branch)
        else:
            out.add(item.path)
    return out


def _children(paths: set[str]) -> dict[str, tuple[tuple[str, str], ...]]:
    """For each path that leads to a tested one, the keys that may continue it: a key may itself
    hold dots ({"a.b": ..} is the field a.b too), so every run of the remaining parts counts."""
    out: dict[str, set[str]] = {}
    for path in paths:
        parts = path.split(".")
        for i in range(len(parts)):
            for j in range(i + 1, len(parts) + 1):
                out.setdefault(".".join(parts[:i]), set()).add(".".join(parts[i:j]))
    return {k: tuple((key, _join(k, key)) for key in sorted(v)) for k, v in out.items()}


def flatten(
    event: Any, children: Mapping[str, tuple[tuple[str, str], ...]] | None = None
) -> dict[str, list[Leaf]]:
    """Every scalar of the event at its dot-joined path; arrays fan out and are remembered per element.
    With ``children`` (from the paths a pattern tests), only those paths are visited."""
    out: dict[str, list[Leaf]] = {}
    counter = [0]

    def walk(node: Any, path: str, where: Membership) -> None:
        if type(node) is dict or (type(node) is not list and isinstance(node, Mapping)):
            if children is None:
                for key, value in node.items():
                    walk(value, _join(path, str(key)), where)
            else:
                for key, joined in children.get(path, ()):
                    if key in node:
                        value = node[key]
                        kind = type(value)
                        if kind is str or kind is int or kind is float or kind is bool or value is None:
                            out.setdefault(joined, []).append(Leaf(value, where))  # the common case
                        else:
                            walk(value, joined, where)
        elif type(node) is list:
            counter[0] += 1
            array_id = counter[0]
            for index, element in enumerate(node):
                walk(element, path, where + ((array_id, index),))
        else:
            out.setdefault(path, []).append(Leaf(node, where))

    walk(event, "", ())
    return out


def _merge(a: Membership, b: Membership) -> Membership | None:
    """Combine two leaf locations, or None if they sit in different elements of one array."""
    seen = dict(a)
    for array_id, index in b:
        if seen.get(array_id, index) != index:
            return None
        seen[array_id] = index
    return tuple(sorted(seen.items()))


def _satisfied(items: tuple[Item, ...], leaves: Mapping[str, list[Leaf]], where: Membership) -> bool:
    # event-ruler's rulesForJSONEvent refuses matches that combine fields from different elements
    # of one array ("array consistency", README: JSON Array Matching); hence the search with `where`.
    if not items:
        return True
    head, rest = items[0], items[1:]
    if isinstance(head, OrGroup):
        return any(_satisfied(branch + rest, leaves, where) for branch in head.branches)
    candidates = leaves.get(head.path, [])
    if not candidates and head.absent_ok:
        return _satisfied(rest, leaves, where)
    for leaf in candidates:
        if any(test(leaf.value) for test in head.tests):
            merged = _merge(where, leaf.where)
            if merged is not None and _satisfied(rest, leaves, merged):
                return True
    return False


def _satisfied_flat(items: tuple[Item, ...], leaves: Mapping[str, list[Leaf]]) -> bool:
    """_satisfied for events whose tested paths cross no array: array consistency cannot bind,
    so each key is tested on its own (the same verdicts, without the search)."""
    for item in items:
        if isinstance(item, OrGroup):
            if not any(_satisfied_flat(branch, leaves) for branch in item.branches):
                return False
            continue
        candidates = leaves.get(item.path)
        if not candidates:
            if item.absent_ok:
                continue
            return False
        if not any(test(leaf.value) for leaf in candidates for test in item.tests):
            return False
    return True


def evaluator(query: str) -> Callable[[Any], bool]:
    """Parse the pattern text once; the predicate says whether AWS would deliver the event to the rule."""
    items = parse(query)
    children = _children(_paths(items))

    def matches(event: Any) -> bool:
        if not isinstance(event, Mapping):
            raise EvaluationError("an EventBridge event is a JSON object", target=TARGET)
        leaves = flatten(event, children)
        if all(not leaf.where for found in leaves.values() for leaf in found):
            return _satisfied_flat(items, leaves)
        return _satisfied(items, leaves, ())

    return matches
