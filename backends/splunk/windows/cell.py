"""The Splunk cell for Windows logsources: a Windows Sigma rule → one SPL search over the add-ons' events."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sigma.exceptions import (
    SigmaError,
    SigmaFeatureNotSupportedByBackendError,
    SigmaTransformationError,
)

from backends.splunk.backend import SplBackend
from backends.splunk.pipeline import CAVEATS_STATE
from backends.splunk.target import NAME, _check_placeholders, _first_line, _prefilter, needs_where
from backends.splunk.where_backend import SplWhereBackend
from backends.splunk.windows import classic, storage
from backends.splunk.windows.logsource_table import Variant, variants
from backends.splunk.windows.names import CLASSIC
from backends.splunk.windows.pipeline import spl_windows
from backends.splunk.windows.shaper import Document, shape_event
from compiler.errors import CompileError, UnsupportedFeature
from compiler.patterns import detection_items
from compiler.target import Compiled

FAMILY = "windows"


def rule_variants(sigma: Any) -> tuple[Variant, ...]:
    """The kinds of event a Windows rule's logsource covers; unsupported when no table knows it."""
    logsource = sigma.logsource
    found = variants(logsource.category, logsource.service)
    if not found:
        named = "/".join(p for p in (logsource.product, logsource.category, logsource.service) if p)
        raise UnsupportedFeature(f"logsource {named}: no Windows event channel is known for it", target=NAME)
    return found


class SplWindowsCell:
    """Field mapping, base search and shaper for Windows events in Splunk."""

    family = FAMILY
    settings: Mapping[str, Any] = storage.DEFAULTS

    def __init__(self) -> None:
        self._backends: dict[tuple[str, bool], SplBackend | SplWhereBackend] = {}

    def backend(self, key: str, where: bool, rendering: str, extra: Any = None) -> SplBackend | SplWhereBackend:
        """One backend per profile key and form, reused for every rule (pySigma resets pipeline
        state per rule). ``extra`` is a pipeline appended after the cell's (a client's renames)."""
        if (key, where) not in self._backends:
            pipeline = spl_windows(where=where, rendering=rendering)
            if extra is not None:
                pipeline = pipeline + extra
            self._backends[key, where] = SplWhereBackend(pipeline) if where else SplBackend(pipeline)
        return self._backends[key, where]

    def compile(
        self, sigma: Any, settings: Mapping[str, Any], *, key: str = "", extra: Any = None
    ) -> Compiled:
        """Compile a fresh pySigma rule copy under the deployment's settings."""
        try:
            rendering = storage.rendering_of(settings)
        except ValueError as err:
            raise CompileError(str(err), target=NAME) from err
        kinds = rule_variants(sigma)
        if rendering == CLASSIC:
            reason = classic.refusal(kinds, [item.field for item in detection_items(sigma)])
            if reason:
                raise UnsupportedFeature(reason, target=NAME)
        _check_placeholders(sigma)
        where = needs_where(sigma)
        backend = self.backend(key, where, rendering, extra)
        SplBackend.reset_deferred_state()
        try:
            queries = backend.convert_rule(sigma)
        except (SigmaTransformationError, SigmaFeatureNotSupportedByBackendError) as err:
            raise UnsupportedFeature(_first_line(err), target=NAME) from err
        except NotImplementedError as err:
            raise UnsupportedFeature(f"{err}", target=NAME) from err
        except SigmaError as err:
            raise CompileError(_first_line(err), target=NAME) from err
        finally:
            SplBackend.reset_deferred_state()
        if len(queries) != 1 or not isinstance(queries[0], str):
            raise CompileError(f"expected one search, the backend gave {len(queries)}", target=NAME)
        base = storage.base_search(kinds, settings)
        if where:
            query = " ".join([base, *_prefilter(sigma)]) + f"\n| where {queries[0]}"
            if sigma.fields:
                query += " | table " + ",".join(sigma.fields)
        else:
            query = f"{base} {queries[0]}"
        caveats = list(backend.last_processing_pipeline.state.get(CAVEATS_STATE, []))
        return Compiled(
            target=NAME,
            query=query,
            caveats=tuple(dict.fromkeys(caveats)),
            details={
                "index": settings["windows_index"],
                "sourcetype": storage.sourcetype(rendering),
                "risk_object_field": storage.RISK_OBJECT_FIELD,
                "risk_object_type": storage.RISK_OBJECT_TYPE,
            },
        )

    def shape(self, record: Mapping[str, Any], settings: Mapping[str, Any]) -> Document:
        return shape_event(record, index=str(settings["windows_index"]), rendering=storage.rendering_of(settings))
