"""The equality shortcut of the upstream-based backends writes what upstream's dispatcher writes."""

from __future__ import annotations

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
from compiler.patterns import EqualityStrings, condition_value

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
