"""The SPL evaluator, construct by construct: each test pins one documented Splunk behaviour."""

from __future__ import annotations

from typing import Any

import pytest

from backends.splunk.spl_evaluator import evaluator, unquote
from compiler.errors import EvaluationError


def doc(**fields: Any) -> dict[str, tuple[str, ...]]:
    """A shaped event: each keyword a field; lists are multivalue; dots spelled as __ ."""
    out: dict[str, tuple[str, ...]] = {}
    for name, value in fields.items():
        key = name.replace("__", ".")
        out[key] = tuple(value) if isinstance(value, (list, tuple)) else (value,)
    return out


def matches(query: str, event: dict[str, tuple[str, ...]]) -> bool:
    return evaluator(query)(event)


EVENT = doc(
    eventName="DeleteImportedKeyMaterial",
    eventSource="kms.amazonaws.com",
    userIdentity__type="IAMUser",
    sourceIPAddress="192.0.2.10",
    count="42",
    version="1.10",
    **{"resources{}.ARN": ["arn:aws:kms:us-west-2:1:key/a", "arn:aws:s3:::bucket-b"]},
    _raw='{"eventName":"DeleteImportedKeyMaterial","note":"error: Access denied for Alice"}',
)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ('eventName="DeleteImportedKeyMaterial"', True),
        ('eventName="deleteimportedkeymaterial"', True),  # values are case-insensitive
        ("eventName=DELETEIMPORTEDKEYMATERIAL", True),
        ('EventName="DeleteImportedKeyMaterial"', False),  # names are case-sensitive
        ('eventName="DeleteImportedKey"', False),  # whole value, not a substring
        ('eventName=CASE("DeleteImportedKeyMaterial")', True),
        ('eventName=CASE("deleteimportedkeymaterial")', False),  # CASE() is case-sensitive
        ('eventName=TERM("DeleteImportedKeyMaterial")', True),
    ],
    ids=["exact", "lower", "upper-bare", "field-name-case", "substring", "case-dir", "case-dir-miss", "term-dir"],
)
def test_field_value_case_rules(query: str, expected: bool):
    assert matches(query, EVENT) is expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ('eventName="Delete*"', True),
        ('eventName="*Material"', True),
        ('eventName="*Imported*"', True),
        ('eventName="Del*Key*rial"', True),
        ('eventName="*"', True),
        ("eventName=*", True),
        ('missing="*"', False),
        ('eventName="Import*"', False),
        ('eventName="delete*material"', True),  # wildcards keep case-insensitivity
        ('eventName="Delete?mportedKeyMaterial"', False),  # ? is no wildcard in a search
    ],
    ids=["prefix", "suffix", "contains", "inner", "star-quoted", "star-bare", "star-missing",
         "no-match", "case", "question-mark-literal"],
)
def test_wildcards(query: str, expected: bool):
    assert matches(query, EVENT) is expected


def test_not_equals_and_not_differ_on_a_missing_field():
    without = doc(eventName="X")
    with_other = doc(eventName="X", userIdentity__type="IAMUser")
    with_same = doc(eventName="X", userIdentity__type="AWSService")
    # NOT f=v is true where f is missing; f!=v needs f to be there.
    assert matches('NOT userIdentity.type="AWSService"', without)
    assert not matches('userIdentity.type!="AWSService"', without)
    assert matches('NOT userIdentity.type="AWSService"', with_other)
    assert matches('userIdentity.type!="AWSService"', with_other)
    assert not matches('NOT userIdentity.type="AWSService"', with_same)
    assert not matches('userIdentity.type!="AWSService"', with_same)
    assert not matches('userIdentity.type!="awsservice"', with_same)  # != is case-insensitive too


def test_not_field_star_is_field_absence():
    assert matches("NOT errorCode=*", doc(eventName="X"))
    assert not matches("NOT errorCode=*", doc(errorCode="AccessDenied"))
    assert matches("NOT NOT errorCode=*", doc(errorCode="AccessDenied"))


@pytest.mark.parametrize(
    ("query", "value"),
    [
        (r'a="say \"hi\""', 'say "hi"'),
        (r'a="C:\\Windows\\x"', r"C:\Windows\x"),
        (r'a="trailing\\"', "trailing\\"),
        (r'a="\d+"', r"\d+"),  # a backslash before another character stays
        ('a="pipe | and (parens) = \'quotes\'"', "pipe | and (parens) = 'quotes'"),
    ],
    ids=["escaped-quotes", "escaped-backslashes", "trailing-backslash", "other-backslash", "specials"],
)
def test_quoted_strings_and_escapes(query: str, value: str):
    assert matches(query, doc(a=value))
    assert not matches(query, doc(a=value + "x"))


def test_unquote_reads_only_quote_and_backslash_escapes():
    assert unquote(r'"a\"b\\c\d"') == 'a"b\\c\\d'


def test_multivalue_fields_match_if_any_value_does():
    assert matches('resources{}.ARN="arn:aws:s3:::*"', EVENT)
    assert matches('resources{}.ARN="*:key/a"', EVENT)
    assert not matches('resources{}.ARN="arn:aws:iam::*"', EVENT)
    assert matches('resources{}.ARN IN ("nope", "*bucket-b")', EVENT)
    assert not matches('NOT resources{}.ARN="arn:aws:s3:::*"', EVENT)
    # != on a multivalue field: the field is there and none of its values is the one named
    assert not matches('resources{}.ARN!="arn:aws:s3:::bucket-b"', EVENT)
    assert matches('resources{}.ARN!="arn:aws:sqs:*"', EVENT)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("count>9", True),  # 42 > 9 as numbers (as strings "42" < "9")
        ("count<9", False),
        ("count>=42", True),
        ("count<=41.5", False),
        ("count>-1", True),
        ("version>1.9", False),  # numbers: 1.10 < 1.9
        ('eventName>"A"', True),  # not numbers: lexicographic
        ('eventName<"A"', False),
        ("count=42", True),
        ("count=42.0", False),  # = compares strings: "42" is not "42.0"
        ("missing>0", False),
    ],
    ids=["gt-numeric", "lt-numeric", "gte", "lte-fraction", "negative", "decimal", "lex-gt", "lex-lt",
         "eq-string", "eq-not-numeric", "missing"],
)
def test_comparisons(query: str, expected: bool):
    assert matches(query, EVENT) is expected


def test_in_operator():
    assert matches('eventName IN ("CreateKey", "DeleteImported*")', EVENT)
    assert matches('eventName IN (createkey, deleteimportedkeymaterial)', EVENT)
    assert not matches('eventName IN ("CreateKey", "ScheduleKeyDeletion")', EVENT)
    assert matches('NOT eventName IN ("CreateKey")', EVENT)


def test_cidr_values_match_subnets():
    assert matches('sourceIPAddress="192.0.2.0/24"', EVENT)
    assert not matches('sourceIPAddress="198.51.100.0/24"', EVENT)
    assert matches('a="2001:db8::/32"', doc(a="2001:db8::1"))
    assert not matches('a="10.0.0.0/8"', doc(a="kms.amazonaws.com"))


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # OR binds tighter than the implied AND: a (b OR c)
        ('eventName="X" eventName="DeleteImportedKeyMaterial" OR count=42', False),
        ('count=42 eventName="X" OR eventName="DeleteImportedKeyMaterial"', True),
        ('(eventName="X" eventName="Y") OR count=42', True),
        # NOT binds tightest: (NOT a) OR b
        ('NOT count=42 OR eventName="DeleteImportedKeyMaterial"', True),
        ('NOT (count=42 OR eventName="X")', False),
        ('count=42 AND eventName="X" OR eventSource="kms.amazonaws.com"', True),
        ('count=42 AND (eventName="X" OR eventSource="nope")', False),
    ],
    ids=["or-in-and-false", "or-in-and-true", "parens", "not-before-or", "not-parens", "explicit-and",
         "explicit-and-parens"],
)
def test_boolean_precedence_of_the_search_command(query: str, expected: bool):
    assert matches(query, EVENT) is expected


def test_keywords_and_phrases_search_raw():
    assert matches('"access denied"', EVENT)
    assert matches("ALICE", EVENT)
    assert matches("Acc*", EVENT)
    assert not matches("Ali", EVENT)  # terms do not match inside a longer word
    assert matches("Ali*", EVENT)
    assert matches("TERM(Alice)", EVENT)
    assert not matches("TERM(denied)", doc(_raw="x=accessdenied"))
    assert matches("*", EVENT)
    assert matches('"kms" OR "Alice"', EVENT)
    assert not matches("NOT Alice", EVENT)
    assert matches("ANDROID", doc(_raw="an ANDROID phone"))  # not the AND keyword


def test_regex_command():
    assert matches('* | regex eventName="^Delete.*Material$"', EVENT)
    assert not matches('* | regex eventName="^delete"', EVENT)  # regex is case-sensitive
    assert matches('* | regex eventName="(?i)^delete"', EVENT)
    assert matches('* | regex eventName="Imported"', EVENT)  # unanchored
    assert not matches('* | regex eventName!="Imported"', EVENT)
    assert matches('* | regex missing!="x"', EVENT)  # nothing to match: kept by !=
    assert not matches('* | regex missing="x"', EVENT)
    assert matches(r'* | regex "Access\s+denied"', EVENT)  # default field: _raw
    assert matches(r'* | regex sourceIPAddress="^192\.0\.2\.\d+$"', EVENT)
    assert matches(r'* | regex a="^x\"q\\\\$"', doc(a='x"q\\'))  # SPL escapes, then regex escapes
    assert matches('* | regex resources{}.ARN=":s3:"', EVENT)  # any value of a multivalue field


def test_where_functions():
    assert matches('* | where cidrmatch("192.0.2.0/24", sourceIPAddress)', EVENT)
    assert not matches('* | where cidrmatch("10.0.0.0/8", sourceIPAddress)', EVENT)
    assert matches('* | where like(eventName, "Delete%Material")', EVENT)
    assert not matches('* | where like(eventName, "delete%")', EVENT)  # eval is case-sensitive
    assert matches('* | where like(eventName, "DeleteImportedKeyMateria_")', EVENT)
    assert matches('* | where eventName LIKE "%Key%"', EVENT)
    assert matches('* | where match(eventName, "^Delete")', EVENT)
    assert matches('* | where match(eventName, "(?i)^delete")', EVENT)
    assert not matches('* | where match(eventName, "^delete")', EVENT)
    assert matches("* | where count > 9", EVENT)  # numbers compare as numbers
    assert not matches('* | where eventName="deleteimportedkeymaterial"', EVENT)
    assert matches("* | where 'userIdentity.type'=\"IAMUser\"", EVENT)
    assert not matches("* | where isnull(count)", EVENT)
    assert matches("* | where isnull(missing) AND count=42 OR eventName=\"x\"", EVENT)
    assert not matches('* | where missing="x" OR missing!="x"', EVENT)  # null compares to nothing


def test_where_and_binds_tighter_than_or():
    # where: AND before OR, unlike the search command
    assert matches('* | where count=1 AND count=2 OR count=42', EVENT)
    assert not matches("* | where count=42 AND (count=1 OR count=2)", EVENT)


def test_where_compares_two_fields():
    assert matches("* | where 'a'='b'", doc(a="x", b="x"))
    assert not matches("* | where 'a'='b'", doc(a="x", b="y"))
    assert not matches("* | where 'a'='b'", doc(a="x"))


def test_upstream_or_regex_pipeline():
    """pySigma's Splunk backend turns OR-ed regular expressions into rex, eval and search."""
    query = (
        'index="aws" sourcetype="aws:cloudtrail"\n'
        '| rex field=a "(?<aMatch>^x\\d)"\n'
        '| eval aCondition=if(isnotnull(aMatch), "true", "false")\n'
        '| search aCondition="true" OR c="1"'
    )
    base = doc(index="aws", sourcetype="aws:cloudtrail")
    assert matches(query, {**base, **doc(a="x1")})
    assert not matches(query, {**base, **doc(a="y1")})
    assert matches(query, {**base, **doc(a="y1", c="1")})
    assert not matches(query, {**base, **doc(c="1", index="other")})


def test_table_and_fields_do_not_filter():
    assert matches('eventName="DeleteImportedKeyMaterial" | table count,nothing', EVENT)
    assert matches('eventName="DeleteImportedKeyMaterial" | table requestParameters.*', EVENT)
    assert matches('eventName="DeleteImportedKeyMaterial" | fields - eventName', EVENT)
    # but a later search sees only the fields that are left
    assert not matches('* | fields - eventName | search eventName="*"', EVENT)
    assert matches('* | table count | search count=42', EVENT)


@pytest.mark.parametrize(
    "query",
    [
        'eventName="unterminated',
        "(eventName=x",
        "eventName=x)",
        "* | stats count",
        "* | regex",
        "* | where",
        "* | where nosuchfunction(a)",
        "* | where IF(a, b, c)",
        "eventName=x OR",
        "NOT",
        "* | rex field=a \"no group\"",
        '* | regex a="("',
        "",
        "   ",
    ],
    ids=["quote", "open-paren", "close-paren", "unknown-command", "regex-no-pattern", "where-empty",
         "unknown-function", "upper-function", "dangling-or", "dangling-not", "rex-no-group", "bad-regex",
         "empty", "blank"],
)
def test_text_that_does_not_parse_is_an_error(query: str):
    with pytest.raises(EvaluationError):
        evaluator(query)


def test_parse_errors_say_where():
    with pytest.raises(EvaluationError, match=r"line 1, column \d+"):
        evaluator('a="x" | stats count')


def test_eval_cannot_store_a_boolean():
    matcher = evaluator("* | eval x=(count=42)")
    with pytest.raises(EvaluationError, match="Boolean"):
        matcher(EVENT)


def test_predicate_accepts_plain_strings_and_lists():
    matcher = evaluator('a="x" b="y"')
    assert matcher({"a": "x", "b": ["z", "y"]})
    assert not matcher({"a": "x", "b": None})
