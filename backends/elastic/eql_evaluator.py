"""Run EQL text on stored documents, as Elasticsearch's EQL search answers an event query.

Parsing is the ``eql`` package's (Elastic's EQL library): the query must pass ``eql.parse_query``
in ``elasticsearch_syntax`` mode, as Elastic's detection-rules validates EQL rules
(``detection_rules/rule_validators.py``: ``with eql.parser.elasticsearch_syntax,
eql.parser.ignore_missing_functions: eql.parse_query(query)``), so text Elastic's tooling rejects
never passes. The tree evaluated is the parse tree of that package's grammar (``eql.g``, read by
``parse`` below), not the package's AST: the AST folds ``:``, ``like``, ``like~`` into one ``wildcard``
call and ``regex``/``regex~``, ``in``/``in~`` into one form each, dropping the case sensitivity
Elasticsearch gives them. The package's Python engine is not used: it compares ``==`` and
``regex`` case-insensitively, never matches a ``?`` inside a ``:`` pattern, and never matches
``:`` against an array (measured with eql 1.0.1; ``tests/test_eql_evaluator.py`` pins each).

Semantics are Elasticsearch's (EQL syntax reference; an event query's condition becomes a
Query DSL filter, ``ExpressionTranslators``): ``==``/``in`` are case-sensitive term queries;
``:``, ``like~``, ``in~`` and ``regex~`` fold ASCII letters only; ``:``/``like`` patterns take
``*`` and ``?`` (no escape); ``regex`` is Lucene's anchored dialect; ``not`` is a ``must_not``, so
it also matches documents without the field; ``== null``/``!= null`` test existence; arrays match
any element; ``cidrMatch`` is a terms query on an ip field. ``any`` matches every event category,
any other category a term on ``event.category``. Fields of type ``flattened`` are refused, as
Elasticsearch's verifier refuses them.
"""

from __future__ import annotations

import functools
import importlib.util
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lark import Lark, Token, Tree
from lark.exceptions import LarkError, UnexpectedInput

from backends.elastic.es_regexp import lucene_regexp
from backends.elastic.es_semantics import Field, FieldTypes, ascii_folded
from backends.elastic.index_mapping import field_spec
from compiler.errors import EvaluationError
from compiler.parse_tree import subtree, token

Predicate = Callable[[Any], bool]
EVENT_CATEGORY_FIELD = "event.category"
"""The EQL search API's default ``event_category_field``."""

_ESCAPES = {"t": "\t", "n": "\n", "r": "\r", "b": "\b", "f": "\f", '"': '"', "'": "'", "\\": "\\"}
_UNICODE = re.compile(r"\\u\{([0-9A-Fa-f]{2,8})\}")
_STRING_FIELD_TYPES = ("keyword", "constant_keyword", "flattened")
_RANGE_OPS = {"<": "lt", "<=": "lte", ">": "gt", ">=": "gte"}


# --- the grammar: eql.g of the installed package, read without importing the package -----------
# The package builds its own parser from this grammar when it is imported (a third of a second,
# uncached); the build's syntax check needs only the grammar's verdict, so it reads the grammar
# file and lets lark cache the parse tables.


def grammar_path() -> Path:
    """``etc/eql.g`` of the installed ``eql`` package (found without running the package)."""
    spec = importlib.util.find_spec("eql")
    if spec is None or not spec.submodule_search_locations:
        raise EvaluationError("the eql package is not installed")
    return Path(list(spec.submodule_search_locations)[0]) / "etc" / "eql.g"


@functools.lru_cache(maxsize=1)
def parser() -> Lark:
    """LALR, as the package builds it; lark keeps the analysed tables in its temp-file cache."""
    return Lark(grammar_path().read_text(encoding="utf-8"), parser="lalr", start=["piped_query", "field_parts"], cache=True)


def parse(query: str, start: str = "piped_query") -> Tree[Token]:
    """The parse tree of EQL text by the package's grammar (the build's syntax check); text the
    grammar rejects is an EvaluationError with its place. The last query's tree is kept (one
    entry): the syntax check, the Kibana import's field list and the evaluator read one query in
    turn, and never change the tree."""
    return _last_query(query) if start == "piped_query" else _parse(query, start)


@functools.lru_cache(maxsize=1)
def _last_query(query: str) -> Tree[Token]:
    return _parse(query, "piped_query")


def _parse(query: str, start: str) -> Tree[Token]:
    try:
        return parser().parse(query if query.endswith("\n") else query + "\n", start=start)
    except UnexpectedInput as err:
        raise EvaluationError(f"EQL does not parse at line {err.line}, column {err.column}:\n{err.get_context(query)}") from err
    except LarkError as err:
        raise EvaluationError(f"EQL does not parse: {err}") from err


def validate(query: str) -> None:
    """Elastic's own check: the query parses in Elasticsearch syntax (detection-rules' way). The
    package's optimizer, which only rewrites the AST detc does not use, is left out (two thirds of
    the time)."""
    import eql
    from eql.parser import ParserConfig

    try:
        with eql.parser.elasticsearch_syntax, eql.parser.ignore_missing_functions, ParserConfig(optimized=False):
            eql.parse_query(query)
    except eql.EqlError as err:
        raise EvaluationError(f"EQL does not parse (eql {eql.__version__}, Elasticsearch syntax):\n{err}") from err
    except (ValueError, OverflowError) as err:  # eql's own string unescaping can fail on odd escapes
        raise EvaluationError(f"EQL does not parse (eql {eql.__version__}): {err}") from err


def string_value(raw: str) -> str:
    """An EQL string literal's value: ``\"…\"`` with the syntax reference's escapes, or ``\"\"\"…\"\"\"`` raw."""
    if raw.startswith('"""'):
        return raw[3:-3]
    if not raw.startswith('"'):
        raise EvaluationError(f"{raw[:20]}…: Elasticsearch EQL strings are double-quoted")
    body, out, i = raw[1:-1], [], 0
    while i < len(body):
        ch = body[i]
        if ch != "\\":
            out.append(ch)
            i += 1
            continue
        unicode = _UNICODE.match(body, i)
        if unicode:
            out.append(chr(int(unicode.group(1), 16)))
            i = unicode.end()
        elif body[i + 1 : i + 2] in _ESCAPES:
            out.append(_ESCAPES[body[i + 1]])
            i += 2
        else:
            raise EvaluationError(f"invalid escape in EQL string {raw!r}")
    return "".join(out)


def wildcard_regex(pattern: str, fold_ascii: bool) -> re.Pattern[str]:
    """A ``:``/``like`` pattern (``*`` any run, ``?`` one character) as a whole-value regex; ASCII
    letters in either case when folding. Elasticsearch turns a pattern holding a wildcard into a
    LIKE pattern whose escape character is U+0001 (``eql.util.StringUtils.toLikePattern``), without
    escaping that character itself: there, U+0001 vanishes and makes the next character literal."""
    wild = "*" in pattern or "?" in pattern
    out = []
    escaped = False
    for ch in pattern:
        if escaped:
            escaped = False
        elif wild and ch == "\x01":
            escaped = True
            continue
        elif ch == "*":
            out.append(".*")
            continue
        elif ch == "?":
            out.append(".")
            continue
        if fold_ascii and ch.isascii() and ch.lower() != ch.upper():
            out.append("[" + ch.lower() + ch.upper() + "]")
        else:
            out.append(re.escape(ch))
    return re.compile("".join(out), re.DOTALL)


class _Literal:
    """A literal of the query: its kind (string, number, boolean, null) and value."""

    kind: str
    value: str

    def __init__(self, node: Tree[Token]) -> None:
        if node.data == "value":  # a signed number
            sign, signed = node.children
            literal = _Literal(subtree(signed))
            if literal.kind != "number":
                raise EvaluationError("a sign before a non-number")
            self.kind, self.value = "number", ("-" if str(sign) == "-" else "") + literal.value
            return
        if node.data != "literal":
            raise EvaluationError(f"expected a literal, found {node.data}")
        inner = subtree(node.children[0])
        self.kind = inner.data
        if self.kind == "string":
            self.value = string_value(str(inner.children[0]))
        elif self.kind == "number":
            self.value = str(inner.children[0])
        elif self.kind == "boolean":
            self.value = str(inner.children[0])
        else:
            self.value = ""


def field_name(node: Tree[Token]) -> str:
    """A field's dotted name (backticks removed, ``?`` optional mark dropped)."""
    if node.data == "base_field":
        name = subtree(node.children[0]).children[0]
        return str(name).strip("`")
    text = str(node.children[0]).lstrip("?")
    dotted = _dotted_name(text)
    if dotted is None:
        raise EvaluationError(f"array index in field {text}: not evaluated")
    return dotted


@functools.lru_cache(maxsize=4096)
def _dotted_name(text: str) -> str | None:
    """The dotted name of a field's text by the grammar's ``field_parts`` (None: it indexes an
    array). Kept per text: a query names the same few fields again and again."""
    parts = []
    for part in parse(text, start="field_parts").children:
        piece = subtree(part).children[0]
        if isinstance(piece, Tree):  # array_index
            return None
        parts.append(str(piece).strip("`"))
    return ".".join(parts)


def _checked(field: Field) -> Field:
    """A field EQL's verifier accepts: not of type flattened (elastic/elasticsearch#101985:
    "Cannot use field [...] with unsupported type [flattened]", sub-fields included)."""
    if field.spec.type == "flattened":
        raise EvaluationError(f"Cannot use field [{field.name}] with unsupported type [flattened]")
    return field


def is_field(node: Any) -> bool:
    return isinstance(node, Tree) and node.data in ("field", "base_field")


class EqlEvaluator:
    """A compiled EQL event query: call it with a document."""

    def __init__(self, query: str, types: FieldTypes = field_spec) -> None:
        self.query = query
        self.types = types
        validate(query)
        self._predicate = self._query(parse(query))

    def __call__(self, doc: Any) -> bool:
        return self._predicate(doc)

    def _query(self, tree: Tree[Token]) -> Predicate:
        base, pipes = tree.children if len(tree.children) == 2 else (tree.children[0], None)
        if pipes is not None:
            raise EvaluationError("EQL pipes are not evaluated")
        event = base.children[0] if isinstance(base, Tree) and base.data == "base_query" else base
        if not isinstance(event, Tree) or event.data != "event_query":
            raise EvaluationError("only event queries (category where condition) are evaluated, not sequences or samples")
        name, condition = event.children[0], event.children[-1]
        category = str(name.children[0]) if isinstance(name, Tree) else "any"
        match = self._compile(condition)
        if category == "any":
            return match
        in_category = Field(EVENT_CATEGORY_FIELD, self.types).term(category)
        return lambda doc: in_category(doc) and match(doc)

    # --- boolean structure -----------------------------------------------------------------------

    def _compile(self, node: Any) -> Predicate:
        if not isinstance(node, Tree):
            raise EvaluationError(f"unexpected token {node!r}")
        kind = node.data
        if kind == "or_expr":
            subs = [self._compile(c) for c in node.children]
            return lambda doc: any(p(doc) for p in subs)
        if kind == "and_expr":
            subs = [self._compile(c) for c in node.children]
            return lambda doc: all(p(doc) for p in subs)
        if kind == "not_expr":
            negations = sum(1 for c in node.children if isinstance(c, Token) and c.type == "NOT_OP")
            sub = self._compile(node.children[-1])
            return sub if negations % 2 == 0 else (lambda doc: not sub(doc))
        if kind == "literal" and node.children[0].data == "boolean":
            constant = str(node.children[0].children[0]) == "true"
            return lambda doc: constant
        if kind == "comparison":
            left, op, right = node.children
            return self._comparison(left, token(op), right)
        if kind in ("in_set", "not_in_set"):
            subject, op, values = (c for c in node.children if c is not None)
            found = self._in_set(subject, str(op), values)
            return found if kind == "in_set" else (lambda doc: not found(doc))
        if kind == "string_predicate":
            subject, op, *values = node.children
            return self._string_predicate(subject, str(op), values)
        if kind == "function_call":
            return self._function(node)
        raise EvaluationError(f"EQL construct {kind} is not evaluated")

    # --- comparisons -----------------------------------------------------------------------------

    def _field(self, node: Any, what: str) -> Field:
        if not is_field(node):
            raise EvaluationError(f"{what}: the left side must be a field (Elasticsearch compares fields to literals)")
        return _checked(Field(field_name(node), self.types))

    def _comparison(self, left: Any, op: Token, right: Any) -> Predicate:
        operator = str(op)
        if operator == "=":
            raise EvaluationError("= is not an EQL operator (use == or :)")
        if is_field(right) and not is_field(left):
            left, right = right, left
            operator = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}.get(operator, operator)
        field = self._field(left, operator)
        literal = _Literal(right)
        if literal.kind == "null":
            if operator not in ("==", "!="):
                raise EvaluationError(f"{operator} null: only == and != compare with null")
            exists = field.exists
            return (lambda doc: not exists(doc)) if operator == "==" else exists
        if operator in _RANGE_OPS:
            return field.range(_RANGE_OPS[operator], literal.value)
        term = self._term(field, literal)
        return term if operator == "==" else (lambda doc: not term(doc))

    @staticmethod
    def _term(field: Field, literal: _Literal) -> Predicate:
        """``==``: a term query; Elasticsearch's verifier refuses a literal of another type."""
        kind = field.spec.type
        compatible = {
            "string": ("keyword", "constant_keyword", "flattened", "ip", "date"),
            "number": ("long",),
            "boolean": ("boolean",),
        }[literal.kind]
        if kind not in compatible:
            raise EvaluationError(f"field {field.name} ({kind}) compared with a {literal.kind}: a type mismatch")
        return field.term(literal.value)

    def _strings(self, values: list[Any], what: str) -> list[str]:
        out = []
        for node in values:
            literal = _Literal(node)
            if literal.kind != "string":
                raise EvaluationError(f"{what} compares strings only, not a {literal.kind}")
            out.append(literal.value)
        return out

    def _string_predicate(self, subject: Any, op: str, values: list[Any]) -> Predicate:
        field = self._field(subject, op)
        texts = self._strings(values, op)
        if field.spec.type not in _STRING_FIELD_TYPES:
            raise EvaluationError(f"{op} on field {field.name} ({field.spec.type}): it compares strings only")
        if op in (":", "like", "like~"):
            # A value without * or ? is one whole value (U+0001 escapes nothing there): the values
            # of that kind are answered by one set lookup instead of a regex each.
            fold = op != "like"
            exact = [t for t in texts if "*" not in t and "?" not in t]
            regexes = [wildcard_regex(t, fold_ascii=fold) for t in texts if "*" in t or "?" in t]
            checks = [field.pattern(r) for r in regexes]
            if len(exact) == 1:
                checks.insert(0, field.pattern(wildcard_regex(exact[0], fold_ascii=fold)))
            elif exact:
                checks.insert(0, field.any_folded(map(ascii_folded, exact)) if fold else field.any_term(exact))
        else:  # regex, regex~
            checks = [field.pattern(lucene_regexp(t, fold_ascii=op == "regex~")) for t in texts]
        return checks[0] if len(checks) == 1 else (lambda doc: any(c(doc) for c in checks))

    def _in_set(self, subject: Any, op: str, values: Tree[Token]) -> Predicate:
        field = self._field(subject, op)
        literals = [_Literal(v) for v in values.children if isinstance(v, Tree)]
        checks = []
        strings: list[str] = []  # answered together by one set lookup (a long list: one test per value costs more)
        for literal in literals:
            if op == "in~" and literal.kind == "string":
                if field.spec.type not in _STRING_FIELD_TYPES:
                    raise EvaluationError(f"in~ on field {field.name} ({field.spec.type}): it compares strings only")
                strings.append(ascii_folded(literal.value))
            elif literal.kind == "null":
                raise EvaluationError("null in a lookup list is not evaluated")
            elif literal.kind == "string" and field.spec.type in _STRING_FIELD_TYPES:
                strings.append(literal.value)  # a term on a keyword field (flattened is refused before)
            else:
                checks.append(self._term(field, literal))
        if strings:
            checks.insert(0, field.any_folded(strings) if op == "in~" else field.any_term(strings))
        return lambda doc: any(c(doc) for c in checks)

    def _function(self, node: Tree[Token]) -> Predicate:
        name = str(node.children[0])
        args = subtree(node.children[1]).children if len(node.children) > 1 and node.children[1] is not None else []
        if name != "cidrMatch":
            raise EvaluationError(f"function {name} is not evaluated")
        if not args or not is_field(args[0]):
            raise EvaluationError("cidrMatch takes a field, then CIDR blocks")
        field = _checked(Field(field_name(subtree(args[0])), self.types))
        if field.spec.type != "ip":
            raise EvaluationError(f"cidrMatch on field {field.name} ({field.spec.type}): it needs an ip field")
        checks = [field.term(block) for block in self._strings(list(args[1:]), "cidrMatch")]
        return lambda doc: any(c(doc) for c in checks)


def evaluator(query: str, types: FieldTypes = field_spec) -> Predicate:
    """Parse EQL once; the predicate answers per document of data streams with these field types."""
    return EqlEvaluator(query, types)
