"""The Splunk cell for Windows logsources: a Windows Sigma rule → one SPL search over the add-ons' events."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sigma.exceptions import (
    SigmaError,
    SigmaFeatureNotSupportedByBackendError,
    SigmaTransformationError,
)

from backends.splunk.backend import CAVEATS_STATE, SplBackend
from backends.splunk.target import NAME, _check_placeholders, _first_line, _prefilter, needs_where
from backends.splunk.where_backend import SplWhereBackend
from backends.splunk.windows import pipeline, shaper, storage
from compiler.errors import CompileError, UnsupportedFeature
from compiler.target import Compiled

FAMILY = "windows"


class SplWindowsCell:
    """Compiles and shapes through the cell's modules, as ``SplTarget`` does once the logsource
    layer routes Windows rules to this cell (until then the only way in)."""

    family = FAMILY
    settings: Mapping[str, Any] = storage.DEFAULTS

    def __init__(self) -> None:
        self._backends: dict[tuple[str, bool], SplBackend | SplWhereBackend] = {}

    def backend(self, settings: Mapping[str, Any], key: str, where: bool) -> SplBackend | SplWhereBackend:
        """One backend per settings key and form, reused for every rule."""
        if (key, where) not in self._backends:
            made = pipeline.processing_pipeline(settings, where=where)
            self._backends[key, where] = SplWhereBackend(made) if where else SplBackend(made)
        return self._backends[key, where]

    def compile(self, sigma: Any, settings: Mapping[str, Any], *, key: str = "") -> Compiled:
        """Compile a fresh pySigma rule copy under the deployment's settings."""
        try:
            storage.rendering_of(settings)
        except ValueError as err:
            raise CompileError(str(err), target=NAME) from err
        _check_placeholders(sigma)
        where = needs_where(sigma)
        backend = self.backend(settings, key, where)
        SplBackend.reset_deferred_state()
        try:
            queries = backend.convert_rule(sigma)
            head = storage.search_head(sigma.logsource, settings) if where else ""
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
        query = queries[0]
        if where:
            query = " ".join([head, *_prefilter(sigma, pipeline.CALCULATED_FIELDS)]) + f"\n| where {query}"
            if sigma.fields:
                query += " | table " + ",".join(sigma.fields)
        caveats = list(backend.last_processing_pipeline.state.get(CAVEATS_STATE, []))
        return Compiled(target=NAME, query=query, caveats=tuple(dict.fromkeys(caveats)), details=storage.storage(settings))

    def shape(self, record: Mapping[str, Any], settings: Mapping[str, Any]) -> Mapping[str, tuple[str, ...]]:
        return shaper.shape(record, settings)
