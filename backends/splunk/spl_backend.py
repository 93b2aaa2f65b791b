"""The upstream Splunk backend, with the few tokens detc's Splunk target needs changed."""

from __future__ import annotations

import re
from typing import Any, ClassVar

from sigma.backends.splunk.splunk import SplunkBackend
from sigma.conversion.state import ConversionState
from sigma.exceptions import SigmaFeatureNotSupportedByBackendError

from compiler.patterns import EqualityStrings

CAVEATS_STATE = "spl_caveats"
"""Pipeline state key under which a cell's transformations leave caveats for the target to report."""


def add_caveat(transformation: Any, text: str) -> None:
    """Leave a caveat in the pipeline state of the transformation's pipeline (once)."""
    pipeline = getattr(transformation, "_pipeline", None)
    if pipeline is not None:
        caveats = pipeline.state.setdefault(CAVEATS_STATE, [])
        if text not in caveats:
            caveats.append(text)


KEYWORDS_REASON = (
    "keywords: a Splunk search term matches whole segments between breakers, Sigma keywords match "
    "anywhere inside a value (tratus-red in stratus-red-team), and _raw also holds the JSON keys"
)
"""Why a keyword the cell's pipeline leaves unbound cannot be searched (either form)."""


class SplBackend(EqualityStrings, SplunkBackend):
    """pySigma's SplunkBackend; field names with ``{}`` stay unquoted."""

    field_quote_pattern: ClassVar[re.Pattern[str]] = re.compile(r"^[\w.{}]+$")
    """The JSON-extracted array fields (``resources{}.ARN``) are written bare in Splunk's own
    searches (the add-on's props.conf, security_content); the upstream pattern would quote them
    as ``"resources{}.ARN"=...``, which the search command reads as a quoted search term."""

    def convert_condition_val_str(self, cond: Any, state: ConversionState) -> Any:
        # Search Manual, "Search with terms": a term matches whole segments between breakers, so
        # "tratus-red" misses "stratus-red-team"; Sigma keywords match anywhere inside a value.
        raise SigmaFeatureNotSupportedByBackendError(KEYWORDS_REASON, source=getattr(cond, "source", None))

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
