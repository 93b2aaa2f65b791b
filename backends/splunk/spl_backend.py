"""The upstream Splunk backend, with the few tokens detc's Splunk target needs changed."""

from __future__ import annotations

import re
from typing import Any, ClassVar

from sigma.backends.splunk import SplunkBackend
from sigma.backends.splunk.splunk import SplunkDeferredFieldRefExpression
from sigma.conditions import ConditionAND, ConditionNOT, ConditionOR
from sigma.conversion.base import TextQueryBackend
from sigma.conversion.state import ConversionState
from sigma.exceptions import SigmaFeatureNotSupportedByBackendError

from compiler.patterns import EqualityStrings

CAVEATS_STATE = "spl_caveats"
"""Pipeline state key under which a cell's transformations leave caveats for the target to report."""


class FieldRefWhere(SplunkDeferredFieldRefExpression):
    """A field reference as an appended ``| where``, with Sigma's meaning: the two values equal
    whatever their letter case (upstream's ``'a'='b'`` is case-sensitive), and under NOT true when
    either field is missing (upstream's ``NOT 'a'='b'`` is null, so false, there)."""

    def finalize_expression(self) -> str:
        test = f"lower('{self.field}')=lower('{self.value}')"
        if self.negated:
            return f"where NOT (isnotnull('{self.field}') AND isnotnull('{self.value}') AND {test})"
        return f"where {test}"


def _negates_reference_alone(cond: Any) -> bool:
    """Whether the NOT above a field reference covers the reference alone (only one-operand ANDs between)."""
    for node in cond.parent_chain():
        if isinstance(node, ConditionNOT):
            return True
        if isinstance(node, (ConditionAND, ConditionOR)) and len(node.args) > 1:
            return False
    return False


class SplBackend(EqualityStrings, SplunkBackend):
    """pySigma's SplunkBackend; field names with ``{}`` stay unquoted."""

    field_quote_pattern: ClassVar[re.Pattern[str]] = re.compile(r"^[\w.{}]+$")
    """The JSON-extracted array fields (``resources{}.ARN``) are written bare in Splunk's own
    searches (the add-on's props.conf, security_content); the upstream pattern would quote them
    as ``"resources{}.ARN"=...``, which the search command reads as a quoted search term."""

    def convert_condition_field_eq_field(self, cond: Any, state: Any) -> Any:
        """Upstream appends a field reference as its own ``| where`` (ANDed after the search) and
        refuses it under OR only. Under a NOT of more than the reference itself (``not (a and
        ref)``) or under two NOTs, the appended where would mean something else: refused too. Its
        test keeps Sigma's meaning (``FieldRefWhere``)."""
        nots = sum(isinstance(node, ConditionNOT) for node in cond.parent_chain())
        if nots > 1:
            raise SigmaFeatureNotSupportedByBackendError("a field reference under two NOTs: not supported")
        if nots == 1 and not _negates_reference_alone(cond):
            raise SigmaFeatureNotSupportedByBackendError(
                "a field reference under a NOT with other tests (the appended where cannot be negated with "
                "them): not supported"
            )
        if any(isinstance(node, ConditionOR) and len(node.args) > 1 for node in cond.parent_chain()):
            # (an OR of one operand, as ``1 of filter_*`` matching one detection makes, is no OR)
            raise SigmaFeatureNotSupportedByBackendError("ORing FieldRef matching is not yet supported by Splunk backend")
        other = TextQueryBackend.convert_condition_field_eq_field(self, cond, state)
        return FieldRefWhere(state, cond.field, other).postprocess(None, cond)

    def convert_condition_val_str(self, cond: Any, state: ConversionState) -> Any:
        # Search Manual, "Search with terms": a term matches whole segments between breakers, so
        # "tratus-red" misses "stratus-red-team"; Sigma keywords match anywhere inside a value.
        raise SigmaFeatureNotSupportedByBackendError(
            "keywords: a Splunk search term matches whole segments between breakers, Sigma keywords match "
            "anywhere inside a value (tratus-red in stratus-red-team), and _raw also holds the JSON keys",
            source=getattr(cond, "source", None),
        )

    convert_condition_val_num = convert_condition_val_str
    convert_condition_val_re = convert_condition_val_str

    def convert_condition_field_eq_val_re(self, cond: Any, state: ConversionState) -> Any:
        """Never reached: a rule with a regular expression is written in the ``| where`` form
        (``target.needs_where``). Upstream's search form would defer it to ``| rex`` through
        ``SplunkDeferredORRegularExpression``, whose field counts are class-level state shared by every
        conversion in the process; refusing here keeps that state untouched."""
        raise SigmaFeatureNotSupportedByBackendError(
            "regular expression: detc writes it in the | where form, never in the search command",
            source=getattr(cond, "source", None),
        )
