"""A rule's condition leaves, read from pySigma's parsed condition trees (no second parser).

A *leaf* is one field test (``ConditionFieldEqualsValueExpression``: one list value, one ``|all``
part) or one keyword (``ConditionValueExpression``). Each leaf is judged by the Sigma reference's
own predicate, and a tree can be re-evaluated with chosen leaves taken the other way: what the
generator's witnesses and near misses, fixture coverage and the allowance for stated caveats read.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sigma.conditions import (
    ConditionAND,
    ConditionFieldEqualsValueExpression,
    ConditionIdentifier,
    ConditionNOT,
    ConditionOR,
    ConditionValueExpression,
)
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

from compiler.patterns import UnresolvedPlaceholder, sigma_string_pattern

Record = Mapping[str, Any]


@dataclass(frozen=True, eq=False)
class Leaf:
    index: int
    node: Any
    detection: str
    """The detection (selection) the leaf comes from, as the rule names it."""

    @property
    def field(self) -> str | None:
        return getattr(self.node, "field", None) if isinstance(self.node, ConditionFieldEqualsValueExpression) else None

    @property
    def value(self) -> Any:
        return self.node.value

    @functools.cached_property
    def predicate(self) -> Callable[[Record], bool]:
        """The reference's verdict on this leaf alone."""
        predicate: Callable[[Record], bool] = reference().leaf_predicate(self.node)
        return predicate

    @functools.cached_property
    def cased_predicate(self) -> Callable[[Record], bool] | None:
        """The leaf matched case-sensitively (None: case cannot matter to it)."""
        value = self.value
        if not isinstance(value, SigmaString) or isinstance(value, SigmaCasedString):
            return None
        cased = SigmaCasedString.from_sigma_string(value)
        node: Any
        if isinstance(self.node, ConditionFieldEqualsValueExpression):
            node = ConditionFieldEqualsValueExpression(self.node.field, cased)
        else:
            node = ConditionValueExpression(cased)
        predicate: Callable[[Record], bool] = reference().leaf_predicate(node)
        return predicate

    def describe(self, negated: bool = False) -> str:
        text = f"{self.field} {value_text(self.value)}" if self.field is not None else f"keyword {value_text(self.value)}"
        where = f"{'not ' if negated else ''}{self.detection}" if self.detection else ("not" if negated else "")
        return f"{where}: {text}" if where else text


@functools.lru_cache(maxsize=1)
def reference() -> Any:
    """The reference target (``sigma``), found through the registry like every target."""
    from compiler.target import load_registry

    return load_registry().get("sigma")


def literal_text(value: SigmaString) -> str:
    """A Sigma string as written, wildcards as ``*``/``?`` and literal ones escaped."""
    escape = lambda text: text.replace("\\", "\\\\").replace("*", "\\*").replace("?", "\\?")  # noqa: E731
    try:
        return sigma_string_pattern(value, escape, multi="*", single="?")
    except UnresolvedPlaceholder:
        return str(value)


def value_text(value: Any) -> str:
    if isinstance(value, SigmaExpansion):
        return "= one of " + ", ".join(value_text(v)[2:] for v in value.values)
    if isinstance(value, SigmaCasedString):
        return f"= {literal_text(value)!r} (cased)"
    if isinstance(value, SigmaString):
        return f"= {literal_text(value)!r}"
    if isinstance(value, SigmaRegularExpression):
        flags = "".join(sorted(f.name[0].lower() for f in value.flags))
        return f"matches /{value.regexp.to_plain()}/{flags}"
    if isinstance(value, SigmaCIDRExpression):
        return f"in {value.network}"
    if isinstance(value, SigmaCompareExpression):
        op = {"LT": "<", "LTE": "<=", "GT": ">", "GTE": ">=", "NEQ": "!="}[value.op.name]
        return f"{op} {value.number.number}"
    if isinstance(value, SigmaNull):
        return "is null"
    if isinstance(value, SigmaExists):
        return "exists" if value.exists else "does not exist"
    if isinstance(value, SigmaFieldReference):
        return f"= field {value.field}"
    if isinstance(value, SigmaBool):
        return f"= {str(value.boolean).lower()}"
    if isinstance(value, SigmaNumber):
        return f"= {value.number}"
    return f"= {value}"


def _detection_name(node: Any) -> str:
    seen = 0
    while node is not None and seen < 16:
        if isinstance(node, ConditionIdentifier):
            return str(node.identifier)
        node = getattr(node, "parent", None)
        seen += 1
    return ""


class Conditions:
    """A rule's parsed condition trees and their leaves, in the order the rule writes them."""

    def __init__(self, trees: Sequence[Any], view: Callable[[Record], Record | None] | None = None) -> None:
        self.trees = tuple(trees)
        self.view = view or (lambda record: record)
        """A raw record under the Sigma field names the leaves read (None: the logsource does not
        admit the record, and the rule cannot match it)."""
        self.leaves: list[Leaf] = []
        self._index: dict[int, int] = {}
        for tree in self.trees:
            for node in _walk(tree):
                self._index[id(node)] = len(self.leaves)
                self.leaves.append(Leaf(index=len(self.leaves), node=node, detection=_detection_name(node)))
        self._shared = len(self._index) != len(self.leaves)
        """Some leaf node sits in two places of the trees (pySigma makes a node per place)."""

    @classmethod
    def of(cls, rule: Any) -> "Conditions":
        """A rule's conditions, reading raw records of its logsource as the reference does."""
        from compiler.logsources import find

        source = find(rule.sigma.logsource)
        return cls(rule.conditions, source.admitted_view if source is not None else None)

    def index(self, node: Any) -> int:
        return self._index[id(node)]

    def truths(self, view: Record) -> list[bool]:
        """Each leaf's reference verdict on a record's view (``self.view``)."""
        return [leaf.predicate(view) for leaf in self.leaves]

    def verdict(self, truths: Sequence[bool], flipped: frozenset[int] = frozenset()) -> bool:
        """The rule's verdict from its leaves' verdicts, with the ``flipped`` leaves taken the other way."""
        return any(self._eval(tree, truths, flipped) for tree in self.trees)

    def possible(self, truths: Sequence[bool], free: frozenset[int]) -> set[bool]:
        """The rule's verdicts when the ``free`` leaves may each go either way (Kleene's three-valued
        logic, exact here: every leaf is its own node, so each occurs once in the trees)."""
        return _combine([self._possible(tree, truths, free) for tree in self.trees], conjunction=False)

    def _possible(self, node: Any, truths: Sequence[bool], free: frozenset[int]) -> set[bool]:
        if isinstance(node, (ConditionAND, ConditionOR)):
            parts = [self._possible(a, truths, free) for a in node.args]
            return _combine(parts, conjunction=isinstance(node, ConditionAND))
        if isinstance(node, ConditionNOT):
            return {not v for v in self._possible(node.args[0], truths, free)}
        if node is None:
            return {False}
        index = self._index[id(node)]
        return {True, False} if index in free else {truths[index]}

    def flips_to_no_match(self, record: Record) -> list[int]:
        """The leaves this record shows taking the rule from match to no match: the rule does not
        match it, and would if that leaf alone went the other way (fixture coverage)."""
        view = self.view(record)
        if view is None:
            return []
        return self.flips(self.truths(view))

    def flips(self, truths: Sequence[bool]) -> list[int]:
        """The leaves whose flip alone takes the rule from no match to match, with the leaves
        taking these verdicts (none when the rule matches)."""
        if self.verdict(truths):
            return []
        if self._shared:  # a node in two places: flip each leaf and look
            return [leaf.index for leaf in self.leaves if self.verdict(truths, frozenset((leaf.index,)))]
        # The verdict is an OR of the trees, all false here, and a leaf occurs in one place of one
        # tree: flipping it flips the verdict exactly when it flips its tree. One pass per tree
        # (a leaf flips an AND it sits under when every other operand is true, an OR when every
        # other is false) instead of re-evaluating every tree once per leaf.
        found: list[int] = []
        for tree in self.trees:
            values: dict[int, bool] = {}
            self._node_values(tree, truths, values)
            self._deciding(tree, values, found)
        return sorted(found)

    def _node_values(self, node: Any, truths: Sequence[bool], values: dict[int, bool]) -> bool:
        """The node's verdict, recording every node's verdict in ``values`` (by id)."""
        if isinstance(node, (ConditionAND, ConditionOR)):
            parts = [self._node_values(a, truths, values) for a in node.args]
            value = all(parts) if isinstance(node, ConditionAND) else any(parts)
        elif isinstance(node, ConditionNOT):
            value = not self._node_values(node.args[0], truths, values)
        elif node is None:
            value = False
        else:
            value = truths[self._index[id(node)]]
        values[id(node)] = value
        return value

    def _deciding(self, node: Any, values: Mapping[int, bool], found: list[int]) -> None:
        """The leaves below ``node`` whose flip alone flips ``node`` (``_node_values`` gave ``values``)."""
        if isinstance(node, (ConditionAND, ConditionOR)):
            neutral = isinstance(node, ConditionAND)  # an operand that leaves the others to decide
            verdicts = [values[id(a)] for a in node.args]
            against = sum(1 for v in verdicts if v != neutral)
            for arg, verdict in zip(node.args, verdicts, strict=True):
                if against - (verdict != neutral) == 0:
                    self._deciding(arg, values, found)
        elif isinstance(node, ConditionNOT):
            self._deciding(node.args[0], values, found)
        elif node is not None:
            found.append(self._index[id(node)])

    def _eval(self, node: Any, truths: Sequence[bool], flipped: frozenset[int]) -> bool:
        if isinstance(node, ConditionAND):
            return all(self._eval(a, truths, flipped) for a in node.args)
        if isinstance(node, ConditionOR):
            return any(self._eval(a, truths, flipped) for a in node.args)
        if isinstance(node, ConditionNOT):
            return not self._eval(node.args[0], truths, flipped)
        if node is None:
            return False
        index = self._index[id(node)]
        return truths[index] != (index in flipped)


def _combine(parts: list[set[bool]], conjunction: bool) -> set[bool]:
    """The verdicts an AND (``conjunction``) or an OR of operands with these possible verdicts can have:
    an AND is true only if every operand can be, false if any can be; an OR the other way round."""
    every, some = (True, False) if conjunction else (False, True)
    out = set()
    if all(every in p for p in parts):
        out.add(every)
    if any(some in p for p in parts):
        out.add(some)
    return out


def _walk(node: Any) -> Iterator[Any]:
    if isinstance(node, (ConditionAND, ConditionOR, ConditionNOT)):
        for arg in node.args:
            yield from _walk(arg)
    elif isinstance(node, (ConditionFieldEqualsValueExpression, ConditionValueExpression)):
        yield node
