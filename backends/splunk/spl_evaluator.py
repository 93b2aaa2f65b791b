"""Runs SPL search text on a shaped Splunk event, with the search language's documented semantics.

The evaluator parses the query text with ``spl.lark`` once and compiles each node to a closure.
It knows nothing of detc's pipeline: a field is whatever name the text uses. Documents map field
names to tuples of string values (see ``shaper.py``).

Splunk semantics implemented, each from Splunk's documentation:

- Field names are case-sensitive (Splexicon, "Field": "Field names are case-sensitive").
- Field values and search terms match case-insensitively ("By default, searches are
  case-insensitive", Search Manual, "Use CASE() and TERM() to match phrases"); ``CASE(x)`` makes a
  value case-sensitive, ``TERM(x)`` matches x as one whole term.
- ``*`` is the only wildcard and matches any run of characters; a backslash cannot escape it
  (Search Manual, "Backslashes": "The backslash symbol can't be used to escape the asterisk in
  search strings").
- Inside quotes, ``\\"`` is a double quote and ``\\\\`` a backslash (Search Manual, "Backslashes":
  "To pass a literal backslash ... you must escape the backslash by using the double-slash");
  any other backslash stays as written, which is how regular expressions keep ``\\d``.
- ``NOT f=v`` matches events without f; ``f!=v`` matches only events that have f with another
  value (Search Manual, "Difference between != and NOT").
- A multivalue field matches ``f=v`` when any of its values does (Search Manual, "Evaluate and
  manipulate fields with multiple values": each value is a value of the field).
- ``=``/``!=`` compare strings ("1" does not match "1.0"); ``<``, ``<=``, ``>``, ``>=`` compare as
  numbers when both sides are numbers and lexicographically otherwise (Search Reference,
  "search", comparison expressions).
- ``f=<CIDR>`` matches IPv4/IPv6 values inside the subnet ("The search command supports IPv4 and
  IPv6 addresses and subnets that use CIDR notation", Search Reference, "search").
- Boolean precedence in the search command: NOT, then OR, then AND (implied between terms);
  in ``where``/``eval``: NOT, then AND, then OR (Search Manual, "Boolean expressions with logical
  operators").
- ``| regex [f=|f!=]"re"`` keeps results whose field (default ``_raw``) matches the unanchored
  PCRE, case-sensitively unless the pattern says ``(?i)`` (Search Reference, "regex").
- ``| where`` keeps results whose eval expression is true; eval expressions are case-sensitive
  (Search Reference, "where"); ``like()`` uses ``%`` and ``_``, ``match()`` is an unanchored regex,
  ``cidrmatch()`` tests subnet membership (Search Reference, "Comparison and Conditional functions").
- ``| table`` and ``| fields`` choose columns; they never remove events (Search Manual, "Anatomy
  of a search": table shapes the results table).

Assumptions where the documentation is silent, kept visible here: a multivalue field in
``| regex``, ``| where`` comparisons and eval functions counts as matching when any value does;
``| regex f!="re"`` keeps results that lack f (they do not match); a bare search term matches when
it occurs in ``_raw`` with no letter or digit running on at either end that is not covered by a
wildcard (an approximation of Splunk's indexed-term segmentation).
"""

from __future__ import annotations

import ipaddress
import math
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, Union

from lark import Lark, Token, Tree
from lark.exceptions import LarkError

from compiler.errors import EvaluationError
from compiler.parse_tree import subtree, token

Event = dict[str, tuple[str, ...]]
Stage = Callable[[Event], Union[Event, None]]
Predicate = Callable[[Event], bool]
Value = Union[str, float, bool, None, tuple[str, ...]]
EvalFn = Callable[[Event], Value]

TARGET = "spl"
_GRAMMAR = Path(__file__).with_name("spl.lark")


@lru_cache(maxsize=1)
def _parser() -> Lark:
    return Lark(_GRAMMAR.read_text(encoding="utf-8"), parser="lalr", lexer="contextual")


def _error(message: str) -> EvaluationError:
    return EvaluationError(message, target=TARGET)


# ---- text helpers -------------------------------------------------------------------------


def unquote(token: str) -> str:
    """The value of a double-quoted SPL string: ``\\"`` and ``\\\\`` are escapes, other backslashes stay."""
    body = token[1:-1]
    out: list[str] = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body) and body[i + 1] in '"\\':
            out.append(body[i + 1])
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _wildcard_regex(pattern: str, *, case_sensitive: bool) -> re.Pattern[str]:
    body = ".*".join(re.escape(part) for part in pattern.split("*"))
    flags = re.DOTALL | (0 if case_sensitive else re.IGNORECASE)
    return re.compile(body, flags)


_NAMED_GROUP = re.compile(r"\(\?<(?![=!])")


_PCRE_CODE_POINT = re.compile(r"\\x\{([0-9A-Fa-f]{1,6})\}|\\.", re.DOTALL)


def _code_points(pattern: str) -> str:
    """PCRE's ``\\x{hhhh}`` as Python's ``\\Uhhhhhhhh``; other escapes (``\\\\`` too) untouched."""
    return _PCRE_CODE_POINT.sub(lambda m: f"\\U{int(m.group(1), 16):08x}" if m.group(1) else m.group(0), pattern)


def pcre(pattern: str, flags: int = 0) -> re.Pattern[str]:
    """Compile a PCRE pattern with Python's re: ``(?<name>`` → ``(?P<name>``, ``\\z`` → ``\\Z``,
    ``\\x{hhhh}`` → the code point."""
    translated = _code_points(_NAMED_GROUP.sub("(?P<", pattern).replace(r"\z", r"\Z"))
    try:
        return re.compile(translated, flags)
    except re.error as err:
        raise _error(f"regular expression {pattern!r} does not compile: {err}") from err


def _cidr(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    if "/" not in text:
        return None
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return None


def _in_network(value: str, network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> bool:
    try:
        return ipaddress.ip_address(value.strip()) in network
    except ValueError:
        return False


def _values(event: Event, name: str) -> tuple[str, ...]:
    return event.get(name, ())


# ---- search command -----------------------------------------------------------------------

ValueTest = Callable[[str], bool]


def _value_test(token: Token) -> ValueTest:
    """How one search value (quoted, bare, TERM(), CASE()) tests one field value for equality."""
    case_sensitive = token.type == "CASE_DIRECTIVE"
    literal = _literal(token)
    network = _cidr(literal) if "*" not in literal else None
    regex = _wildcard_regex(literal, case_sensitive=case_sensitive)
    if network is not None:
        return lambda v: _in_network(v, network) or regex.fullmatch(v) is not None
    return lambda v: regex.fullmatch(v) is not None


def _any_value_test(tokens: Sequence[Token]) -> ValueTest:
    """Whether one field value equals any of several search values (``f IN (…)``): the values
    without ``*`` and not CIDR blocks are looked up in a set (one regex per value of a long list
    costs far more than the list), the others tested one by one; the same verdicts as
    ``_value_test`` of each."""
    cased: set[str] = set()
    caseless: set[str] = set()  # ASCII values, lowered
    others: list[ValueTest] = []
    for tok in tokens:
        literal = _literal(tok)
        if "*" in literal or _cidr(literal) is not None or not (tok.type == "CASE_DIRECTIVE" or literal.isascii()):
            others.append(_value_test(tok))
        elif tok.type == "CASE_DIRECTIVE":
            cased.add(literal)
        else:
            caseless.add(literal.lower())

    def test(value: str) -> bool:
        if value in cased or (caseless and any(key in caseless for key in _caseless_keys(value))):
            return True
        return any(t(value) for t in others)

    return test


def _caseless_keys(value: str) -> list[str]:
    """The lowered ASCII texts that ``value`` equals under Python's IGNORECASE (the regex
    ``_value_test`` compiles): each character paired with the ASCII characters it matches, which
    for an ASCII character is its own case and for a few others a twin (KELVIN SIGN and k, LATIN
    SMALL LETTER LONG S and s, …). Empty when no ASCII text equals it."""
    if value.isascii():
        return [value.lower()]
    keys: list[list[str]] = [[]]
    for ch in value:
        twins = (ch.lower(),) if ch.isascii() else _ascii_twins(ch)
        if not twins:
            return []
        keys = [[*key, twin] for key in keys for twin in twins]
    return ["".join(key) for key in keys]


@lru_cache(maxsize=1024)
def _ascii_twins(ch: str) -> tuple[str, ...]:
    """The ASCII characters (lowered) that match ``ch`` under IGNORECASE, as ``re`` decides it."""
    return tuple(sorted({chr(a).lower() for a in range(128) if re.fullmatch(re.escape(chr(a)), ch, re.IGNORECASE)}))


def _literal(token: Token) -> str:
    text = str(token)
    if token.type in ("TERM_DIRECTIVE", "CASE_DIRECTIVE"):
        text = text[5:-1]
    return unquote(text) if text.startswith('"') and text.endswith('"') and len(text) >= 2 else text


_OPERATORS: Mapping[str, Callable[[Any, Any], Any]] = {
    "=": operator.eq, "==": operator.eq, "!=": operator.ne,
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}


def _ordering(op: str, literal: str) -> ValueTest:
    right_num = _number(literal)

    def test(value: str) -> bool:
        left_num = _number(value)
        if left_num is not None and right_num is not None:
            left: Any
            right: Any
            left, right = left_num, right_num
        else:
            left, right = value, literal
        return bool(_OPERATORS[op](left, right))

    return test


def _term_predicate(text: str, *, whole_term: bool) -> Predicate:
    """A bare term or quoted phrase against ``_raw`` (see the module note on segmentation)."""
    if whole_term:
        left = r"(?:^|(?<=[\s\"'\[\](){}<>,;|!=&]))"
        right = r"(?:$|(?=[\s\"'\[\](){}<>,;|!=&]))"
    else:
        left = "" if text.startswith("*") else r"(?<![A-Za-z0-9_])"
        right = "" if text.endswith("*") else r"(?![A-Za-z0-9_])"
    body = ".*?".join(re.escape(part) for part in text.split("*"))
    regex = re.compile(left + body + right, re.IGNORECASE | re.DOTALL)
    return lambda e: any(regex.search(raw) for raw in _values(e, "_raw"))


class _Dispatch:
    """Compiles a syntax tree node with the method named after its rule."""

    kind = "syntax"

    def compile(self, node: Tree[Token] | Token) -> Any:
        if isinstance(node, Token):
            raise _error(f"unexpected token {node!r}")
        method = getattr(self, node.data, None)
        if method is None:
            raise _error(f"unsupported {self.kind} construct {node.data}")
        return method(node)


class _Search(_Dispatch):
    """Compiles search-command syntax trees to predicates."""

    kind = "search"

    def s_and(self, node: Tree[Token]) -> Predicate:
        parts = [self.compile(c) for c in node.children if not isinstance(c, Token)]
        return lambda e: all(p(e) for p in parts)

    def s_or_op(self, node: Tree[Token]) -> Predicate:
        left, _, right = node.children
        a, b = self.compile(left), self.compile(right)
        return lambda e: a(e) or b(e)

    def s_negation(self, node: Tree[Token]) -> Predicate:
        inner = self.compile(node.children[1])
        # NOT inverts the whole clause, so events lacking the field match NOT f=v.
        return lambda e: not inner(e)

    def s_compare(self, node: Tree[Token]) -> Predicate:
        field_tok, op_tok, value_node = node.children
        name, op = str(field_tok).strip(), str(op_tok)
        value_tok = token(subtree(value_node).children[0])
        if op == "=":
            test = _value_test(value_tok)
            return lambda e: any(test(v) for v in _values(e, name))
        if op == "!=":
            test = _value_test(value_tok)
            # != needs the field: "Events that do not have a value in the field are not included".
            return lambda e: bool(_values(e, name)) and not any(test(v) for v in _values(e, name))
        ordering = _ordering(op, _literal(value_tok))
        return lambda e: any(ordering(v) for v in _values(e, name))

    def s_in(self, node: Tree[Token]) -> Predicate:
        name = str(node.children[0]).strip()
        test = _any_value_test([token(subtree(c).children[0]) for c in node.children[2:]])
        return lambda e: any(test(v) for v in _values(e, name))

    def s_phrase(self, node: Tree[Token]) -> Predicate:
        return _term_predicate(unquote(str(node.children[0])), whole_term=False)

    def s_word(self, node: Tree[Token]) -> Predicate:
        text = str(node.children[0])
        if text == "*":
            return lambda e: True
        return _term_predicate(text, whole_term=False)

    def s_term(self, node: Tree[Token]) -> Predicate:
        return _term_predicate(_literal(token(node.children[0])), whole_term=True)


# ---- eval expressions (where, eval) -------------------------------------------------------


def _as_list(value: Value) -> list[str | float | bool]:
    if value is None:
        return []
    if isinstance(value, tuple):
        return list(value)
    return [value]


def _text(value: str | float | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return value


def _scalar_num(value: str | float | bool) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, float):
        return value
    return _number(value)


def _compare(op: str, left: str | float | bool, right: str | float | bool) -> bool:
    ln, rn = _scalar_num(left), _scalar_num(right)
    a: Any
    b: Any
    if ln is not None and rn is not None:
        a, b = ln, rn
    else:
        a, b = _text(left), _text(right)
    return bool(_OPERATORS[op](a, b))


def _like_regex(pattern: str) -> re.Pattern[str]:
    parts = []
    for ch in pattern:
        parts.append(".*" if ch == "%" else "." if ch == "_" else re.escape(ch))
    return re.compile("".join(parts), re.DOTALL)


def _truth(value: Value) -> bool:
    return value is True


class _Eval(_Dispatch):
    """Compiles eval-expression trees to functions of the event."""

    kind = "eval"

    FUNCTIONS = frozenset(
        {"if", "isnull", "isnotnull", "like", "match", "cidrmatch", "lower", "upper",
         "coalesce", "len", "in", "true", "false", "null", "tostring"}
    )

    def e_string(self, node: Tree[Token]) -> EvalFn:
        text = unquote(str(node.children[0]))
        return lambda e: text

    def e_number(self, node: Tree[Token]) -> EvalFn:
        number = float(str(node.children[0]))
        return lambda e: number

    def e_field(self, node: Tree[Token]) -> EvalFn:
        raw = str(node.children[0])
        name = raw[1:-1].replace("\\'", "'") if raw.startswith("'") else raw

        def get(e: Event) -> Value:
            values = _values(e, name)
            if not values:
                return None
            return values[0] if len(values) == 1 else values

        return get

    def e_or_op(self, node: Tree[Token]) -> EvalFn:
        a, b = self.compile(node.children[0]), self.compile(node.children[2])
        return lambda e: _truth(a(e)) or _truth(b(e))

    def e_and_op(self, node: Tree[Token]) -> EvalFn:
        a, b = self.compile(node.children[0]), self.compile(node.children[2])
        return lambda e: _truth(a(e)) and _truth(b(e))

    def e_negation(self, node: Tree[Token]) -> EvalFn:
        inner = self.compile(node.children[1])

        def negate(e: Event) -> Value:
            value = inner(e)
            return None if value is None else not _truth(value)

        return negate

    def e_compare(self, node: Tree[Token]) -> EvalFn:
        a, op, b = self.compile(node.children[0]), str(node.children[1]), self.compile(node.children[2])

        def compare(e: Event) -> Value:
            left, right = a(e), b(e)
            if left is None or right is None:
                return None  # a comparison with null is null, which where treats as false
            return any(_compare(op, x, y) for x in _as_list(left) for y in _as_list(right))

        return compare

    def e_like_op(self, node: Tree[Token]) -> EvalFn:
        return self._like(self.compile(node.children[0]), self.compile(node.children[2]))

    @staticmethod
    def _any_value(
        subject: EvalFn, pattern: EvalFn, build: Callable[[str], Callable[[str], Any] | None]
    ) -> EvalFn:
        """Test each value of subject with a test built from pattern; null in, null out."""

        def apply(e: Event) -> Value:
            values, pat = subject(e), pattern(e)
            if values is None or pat is None or isinstance(pat, tuple):
                return None
            test = build(_text(pat))
            if test is None:
                return False
            return any(bool(test(_text(v))) for v in _as_list(values))

        return apply

    @classmethod
    def _like(cls, subject: EvalFn, pattern: EvalFn) -> EvalFn:
        return cls._any_value(subject, pattern, lambda p: _like_regex(p).fullmatch)

    def e_call(self, node: Tree[Token]) -> EvalFn:
        name = str(node.children[0])[:-1]
        key = name.lower()
        if name != key and key in self.FUNCTIONS:
            raise _error(f"eval function names are lower case: {name}()")
        if key not in self.FUNCTIONS:
            raise _error(f"unsupported eval function {name}()")
        args = [self.compile(c) for c in subtree(node.children[1]).children] if len(node.children) > 1 else []
        function: Callable[[Sequence[EvalFn]], EvalFn] = getattr(self, f"f_{key}")  # one f_<name> per FUNCTIONS entry
        return function(args)

    @staticmethod
    def _arity(name: str, args: Sequence[EvalFn], *counts: int) -> None:
        if len(args) not in counts:
            raise _error(f"{name}() takes {' or '.join(map(str, counts))} arguments, not {len(args)}")

    def f_if(self, args: Sequence[EvalFn]) -> EvalFn:
        self._arity("if", args, 3)
        cond, yes, no = args
        return lambda e: yes(e) if _truth(cond(e)) else no(e)

    def f_isnull(self, args: Sequence[EvalFn]) -> EvalFn:
        self._arity("isnull", args, 1)
        return lambda e: args[0](e) is None

    def f_isnotnull(self, args: Sequence[EvalFn]) -> EvalFn:
        self._arity("isnotnull", args, 1)
        return lambda e: args[0](e) is not None

    def f_like(self, args: Sequence[EvalFn]) -> EvalFn:
        self._arity("like", args, 2)
        return self._like(args[0], args[1])

    def f_match(self, args: Sequence[EvalFn]) -> EvalFn:
        self._arity("match", args, 2)
        return self._any_value(args[0], args[1], lambda p: pcre(p).search)

    def f_cidrmatch(self, args: Sequence[EvalFn]) -> EvalFn:
        self._arity("cidrmatch", args, 2)

        def within(cidr: str) -> Callable[[str], bool] | None:
            network = _cidr(cidr)
            return None if network is None else (lambda ip: _in_network(ip, network))

        return self._any_value(args[1], args[0], within)

    def f_lower(self, args: Sequence[EvalFn]) -> EvalFn:
        self._arity("lower", args, 1)
        return self._map_text(args[0], str.lower)

    def f_upper(self, args: Sequence[EvalFn]) -> EvalFn:
        self._arity("upper", args, 1)
        return self._map_text(args[0], str.upper)

    def f_tostring(self, args: Sequence[EvalFn]) -> EvalFn:
        self._arity("tostring", args, 1)
        return self._map_text(args[0], lambda s: s)

    @staticmethod
    def _map_text(arg: EvalFn, fn: Callable[[str], str]) -> EvalFn:
        def mapped(e: Event) -> Value:
            value = arg(e)
            if value is None:
                return None
            if isinstance(value, tuple):
                return tuple(fn(v) for v in value)
            return fn(_text(value))

        return mapped

    def f_coalesce(self, args: Sequence[EvalFn]) -> EvalFn:
        if not args:
            raise _error("coalesce() takes at least one argument")
        return lambda e: next((v for v in (a(e) for a in args) if v is not None), None)

    def f_len(self, args: Sequence[EvalFn]) -> EvalFn:
        self._arity("len", args, 1)

        def length(e: Event) -> Value:
            value = args[0](e)
            if value is None or isinstance(value, tuple):
                return None
            return float(len(_text(value)))

        return length

    def f_in(self, args: Sequence[EvalFn]) -> EvalFn:
        if len(args) < 2:
            raise _error("in() takes a field and at least one value")
        subject, options = args[0], args[1:]

        def contains(e: Event) -> Value:
            values = subject(e)
            if values is None:
                return None
            wanted = [o(e) for o in options]
            return any(
                w is not None and not isinstance(w, tuple) and _compare("=", v, w)
                for v in _as_list(values)
                for w in wanted
            )

        return contains

    def f_true(self, args: Sequence[EvalFn]) -> EvalFn:
        self._arity("true", args, 0)
        return lambda e: True

    def f_false(self, args: Sequence[EvalFn]) -> EvalFn:
        self._arity("false", args, 0)
        return lambda e: False

    def f_null(self, args: Sequence[EvalFn]) -> EvalFn:
        self._arity("null", args, 0)
        return lambda e: None


# ---- commands -----------------------------------------------------------------------------


def _field_selector(names: Sequence[str]) -> Callable[[str], bool]:
    patterns = [_wildcard_regex(n, case_sensitive=True) for n in names]
    return lambda field: any(p.fullmatch(field) for p in patterns)


class _Pipeline:
    """Compiles the whole query: the base search, then each piped command as a stage."""

    def __init__(self) -> None:
        self.search = _Search()
        self.eval = _Eval()

    def compile(self, tree: Tree[Token]) -> Stage:
        base, *commands = (subtree(child) for child in tree.children)
        stages: list[Stage] = []
        if base.children:
            stages.append(self._filter(self.search.compile(base.children[0])))
        for command in commands:
            method = getattr(self, command.data)
            stages.append(method(command))

        def run(event: Event) -> Event | None:
            current: Event | None = event
            for stage in stages:
                if current is None:
                    return None
                current = stage(current)
            return current

        return run

    @staticmethod
    def _filter(predicate: Predicate) -> Stage:
        return lambda e: e if predicate(e) else None

    def c_search(self, node: Tree[Token]) -> Stage:
        return self._filter(self.search.compile(node.children[0]))

    def c_regex(self, node: Tree[Token]) -> Stage:
        if len(node.children) == 2:
            spec = str(node.children[0])
            negate = "!=" in spec
            name = spec.split("!=")[0].split("=")[0].strip()
            pattern = node.children[1]
        else:
            name, negate, pattern = "_raw", False, node.children[0]
        regex = pcre(unquote(str(pattern)))

        def matches(e: Event) -> bool:
            return any(regex.search(v) for v in _values(e, name))

        if negate:
            return self._filter(lambda e: not matches(e))
        return self._filter(matches)

    def c_where(self, node: Tree[Token]) -> Stage:
        expr = self.eval.compile(node.children[0])
        return self._filter(lambda e: _truth(expr(e)))

    def c_eval(self, node: Tree[Token]) -> Stage:
        assignments = [
            (str(a.children[0]), self.eval.compile(a.children[1])) for a in (subtree(child) for child in node.children)
        ]

        def evaluate(e: Event) -> Event:
            out = dict(e)
            for name, fn in assignments:
                value = fn(out)
                if value is None:
                    out.pop(name, None)
                elif isinstance(value, bool):
                    raise _error(f"eval {name}=...: an eval expression cannot return a Boolean")
                elif isinstance(value, tuple):
                    out[name] = value
                else:
                    out[name] = (_text(value),)
            return out

        return evaluate

    def c_rex(self, node: Tree[Token]) -> Stage:
        if len(node.children) == 2:
            name = str(node.children[0]).split("=", 1)[1].strip()
            pattern = node.children[1]
        else:
            name, pattern = "_raw", node.children[0]
        regex = pcre(unquote(str(pattern)))
        if not regex.groupindex:
            raise _error("rex needs a named capture group (?<name>...)")

        def extract(e: Event) -> Event:
            for value in _values(e, name):
                found = regex.search(value)
                if found:
                    out = dict(e)
                    for group, text in found.groupdict().items():
                        if text is not None:
                            out[group] = (text,)
                    return out
            return e

        return extract

    def c_table(self, node: Tree[Token]) -> Stage:
        keep = _field_selector([str(t) for t in subtree(node.children[0]).children if isinstance(t, Token)])
        return lambda e: {k: v for k, v in e.items() if keep(k)}

    def c_fields(self, node: Tree[Token]) -> Stage:
        sign = "+"
        if isinstance(node.children[0], Token) and node.children[0].type == "FIELDS_SIGN":
            sign = str(node.children[0])
        names = [str(t) for t in subtree(node.children[-1]).children if isinstance(t, Token)]
        selected = _field_selector(names)
        if sign == "-":
            return lambda e: {k: v for k, v in e.items() if not selected(k)}
        # "fields +" keeps the internal fields (_raw, _time) too, as Splunk does.
        return lambda e: {k: v for k, v in e.items() if selected(k) or k.startswith("_")}


_TUPLE = frozenset({tuple})


def _as_event(document: Mapping[str, Any]) -> Event:
    if type(document) is dict and set(map(type, document.values())) <= _TUPLE:
        return document  # already an event as the shaper writes it: field -> tuple of strings
    event: Event = {}
    for name, value in document.items():
        if isinstance(value, (list, tuple)):
            event[str(name)] = tuple(str(v) for v in value)
        elif value is None:
            continue
        else:
            event[str(name)] = (str(value),)
    return event


def parse(query: str) -> Tree[Token]:
    """Parse SPL text; any text outside the grammar is an EvaluationError with line and column.
    The last query's tree is kept (one entry): the build's syntax check and the evaluator read one
    query in turn, and never change the tree."""
    return _last_parse(query)


@lru_cache(maxsize=1)
def _last_parse(query: str) -> Tree[Token]:
    try:
        return _parser().parse(query)
    except LarkError as err:
        line = getattr(err, "line", None)
        column = getattr(err, "column", None)
        where = f" at line {line}, column {column}" if line is not None else ""
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise _error(f"SPL does not parse{where}: {first}") from err


def evaluator(query: str) -> Callable[[Mapping[str, Any]], bool]:
    """Parse once; the returned predicate is true when the event survives the whole search."""
    if not query.strip():
        raise _error("empty search")
    run = _Pipeline().compile(parse(query))
    return lambda document: run(_as_event(document)) is not None
