"""The Lucene query_string evaluator, construct by construct (classic parser, keyword semantics)."""

from __future__ import annotations

import pytest

from backends.elastic.es_regexp import lucene_regexp
from backends.elastic.lucene_evaluator import LuceneEvaluator
from compiler.errors import EvaluationError
from tests.support import case_id

DOC = {
    "event": {"action": "DeleteKey", "provider": "kms.amazonaws.com"},
    "user_agent": {"original": "aws-cli/2.0 (x) a:b"},
    "source": {"address": "AWS Internal", "ip": "192.0.2.10"},
    "aws": {
        "cloudtrail": {
            "read_only": False,
            "resources": [{"arn": "arn:one"}, {"arn": "arn:two"}],
            "flattened": {"request_parameters": {"days": 7}},
        }
    },
    "odd": {"key": 'a "quoted" b\\c/d'},
}


def run(query: str, doc: dict = DOC) -> bool:
    return LuceneEvaluator(query)(doc)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # terms, phrases, escapes: exact and case-sensitive on keywords
        ("event.action:DeleteKey", True),
        ("event.action:deletekey", False),
        ('event.action:"DeleteKey"', True),
        ("source.address:AWS\\ Internal", True),
        ('source.address:"AWS Internal"', True),
        ('odd.key:"a \\"quoted\\" b\\\\c/d"', True),
        ('odd.key:a\\ \\"quoted\\"\\ b\\\\c\\/d', True),
        # wildcards * and ?
        ("event.action:Del*", True),
        ("event.action:Delete?ey", True),
        ("event.action:delete*", False),
        ("user_agent.original:*\\(x\\)*", True),
        # regular expressions: anchored, Lucene's dialect, / escaped
        ("event.action:/Delete.*/", True),
        ("event.action:/Delete/", False),
        ("event.action:/[Dd]elete[Kk]ey/", True),
        ("odd.key:/.*b\\\\c\\/d/", True),
        ('event.action:/"Delete"Key/', True),
        ("event.action:/Del@/", True),
        ("event.action:/#/", False),
        ("event.action:/D.{5}Key/", True),
        # existence and missing fields
        ("_exists_:event.action", True),
        ("_exists_:missing", False),
        ("NOT _exists_:missing", True),
        ("missing:x", False),
        ("NOT missing:x", True),
        ("event.action:*", True),
        ("aws.cloudtrail:*", True),
        # arrays: any element
        ("aws.cloudtrail.resources.arn:arn\\:two", True),
        # ip with CIDR, booleans, flattened leaves as keywords
        ("source.ip:192.0.2.0\\/24", True),
        ('source.ip:"192.0.2.10"', True),
        ("aws.cloudtrail.read_only:false", True),
        ("aws.cloudtrail.flattened.request_parameters.days:7", True),
        # ranges: keywords compare as text
        ("aws.cloudtrail.flattened.request_parameters.days:[10 TO 8]", True),
        ("aws.cloudtrail.flattened.request_parameters.days:>=8", False),
        ("aws.cloudtrail.flattened.request_parameters.days:{6 TO *]", True),
        ("source.ip:[192.0.2.0 TO 192.0.2.255]", True),
        # booleans: classic parser clauses, not AND-over-OR precedence
        ("event.action:X OR event.action:DeleteKey", True),
        ("event.action:X OR event.action:DeleteKey AND event.provider:nope", False),
        ("event.action:DeleteKey OR event.action:X AND event.provider:nope", False),
        ("(event.action:X OR event.action:DeleteKey) AND NOT event.provider:nope", True),
        ("event.action:X event.action:DeleteKey", True),
        ("+event.action:DeleteKey -event.provider:kms.amazonaws.com", False),
        ("NOT event.action:X", True),
        ("(NOT event.action:X) AND (NOT event.action:Y)", True),
        ("event.action:(X OR DeleteKey)", True),
        ("event.action:(X OR Y)", False),
        # unfielded terms search every field
        ("DeleteKey", True),
        ("/kms\\..*/", True),
        ("nothing", False),
        # field-name wildcards
        ("event.\\*:DeleteKey", True),
    ],
    ids=case_id,
)
def test_lucene_evaluator_constructs(query: str, expected: bool) -> None:
    assert run(query) is expected


@pytest.mark.parametrize(
    "query",
    ["event.action:(", 'event.action:"unterminated', "AND", "event.action:/unterminated"],
    ids=case_id,
)
def test_lucene_evaluator_refuses_what_does_not_parse(query: str) -> None:
    with pytest.raises(EvaluationError, match="does not parse"):
        LuceneEvaluator(query)


def test_lucene_evaluator_regexp_dialect() -> None:
    assert lucene_regexp("a[^b-d]e").fullmatch("axe")
    assert not lucene_regexp("a[^b-d]e").fullmatch("ace")
    assert lucene_regexp("a\\.b").fullmatch("a.b") and not lucene_regexp("a\\.b").fullmatch("axb")
    assert lucene_regexp("(ab|cd)+").fullmatch("abcdab")
    assert lucene_regexp("\\d").fullmatch("d")  # no \d class in Lucene: an escaped d is the letter d
    with pytest.raises(EvaluationError, match="intersection"):
        lucene_regexp("a&b")
    with pytest.raises(EvaluationError):
        lucene_regexp("[ab")


def test_lucene_evaluator_type_errors_fail_loudly() -> None:
    with pytest.raises(EvaluationError, match="not an IP"):
        run("source.ip:banana")
    with pytest.raises(EvaluationError, match="keyword field"):
        run("source.ip:/192.*/")
