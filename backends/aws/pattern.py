"""Formula (in negation normal form) to an EventBridge event pattern, built as one structure.

Pattern semantics (EventBridge User Guide, "Event patterns" and "Content filtering"): the keys of an
object are ANDed, the values in a field's list are ORed, ``$or`` ORs whole objects (at least two).
Sigma's ``not x: v`` also matches events without ``x``; ``anything-but`` does not match a missing field,
so every negated test becomes "anything-but v, or x absent" in one list (``{"exists": false}``).
"""

from __future__ import annotations

import itertools
import json
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from backends.aws.eventbridge_backend import unsupported
from backends.aws.formula import (
    Absent,
    And,
    AnyValue,
    Cidr,
    Equals,
    Formula,
    Lit,
    NullOrAbsent,
    Numeric,
    Or,
    Path,
    Prefix,
    Present,
    Suffix,
    Wildcard,
)
from compiler.cloudtrail_paths import PathShape, shape

NUMERIC_LIMIT = 1.0e9
"""Numeric matching covers -1.0e9..+1.0e9 with six digits after the point (User Guide, "Numeric matching")."""
MAX_BRANCHES = 256
"""Distributing OR groups multiplies branches; past this count the pattern would exceed even the
4,096-character maximum of PutRule's EventPattern (each branch costs far more than 16 characters)."""
_JSON_NUMBER = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")

DOCS = {
    "patterns": "https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns.html",
    "operators": "https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html",
    "quota": "https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-quota.html",
    "put_rule": "https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutRule.html",
}


@dataclass(frozen=True, order=True)
class Alt:
    """One entry of a field's value list; kind 'neg' entries are anything-but over all their values."""

    kind: str
    op: str = ""
    args: tuple[Any, ...] = ()


ABSENT = Alt("exists", args=(False,))
PRESENT = Alt("exists", args=(True,))
NULL = Alt("null")


@dataclass(frozen=True)
class Obj:
    """A conjunction: field value lists plus OR groups (each a tuple of alternative Objs)."""

    fields: Mapping[Path, frozenset[Alt]] = field(default_factory=dict)
    groups: tuple[tuple["Obj", ...], ...] = ()


def cased(text: str) -> bool:
    """Whether case-insensitivity changes anything for this text."""
    return any(c.lower() != c.upper() for c in text)


class PatternBuilder:
    """Builds one pattern; collects caveats for what it had to express differently from Sigma."""

    def __init__(self, *, strict_case: bool = False) -> None:
        self.strict_case = strict_case
        self.caveats: set[str] = set()

    # ---- literals -------------------------------------------------------------------------
    def _case_fallback(self, construct: str, text: str) -> None:
        if self.strict_case:
            raise unsupported(construct, "EventBridge has no case-insensitive form of it")
        self.caveats.add(
            f"{construct} is matched case-sensitively ({text!r}): EventBridge has no case-insensitive "
            f"form of it ({DOCS['operators']})"
        )

    def _numeric_ops(self, ops: tuple[tuple[str, int | float], ...]) -> list[Any]:
        out: list[Any] = []
        for op, number in ops:
            if abs(number) > NUMERIC_LIMIT or round(number, 6) != number:
                raise unsupported(
                    f"numeric comparison with {number}",
                    f"EventBridge numeric matching is limited to -1.0e9..+1.0e9 with six decimal digits "
                    f"({DOCS['operators']})",
                )
            out.extend([op, number])
        self.caveats.add(
            "numeric comparisons match JSON numbers only; a number written as a string in the record does not match"
        )
        return out

    @staticmethod
    def _shape(lit: Lit) -> PathShape | None:
        """The CloudTrail path's shape; envelope keys (outside ``detail``) are plain strings."""
        if lit.path[:1] != ("detail",):
            return PathShape((), frozenset({"scalar"}))
        return shape(".".join(lit.path[1:]))

    def _presence(self, lit: Lit, name: str, known: PathShape | None) -> None:
        """Refuse presence tests EventBridge cannot make on this path: ``exists`` and ``null``
        are tested on leaves only (User Guide, "Exists matching": "only works on leaf nodes"),
        so on an object they never find it present and always find it absent."""
        what = {Present: "|exists", Absent: "|exists", NullOrAbsent: ": null"}[type(lit.test)]
        if known is None:
            raise unsupported(
                f"{name}{what}",
                "no CloudTrail record shows what this path holds, and EventBridge tests presence on leaves only "
                f"({DOCS['patterns']})",
            )
        if "object" in known.kinds:
            raise unsupported(
                f"{name}{what}",
                f"{name} holds a JSON object in CloudTrail records and EventBridge tests presence on leaves only "
                f"({DOCS['patterns']})",
            )
        if "array" in known.kinds:
            self.caveats.add(
                f"{name} may hold an empty array, which EventBridge's exists treats as absent and Sigma as present"
            )

    def alts(self, lit: Lit) -> frozenset[Alt]:
        test, neg = lit.test, lit.negated
        name = ".".join(lit.path[1:]) if lit.path[:1] == ("detail",) else ".".join(lit.path)
        known = self._shape(lit)
        if isinstance(test, (Present, Absent, NullOrAbsent)):
            self._presence(lit, name, known)
        elif neg and not isinstance(test, AnyValue) and (known is None or known.crosses_array):
            # anything-but holds when any one element of an array differs (event-ruler README,
            # "Array consistency"); Sigma's "not x: v" holds when no element equals v.
            where = "no CloudTrail record shows whether it crosses an array" if known is None else "it crosses an array"
            raise unsupported(
                f"not {name}",
                f"{where}, and EventBridge's anything-but is satisfied by any one element of an array, "
                f"where Sigma's not needs every element to differ ({DOCS['operators']})",
            )
        if isinstance(test, Equals):
            return self._equals(test, neg, name)
        if isinstance(test, (Prefix, Suffix)):
            op = "prefix" if isinstance(test, Prefix) else "suffix"
            ci = test.ignore_case and cased(test.text)
            if not neg:
                return frozenset({Alt("pos", op + ("-ci" if ci else ""), (test.text,))})
            if test.text == "":
                raise unsupported(f"not {name}|{op}: ''", "AWS rejects an empty anything-but prefix/suffix")
            if ci:
                self._case_fallback(f"not {name}|{'startswith' if op == 'prefix' else 'endswith'}", test.text)
            return frozenset({Alt("neg", op, (test.text,)), ABSENT})
        if isinstance(test, Wildcard):
            if test.ignore_case and cased(test.pattern):
                self._case_fallback(f"{'not ' if neg else ''}{name} wildcard/contains", test.pattern)
            if not neg:
                return frozenset({Alt("pos", "wildcard", (test.pattern,))})
            return frozenset({Alt("neg", "wildcard", (test.pattern,)), ABSENT})
        if isinstance(test, Numeric):
            if not neg:
                return frozenset({Alt("pos", "numeric", tuple(self._numeric_ops(test.ops)))})
            # not (x in range): x in the complement, or x is a string, or x is null or absent (Sigma's
            # comparison is false on a JSON null, so its negation holds there).
            ranges = [Alt("pos", "numeric", tuple(self._numeric_ops((r,)))) for r in _complement(test.ops)]
            return frozenset({*ranges, Alt("pos", "prefix", ("",)), NULL, ABSENT})
        if isinstance(test, Cidr):
            if neg:
                raise unsupported(f"not {name}|cidr", "EventBridge's anything-but takes no cidr")
            return frozenset({Alt("pos", "cidr", (test.network,))})
        if isinstance(test, AnyValue):
            if neg:
                return frozenset({NULL, ABSENT})
            self.caveats.add(
                f"{name}: '*' is exists:true, which EventBridge also grants a field present as JSON null "
                "(Sigma's '*' needs a value)"
            )
            return frozenset({PRESENT})
        if isinstance(test, NullOrAbsent) and neg:
            self.caveats.add(
                f"not {name}: null is exists:true, which EventBridge also grants a field present as JSON null "
                "(Sigma's not null needs a value)"
            )
            return frozenset({PRESENT})
        if isinstance(test, NullOrAbsent):
            return frozenset({NULL, ABSENT})
        present = isinstance(test, Present) != neg  # exists:true, or not exists:false
        return frozenset({PRESENT}) if present else frozenset({ABSENT})

    def _equals(self, test: Equals, neg: bool, name: str) -> frozenset[Alt]:
        value = test.value
        if isinstance(value, bool):
            if neg:
                raise unsupported(f"not {name}: {str(value).lower()}", "anything-but takes no booleans")
            return frozenset({Alt("pos", "exact", (value,)), Alt("pos", "exact-ci", (str(value).lower(),))})
        if isinstance(value, (int, float)):
            if neg:
                return frozenset({Alt("neg", "exact", (value,)), ABSENT})
            # Sigma compares 5 with "5" as well (Sigma specification, value types).
            return frozenset({Alt("pos", "exact", (value,)), Alt("pos", "exact", (str(value),))})
        ci = test.ignore_case and cased(value)
        op = "exact-ci" if ci else "exact"
        if neg:
            return frozenset({Alt("neg", op, (value,)), ABSENT})
        out = {Alt("pos", op, (value,))}
        if _JSON_NUMBER.fullmatch(value):
            # Sigma's "5" also matches the JSON number 5; within EventBridge's numeric range only, so
            # 12-digit account IDs stay strings (User Guide, "Numeric matching").
            number = float(value)
            if math.isfinite(number) and abs(number) <= NUMERIC_LIMIT and round(number, 6) == number:
                out.add(Alt("pos", "exact", (int(number) if number.is_integer() else number,)))
        if value.lower() in ("true", "false"):
            out.add(Alt("pos", "exact", (value.lower() == "true",)))
        return frozenset(out)

    # ---- structure ------------------------------------------------------------------------
    def build(self, f: Formula) -> Obj:
        if isinstance(f, Lit):
            return Obj({f.path: self.alts(f)})
        if isinstance(f, And):
            objs = [self.build(a) for a in f.args]
            out = objs[0]
            for other in objs[1:]:
                out = self.merge_and(out, other)
            return out
        if isinstance(f, Or):
            return self._or([self.build(a) for a in f.args])
        raise TypeError(f"not in negation normal form: {f!r}")  # pragma: no cover

    def _or(self, objs: list[Obj]) -> Obj:
        lists: dict[Path, set[Alt]] = {}
        branches: list[Obj] = []
        for obj in objs:
            if len(obj.fields) == 1 and not obj.groups:
                (path, alts), = obj.fields.items()
                lists.setdefault(path, set()).update(alts)  # same field: one value list
            elif not obj.fields and len(obj.groups) == 1:
                branches.extend(obj.groups[0])  # nested OR: flatten
            else:
                branches.append(obj)
        singles = [Obj({p: frozenset(a)}) for p, a in lists.items()]
        everything = singles + branches
        if len(everything) == 1:
            return everything[0]
        return Obj({}, (tuple(everything),))

    def merge_and(self, a: Obj, b: Obj) -> Obj:
        fields = dict(a.fields)
        for path, alts in b.fields.items():
            fields[path] = self._and_same_field(path, fields[path], alts) if path in fields else alts
        return Obj(fields, a.groups + b.groups)

    def _and_same_field(self, path: Path, x: frozenset[Alt], y: frozenset[Alt]) -> frozenset[Alt]:
        if x == y:
            return x
        nx, ny = _negation(x), _negation(y)
        if nx and ny and nx[0] == ny[0]:
            # (not a or absent) and (not b or absent) == anything-but [a, b], or absent.
            values = tuple(dict.fromkeys(nx[1] + ny[1]))
            merged = {Alt("neg", nx[0], values)}
            return frozenset(merged | ({ABSENT} if nx[2] and ny[2] else set()))
        for one, other in ((x, y), (y, x)):
            if one == {PRESENT} and not other & {ABSENT, NULL}:
                return other  # a value test already implies presence
        name = ".".join(path[1:]) if path[:1] == ("detail",) else ".".join(path)
        raise unsupported(
            f"two conditions on {name} under one AND",
            f"an EventBridge pattern holds a single value list per field ({DOCS['patterns']})",
        )

    # ---- rendering ------------------------------------------------------------------------
    def render(self, obj: Obj, envelope: Mapping[str, Any]) -> dict[str, Any]:
        root: dict[str, Any] = dict(envelope)
        self._fill(root, obj, ())
        return root

    def _fill(self, node: dict[str, Any], obj: Obj, base: Path) -> None:
        for path, alts in obj.fields.items():
            _put(node, path[len(base):], render_alts(alts), path)
        # One "$or" key per object: each OR group goes to the deepest free object above its fields.
        placed: dict[Path, tuple[Obj, ...]] = {}
        pending = list(obj.groups)
        while pending:
            group = pending.pop(0)
            prefix = _common_prefix(_paths_of(group))[len(base):]
            spot = next((p for p in _ancestors(prefix) if p not in placed and _is_object_at(node, p)), None)
            if spot is None:
                # every level is taken: distribute over the outermost group, (A|B)&(C|D) -> AC|AD|BC|BD
                top = min(placed, key=len)
                earlier = placed.pop(top)
                _object_at(node, top).pop("$or")
                pending.insert(0, self._distribute(earlier, group))
                continue
            _object_at(node, spot)["$or"] = [self._branch(b, base + spot) for b in group]
            placed[spot] = group

    def _branch(self, obj: Obj, base: Path) -> dict[str, Any]:
        node: dict[str, Any] = {}
        self._fill(node, obj, base)
        return node

    def _distribute(self, g1: tuple[Obj, ...], g2: tuple[Obj, ...]) -> tuple[Obj, ...]:
        if len(g1) * len(g2) > MAX_BRANCHES:
            raise unsupported(
                "OR of ANDs too wide",
                f"{len(g1) * len(g2)} $or branches cannot fit EventBridge's event pattern size quota ({DOCS['quota']})",
            )
        return tuple(self.merge_and(a, b) for a, b in itertools.product(g1, g2))


def _negation(alts: frozenset[Alt]) -> tuple[str, tuple[Any, ...], bool] | None:
    negs = [a for a in alts if a.kind == "neg"]
    rest = alts - set(negs) - {ABSENT}
    if len(negs) != 1 or rest:
        return None
    return negs[0].op, negs[0].args, ABSENT in alts


def _complement(ops: tuple[tuple[str, int | float], ...]) -> list[tuple[str, int | float]]:
    flip = {"<": ">=", "<=": ">", ">": "<=", ">=": "<"}
    if len(ops) == 1 and ops[0][0] == "=":
        return [("<", ops[0][1]), (">", ops[0][1])]
    return [(flip[op], number) for op, number in ops]


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def render_alt(alt: Alt) -> Any:
    if alt == NULL:
        return None
    if alt.kind == "exists":
        return {"exists": alt.args[0]}
    if alt.kind == "pos":
        (first, *_rest) = alt.args if alt.args else (None,)
        renderers: dict[str, Callable[[], Any]] = {
            "exact": lambda: first,
            "exact-ci": lambda: {"equals-ignore-case": first},
            "prefix": lambda: {"prefix": first},
            "prefix-ci": lambda: {"prefix": {"equals-ignore-case": first}},
            "suffix": lambda: {"suffix": first},
            "suffix-ci": lambda: {"suffix": {"equals-ignore-case": first}},
            "wildcard": lambda: {"wildcard": first},
            "numeric": lambda: {"numeric": list(alt.args)},
            "cidr": lambda: {"cidr": first},
        }
        return renderers[alt.op]()
    values: Any = list(alt.args) if len(alt.args) > 1 else alt.args[0]
    if alt.op == "exact":
        kinds = {type(v) is str for v in alt.args}
        if len(kinds) > 1:
            raise unsupported("not over a mix of strings and numbers", "anything-but takes one type per list")
        return {"anything-but": values}
    inner = {"exact-ci": "equals-ignore-case"}.get(alt.op, alt.op)
    return {"anything-but": {inner: values}}


def render_alts(alts: Iterable[Alt]) -> list[Any]:
    return sorted((render_alt(a) for a in alts), key=_canonical)


def _put(node: dict[str, Any], rel: Path, value: list[Any], full: Path) -> None:
    for key in rel[:-1]:
        child = node.setdefault(key, {})
        if not isinstance(child, dict):
            raise unsupported(f"field {'.'.join(full)}", "a field cannot be both a value and an object")
        node = child
    if rel[-1] in node:
        raise unsupported(f"field {'.'.join(full)}", "a field cannot be both a value and an object")
    node[rel[-1]] = value


def _paths_of(group: Iterable[Obj]) -> list[Path]:
    out: list[Path] = []
    for obj in group:
        out.extend(obj.fields)
        for sub in obj.groups:
            out.extend(_paths_of(sub))
    return out


def _common_prefix(paths: list[Path]) -> Path:
    # a $or can sit no deeper than the parent of its shallowest field
    prefix = list(min(paths, key=len)[:-1]) if paths else []
    for path in paths:
        n = 0
        while n < len(prefix) and n < len(path) - 1 and path[n] == prefix[n]:
            n += 1
        prefix = prefix[:n]
    return tuple(prefix)


def _ancestors(path: Path) -> list[Path]:
    return [path[:n] for n in range(len(path), -1, -1)]


def _is_object_at(node: dict[str, Any], path: Path) -> bool:
    for key in path:
        child = node.get(key)
        if child is None:
            return True
        if not isinstance(child, dict):
            return False
        node = child
    return True


def _object_at(node: dict[str, Any], path: Path) -> dict[str, Any]:
    for key in path:
        node = node.setdefault(key, {})
    return node
