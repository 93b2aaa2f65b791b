"""The equality shortcut of the upstream-based backends writes what upstream's dispatcher writes."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sigma.conditions import ConditionFieldEqualsValueExpression
from sigma.conversion.base import TextQueryBackend
from sigma.conversion.state import ConversionState
from sigma.processing.pipeline import ProcessingPipeline
from sigma.types import SigmaNumber, SigmaString

from backends.elastic.lucene_backend import DetcLuceneBackend
from backends.splunk.spl_backend import SplBackend
from compiler.patterns import EqualityStrings, condition_value, sigma_string_pattern, value_fits

BACKENDS = [SplBackend(ProcessingPipeline()), DetcLuceneBackend(ProcessingPipeline())]
VALUES = st.text(st.sampled_from(list("aZ09 *?\\\"'=:()/[]{}|<>-\t\né")), min_size=1, max_size=16)
FIELDS = st.sampled_from(["eventName", "userIdentity.arn", "resources{}.ARN", "field with space", "a:b"])


@given(FIELDS, VALUES)
def test_shortcut_equals_upstream_dispatcher(field: str, text: str) -> None:
    for backend in BACKENDS:
        cond = ConditionFieldEqualsValueExpression(field, SigmaString(text))
        ours = backend.convert_condition_field_eq_val_str(cond, ConversionState())
        upstream = TextQueryBackend.convert_condition_field_eq_val_str(backend, cond, ConversionState())
        assert ours == upstream, (type(backend).__name__, field, text)


def test_shortcut_steps_aside_when_a_value_template_is_set() -> None:
    class WithStartswith(EqualityStrings, TextQueryBackend):
        eq_token = "="
        str_quote = '"'
        escape_char = "\\"
        wildcard_multi = "*"
        wildcard_single = "?"
        startswith_expression = "{field} startswith {value}"

    backend = WithStartswith(ProcessingPipeline())
    cond = ConditionFieldEqualsValueExpression("f", SigmaString("abc*"))
    assert backend.convert_condition_field_eq_val_str(cond, ConversionState()).startswith("f startswith")


def test_condition_value_reads_the_dispatched_type() -> None:
    value = SigmaString("a*")
    assert condition_value(ConditionFieldEqualsValueExpression("f", value), SigmaString) is value
    number = SigmaNumber(5)
    assert condition_value(ConditionFieldEqualsValueExpression("f", number), SigmaNumber) is number


def test_condition_value_of_another_type_is_a_type_error() -> None:
    cond = ConditionFieldEqualsValueExpression("f", SigmaNumber(5))
    with pytest.raises(TypeError, match="^SigmaNumber where pySigma dispatches a SigmaString$"):
        condition_value(cond, SigmaString)


def _fits_by_regex(value: SigmaString, text: str) -> bool:
    """What ``value_fits`` answers for a string value, always by the pattern (no shortcut)."""
    return re.fullmatch(sigma_string_pattern(value, re.escape), text, re.IGNORECASE | re.DOTALL) is not None


@given(VALUES, st.sampled_from(["", "null", "NULL", "n", "é", "\n"]))
def test_value_fits_agrees_with_its_pattern(written: str, text: str) -> None:
    value = SigmaString(written)
    assert value_fits(value, text) == _fits_by_regex(value, text), (written, text)


@pytest.mark.parametrize(
    ("written", "text", "fits"),
    [
        ("*", "", True), ("?", "", False), ("**", "", True), ("", "", True), ("n*", "null", True),
        ("n?ll", "NULL", True), ("nul?l", "null", False), ("nulls", "null", False), ("*u*", "null", True),
    ],
    ids=["star-empty", "single-empty", "stars-empty", "empty-empty", "prefix", "single-folded", "one-too-many",
         "longer-literal", "contains"],
)
def test_value_fits_cases(written: str, text: str, fits: bool) -> None:
    assert value_fits(SigmaString(written), text) is fits
