"""The upstream Splunk backend, with the few tokens detc's Splunk target needs changed."""

from __future__ import annotations

import re
from typing import ClassVar

from sigma.backends.splunk import SplunkBackend
from sigma.backends.splunk.splunk import SplunkDeferredORRegularExpression

from compiler.patterns import EqualityStrings

CAVEATS_STATE = "spl_caveats"
"""Pipeline state key under which a cell's transformations leave caveats for the target to report."""


class SplBackend(EqualityStrings, SplunkBackend):
    """pySigma's SplunkBackend; field names with ``{}`` stay unquoted."""

    field_quote_pattern: ClassVar[re.Pattern[str]] = re.compile(r"^[\w.{}]+$")
    """The JSON-extracted array fields (``resources{}.ARN``) are written bare in Splunk's own
    searches (the add-on's props.conf, security_content); the upstream pattern would quote them
    as ``"resources{}.ARN"=...``, which the search command reads as a quoted search term."""

    @staticmethod
    def reset_deferred_state() -> None:
        """Clear upstream's class-level counter of OR-ed regex fields left by a failed conversion."""
        SplunkDeferredORRegularExpression.reset()
