"""Generated fixture events: witnesses and near misses, from a rule's parsed condition.

For a rule, the generator proposes raw events of the rule's logsource (through a ``RawForm``: a
base record and a way to set a field) and the Sigma reference gives each its verdict:

* **witnesses**, one per way the condition can be true: each branch of an OR (``1 of``, each list
  value), each combination of an AND's ways up to ``MAX_WAYS`` (every way of every operand at least
  once beyond that), a NOT's ways of being false. Values are instantiated plainly, with awkward text
  in their wildcards (the characters KQL, Lucene, SPL and JSON escape, and non-ASCII), and with their
  letter case changed; regular expressions by Hypothesis' ``from_regex`` (flags respected), run
  derandomized so that the same rule gives the same events everywhere; CIDRs by an address inside.
* **near misses**, each one change to a witness: a value just outside its pattern (a character
  before a ``startswith``, after an ``endswith``, one character of the literal changed or removed,
  the case changed under ``|cased``, an address just outside the network, a number across its
  bound), the field removed, set to null, moved into an array or into another field, or a filter's
  field made to match.

Each event's expected verdict is the reference's; the generator only proposes. A budget caps the
events per rule, spent first on one witness and one near miss per condition leaf (what fixture
coverage counts), then on every other way, the awkward and recased witnesses, and the remaining near
misses in turn. The output depends on the rule alone: no clock, no hash order, no randomness
outside Hypothesis' derandomized search.
"""

from __future__ import annotations

import copy
import functools
import ipaddress
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sigma.conditions import ConditionAND, ConditionNOT, ConditionOR
from sigma.types import (
    SigmaBool,
    SigmaCasedString,
    SigmaCIDRExpression,
    SigmaCompareExpression,
    SigmaExists,
    SigmaExpansion,
    SigmaFieldReference,
    SigmaNull,
    SigmaNumber,
    SigmaRegularExpression,
    SigmaString,
)

from compiler.conditions import Conditions, Leaf, reference
from compiler.dotted import ABSENT
from compiler.errors import UnsupportedFeature
from compiler.logsources import dotted_values
from compiler.patterns import UnresolvedPlaceholder, python_regex_flags, sigma_string_pattern
from compiler.rawforms import NotInThisSource, RawForm
from compiler.rules import DetcRule

MAX_WAYS = 64
"""Ways of one node kept before the generator stops taking the full product of an AND."""
DEFAULT_BUDGET = 200
"""Generated events per rule, by default."""

AWKWARD = ' "\\(a):<b>{c}[d]*?+-=&&||!^~/\',;`#$%@\té☃🙂 or NOT x '
"""Wildcard filling that every language must escape or carry: KQL's \\():<>"* and its keywords,
Lucene's + - = && || > < ! ( ) { } [ ] ^ " ~ * ? : \\ /, SPL's quotes, pipes and equals, JSON's
quote and backslash, a tab, Latin-1, the BMP and an astral character."""
AWKWARD_ONE = "é"
"""Filling for a ``?`` (one character) in the awkward variant."""

Way = tuple[tuple[int, bool], ...]
"""Leaves with the verdict each must have; together they make the condition true."""
_KEEP = object()


@dataclass(frozen=True)
class Generated:
    name: str
    kind: str
    """``witness`` or ``near miss``."""
    expect: str
    """``match`` or ``no_match``: the reference's verdict."""
    event: dict[str, Any]
    leaves: tuple[int, ...] = ()
    """The condition leaves the event is about."""


@dataclass(frozen=True)
class _Candidate:
    name: str
    kind: str
    event: dict[str, Any]
    leaves: tuple[int, ...]
    group: tuple[Any, ...] = ()


# --- ways of being true / false -------------------------------------------------------------


def _product(parts: Sequence[list[Way]]) -> list[Way]:
    """An AND's ways: the full product while small, else every operand's every way at least once."""
    if any(not p for p in parts):
        return []
    size = 1
    for p in parts:
        size *= len(p)
    if size <= MAX_WAYS:
        combos: Iterator[tuple[Way, ...]] = _full(parts)
    else:
        longest = max(len(p) for p in parts)
        combos = (tuple(p[i % len(p)] for p in parts) for i in range(longest))
    out: list[Way] = []
    for combo in combos:
        merged = _merge(combo)
        if merged is not None:
            out.append(merged)
    return _dedupe(out)[:MAX_WAYS]


def _full(parts: Sequence[list[Way]]) -> Iterator[tuple[Way, ...]]:
    if not parts:
        yield ()
        return
    for head in parts[0]:
        for rest in _full(parts[1:]):
            yield (head, *rest)


def _merge(ways: Sequence[Way]) -> Way | None:
    wanted: dict[int, bool] = {}
    for way in ways:
        for index, truth in way:
            if wanted.setdefault(index, truth) != truth:
                return None
    return tuple(wanted.items())


def _dedupe(ways: list[Way]) -> list[Way]:
    seen: set[tuple[tuple[int, bool], ...]] = set()
    out = []
    for way in ways:
        key = tuple(sorted(way))
        if key not in seen:
            seen.add(key)
            out.append(way)
    return out


def ways(conditions: Conditions, node: Any, truth: bool = True) -> list[Way]:
    """Each way a condition node can have the given verdict, as leaf verdicts."""
    if isinstance(node, ConditionNOT):
        return ways(conditions, node.args[0], not truth)
    if isinstance(node, (ConditionAND, ConditionOR)):
        parts = [ways(conditions, arg, truth) for arg in node.args]
        if isinstance(node, ConditionAND) == truth:  # all must hold: AND true, OR false
            return _product(parts)
        return _dedupe([w for p in parts for w in p])[:MAX_WAYS]
    if node is None:
        return [] if truth else [()]
    return [((conditions.index(node), truth),)]


# --- values --------------------------------------------------------------------------------


def _fill(value: SigmaString, many: str, one: str) -> str:
    try:
        return sigma_string_pattern(value, lambda text: text, multi=many, single=one)
    except UnresolvedPlaceholder as err:
        raise UnsupportedFeature(str(err)) from err


def _swap_ascii_case(text: str) -> str:
    return "".join(c.swapcase() if c.isascii() else c for c in text)


def _literals(value: SigmaString) -> list[str]:
    return [p for p in value.s if isinstance(p, str) and p]


@functools.lru_cache(maxsize=512)
def regex_example(pattern: str, flags: int, awkward: bool) -> str | None:
    """A string the regex finds, from Hypothesis' ``from_regex`` (which honours the flags), searched
    derandomized: the simplest one, or with ``awkward`` one holding non-ASCII text around or inside
    the match. None when Hypothesis finds none."""
    from hypothesis import HealthCheck, Phase, find, settings
    from hypothesis import strategies as st
    from hypothesis.errors import HypothesisException

    compiled = re.compile(pattern, flags)
    config = settings(
        database=None, derandomize=True, max_examples=60, phases=(Phase.generate,),
        suppress_health_check=list(HealthCheck), deadline=None,
    )
    try:
        if awkward:
            return find(st.from_regex(compiled), lambda s: not s.isascii(), settings=config)
        return find(st.from_regex(compiled, fullmatch=True), lambda s: True, settings=config)
    except (HypothesisException, re.error):
        return None


def instances(value: Any, variant: str) -> list[Any]:
    """Values that satisfy a Sigma value, plainest first; ``variant`` is ``plain``, ``awkward``
    (wildcards filled with text every language escapes, non-ASCII) or ``case`` (letters recased)."""
    if isinstance(value, SigmaExpansion):  # |windash and the like: any of its values
        return [c for v in value.values[:1] for c in instances(v, variant)]
    if isinstance(value, SigmaString):
        if variant == "awkward":
            return [_fill(value, AWKWARD, AWKWARD_ONE)]
        if variant == "case":
            if isinstance(value, SigmaCasedString):
                return []
            plain = _fill(value, "", "a")
            swapped = _swap_ascii_case(plain)
            return [swapped] if swapped != plain else []
        return [_fill(value, "", "a"), _fill(value, "x", "a")]
    if isinstance(value, SigmaRegularExpression):
        pattern, flags = value.regexp.to_plain(), python_regex_flags(value)
        if variant == "case":
            found = regex_example(pattern, flags, False)
            return [found.swapcase()] if found is not None and found.swapcase() != found else []
        example = regex_example(pattern, flags, variant == "awkward")
        return [example] if example is not None else []
    if isinstance(value, SigmaCIDRExpression):
        network = value.network
        inside = [network.broadcast_address] if variant == "awkward" else [
            network.network_address + 1 if network.num_addresses > 2 else network.network_address
        ]
        return [str(a) for a in inside] if variant != "case" else []
    if isinstance(value, SigmaCompareExpression):
        bound = value.number.number
        step = {"LT": -1, "LTE": 0, "GT": 1, "GTE": 0}.get(value.op.name)
        near = bound + 1 if step is None else bound + step  # step None: NEQ
        return _by_variant(variant, [near], [str(near)])
    if isinstance(value, SigmaBool):
        return _by_variant(variant, [value.boolean], [str(value.boolean).lower()])
    if isinstance(value, SigmaNumber):
        return _by_variant(variant, [value.number], [str(value.number)])
    if isinstance(value, SigmaNull):
        return _by_variant(variant, [ABSENT], [None])
    if isinstance(value, SigmaExists):
        if value.exists:
            return _by_variant(variant, [_KEEP, "x"], [""])
        return _by_variant(variant, [ABSENT], [None])
    return []


def _combined(values: Sequence[Any], variant: str) -> list[Any]:
    """Values that satisfy several Sigma values of one field at once (``|all``, two selections)."""
    per = [instances(v, variant) or instances(v, "plain") for v in values]
    if len(per) == 1:
        return per[0]
    out: list[Any] = [c for options in per for c in options]
    strings = [(v, options[0]) for v, options in zip(values, per, strict=True) if options and isinstance(options[0], str)]
    if strings:
        starts = [t for v, t in strings if isinstance(v, SigmaString) and v.s and isinstance(v.s[0], str)]
        ends = [t for v, t in strings if isinstance(v, SigmaString) and v.s and isinstance(v.s[-1], str) and t not in starts]
        middle = [t for _, t in strings if t not in starts and t not in ends]
        out.insert(0, "".join(starts + middle + ends))
    return out


def _change_char(text: str) -> str:
    """``text`` with its middle character replaced by a different one of the same kind."""
    at = len(text) // 2
    c = text[at]
    if c.isdigit() and c.isascii():
        new = str((int(c) + 1) % 10)
    elif c.isalpha() and c.isascii():
        new = "q" if c.lower() != "q" else "z"
        new = new.upper() if c.isupper() else new
    else:
        new = "x" if c != "x" else "y"
    return text[:at] + new + text[at + 1 :]


def outside(value: Any, current: Any) -> list[tuple[str, Any]]:
    """Values just outside a Sigma value, each with what was changed, from a value inside it."""
    out: list[tuple[str, Any]] = []
    if isinstance(value, SigmaExpansion):
        return [o for v in value.values[:1] for o in outside(v, current)]
    if isinstance(value, SigmaString) and isinstance(current, str) and value.s:
        literals = _literals(value)
        if isinstance(value.s[0], str) and value.s[0]:
            out.append((f"a character before the start {value.s[0]!r}", "x" + current))
        if isinstance(value.s[-1], str) and value.s[-1]:
            out.append((f"a character after the end {value.s[-1]!r}", current + "x"))
        if literals:
            lit = max(literals, key=len)
            if lit in current:
                out.append((f"one character of {lit!r} changed", current.replace(lit, _change_char(lit), 1)))
                if len(lit) > 1:
                    out.append((f"the last character of {lit!r} removed", current.replace(lit, lit[:-1], 1)))
                if isinstance(value, SigmaCasedString) and _swap_ascii_case(lit) != lit:
                    out.append(
                        (f"letter case of {lit!r} changed under |cased", current.replace(lit, _swap_ascii_case(lit), 1))
                    )
    elif isinstance(value, SigmaRegularExpression) and isinstance(current, str) and current:
        out.append(("the first character of the regex match removed", current[1:]))
        out.append(("a character of the regex match changed", _change_char(current)))
        if current.swapcase() != current:
            out.append(("letter case of the regex match changed", current.swapcase()))
    elif isinstance(value, SigmaCIDRExpression):
        network = value.network
        maximum = 2**32 - 1 if network.version == 4 else 2**128 - 1
        beyond = int(network.broadcast_address) + 1
        address = beyond if beyond <= maximum else int(network.network_address) - 1
        if address >= 0:
            out.append((f"an address just outside {network}", str(ipaddress.ip_address(address))))
    elif isinstance(value, SigmaCompareExpression):
        bound = value.number.number
        step = {"LT": 0, "LTE": 1, "GT": 0, "GTE": -1, "NEQ": 0}[value.op.name]
        out.append((f"a number across the bound {bound}", bound + step))
    elif isinstance(value, SigmaBool):
        out.append(("the other boolean", not value.boolean))
    elif isinstance(value, SigmaNumber):
        out.append(("a different number", value.number + 1))
    elif isinstance(value, SigmaNull) or isinstance(value, SigmaExists) and not value.exists:
        out.append(("the field given a value", "x"))
    elif isinstance(value, SigmaFieldReference) and isinstance(current, str):
        out.append((f"no longer equal to {value.field}", current + "x"))
        if current.swapcase() != current:
            out.append((f"equal to {value.field} but for letter case", current.swapcase()))
    return out


# --- events ----------------------------------------------------------------------------------


def _canonical(event: Any) -> bytes:
    return orjson.dumps(event, option=orjson.OPT_SORT_KEYS)


def _first(record: Any, field: str) -> Any:
    values = dotted_values(record, field)
    return values[0] if values else ABSENT


class Generator:
    """Witnesses and near misses for one rule in one raw form."""

    def __init__(self, rule: DetcRule, form: RawForm) -> None:
        self.rule = rule
        self.form = form
        self.conditions = Conditions.of(rule)
        self.reference = reference().records_predicate(rule)
        fields = [leaf.field for leaf in self.conditions.leaves if leaf.field is not None]
        fields += [leaf.value.field for leaf in self.conditions.leaves if isinstance(leaf.value, SigmaFieldReference)]
        self.fields = list(dict.fromkeys(fields))
        base = form.base_record()
        self.spare = next(
            (k for k, v in base.items() if isinstance(v, str) and not any(self._related(k, f) for f in self.fields)),
            "detcGenerated",
        )

    @staticmethod
    def _related(a: str, b: str) -> bool:
        return a == b or b.startswith(a + ".") or a.startswith(b + ".")

    def ways(self) -> list[Way]:
        out: list[Way] = []
        for tree in self.conditions.trees:
            out.extend(ways(self.conditions, tree))
        return _dedupe(out)[:MAX_WAYS]

    def _value(self, record: dict[str, Any], field: str) -> Any:
        """The field's first value as the rule reads it (through the logsource's view), or ABSENT."""
        view = self.conditions.view(record)
        return _first(view, field) if view is not None else ABSENT

    def _place(self, leaf: Leaf) -> str:
        return leaf.field if leaf.field is not None else self.spare

    def build(self, way: Way, variant: str) -> dict[str, Any] | None:
        """An event whose leaves have the verdicts the way asks (None when none is found)."""
        return self.apply(self.form.base_record(), way, variant)

    def apply(self, record: dict[str, Any], way: Way, variant: str = "plain") -> dict[str, Any] | None:
        """The record changed so that its leaves have the verdicts the way asks (None when not found)."""
        leaves = self.conditions.leaves
        groups: dict[str, list[tuple[Leaf, bool]]] = {}
        for index, truth in way:
            leaf = leaves[index]
            groups.setdefault(self._place(leaf), []).append((leaf, truth))
        # fields that reference another field are set last, once that field holds its value
        order = sorted(groups, key=lambda f: any(isinstance(leaf.value, SigmaFieldReference) for leaf, _ in groups[f]))
        for field in order:
            wanted = groups[field]
            if not any(self._try(record, field, wanted, c) for c in self._candidates(record, field, wanted, variant)):
                return None
        if not self._holds(record, [(leaves[i], t) for i, t in way]):
            return None
        return record

    def _holds(self, record: dict[str, Any], wanted: Sequence[tuple[Leaf, bool]]) -> bool:
        view = self.conditions.view(record)
        return view is not None and all(leaf.predicate(view) == truth for leaf, truth in wanted)

    def _try(self, record: dict[str, Any], field: str, wanted: list[tuple[Leaf, bool]], value: Any) -> bool:
        if value is not _KEEP:
            try:
                self.form.set_field(record, field, value)
            except NotInThisSource:
                return False
        return self._holds(record, wanted)

    def _candidates(
        self, record: dict[str, Any], field: str, wanted: list[tuple[Leaf, bool]], variant: str
    ) -> list[Any]:
        positive = [leaf.value for leaf, truth in wanted if truth]
        negative = [leaf for leaf, truth in wanted if not truth]
        refs = [v for v in positive if isinstance(v, SigmaFieldReference)]
        if refs:
            other = self._value(record, refs[0].field)
            if other is ABSENT:  # give the referenced field a value to be equal to
                try:
                    self.form.set_field(record, refs[0].field, "detc-same")
                except NotInThisSource:
                    return []
                other = "detc-same"
            return [other]
        if positive:
            return _combined(positive, variant)
        out: list[Any] = [_KEEP]
        for leaf in negative:
            for inside in instances(leaf.value, "plain")[:1]:
                if inside is not ABSENT and inside is not _KEEP:
                    out.extend(v for _, v in outside(leaf.value, inside))
        return out + [ABSENT, "detc"]

    def witnesses(self) -> list[tuple[int, str, Way, dict[str, Any]]]:
        out = []
        for number, way in enumerate(self.ways(), start=1):
            for variant in ("plain", "awkward", "case"):
                event = self.build(way, variant)
                if event is not None and self.reference(event):
                    out.append((number, variant, way, event))
        return out

    def near_misses(self, number: int, way: Way, event: dict[str, Any]) -> list[_Candidate]:
        out = []
        leaves = self.conditions.leaves
        for index, truth in way:
            leaf = leaves[index]
            field = self._place(leaf)
            about = leaf.describe(negated=not truth)
            changes: list[tuple[str, str, dict[str, Any] | None]] = []
            if truth:
                current = self._value(event, field)
                for what, value in outside(leaf.value, current):
                    changes.append(("outside", what, self._with(event, field, value)))
                absent_already = current is ABSENT
                if not absent_already:
                    if not isinstance(leaf.value, SigmaExists) or leaf.value.exists:
                        changes.append(("removed", "the field removed", self._with(event, field, ABSENT)))
                    if current is not None and not isinstance(leaf.value, SigmaNull):
                        changes.append(("null", "the field set to null", self._with(event, field, None)))
                        changes.append(
                            ("array", "the value among others in an array", self._with(event, field, ["detc-other", current]))
                        )
                        if field != self.spare:
                            moved = self._with(event, field, ABSENT)
                            if moved is not None:
                                moved = self._with(moved, self.spare, current)
                            changes.append(("moved", f"the value moved into {self.spare}", moved))
            else:
                whole = self._filter_matched(way, leaf)
                if whole is not None:
                    changes.append(("filter", f"the filter {leaf.detection} made to match", whole))
                made_to_match = instances(leaf.value, "plain")[:1]
                if isinstance(leaf.value, SigmaFieldReference):
                    other = self._value(event, leaf.value.field)
                    made_to_match = [other] if other is not ABSENT else []
                    if isinstance(other, str) and other.swapcase() != other:
                        changes.append(
                            ("filter", f"the filter's field made equal to {leaf.value.field} but for letter case",
                             self._with(event, field, other.swapcase()))
                        )
                for inside in made_to_match:
                    if inside is _KEEP:
                        inside = "x"
                    changes.append(("filter", "the filter's field made to match", self._with(event, field, inside)))
            for kind, what, changed in changes:
                if changed is None:  # not a record of this logsource
                    continue
                out.append(
                    _Candidate(
                        name=f"near miss of witness {number}: {what} ({about})",
                        kind="near miss", event=changed, leaves=(index,), group=(index, kind),
                    )
                )
        return out

    def _filter_matched(self, witness: Way, leaf: Leaf) -> dict[str, Any] | None:
        """The witness with the negated part above a leaf made true through that leaf (every test of
        its selection, not the leaf alone; the witness's other tests kept), or None when no such
        event is found."""
        node = getattr(leaf.node, "parent", None)
        while node is not None and not isinstance(node, ConditionNOT):
            node = getattr(node, "parent", None)
        if node is None:
            return None
        for way in ways(self.conditions, node.args[0], True):
            if (leaf.index, True) in way and len(way) > 1:
                turned = {i for i, _ in way}
                combined = _merge([tuple(lit for lit in witness if lit[0] not in turned), way])
                changed = self.build(combined, "plain") if combined is not None else None
                if changed is not None:
                    return changed
        return None

    def _with(self, event: dict[str, Any], field: str, value: Any) -> dict[str, Any] | None:
        changed = copy.deepcopy(event)
        try:
            self.form.set_field(changed, field, value)
        except NotInThisSource:
            return None
        return changed

    def generate(self, budget: int = DEFAULT_BUDGET) -> list[Generated]:
        leaves = self.conditions.leaves
        witnesses = self.witnesses()
        plain = [(n, w, e) for n, v, w, e in witnesses if v == "plain"]
        suffix = {"plain": "", "awkward": " — awkward values", "case": " — letter case changed"}

        def witness(n: int, variant: str, way: Way, event: dict[str, Any]) -> _Candidate:
            described = "; ".join(leaves[i].describe(negated=not t) for i, t in way)
            return _Candidate(
                name=f"witness {n}{suffix[variant]}: {described}", kind="witness", event=event,
                leaves=tuple(i for i, _ in way),
            )

        misses = {n: self.near_misses(n, w, e) for n, w, e in plain}
        tiers: list[_Candidate] = []
        for leaf in leaves:  # first: one witness and one near miss per leaf
            for n, way, event in plain:
                if any(i == leaf.index for i, _ in way):
                    tiers.append(witness(n, "plain", way, event))
                    first = next((m for m in misses[n] if m.leaves == (leaf.index,)), None)
                    if first is not None:
                        tiers.append(first)
                    break
        tiers.extend(witness(n, "plain", w, e) for n, w, e in plain)
        tiers.extend(witness(n, v, w, e) for n, v, w, e in witnesses if v != "plain")
        groups: dict[tuple[Any, ...], list[_Candidate]] = {}
        for n, _, _ in plain:
            for miss in misses[n]:
                groups.setdefault(miss.group, []).append(miss)
        depth = max((len(g) for g in groups.values()), default=0)
        for round_ in range(depth):
            tiers.extend(g[round_] for g in groups.values() if round_ < len(g))

        chosen: list[Generated] = []
        seen_events: set[bytes] = set()
        seen_names: dict[str, int] = {}
        for candidate in tiers:
            if len(chosen) >= budget:
                break
            key = _canonical(candidate.event)
            if key in seen_events:
                continue
            seen_events.add(key)
            name = candidate.name
            seen_names[name] = seen_names.get(name, 0) + 1
            if seen_names[name] > 1:
                name = f"{name} #{seen_names[name]}"
            chosen.append(
                Generated(
                    name=name, kind=candidate.kind, event=candidate.event, leaves=candidate.leaves,
                    expect="match" if self.reference(candidate.event) else "no_match",
                )
            )
        return chosen


def generate(rule: DetcRule, form: RawForm, budget: int = DEFAULT_BUDGET) -> list[Generated]:
    """Generated events for a rule, with the reference's verdicts (deterministic)."""
    return Generator(rule, form).generate(budget)


def fixtures_text(
    rule: DetcRule, generated: Sequence[Generated], waivers: Mapping[str, Mapping[str, str]] | None = None
) -> str:
    """Generated events as a tests file (``X.tests.yml``) a person can review and keep: detc's
    fixture loader reads back exactly these events (escaped YAML where a character would not
    survive the round trip). ``waivers``: per case name, the targets whose artifact states why
    they give another verdict, with that reason."""
    from compiler.guard import FIXTURES_HEAD
    from compiler.yamlio import dump_yaml, read_yaml_text

    cases = []
    for g in generated:
        case: dict[str, Any] = {"name": g.name, "expect": g.expect, "event": g.event}
        if waivers and waivers.get(g.name):
            case["waive"] = dict(sorted(waivers[g.name].items()))
        cases.append(case)
    data = {"cases": cases}
    header = (
        f"{FIXTURES_HEAD} for {rule.path} ({rule.id}).\n"
        "# Each event is a witness (a way the condition is true) or a near miss (one change to a witness);\n"
        "# the expected verdict is the Sigma reference's. Review, rename and trim before keeping.\n"
    )
    text = dump_yaml(data, sort_keys=False, allow_unicode=True, width=1000)
    if read_yaml_text(text) != data:
        text = dump_yaml(data, sort_keys=False, allow_unicode=False, width=1000)
    return header + text


def _by_variant(variant: str, plain: list[Any], awkward: list[Any]) -> list[Any]:
    """The values of a variant: plain, awkward, or (letter case: nothing to change) none."""
    return {"plain": plain, "awkward": awkward}.get(variant, [])
